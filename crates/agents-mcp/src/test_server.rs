//! A small MCP server built with rmcp's server side, for this crate's tests and benchmarks
//! (feature `test-server`): tools whose list changes on request, that fail, crash, report
//! progress, and have awkward input schemas. Not for applications.

#![allow(missing_docs, unreachable_pub)]

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData, Peer, RoleServer, ServerHandler};
use serde_json::{Value, json};

/// The test server: its current tool list is shared by all its connections.
#[derive(Clone)]
pub struct TestServer {
    tools: Arc<Mutex<Vec<Tool>>>,
    /// The connected clients, told about tool list changes.
    peers: Arc<Mutex<Vec<Peer<RoleServer>>>>,
    /// Whether `crash` may end the process (stdio only).
    allow_crash: bool,
    /// How `tools/list` is answered.
    listing: Arc<Mutex<Listing>>,
}

/// How the test server answers `tools/list`.
#[derive(Debug, Clone, Default)]
pub enum Listing {
    /// With the current tools.
    #[default]
    Answer,
    /// Never.
    Hang,
    /// With a protocol error saying this.
    Fail(String),
}

fn object(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

fn tool(name: &str, description: &str, schema: Value) -> Tool {
    Tool::new(name.to_owned(), description.to_owned(), object(schema))
}

fn text_schema() -> Value {
    json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})
}

fn name_schema() -> Value {
    json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
}

/// The tools every server starts with.
pub fn initial_tools() -> Vec<Tool> {
    vec![
        tool("echo", "Echo the text.", text_schema()),
        tool(
            "add",
            "Add two integers.",
            json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}),
        ),
        tool("fail", "Always fails.", json!({"type": "object"})),
        tool("refuse", "Answers with a protocol error.", json!({"type": "object"})),
        tool(
            "slow",
            "Wait, reporting progress.",
            json!({"type": "object", "properties": {"ms": {"type": "integer"}, "steps": {"type": "integer"}}, "required": ["ms"]}),
        ),
        tool("crash", "Exit the server process.", json!({"type": "object"})),
        tool("add_tool", "Add an echo tool called `name`.", name_schema()),
        tool("remove_tool", "Remove the tool called `name`.", name_schema()),
        tool(
            "flip",
            "Toggle the tool `flipper` `times` times.",
            json!({"type": "object", "properties": {"times": {"type": "integer"}}, "required": ["times"]}),
        ),
        tool("media", "Answers with an image and a resource.", json!({})),
        Tool::new_with_raw("no_schema", None, object(json!({}))),
        tool(
            "with_ref",
            "An argument defined by a $ref.",
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"address": {"$ref": "#/$defs/Address"}},
                "required": ["address"],
                "$defs": {"Address": {"type": "object", "title": "Address", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
            }),
        ),
        tool(
            "with_format",
            "Arguments with formats.",
            json!({"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}, "code": {"type": "string", "format": "x-custom"}}, "required": ["when"]}),
        ),
        tool(
            "with_enum",
            "An enum argument.",
            json!({"type": "object", "properties": {"unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}, "days": {"type": "integer"}}, "required": ["unit"]}),
        ),
        tool(
            "recursive",
            "A recursive argument.",
            json!({"type": "object", "properties": {"node": {"$ref": "#/definitions/Node"}}, "definitions": {"Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/Node"}}}}}}),
        ),
    ]
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn text(text: impl Into<String>) -> CallToolResponse {
    CallToolResponse::Complete(CallToolResult::success(vec![ContentBlock::text(text)]))
}

