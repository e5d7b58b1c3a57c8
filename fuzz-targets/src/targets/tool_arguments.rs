//! Fuzzes what a model sends as tool-call arguments: parsing (leniency, double encoding, the
//! null sentinel through nested objects and arrays) and deserialization into typed arguments.
//! Any input must give `Ok` or an `InvalidArguments` error, never a panic.

use std::sync::OnceLock;

use agents_core::llm::FunctionTool;
use agents_core::prelude::*;

// Read through `Debug` only.
#[allow(dead_code)]
#[derive(Debug, Deserialize, JsonSchema)]
struct Item {
    sku: String,
    #[serde(default)]
    quantity: u32,
    note: Option<String>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize, JsonSchema)]
struct Order {
    items: Vec<Item>,
    #[serde(default)]
    express: bool,
    coupon: Option<Vec<String>>,
    address: Option<Item>,
}

async fn place(order: Order) -> String {
    format!("{order:?}")
}

fn tool() -> &'static FunctionTool {
    static TOOL: OnceLock<FunctionTool> = OnceLock::new();
    TOOL.get_or_init(|| function_tool(place, "place", "Place an order.").expect("valid tool"))
}

/// One run over `data`: panics when a property does not hold.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let tool = tool();
    if let Err(error) = tool.parse_arguments(text) {
        assert!(matches!(error, ToolError::InvalidArguments { .. }), "{error:?}");
    }
    let ctx = RunContext::new(FunctionCall::new("call", "place", text));
    if let Err(error) = futures::executor::block_on(tool.invoke(ctx, text)) {
        assert!(matches!(error, ToolError::InvalidArguments { .. }), "{error:?}");
    }
}
