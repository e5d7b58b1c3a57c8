//! The type-erased function tool shared by the macros, the builder and raw tools.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;

use super::arguments::parse_arguments;
use super::schema::{self, StrictIncompatibility};
use super::{RunContext, ToolDefinitionError, ToolError, ToolOutput};

/// The future a tool's handler returns.
pub(crate) type ToolFuture = BoxFuture<'static, Result<ToolOutput, ToolError>>;

/// The arguments handed to a type-erased handler.
pub(crate) enum ToolArguments<'a> {
    /// The model's text, known to be a JSON object without `null`s: deserialized directly.
    Text(&'a str),
    /// An arguments object parsed leniently.
    Value(Value),
}

impl ToolArguments<'_> {
    /// Deserializes the arguments into `A`; `Err` is a reason for the model.
    pub(crate) fn deserialize<A: serde::de::DeserializeOwned>(self) -> Result<A, String> {
        match self {
            Self::Text(text) => serde_json::from_str(text),
            Self::Value(value) => serde_json::from_value(value),
        }
        .map_err(|error| error.to_string())
    }
}

/// A type-erased tool handler: deserializes the arguments and starts the call.
///
/// Returns `Err(reason)` when the arguments don't deserialize into the tool's types.
pub(crate) type ErasedHandler =
    dyn Fn(RunContext, ToolArguments<'_>) -> Result<ToolFuture, String> + Send + Sync;

/// Why a call could not start.
enum StartError {
    /// The arguments don't deserialize; the reason is for the model.
    Arguments(String),
    /// Anything else (a panic while starting).
    Tool(ToolError),
}

/// Whether `text` can skip lenient parsing: a JSON object (by its first character) with no
/// `null` anywhere. Deserializing it directly gives the same result as the lenient path; if it
/// fails, the lenient path runs and reports the error.
fn is_plain_object(text: &str) -> bool {
    text.trim_start().starts_with('{') && !text.contains("null")
}

/// Behaviour flags of a tool (Python's `ToolFlag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ToolFlags(u8);

impl ToolFlags {
    /// No flags.
    pub const NONE: Self = Self(0);
    /// Hide the tool from replies generated while the agent's `on_enter` runs.
    pub const IGNORE_ON_ENTER: Self = Self(1);

    /// Whether all flags in `other` are set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for ToolFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// How a tool's parameters schema was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ToolKind {
    /// Generated from Rust types (`#[function_tool]` or [`function_tool`](super::function_tool)),
    /// or a schema known at run time and treated the same way ([`FunctionTool::from_schema`],
    /// e.g. an MCP server's tool): rendered strict when strict mode can express it.
    Function,
    /// A JSON schema given as is ([`FunctionTool::raw`], Python's `raw_schema=`); it is sent
    /// unchanged and never rewritten for strict mode.
    Raw,
}

/// A tool the LLM can call: name, description, parameters schema and handler.
///
/// Built by `#[function_tool]`, by [`function_tool`](super::function_tool) or by
/// [`FunctionTool::raw`]. Cloning is cheap (an `Arc` inside) and clones are the same tool.
/// The schemas are computed once, when the tool is built.
#[derive(Clone)]
pub struct FunctionTool {
    inner: Arc<ToolInner>,
}

struct ToolInner {
    name: Arc<str>,
    description: String,
    origin: String,
    kind: ToolKind,
    flags: ToolFlags,
    parameters: Value,
    strict: Result<Value, StrictIncompatibility>,
    handler: Arc<ErasedHandler>,
}

impl fmt::Debug for FunctionTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionTool")
            .field("name", &self.name())
            .field("description", &self.description())
            .field("kind", &self.inner.kind)
            .field("origin", &self.inner.origin)
            .finish_non_exhaustive()
    }
}

