//! Behaviour of function tools defined with `#[function_tool]` and `function_tool(...)`:
//! schemas, argument decoding, return values, errors and panics, through the public API.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agents_core::llm::{FunctionTool, ToolDefinitionError, ToolKind, ToolSetError};
use agents_core::prelude::*;
use agents_core::serde_json::{self, Value, json};

fn ctx(name: &str) -> RunContext {
    RunContext::new(FunctionCall::new("call_1", name, "{}"))
}

async fn call(tool: &FunctionTool, arguments: &str) -> Result<ToolOutput, ToolError> {
    tool.invoke(ctx(tool.name()), arguments).await
}

async fn output(tool: &FunctionTool, arguments: &str) -> String {
    match call(tool, arguments).await {
        Ok(output) => output.output,
        Err(error) => panic!("`{}` failed: {error}", tool.name()),
    }
}

async fn error(tool: &FunctionTool, arguments: &str) -> String {
    match call(tool, arguments).await {
        Ok(output) => panic!("`{}` succeeded with {output:?}", tool.name()),
        Err(error) => error.llm_message(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

/// Where to deliver.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Address {
    /// Street and number.
    street: String,
    city: String,
}

#[derive(Debug, Serialize)]
struct Report {
    city: String,
    temperature: f64,
}

struct Assistant {
    calls: AtomicUsize,
}

#[function_tools]
impl Assistant {
    /// Look up the weather.
    ///
    /// Call this when the user asks about the weather.
    #[function_tool]
    async fn lookup_weather(
        &self,
        ctx: RunContext,
        /// City and country, e.g. "Paris, France".
        location: String,
        /// Temperature unit; celsius if omitted.
        unit: Option<Unit>,
    ) -> Result<String, ToolError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if location.is_empty() {
            return Err(ToolError::message("the location is empty; ask the user for a city"));
        }
        let unit = unit.unwrap_or(Unit::Celsius);
        Ok(format!("{} {location}: 21 {unit:?}", ctx.function_call().call_id))
    }

    /// Every parameter kind at once.
    #[function_tool]
    #[allow(clippy::too_many_arguments)]
    async fn every_kind(
        &self,
        text: String,
        small: i8,
        count: u64,
        ratio: f64,
        flag: bool,
        maybe: Option<String>,
        tags: Vec<String>,
        unit: Unit,
        address: Address,
        other_address: Option<Address>,
    ) -> Json<Value> {
        Json(json!({
            "text": text, "small": small, "count": count, "ratio": ratio, "flag": flag,
            "maybe": maybe, "tags": tags, "unit": unit, "street": address.street,
            "other": other_address.map(|a| a.city),
        }))
    }

    /// A structured report (any `Serialize` value is sent as JSON).
    #[function_tool]
    async fn report(&self, city: String) -> Report {
        Report { city, temperature: 21.5 }
    }

    /// A fallible structured report.
    #[function_tool]
    async fn checked_report(&self, city: String) -> Result<Report, String> {
        if city == "Atlantis" {
            return Err(format!("{city} cannot be found"));
        }
        Ok(Report { city, temperature: 3.0 })
    }

    /// Says nothing back.
    #[function_tool]
    async fn silent(&self) {}

    /// Stops the reply.
    #[function_tool]
    async fn stop(&self) -> Result<(), ToolError> {
        Err(ToolError::StopResponse)
    }

    /// Records without asking for a reply.
    #[function_tool]
    async fn record(&self, note: String) -> ToolOutput {
        ToolOutput::text(format!("recorded {note}")).with_reply_required(false)
    }

    /// Panics.
    #[function_tool]
    async fn explode(&self) -> String {
        panic!("boom")
    }

    /// An associated function (no `self`) can be a tool too.
    #[function_tool(name = "version-info")]
    async fn version() -> &'static str {
        "1.0"
    }

    /// Numbered forecast with a default.
    #[function_tool]
    async fn forecast(
        &self,
        /// Number of days.
        #[arg(default = 3)]
        days: u8,
        #[arg(default = "metric")] system: String,
    ) -> String {
        format!("{days} days, {system}")
    }

    fn not_a_tool(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn assistant() -> (Arc<Assistant>, Vec<FunctionTool>) {
    let assistant = Arc::new(Assistant { calls: AtomicUsize::new(0) });
    let tools = assistant.function_tools();
    (assistant, tools)
}

fn tool<'a>(tools: &'a [FunctionTool], name: &str) -> &'a FunctionTool {
    tools.iter().find(|tool| tool.name() == name).unwrap_or_else(|| panic!("no tool {name}"))
}

