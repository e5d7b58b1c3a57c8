//! An MCP tool's `inputSchema` as a canonical parameters schema: an object schema with
//! `properties`, its `$ref`s inlined where they are not recursive, no `$schema` or root
//! `title`, and only the `format`s OpenAI's strict mode knows. What strict mode still cannot
//! express (a recursive `$ref`, arbitrary keys) makes the tool non-strict, with a warning.

use serde_json::{Map, Value};

/// The formats OpenAI's strict mode accepts; others are dropped (the description stays).
const KNOWN_FORMATS: &[&str] =
    &["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"];

/// How deep `$ref`s are inlined before giving up (a guard against huge schemas).
const MAX_DEPTH: usize = 32;

/// How many schema nodes `$ref` inlining may copy in all: definitions that each use the next
/// twice would otherwise grow exponentially (2^32 nodes from a hostile `tools/list`).
pub(crate) const MAX_INLINED_NODES: usize = 10_000;

/// The number of JSON nodes in `value`.
fn size(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(size).sum::<usize>(),
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        _ => 1,
    }
}

/// What `$ref` inlining works with: the definitions by reference, and what it may still copy.
struct Inliner {
    definitions: Map<String, Value>,
    /// Nodes that may still be copied; `None` once the budget is exhausted.
    budget: Option<usize>,
    unresolved: bool,
}

/// The canonical form of `input_schema`.
pub(crate) fn canonical(input_schema: &Map<String, Value>) -> Value {
    let mut root = input_schema.clone();
    root.remove("$schema");
    root.remove("$id");
    root.remove("title");
    let definitions: Map<String, Value> = ["$defs", "definitions"]
        .iter()
        .filter_map(|key| root.get(*key).and_then(Value::as_object).map(|defs| (*key, defs)))
        .flat_map(|(key, defs)| {
            defs.iter().map(move |(name, schema)| (format!("#/{key}/{name}"), schema.clone()))
        })
        .collect();
    let original = Value::Object(root);
    let mut inliner = Inliner { definitions, budget: Some(MAX_INLINED_NODES), unresolved: false };
    let mut schema = original.clone();
    inline(&mut schema, &mut inliner, &mut Vec::new());
    if inliner.budget.is_none() {
        tracing::warn!(
            "an MCP tool's input schema would inline to more than {MAX_INLINED_NODES} nodes: \
             its $refs are kept as they are and the tool is not strict"
        );
        // No definitions: every `$ref` stays (unresolved), formats are still filtered.
        inliner = Inliner { definitions: Map::new(), budget: None, unresolved: false };
        schema = original;
        inline(&mut schema, &mut inliner, &mut Vec::new());
    }
    if let Value::Object(root) = &mut schema {
        if !inliner.unresolved {
            root.remove("$defs");
            root.remove("definitions");
        }
        if !root.contains_key("type") {
            root.insert("type".to_owned(), Value::String("object".to_owned()));
        }
        if root.get("type").and_then(Value::as_str) == Some("object") {
            root.entry("properties").or_insert_with(|| Value::Object(Map::new()));
        }
    }
    schema
}

/// Inlines the `$ref`s under `node` that point into the definitions and are not recursive,
/// within the budget; drops unknown formats.
fn inline(node: &mut Value, inliner: &mut Inliner, stack: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if map
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| !KNOWN_FORMATS.contains(&f))
            {
                map.remove("format");
            }
            for (key, value) in map.iter_mut() {
                if !matches!(key.as_str(), "$ref" | "$defs" | "definitions" | "enum" | "const") {
                    inline(value, inliner, stack);
                }
            }
            let Some(reference) = map.get("$ref").and_then(Value::as_str).map(str::to_owned) else {
                return;
            };
            let target = match inliner.definitions.get(&reference) {
                Some(target) if !stack.contains(&reference) && stack.len() < MAX_DEPTH => target,
                _ => {
                    inliner.unresolved = true;
                    return;
                }
            };
            let Some(left) = inliner.budget.and_then(|left| left.checked_sub(size(target))) else {
                // Exhausted: the caller starts again without inlining.
                inliner.budget = None;
                inliner.unresolved = true;
                return;
            };
            inliner.budget = Some(left);
            let mut replacement = target.clone();
            stack.push(reference);
            inline(&mut replacement, inliner, stack);
            stack.pop();
            // Keywords beside the `$ref` (a description) win over the target's.
            map.remove("$ref");
            if let Value::Object(target) = replacement {
                for (key, value) in target {
                    map.entry(key).or_insert(value);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                inline(item, inliner, stack);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn of(value: Value) -> Value {
        canonical(value.as_object().unwrap())
    }

    #[test]
    fn an_empty_schema_is_an_object_without_properties() {
        assert_eq!(of(json!({})), json!({"type": "object", "properties": {}}));
    }

    #[test]
    fn refs_are_inlined_and_definitions_dropped() {
        let schema = of(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A", "description": "The a."}},
            "$defs": {"A": {"type": "object", "title": "A", "properties": {"x": {"type": "string"}}}}
        }));
        assert_eq!(
            schema,
            json!({"type": "object", "properties": {"a": {"description": "The a.", "type": "object", "title": "A", "properties": {"x": {"type": "string"}}}}})
        );
    }

    #[test]
    fn a_recursive_ref_stays_with_its_definitions() {
        let schema = of(json!({
            "type": "object",
            "properties": {"n": {"$ref": "#/definitions/N"}},
            "definitions": {"N": {"type": "object", "properties": {"next": {"$ref": "#/definitions/N"}}}}
        }));
        assert_eq!(schema["properties"]["n"]["properties"]["next"]["$ref"], "#/definitions/N");
        assert!(schema.get("definitions").is_some());
    }

    #[test]
    fn refs_that_would_inline_exponentially_are_kept_as_they_are() {
        // D0 uses D1 twice, D1 uses D2 twice, …: 2^31 copies of D31 if all were inlined.
        let mut defs = Map::new();
        for level in 0..31 {
            let next = format!("#/$defs/D{}", level + 1);
            defs.insert(
                format!("D{level}"),
                json!({"type": "object", "properties": {"x": {"$ref": next}, "y": {"$ref": next}}}),
            );
        }
        defs.insert("D31".to_owned(), json!({"type": "string"}));
        let schema = of(json!({
            "type": "object",
            "properties": {
                "root": {"$ref": "#/$defs/D0"},
                "code": {"type": "string", "format": "x-custom"}
            },
            "$defs": defs
        }));
        assert_eq!(schema["properties"]["root"]["$ref"], "#/$defs/D0", "kept as it was");
        assert!(schema.get("$defs").is_some(), "with its definitions");
        assert!(schema["properties"]["code"].get("format").is_none(), "formats still filtered");
        assert!(size(&schema) < 1_000);
    }

    #[test]
    fn unknown_formats_are_dropped_and_known_ones_kept() {
        let schema = of(json!({"type": "object", "properties": {
            "when": {"type": "string", "format": "date-time"},
            "code": {"type": "string", "format": "x-custom"}
        }}));
        assert_eq!(schema["properties"]["when"]["format"], "date-time");
        assert!(schema["properties"]["code"].get("format").is_none());
    }
}