/// Validates a tool name: `^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$`.
pub fn validate_tool_name(name: &str) -> Result<(), ToolDefinitionError> {
    let invalid =
        |reason: String| ToolDefinitionError::InvalidName { name: name.to_owned(), reason };
    let mut chars = name.chars();
    match chars.next() {
        None => return Err(invalid("it is empty".to_owned())),
        Some(first) if !(first.is_ascii_alphabetic() || first == '_') => {
            return Err(invalid(format!("it starts with `{first}`")));
        }
        Some(_) => {}
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
        return Err(invalid(format!("it contains `{bad}`")));
    }
    if name.len() > 64 {
        return Err(invalid(format!("it is {} characters long (at most 64)", name.len())));
    }
    Ok(())
}

impl FunctionTool {
    /// Builds a tool from parts whose name is already valid.
    pub(crate) fn from_parts(
        name: String,
        description: String,
        origin: String,
        kind: ToolKind,
        parameters: Value,
        handler: Arc<ErasedHandler>,
    ) -> Self {
        let strict = match kind {
            ToolKind::Function => schema::to_strict(&parameters),
            ToolKind::Raw => Err(StrictIncompatibility {
                path: "/".to_owned(),
                reason: "is a raw schema, which is sent as given",
            }),
        };
        if let (ToolKind::Function, Err(why)) = (kind, &strict) {
            tracing::warn!(
                tool = %name,
                "function tool `{name}` cannot use strict schemas ({why}); it will be sent non-strict"
            );
        }
        Self {
            inner: Arc::new(ToolInner {
                name: name.into(),
                description,
                origin,
                kind,
                flags: ToolFlags::NONE,
                parameters,
                strict,
                handler,
            }),
        }
    }

    /// A tool with a raw JSON schema for its parameters, called with the arguments as JSON
    /// (Python's `function_tool(f, raw_schema=...)`).
    ///
    /// The schema is sent to the model as given, never rewritten for strict mode. It must be a
    /// JSON object; the arguments the handler receives are always a JSON object.
    ///
    /// ```
    /// use agents_core::prelude::*;
    /// use agents_core::serde_json::{Value, json};
    ///
    /// let open_gate = FunctionTool::raw(
    ///     "open_gate",
    ///     "Open a gate by id",
    ///     json!({
    ///         "type": "object",
    ///         "properties": { "gate_id": { "type": "string" } },
    ///         "required": ["gate_id"],
    ///         "additionalProperties": false
    ///     }),
    ///     |_ctx: RunContext, args: Value| async move {
    ///         format!("opened {}", args["gate_id"].as_str().unwrap_or("?"))
    ///     },
    /// )?;
    /// assert_eq!(open_gate.name(), "open_gate");
    /// # Ok::<(), agents_core::llm::ToolDefinitionError>(())
    /// ```
    pub fn raw<F, Fut>(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
        handler: F,
    ) -> Result<Self, ToolDefinitionError>
    where
        F: Fn(RunContext, Value) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: super::IntoToolOutput,
    {
        let name = name.into();
        validate_tool_name(&name)?;
        if !parameters.is_object() {
            return Err(ToolDefinitionError::InvalidRawSchema {
                tool: name,
                reason: format!("expected a JSON object, got `{parameters}`"),
            });
        }
        let erased = json_handler(handler);
        Ok(Self::from_parts(
            name,
            description.into(),
            format!("raw tool `{}`", std::any::type_name::<F>()),
            ToolKind::Raw,
            parameters,
            erased,
        ))
    }

