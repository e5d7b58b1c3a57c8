//! Property tests of what an MCP server sends that the toolset decodes: a tool's input schema
//! (canonicalized, `$ref`s inlined within a budget) and a `tools/call` result (rendered as
//! text). Whatever a server sends: no panic, a bounded result, and no dangling `$ref`.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use agents_mcp::__fuzz::{MAX_INLINED_NODES, canonical_schema, render_result};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn size(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(size).sum::<usize>(),
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        _ => 1,
    }
}

/// Every `$ref` string in a schema position of `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => out.push(reference.clone()),
                    // Not schema positions: a `$ref` that is no string, values, definitions.
                    ("$ref" | "enum" | "const" | "$defs" | "definitions", _) => {}
                    _ => refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

/// Schema-shaped JSON: keywords, `$ref`s to a few definitions (recursive ones too), formats.
fn schema_node() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(json!({"type": "string"})),
        Just(json!({"type": "string", "format": "date-time"})),
        Just(json!({"type": "string", "format": "x-custom"})),
        (0..4u8).prop_map(|n| json!({"$ref": format!("#/$defs/D{n}")})),
        (0..4u8).prop_map(|n| json!({"$ref": format!("#/definitions/D{n}")})),
        Just(json!({"$ref": "#/$defs/missing"})),
        Just(json!({"$ref": 5})),
        Just(Value::Null),
        Just(json!(true)),
        ".{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 4, |inner| {
        prop_oneof![
            prop::collection::btree_map(
                "(properties|items|anyOf|a|b|\\$ref|enum)",
                inner.clone(),
                0..4
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4).prop_map(|props| {
                json!({"type": "object", "properties": Value::Object(props.into_iter().collect())})
            }),
        ]
    })
}

fn input_schema() -> impl Strategy<Value = Map<String, Value>> {
    (
        prop::collection::vec(schema_node(), 0..4),
        prop::collection::vec(schema_node(), 0..4),
        schema_node(),
        any::<bool>(),
    )
        .prop_map(|(defs, definitions, properties, titled)| {
            let named = |nodes: Vec<Value>| -> Map<String, Value> {
                nodes.into_iter().enumerate().map(|(n, node)| (format!("D{n}"), node)).collect()
            };
            let mut root = Map::new();
            root.insert("properties".into(), json!({"p": properties}));
            root.insert("$defs".into(), Value::Object(named(defs)));
            root.insert("definitions".into(), Value::Object(named(definitions)));
            if titled {
                root.insert("title".into(), json!("T"));
                root.insert(
                    "$schema".into(),
                    json!("https://json-schema.org/draft/2020-12/schema"),
                );
            }
            root
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_canonical_schema_is_an_object_bounded_and_without_dangling_refs(schema in input_schema()) {
        let canonical = canonical_schema(&schema);
        let root = canonical.as_object().expect("an object");
        prop_assert!(root.get("type").is_some());
        prop_assert!(!root.contains_key("$schema") && !root.contains_key("title"));
        prop_assert!(size(&canonical) <= size(&Value::Object(schema.clone())) + MAX_INLINED_NODES + 2);
        let mut found = Vec::new();
        refs(&canonical, &mut found);
        for reference in found {
            for key in ["$defs", "definitions"] {
                if reference.starts_with(&format!("#/{key}/")) {
                    prop_assert!(root.contains_key(key), "{} points into a removed {}", reference, key);
                }
            }
        }
    }

    #[test]
    fn any_json_object_canonicalizes_without_a_panic(value in schema_node()) {
        if let Value::Object(map) = value {
            let _ = canonical_schema(&map);
        }
    }

    #[test]
    fn text_parts_render_as_their_text_in_order(texts in prop::collection::vec(".{0,20}", 1..5)) {
        let content: Vec<Value> = texts.iter().map(|text| json!({"type": "text", "text": text})).collect();
        let rendered = render_result(&json!({"content": content})).expect("a result");
        prop_assert_eq!(rendered, texts.join("\n\n"));
    }

    #[test]
    fn any_content_renders_without_a_panic_and_no_base64_is_sent(
        kinds in prop::collection::vec(
            prop_oneof![Just("text"), Just("image"), Just("audio"), Just("resource"), Just("resource_link"), Just("other")],
            0..5,
        ),
        data in "[A-Za-z0-9+/]{0,40}={0,2}",
    ) {
        let marker = format!("B64{data}");
        let content: Vec<Value> = kinds
            .iter()
            .map(|kind| match *kind {
                "image" | "audio" => json!({"type": kind, "data": marker, "mimeType": "x/y"}),
                "resource" => json!({"type": "resource", "resource": {"uri": "u", "blob": marker}}),
                "resource_link" => json!({"type": "resource_link", "name": "n", "uri": "u"}),
                other => json!({"type": other, "text": "t"}),
            })
            .collect();
        if let Some(rendered) = render_result(&json!({"content": content})) {
            prop_assert!(!rendered.contains(&marker), "{}", rendered);
        }
    }
}
