//! What the fuzz targets (the `fuzz/` crate) and the property tests drive: the decoding of
//! what an MCP server sends. Not public API: no stability guarantees.

use serde_json::{Map, Value};

/// The canonical parameters schema of a tool whose `inputSchema` is `input_schema`, as the
/// toolset offers it.
pub fn canonical_schema(input_schema: &Map<String, Value>) -> Value {
    crate::schema::canonical(input_schema)
}

/// The text the model reads for a `tools/call` result sent as `result` (JSON); `None` when it
/// is not a result.
pub fn render_result(result: &Value) -> Option<String> {
    let result = serde_json::from_value::<rmcp::model::CallToolResult>(result.clone()).ok()?;
    Some(crate::content::render(&result))
}

/// The node budget of `$ref` inlining.
pub const MAX_INLINED_NODES: usize = crate::schema::MAX_INLINED_NODES;