    /// A tool whose parameters schema is known only at run time (an MCP server's tool),
    /// called with the arguments as a JSON object.
    ///
    /// Unlike [`raw`](Self::raw), the schema is treated as canonical: it gets a strict
    /// rendering when strict mode can express it, else the tool is sent non-strict with a
    /// warning, as for `#[function_tool]`s. `origin` says where the tool comes from in error
    /// messages (e.g. "MCP server `weather`"). The schema must be a JSON object schema
    /// (`"type": "object"`).
    ///
    /// ```
    /// use agents_core::prelude::*;
    /// use agents_core::serde_json::{Value, json};
    ///
    /// let tool = FunctionTool::from_schema(
    ///     "get_forecast",
    ///     "The forecast of a city",
    ///     "MCP server `weather`",
    ///     json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    ///     |_ctx: RunContext, args: Value| async move { format!("sunny in {}", args["city"]) },
    /// )?;
    /// assert_eq!(tool.strict_parameters().unwrap()["required"], json!(["city"]));
    /// # Ok::<(), agents_core::llm::ToolDefinitionError>(())
    /// ```
    pub fn from_schema<F, Fut>(
        name: impl Into<String>,
        description: impl Into<String>,
        origin: impl Into<String>,
        parameters: Value,
        handler: F,
    ) -> Result<Self, ToolDefinitionError>
    where
        F: Fn(RunContext, Value) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: super::IntoToolOutput,
    {
        let name = name.into();
        validate_tool_name(&name)?;
        if !schema::is_object_schema(&parameters) {
            return Err(ToolDefinitionError::InvalidRawSchema {
                tool: name,
                reason: format!(
                    "expected a JSON object schema (`\"type\": \"object\"`), got `{parameters}`"
                ),
            });
        }
        let erased = json_handler(handler);
        Ok(Self::from_parts(
            name,
            description.into(),
            origin.into(),
            ToolKind::Function,
            parameters,
            erased,
        ))
    }