fn int(args: &JsonObject, key: &str) -> i64 {
    args.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn string(args: &JsonObject, key: &str) -> String {
    args.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

impl TestServer {
    /// A server with [`initial_tools`]; `allow_crash` lets `crash` exit the process.
    pub fn new(allow_crash: bool) -> Self {
        Self {
            tools: Arc::new(Mutex::new(initial_tools())),
            peers: Arc::new(Mutex::new(Vec::new())),
            allow_crash,
            listing: Arc::new(Mutex::new(Listing::Answer)),
        }
    }

    /// Sets how `tools/list` is answered from now on.
    pub fn set_listing(&self, listing: Listing) {
        *lock(&self.listing) = listing;
    }

    fn has(&self, name: &str) -> bool {
        lock(&self.tools).iter().any(|tool| tool.name == name)
    }

    /// Tells every connected client that the tool list changed (the caller first).
    async fn changed(&self, context: &RequestContext<RoleServer>) {
        let others: Vec<Peer<RoleServer>> = lock(&self.peers).clone();
        // A client that went away is not the server's problem.
        let _ = context.peer.notify_tool_list_changed().await;
        for peer in others {
            if !peer.is_transport_closed() {
                let _ = peer.notify_tool_list_changed().await;
            }
        }
    }

    async fn call(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        if !self.has(&name) {
            return Err(ErrorData::invalid_params(format!("unknown tool `{name}`"), None));
        }
        let args = request.arguments.unwrap_or_default();
        match name.as_str() {
            "echo" => Ok(text(string(&args, "text"))),
            "add" => Ok(CallToolResponse::Complete(CallToolResult::structured(
                json!({"sum": int(&args, "a") + int(&args, "b")}),
            ))),
            "fail" => {
                Ok(CallToolResponse::Complete(CallToolResult::error(vec![ContentBlock::text(
                    "the database is down",
                )])))
            }
            "refuse" => Err(ErrorData::invalid_request("calls are not accepted today", None)),
            "slow" => {
                let ms = u64::try_from(int(&args, "ms")).unwrap_or(0);
                let steps = int(&args, "steps").max(1);
                let token = context.meta.get_progress_token();
                for step in 1..=steps {
                    tokio::time::sleep(Duration::from_millis(ms) / steps as u32).await;
                    if let Some(token) = token.clone() {
                        let param = ProgressNotificationParam::new(token, step as f64)
                            .with_total(steps as f64)
                            .with_message(format!("step {step}"));
                        let _ = context.peer.notify_progress(param).await;
                    }
                }
                Ok(text(format!("done after {ms} ms")))
            }
            "crash" if self.allow_crash => std::process::exit(3),
            "crash" => Ok(text("not crashing in process")),
            "add_tool" => {
                let new = string(&args, "name");
                {
                    let mut tools = lock(&self.tools);
                    tools.retain(|tool| tool.name != new);
                    tools.push(tool(&new, "Echo the text.", text_schema()));
                }
                self.changed(&context).await;
                Ok(text(format!("added {new}")))
            }
            "remove_tool" => {
                let gone = string(&args, "name");
                lock(&self.tools).retain(|tool| tool.name != gone);
                self.changed(&context).await;
                Ok(text(format!("removed {gone}")))
            }
            "flip" => {
                for _ in 0..int(&args, "times") {
                    {
                        let mut tools = lock(&self.tools);
                        let before = tools.len();
                        tools.retain(|tool| tool.name != "flipper");
                        if tools.len() == before {
                            tools.push(tool("flipper", "Echo the text.", text_schema()));
                        }
                    }
                    self.changed(&context).await;
                    tokio::task::yield_now().await;
                }
                Ok(text("flipped"))
            }
            "media" => Ok(CallToolResponse::Complete(CallToolResult::success(vec![
                ContentBlock::text("a chart:"),
                ContentBlock::image("aGVsbG8=", "image/png"),
                ContentBlock::embedded_text("file:///notes.txt", "remember the milk"),
            ]))),
            "flipper" => Ok(text(format!("flipper: {}", string(&args, "text")))),
            // The schema tools answer with the arguments they received.
            "no_schema" | "with_ref" | "with_format" | "with_enum" | "recursive" => {
                Ok(text(Value::Object(args).to_string()))
            }
            // Echo tools added at run time.
            _ => Ok(text(string(&args, "text"))),
        }
    }
}

impl ServerHandler for TestServer {
    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        lock(&self.peers).push(context.peer);
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder().enable_tools().enable_tool_list_changed().build(),
        )
        .with_server_info(Implementation::new("agents-mcp-test-server", "0.1.0"))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let listing = lock(&self.listing).clone();
        match listing {
            Listing::Answer => Ok(ListToolsResult::with_all_items(lock(&self.tools).clone())),
            Listing::Hang => std::future::pending().await,
            Listing::Fail(message) => Err(ErrorData::internal_error(message, None)),
        }
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.call(request, context).await
    }
}
