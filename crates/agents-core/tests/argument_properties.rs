//! Property tests of argument decoding, the parser of what the model sends: it never panics,
//! it keeps every value a well-formed object carries, and it is lenient only where specified.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use agents_core::llm::FunctionTool;
use agents_core::prelude::*;
use agents_core::serde_json::{self, Map, Value, json};
use proptest::prelude::*;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn any_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("[a-z_]{1,8}", any_json(), 0..8)
        .prop_map(|map| map.into_iter().collect())
}

fn raw_tool() -> FunctionTool {
    FunctionTool::raw(
        "raw",
        "Accepts anything.",
        json!({"type": "object"}),
        |_: RunContext, v: Value| async move { Json(v) },
    )
    .expect("valid raw tool")
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Args {
    name: String,
    #[serde(default = "three")]
    days: i64,
    note: Option<String>,
}

fn three() -> i64 {
    3
}

async fn describe(args: Args) -> String {
    format!("{}|{}|{:?}", args.name, args.days, args.note)
}

fn typed_tool() -> FunctionTool {
    function_tool(describe, "describe", "Describe.").expect("valid tool")
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    futures::executor::block_on(future)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_text_is_answered_without_panicking(text in ".{0,64}") {
        let tool = typed_tool();
        match tool.parse_arguments(&text) {
            Ok(value) => prop_assert!(value.is_object()),
            Err(error) => prop_assert!(matches!(error, ToolError::InvalidArguments { .. }), "{:?}", error),
        }
        let ctx = RunContext::new(FunctionCall::new("c", "describe", text.clone()));
        match run(tool.invoke(ctx, &text)) {
            Ok(_) => {}
            Err(error) => prop_assert!(matches!(error, ToolError::InvalidArguments { .. }), "{:?}", error),
        }
    }

    #[test]
    fn any_json_text_is_answered_without_panicking(value in any_json()) {
        let tool = typed_tool();
        let text = value.to_string();
        let ctx = RunContext::new(FunctionCall::new("c", "describe", text.clone()));
        if let Err(error) = run(tool.invoke(ctx, &text)) {
            prop_assert!(matches!(error, ToolError::InvalidArguments { .. }), "{error:?}");
        }
    }

    #[test]
    fn objects_pass_through_unchanged(object in any_object()) {
        // A schema without properties has nothing to default: every value is kept as sent.
        let value = Value::Object(object);
        let parsed = raw_tool().parse_arguments(&value.to_string()).expect("an object parses");
        prop_assert_eq!(parsed, value);
    }

    #[test]
    fn double_encoded_objects_are_unwrapped(object in any_object()) {
        let value = Value::Object(object);
        let once = Value::String(value.to_string()).to_string();
        let twice = Value::String(once.clone()).to_string();
        prop_assert_eq!(raw_tool().parse_arguments(&once).expect("unwrapped"), value.clone());
        prop_assert_eq!(raw_tool().parse_arguments(&twice).expect("unwrapped"), value);
    }

    #[test]
    fn non_objects_are_rejected(value in any_json().prop_filter("not an object", |v| {
        !v.is_object() && !v.is_null() && !v.is_string()
    })) {
        let error = raw_tool().parse_arguments(&value.to_string()).expect_err("not an object");
        prop_assert!(error.llm_message().contains("expected a JSON object of arguments"));
    }

    #[test]
    fn null_means_default_only_where_null_is_not_a_value(
        name in "[a-z]{1,8}",
        days in prop::option::of(any::<i64>()),
        note in prop::option::of("[a-z]{0,8}"),
        extra in any_object(),
    ) {
        let mut object = extra;
        object.insert("name".to_owned(), json!(name));
        object.insert("days".to_owned(), days.map_or(Value::Null, Value::from));
        object.insert("note".to_owned(), note.clone().map_or(Value::Null, Value::from));
        let tool = typed_tool();
        let text = Value::Object(object.clone()).to_string();
        let parsed = tool.parse_arguments(&text).expect("parses");
        // `days` (defaulted, not nullable): a null is dropped so the default applies.
        prop_assert_eq!(parsed.get("days").is_some(), days.is_some());
        // `note` (an Option): null is its own value and is kept, like everything else.
        prop_assert_eq!(parsed.get("note"), object.get("note"));
        prop_assert_eq!(parsed.get("name"), object.get("name"));
        let ctx = RunContext::new(FunctionCall::new("c", "describe", text.clone()));
        let output = run(tool.invoke(ctx, &text)).expect("valid arguments");
        prop_assert_eq!(output.output, format!("{}|{}|{:?}", name, days.unwrap_or(3), note));
    }
}

#[test]
fn serde_json_is_the_reference_for_valid_text() {
    // Whatever serde_json accepts as an object, the parser accepts identically.
    let text = r#"{"name": "x", "nested": {"a": [1, 2, {"b": null}]}, "unicode": "\u00e9"}"#;
    let expected: Value = serde_json::from_str(text).expect("valid JSON");
    assert_eq!(raw_tool().parse_arguments(text).expect("parses"), expected);
}
