//! Fuzzes the canonicalization of an MCP server's tool input schemas (`$ref` inlining within
//! a node budget, format filtering): any JSON object gives an object schema, bounded in size,
//! never a panic.

use agents_mcp::__fuzz::{MAX_INLINED_NODES, canonical_schema};
use serde_json::Value;

fn size(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(size).sum::<usize>(),
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        _ => 1,
    }
}

/// One run over `data` (JSON text): panics when a property does not hold.
pub fn run(data: &[u8]) {
    let Ok(Value::Object(schema)) = serde_json::from_slice::<Value>(data) else { return };
    let before = size(&Value::Object(schema.clone()));
    let canonical = canonical_schema(&schema);
    let root = canonical.as_object().expect("a canonical schema is an object");
    assert!(root.contains_key("type"), "{canonical}");
    assert!(size(&canonical) <= before + MAX_INLINED_NODES + 2, "{canonical}");
}

/// Seeds: references (nested, recursive, missing), formats, definitions of both names.
pub fn seeds() -> Vec<Vec<u8>> {
    [
        r##"{"type":"object","properties":{"a":{"$ref":"#/$defs/A","description":"d"}},"$defs":{"A":{"type":"object","properties":{"x":{"type":"string","format":"date-time"}}}}}"##,
        r##"{"properties":{"n":{"$ref":"#/definitions/N"}},"definitions":{"N":{"type":"object","properties":{"next":{"$ref":"#/definitions/N"}}}}}"##,
        r##"{"$schema":"x","title":"T","properties":{"a":{"$ref":"#/$defs/B"},"b":{"format":"x-custom"}},"$defs":{"B":{"anyOf":[{"$ref":"#/$defs/C"},{"$ref":"#/$defs/C"}]},"C":{"type":"string"}}}"##,
        "{}",
    ]
    .iter()
    .map(|schema| schema.as_bytes().to_vec())
    .collect()
}