    /// The tool's name, as the model calls it.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub(crate) fn shared_name(&self) -> &Arc<str> {
        &self.inner.name
    }

    /// The tool's description, as the model reads it.
    pub fn description(&self) -> &str {
        &self.inner.description
    }

    /// Where the tool was defined (a method, a function or a raw handler), for error messages.
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// How the parameters schema was given.
    pub fn kind(&self) -> ToolKind {
        self.inner.kind
    }

    /// The tool's flags.
    pub fn flags(&self) -> ToolFlags {
        self.inner.flags
    }

    /// This tool with `flags` set.
    pub fn with_flags(self, flags: ToolFlags) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(ToolInner {
                name: inner.name.clone(),
                description: inner.description.clone(),
                origin: inner.origin.clone(),
                kind: inner.kind,
                flags,
                parameters: inner.parameters.clone(),
                strict: inner.strict.clone(),
                handler: inner.handler.clone(),
            }),
        }
    }

    /// The canonical JSON schema of the tool's parameters (see [`schema`](super::schema)).
    pub fn parameters(&self) -> &Value {
        &self.inner.parameters
    }

    /// The OpenAI strict rendering of the parameters, or `None` when the tool must be sent
    /// non-strict (raw schemas, and types strict mode cannot express).
    pub fn strict_parameters(&self) -> Option<&Value> {
        self.inner.strict.as_ref().ok()
    }

    /// Why the tool has no strict rendering, if it has none.
    pub fn strict_incompatibility(&self) -> Option<&StrictIncompatibility> {
        self.inner.strict.as_ref().err()
    }

    /// Whether `self` and `other` are the same tool (clones of one definition).
    pub fn same_tool(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Parses the model's argument text into the JSON object the tool will be called with.
    ///
    /// Lenient where models need it: `""` and `null` mean `{}`, double-encoded JSON is
    /// unwrapped, and a `null` for an optional argument that cannot be `null` means "use the
    /// default" (strict mode's way of omitting it). The result is canonical JSON, fit to be
    /// written back into the chat history.
    pub fn parse_arguments(&self, arguments: &str) -> Result<Value, ToolError> {
        parse_arguments(arguments, &self.inner.parameters)
            .map_err(|reason| ToolError::InvalidArguments { tool: self.name().to_owned(), reason })
    }

    /// Calls the tool with the model's argument text.
    ///
    /// Arguments that are not valid JSON, miss a required field or have a wrong type give
    /// [`ToolError::InvalidArguments`] with a message the model can act on. A panic inside the
    /// tool is caught and returned as [`ToolError::Panicked`]. The returned future owns what it
    /// needs (`'static`), so it can be spawned.
    ///
    /// ```
    /// use agents_core::prelude::*;
    ///
    /// #[derive(Deserialize, JsonSchema)]
    /// struct Add { a: i64, b: i64 }
    ///
    /// async fn add(args: Add) -> i64 { args.a + args.b }
    ///
    /// # futures::executor::block_on(async {
    /// let tool = function_tool(add, "add", "Add two numbers.")?;
    /// let ctx = RunContext::new(FunctionCall::new("call_1", "add", r#"{"a": 2, "b": 3}"#));
    /// let output = tool.invoke(ctx.clone(), r#"{"a": 2, "b": 3}"#).await?;
    /// assert_eq!(output.output, "5");
    ///
    /// let error = tool.invoke(ctx, r#"{"a": 2}"#).await.unwrap_err();
    /// assert_eq!(error.llm_message(), "Error parsing arguments for `add`: missing field `b`");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn invoke(
        &self,
        ctx: RunContext,
        arguments: &str,
    ) -> impl Future<Output = Result<ToolOutput, ToolError>> + Send + 'static + use<> {
        let started = self.start_with_text(ctx, arguments);
        async move { started?.await }
    }

    fn start_with_text(&self, ctx: RunContext, text: &str) -> Result<ToolFuture, ToolError> {
        if self.inner.kind == ToolKind::Function && is_plain_object(text) {
            match self.start(ctx.clone(), ToolArguments::Text(text)) {
                Ok(future) => return Ok(future),
                Err(StartError::Tool(error)) => return Err(error),
                // Fall through: the lenient path decides, and words the error.
                Err(StartError::Arguments(_)) => {}
            }
        }
        let args = self.parse_arguments(text)?;
        self.start(ctx, ToolArguments::Value(args)).map_err(|error| match error {
            StartError::Arguments(reason) => {
                ToolError::InvalidArguments { tool: self.name().to_owned(), reason }
            }
            StartError::Tool(error) => error,
        })
    }

    /// Starts the call; a panic in the handler (before its future exists, or while the future
    /// runs) becomes [`ToolError::Panicked`].
    fn start(&self, ctx: RunContext, args: ToolArguments<'_>) -> Result<ToolFuture, StartError> {
        let tool = self.name();
        match std::panic::catch_unwind(AssertUnwindSafe(|| (self.inner.handler)(ctx, args))) {
            Ok(Ok(future)) => {
                let name = self.inner.name.clone();
                Ok(async move {
                    match AssertUnwindSafe(future).catch_unwind().await {
                        Ok(result) => result,
                        Err(payload) => Err(panic_error(payload, &name)),
                    }
                }
                .boxed())
            }
            Ok(Err(reason)) => Err(StartError::Arguments(reason)),
            Err(payload) => Err(StartError::Tool(panic_error(payload, tool))),
        }
    }
}

fn panic_error(payload: Box<dyn Any + Send>, tool: &str) -> ToolError {
    let message = if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a non-string panic payload".to_owned()
    };
    tracing::error!(tool, "function tool `{tool}` panicked: {message}");
    ToolError::Panicked { tool: tool.to_owned(), message }
}

/// A handler of JSON arguments (raw tools, schemas known at run time), erased: the arguments
/// are parsed from the model's text as any JSON value.
fn json_handler<F, Fut>(handler: F) -> Arc<ErasedHandler>
where
    F: Fn(RunContext, Value) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: super::IntoToolOutput,
{
    Arc::new(move |ctx, args: ToolArguments<'_>| {
        let args = match args {
            ToolArguments::Value(value) => value,
            ToolArguments::Text(text) => {
                serde_json::from_str(text).map_err(|error| error.to_string())?
            }
        };
        let future = handler(ctx, args);
        Ok(async move { super::IntoToolOutput::into_tool_output(future.await) }.boxed())
    })
}
