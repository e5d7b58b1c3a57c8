//! Fuzzes the rendering of an MCP `tools/call` result for the model: any JSON that is a
//! result renders, never a panic, and binary parts are described, never sent as base64.

use agents_mcp::__fuzz::render_result;
use serde_json::Value;

/// One run over `data` (JSON text): panics when a property does not hold.
pub fn run(data: &[u8]) {
    let Ok(result) = serde_json::from_slice::<Value>(data) else { return };
    let Some(rendered) = render_result(&result) else { return };
    let parts = result.get("content").and_then(Value::as_array).cloned().unwrap_or_default();
    for part in parts {
        let kind = part.get("type").and_then(Value::as_str);
        let data = part.get("data").and_then(Value::as_str).unwrap_or_default();
        if matches!(kind, Some("image" | "audio")) && data.len() >= 16 {
            assert!(!rendered.contains(data), "{rendered}");
        }
    }
}

/// Seeds: each kind of content part, and structured content alone.
pub fn seeds() -> Vec<Vec<u8>> {
    [
        r#"{"content":[{"type":"text","text":"a chart:"},{"type":"image","data":"aGVsbG8haGVsbG8haGVsbG8h","mimeType":"image/png"}]}"#,
        r#"{"content":[{"type":"audio","data":"AAAA","mimeType":"audio/wav"},{"type":"resource","resource":{"uri":"file:///n","text":"milk"}},{"type":"resource","resource":{"uri":"u","blob":"AAAA==","mimeType":"x/y"}},{"type":"resource_link","name":"n","uri":"u"}],"isError":true}"#,
        r#"{"content":[],"structuredContent":{"sum":5}}"#,
    ]
    .iter()
    .map(|result| result.as_bytes().to_vec())
    .collect()
}
