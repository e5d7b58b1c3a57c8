//! `#[serde(...)]` and `#[schemars(...)]` on a parameter move onto its field of the arguments
//! struct, so they shape the schema and the deserialization.

use agents_core::prelude::*;

/// Book a table.
#[function_tool]
async fn book_table(
    /// How many guests.
    #[schemars(range(min = 1, max = 12))]
    guests: u8,
    /// The guest's name.
    #[serde(alias = "who")]
    name: String,
) -> String {
    format!("{guests} for {name}")
}

fn main() {
    let tool = book_table_tool();
    let guests = &tool.parameters()["properties"]["guests"];
    assert_eq!(guests["maximum"], 12, "{guests}");

    let ctx = RunContext::new(FunctionCall::new("call_1", "book_table", "{}"));
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let output = runtime.block_on(tool.invoke(ctx, r#"{"guests": 2, "who": "Ada"}"#));
    assert_eq!(output.map(|output| output.output).ok().as_deref(), Some("2 for Ada"));
}
