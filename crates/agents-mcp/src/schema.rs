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
    let mut unresolved = false;
    let mut stack = Vec::new();
    let mut schema = Value::Object(root);
    inline(&mut schema, &definitions, &mut stack, &mut unresolved);
    if let Value::Object(root) = &mut schema {
        if !unresolved {
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

/// Inlines the `$ref`s under `node` that point into `definitions` and are not recursive;
/// drops unknown formats.
fn inline(
    node: &mut Value,
    definitions: &Map<String, Value>,
    stack: &mut Vec<String>,
    unresolved: &mut bool,
) {
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
                    inline(value, definitions, stack, unresolved);
                }
            }
            let Some(reference) = map.get("$ref").and_then(Value::as_str).map(str::to_owned) else {
                return;
            };
            match definitions.get(&reference) {
                Some(target) if !stack.contains(&reference) && stack.len() < MAX_DEPTH => {
                    let mut replacement = target.clone();
                    stack.push(reference);
                    inline(&mut replacement, definitions, stack, unresolved);
                    stack.pop();
                    // Keywords beside the `$ref` (a description) win over the target's.
                    map.remove("$ref");
                    if let Value::Object(target) = replacement {
                        for (key, value) in target {
                            map.entry(key).or_insert(value);
                        }
                    }
                }
                _ => *unresolved = true,
            }
        }
        Value::Array(items) => {
            for item in items {
                inline(item, definitions, stack, unresolved);
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
    fn unknown_formats_are_dropped_and_known_ones_kept() {
        let schema = of(json!({"type": "object", "properties": {
            "when": {"type": "string", "format": "date-time"},
            "code": {"type": "string", "format": "x-custom"}
        }}));
        assert_eq!(schema["properties"]["when"]["format"], "date-time");
        assert!(schema["properties"]["code"].get("format").is_none());
    }
}