#[test]
fn methods_become_tools_in_declaration_order() {
    let (_, tools) = assistant();
    let names: Vec<&str> = tools.iter().map(FunctionTool::name).collect();
    assert_eq!(
        names,
        [
            "lookup_weather",
            "every_kind",
            "report",
            "checked_report",
            "silent",
            "stop",
            "record",
            "explode",
            "version-info",
            "forecast"
        ]
    );
    let weather = tool(&tools, "lookup_weather");
    assert_eq!(
        weather.description(),
        "Look up the weather.\n\nCall this when the user asks about the weather."
    );
    assert_eq!(weather.kind(), ToolKind::Function);
    assert!(weather.origin().contains("Assistant::lookup_weather"), "{}", weather.origin());
}

#[test]
fn schema_of_each_parameter_kind() {
    let (_, tools) = assistant();
    let parameters = tool(&tools, "every_kind").parameters();
    let properties = &parameters["properties"];
    assert_eq!(properties["text"]["type"], "string");
    assert_eq!(properties["small"]["type"], "integer");
    assert_eq!(properties["small"]["minimum"], -128);
    assert_eq!(properties["count"]["type"], "integer");
    assert_eq!(properties["count"]["minimum"], 0);
    assert_eq!(properties["ratio"]["type"], "number");
    assert_eq!(properties["flag"]["type"], "boolean");
    assert_eq!(properties["maybe"]["type"], json!(["string", "null"]));
    assert_eq!(properties["tags"], json!({"type": "array", "items": {"type": "string"}}));
    assert_eq!(properties["unit"], json!({"type": "string", "enum": ["celsius", "fahrenheit"]}));
    assert_eq!(properties["address"]["type"], "object");
    assert_eq!(properties["address"]["description"], "Where to deliver.");
    assert_eq!(properties["address"]["properties"]["street"]["description"], "Street and number.");
    assert_eq!(properties["other_address"]["type"], json!(["object", "null"]));
    assert!(parameters.get("$defs").is_none(), "subschemas are inlined");
    assert!(!serde_json::to_string(parameters).unwrap_or_default().contains("format"));
    assert_eq!(
        parameters["required"],
        json!(["text", "small", "count", "ratio", "flag", "tags", "unit", "address"])
    );
}

