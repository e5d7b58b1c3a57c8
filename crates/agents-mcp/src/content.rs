//! A `tools/call` result as the text the model reads.
//!
//! Text parts are the text; an embedded text resource is its text under its URI; binary parts
//! (images, audio, blobs) are described, not sent (the model cannot read base64 through a
//! function output); a result with only structured content is its JSON. Parts are separated
//! by blank lines.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

/// The text of `result` for the model.
pub(crate) fn render(result: &CallToolResult) -> String {
    let parts: Vec<String> = result.content.iter().map(render_part).collect();
    if parts.is_empty() {
        return match &result.structured_content {
            Some(structured) => structured.to_string(),
            None => String::new(),
        };
    }
    parts.join("\n\n")
}

/// One content part, read through its wire form (the protocol's field names).
fn render_part(part: &ContentBlock) -> String {
    let wire = serde_json::to_value(part).unwrap_or(Value::Null);
    let field = |key: &str| wire.get(key).and_then(Value::as_str).unwrap_or_default();
    let size = |data: &str| {
        (data.len() / 4 * 3).saturating_sub(data.bytes().rev().take_while(|b| *b == b'=').count())
    };
    match field("type") {
        "text" => field("text").to_owned(),
        "image" => format!("[image: {}, {} bytes]", field("mimeType"), size(field("data"))),
        "audio" => format!("[audio: {}, {} bytes]", field("mimeType"), size(field("data"))),
        "resource" => {
            let resource = wire.get("resource").cloned().unwrap_or(Value::Null);
            let get = |key: &str| resource.get(key).and_then(Value::as_str).unwrap_or_default();
            match resource.get("text").and_then(Value::as_str) {
                Some(text) => format!("[resource {}]\n{text}", get("uri")),
                None => format!(
                    "[resource {}: {}, {} bytes]",
                    get("uri"),
                    get("mimeType"),
                    size(get("blob"))
                ),
            }
        }
        "resource_link" => format!("[resource link: {} <{}>]", field("name"), field("uri")),
        _ => wire.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rmcp::model::{CallToolResult, ContentBlock};
    use serde_json::json;

    use super::*;

    #[test]
    fn parts_are_rendered_in_order_with_binary_parts_described() {
        let result = CallToolResult::success(vec![
            ContentBlock::text("a chart:"),
            ContentBlock::image("aGVsbG8h", "image/png"),
            ContentBlock::embedded_text("file:///notes.txt", "remember the milk"),
        ]);
        assert_eq!(
            render(&result),
            "a chart:\n\n[image: image/png, 6 bytes]\n\n[resource file:///notes.txt]\nremember the milk"
        );
    }

    #[test]
    fn structured_content_alone_is_its_json() {
        let mut result = CallToolResult::structured(json!({"sum": 5}));
        result.content.clear();
        assert_eq!(render(&result), r#"{"sum":5}"#);
    }
}