#[tokio::test]
async fn method_tool_receives_its_arguments_and_context() {
    let (assistant, tools) = assistant();
    let weather = tool(&tools, "lookup_weather");
    assert_eq!(
        output(weather, r#"{"location": "Paris, France", "unit": "fahrenheit"}"#).await,
        "call_1 Paris, France: 21 Fahrenheit"
    );
    assert_eq!(output(weather, r#"{"location": "Oslo"}"#).await, "call_1 Oslo: 21 Celsius");
    assert_eq!(assistant.not_a_tool(), 2);

    let every = tool(&tools, "every_kind");
    let arguments = json!({
        "text": "hi", "small": -3, "count": 7, "ratio": 0.5, "flag": true, "tags": ["a", "b"],
        "unit": "celsius", "address": {"street": "1 Main St", "city": "Springfield"},
        "other_address": {"street": "2 Side St", "city": "Shelbyville"}
    });
    let result: Value =
        serde_json::from_str(&output(every, &arguments.to_string()).await).expect("JSON output");
    assert_eq!(
        result,
        json!({
            "text": "hi", "small": -3, "count": 7, "ratio": 0.5, "flag": true, "maybe": null,
            "tags": ["a", "b"], "unit": "celsius", "street": "1 Main St", "other": "Shelbyville"
        })
    );
}

#[tokio::test]
async fn return_values_become_outputs() {
    let (_, tools) = assistant();
    assert_eq!(
        output(tool(&tools, "report"), r#"{"city": "Rome"}"#).await,
        r#"{"city":"Rome","temperature":21.5}"#
    );
    assert_eq!(
        output(tool(&tools, "checked_report"), r#"{"city": "Rome"}"#).await,
        r#"{"city":"Rome","temperature":3.0}"#
    );
    assert_eq!(
        error(tool(&tools, "checked_report"), r#"{"city": "Atlantis"}"#).await,
        "Atlantis cannot be found"
    );

    let silent = call(tool(&tools, "silent"), "").await.expect("silent succeeds");
    assert_eq!(silent, ToolOutput::none());
    assert!(!silent.reply_required);

    let stop = call(tool(&tools, "stop"), "").await.expect_err("stop is an error");
    assert!(stop.is_stop_response());
    assert_eq!(stop.llm_message(), "");

    let recorded = call(tool(&tools, "record"), r#"{"note": "x"}"#).await.expect("record");
    assert_eq!(recorded.output, "recorded x");
    assert!(!recorded.reply_required);

    assert_eq!(output(tool(&tools, "version-info"), "{}").await, "1.0");
    assert_eq!(
        error(tool(&tools, "lookup_weather"), r#"{"location": ""}"#).await,
        "the location is empty; ask the user for a city"
    );
}

#[tokio::test]
async fn panics_are_caught_and_reported_as_internal_errors() {
    let (_, tools) = assistant();
    let explode = tool(&tools, "explode");
    match call(explode, "{}").await {
        Err(ToolError::Panicked { tool, message }) => {
            assert_eq!(tool, "explode");
            assert_eq!(message, "boom");
        }
        other => panic!("expected a caught panic, got {other:?}"),
    }
    assert_eq!(error(explode, "{}").await, "An internal error occurred");

    // A closure that panics before it returns its future is caught too.
    let eager = function_tool(
        || -> std::future::Ready<String> { panic!("eager {}", 42) },
        "eager",
        "Panics right away.",
    )
    .expect("valid tool");
    match call(&eager, "").await {
        Err(ToolError::Panicked { message, .. }) => assert_eq!(message, "eager 42"),
        other => panic!("expected a caught panic, got {other:?}"),
    }
}

#[tokio::test]
async fn arguments_are_decoded_leniently_where_models_need_it() {
    let (_, tools) = assistant();
    let forecast = tool(&tools, "forecast");
    // Empty text and `null` mean "no arguments": every default applies.
    assert_eq!(output(forecast, "").await, "3 days, metric");
    assert_eq!(output(forecast, "  null ").await, "3 days, metric");
    // Double-encoded JSON is unwrapped.
    assert_eq!(output(forecast, r#""{\"days\": 5}""#).await, "5 days, metric");
    // Strict mode sends `null` for an omitted optional argument: the default applies.
    assert_eq!(output(forecast, r#"{"days": null, "system": null}"#).await, "3 days, metric");
    // Unknown keys are ignored.
    assert_eq!(output(forecast, r#"{"days": 1, "verbose": true}"#).await, "1 days, metric");

    let weather = tool(&tools, "lookup_weather");
    // `null` for an `Option` is `None`, not the default of something else.
    assert_eq!(
        output(weather, r#"{"location": "Oslo", "unit": null}"#).await,
        "call_1 Oslo: 21 Celsius"
    );
    // Nested objects get the same null handling.
    let every = tool(&tools, "every_kind");
    let nested = json!({
        "text": "t", "small": 1, "count": 1, "ratio": 1.0, "flag": false, "maybe": null,
        "tags": [], "unit": "celsius", "address": {"street": "s", "city": "c"},
        "other_address": null
    });
    assert!(output(every, &nested.to_string()).await.contains("\"other\":null"));
}

#[tokio::test]
async fn bad_arguments_tell_the_model_what_was_wrong() {
    let (assistant, tools) = assistant();
    let weather = tool(&tools, "lookup_weather");
    assert_eq!(
        error(weather, r#"{"unit": "celsius"}"#).await,
        "Error parsing arguments for `lookup_weather`: missing field `location`"
    );
    assert_eq!(
        error(weather, r#"{"location": 12}"#).await,
        "Error parsing arguments for `lookup_weather`: invalid type: integer `12`, expected a string"
    );
    assert_eq!(
        error(weather, r#"{"location": "Oslo", "unit": "kelvin"}"#).await,
        "Error parsing arguments for `lookup_weather`: unknown variant `kelvin`, expected `celsius` or `fahrenheit`"
    );
    assert_eq!(
        error(weather, r#"{"location": null}"#).await,
        "Error parsing arguments for `lookup_weather`: invalid type: null, expected a string"
    );
    assert_eq!(
        error(weather, r#"["Oslo"]"#).await,
        "Error parsing arguments for `lookup_weather`: expected a JSON object of arguments, got an array"
    );
    let broken = error(weather, r#"{"location": "Oslo""#).await;
    assert!(
        broken.starts_with(
            "Error parsing arguments for `lookup_weather`: the arguments are not valid JSON"
        ),
        "{broken}"
    );
    assert_eq!(assistant.not_a_tool(), 0, "the tool body never ran");
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Greeting {
    /// Who to greet.
    name: String,
    /// How many exclamation marks.
    excitement: Option<u8>,
}

async fn no_args() -> &'static str {
    "no args"
}

async fn context_only(ctx: RunContext) -> String {
    format!("context {}", ctx.function_call().call_id)
}

async fn args_only(args: Greeting) -> String {
    format!("hello {}{}", args.name, "!".repeat(usize::from(args.excitement.unwrap_or(0))))
}

async fn context_and_args(ctx: RunContext, args: Greeting) -> Result<String, ToolError> {
    Ok(format!("{} greets {}", ctx.function_call().call_id, args.name))
}

async fn random_number() -> i64 {
    rand::random_range(0..=100)
}

#[tokio::test]
async fn builder_accepts_each_shape() {
    let tools = [
        function_tool(no_args, "no_args", "No arguments.").expect("valid"),
        function_tool(context_only, "context_only", "Context only.").expect("valid"),
        function_tool(args_only, "args_only", "Arguments only.").expect("valid"),
        function_tool(context_and_args, "context_and_args", "Both.").expect("valid"),
        function_tool(
            |args: Greeting| async move { format!("closure greets {}", args.name) },
            "closure",
            "A closure.",
        )
        .expect("valid"),
        function_tool(random_number, "random_number", "Get a random number").expect("valid"),
    ];
    assert_eq!(output(&tools[0], "").await, "no args");
    assert_eq!(output(&tools[1], "").await, "context call_1");
    assert_eq!(output(&tools[2], r#"{"name": "Ada", "excitement": 2}"#).await, "hello Ada!!");
    assert_eq!(output(&tools[3], r#"{"name": "Ada"}"#).await, "call_1 greets Ada");
    assert_eq!(output(&tools[4], r#"{"name": "Bob"}"#).await, "closure greets Bob");
    let number: i64 = output(&tools[5], "").await.parse().expect("a number");
    assert!((0..=100).contains(&number));

    assert_eq!(tools[0].parameters(), &json!({"type": "object", "properties": {}}));
    assert_eq!(tools[1].parameters(), tools[0].parameters());
    assert_eq!(
        tools[2].parameters(),
        &json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "Who to greet."},
                "excitement": {
                    "type": ["integer", "null"], "minimum": 0, "maximum": 255,
                    "description": "How many exclamation marks."
                }
            },
            "required": ["name"]
        })
    );
    assert!(tools[3].origin().contains("context_and_args"), "{}", tools[3].origin());
}

#[test]
fn builder_rejects_invalid_names_and_non_object_arguments() {
    for (name, reason) in [
        ("", "it is empty"),
        ("9lives", "it starts with `9`"),
        ("has space", "it contains ` `"),
        ("dots.not.allowed", "it contains `.`"),
    ] {
        match function_tool(no_args, name, "x") {
            Err(ToolDefinitionError::InvalidName { name: rejected, reason: why }) => {
                assert_eq!(rejected, name);
                assert_eq!(why, reason);
            }
            other => panic!("{name:?} should be rejected, got {other:?}"),
        }
    }
    let long = "a".repeat(65);
    assert!(function_tool(no_args, &long, "x").is_err());
    assert!(function_tool(no_args, "a".repeat(64), "x").is_ok());
    assert!(function_tool(no_args, "_under-score_1", "x").is_ok());

    async fn list_argument(items: Vec<String>) -> usize {
        items.len()
    }
    let error = function_tool(list_argument, "list", "A list.").expect_err("not an object");
    assert!(matches!(error, ToolDefinitionError::ArgumentsNotAnObject { .. }));
    assert!(error.to_string().contains("must be a struct"), "{error}");
}

/// `#[function_tool]` refuses a tool without a description; the builder refuses an empty one.
#[test]
fn builder_rejects_an_empty_description() {
    for description in ["", "  \n\t "] {
        match function_tool(no_args, "ping", description) {
            Err(ToolDefinitionError::EmptyDescription { tool }) => assert_eq!(tool, "ping"),
            other => panic!("{description:?} should be rejected, got {other:?}"),
        }
    }
    let error = function_tool(no_args, "ping", "").expect_err("empty");
    assert!(error.to_string().contains("empty description"), "{error}");
    assert!(function_tool(no_args, "ping", "Answer pong.").is_ok());
}

#[tokio::test]
async fn raw_tools_take_json_arguments() {
    let raw = FunctionTool::raw(
        "open_gate",
        "Open a gate by id",
        json!({"type": "object", "properties": {"gate_id": {"type": "string"}}, "required": ["gate_id"]}),
        |_ctx: RunContext, arguments: Value| async move {
            match arguments["gate_id"].as_str() {
                Some(id) => Ok(format!("opened {id}")),
                None => Err(ToolError::message("gate_id is required")),
            }
        },
    )
    .expect("valid raw tool");
    assert_eq!(raw.kind(), ToolKind::Raw);
    assert!(raw.strict_parameters().is_none(), "raw schemas are never rewritten");
    assert_eq!(output(&raw, r#"{"gate_id": "north"}"#).await, "opened north");
    assert_eq!(error(&raw, "{}").await, "gate_id is required");
    assert!(FunctionTool::raw("x", "y", json!([1]), |_: RunContext, _: Value| async {}).is_err());
}

#[tokio::test]
async fn tool_sets_reject_duplicates_and_unknown_tools() {
    let (_, tools) = assistant();
    let a = function_tool(no_args, "lookup_weather", "Clashes with the method.").expect("valid");
    let error = ToolSet::new(tools.iter().cloned().chain([a])).expect_err("duplicate");
    let ToolSetError::DuplicateName { name, first, second } = &error else {
        panic!("unexpected {error:?}")
    };
    assert_eq!(name, "lookup_weather");
    assert!(first.contains("Assistant::lookup_weather"), "{first}");
    assert!(second.contains("no_args"), "{second}");
    assert!(error.to_string().contains("rename one of them"), "{error}");

    let twice = ToolSet::new([tools[0].clone(), tools[0].clone()]).expect_err("listed twice");
    let ToolSetError::ListedTwice { name, origin } = &twice else { panic!("unexpected {twice:?}") };
    // One origin, named once, and no advice to rename.
    assert_eq!(name, "lookup_weather");
    assert!(origin.contains("Assistant::lookup_weather"), "{origin}");
    assert!(twice.to_string().contains("is listed twice in one tool set"), "{twice}");
    assert!(!twice.to_string().contains("rename"), "{twice}");
    assert_eq!(twice.to_string().matches("Assistant::lookup_weather").count(), 1, "{twice}");

    let set = ToolSet::new(tools).expect("unique names");
    assert_eq!(set.len(), 10);
    assert!(set.contains("report"));
    assert!(set.get("nope").is_none());
    let unknown = set
        .invoke(RunContext::new(FunctionCall::new("c", "nope", "{}")))
        .await
        .expect_err("unknown tool");
    assert_eq!(
        unknown.llm_message(),
        "Unknown function: nope - available tools: lookup_weather, every_kind, report, \
         checked_report, silent, stop, record, explode, version-info, forecast"
    );
    let known = set
        .invoke(RunContext::new(FunctionCall::new(
            "c9",
            "lookup_weather",
            r#"{"location":"Rome"}"#,
        )))
        .await
        .expect("known tool");
    assert_eq!(known.output, "c9 Rome: 21 Celsius");
}

/// A backend the generic agent is parameterized over.
trait Backend: Send + Sync + 'static {
    fn lookup(&self, key: &str) -> Option<String>;
}

struct MapBackend(std::collections::HashMap<String, String>);

impl Backend for MapBackend {
    fn lookup(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}

struct Store<B> {
    backend: B,
}

#[function_tools]
impl<B: Backend> Store<B> {
    /// Look a key up in the store.
    #[function_tool]
    async fn get(&self, key: String) -> Result<String, ToolError> {
        self.backend.lookup(&key).ok_or_else(|| ToolError::message(format!("no key `{key}`")))
    }
}

#[tokio::test]
async fn generic_agent_types_have_tools() {
    let backend = MapBackend([("a".to_owned(), "1".to_owned())].into_iter().collect());
    let store = Arc::new(Store { backend });
    let tools = store.function_tools();
    assert_eq!(output(&tools[0], r#"{"key": "a"}"#).await, "1");
    assert_eq!(error(&tools[0], r#"{"key": "b"}"#).await, "no key `b`");
}

/// Free functions can be tools too.
///
/// The doc comment is the description.
#[function_tool]
async fn free_standing(
    ctx: RunContext,
    /** Who is asking. */
    who: String,
) -> String {
    format!("{who} via {}", ctx.function_call().name)
}

#[tokio::test]
async fn free_functions_get_a_tool_constructor() {
    let tool = free_standing_tool();
    assert_eq!(tool.name(), "free_standing");
    assert_eq!(
        tool.description(),
        "Free functions can be tools too.\n\nThe doc comment is the description."
    );
    assert_eq!(tool.parameters()["properties"]["who"]["description"], "Who is asking.");
    assert_eq!(output(&tool, r#"{"who": "me"}"#).await, "me via free_standing");
    // The function itself is untouched and callable.
    assert_eq!(free_standing(ctx("direct"), "you".to_owned()).await, "you via direct");
}

/// The output of `tracing` while `build` runs.
fn logs_of<T>(build: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber =
        tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
    let value = tracing::subscriber::with_default(subscriber, build);
    let logs = String::from_utf8_lossy(&capture.0.lock().expect("not poisoned")).into_owned();
    (value, logs)
}

/// Plot a point.
#[function_tool]
async fn plot(
    /// x and y.
    point: (i32, i32),
) -> String {
    format!("{point:?}")
}

/// A tuple argument costs the tool strict mode: said when the tool is built, with what to do.
#[tokio::test]
async fn a_tuple_argument_is_reported_when_the_tool_is_built() {
    let (tool, logs) = logs_of(plot_tool);
    let why = tool.strict_incompatibility().expect("tuples have no strict rendering");
    assert_eq!(why.path, "/properties/point");
    assert!(why.to_string().contains("is a tuple"), "{why}");
    assert!(why.to_string().contains("use a struct with named fields"), "{why}");
    assert!(tool.strict_parameters().is_none());
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("function tool `plot` cannot use strict schemas"), "{logs}");
    assert!(logs.contains("use a struct with named fields"), "{logs}");
    // The tool still works, non-strict.
    assert_eq!(output(&tool, r#"{"point": [1, 2]}"#).await, "(1, 2)");
}
