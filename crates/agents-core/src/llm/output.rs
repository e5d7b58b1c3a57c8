//! What a tool returns to the model, and the conversions from tools' return values.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;

use super::ToolError;

/// The output of a successful tool call, as the model will see it.
///
/// `output` is the text sent back as the call's result. `reply_required` says whether the
/// session should ask the model again after this call (Python's
/// `ToolResult(output, reply_required=...)`): a tool that returns `()` records its call with an
/// empty output and asks for no reply, as a Python tool returning `None` does.
///
/// ```
/// use agents_core::prelude::*;
///
/// // A silent tool: the call is recorded, the agent does not speak about it.
/// async fn log_mood(args: Mood) -> ToolOutput {
///     ToolOutput::text(format!("mood: {}", args.mood)).with_reply_required(false)
/// }
/// #[derive(Deserialize, JsonSchema)]
/// struct Mood { mood: String }
/// # let _ = function_tool(log_mood, "log_mood", "Record the user's mood.");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ToolOutput {
    /// The text sent to the model as the result of the call.
    pub output: String,
    /// Whether the model should be asked for a reply after this call.
    pub reply_required: bool,
    /// An agent to hand the session over to after this call (Python's returning an `Agent`).
    pub handoff: Option<crate::Agent>,
}

impl PartialEq for ToolOutput {
    fn eq(&self, other: &Self) -> bool {
        self.output == other.output
            && self.reply_required == other.reply_required
            && match (&self.handoff, &other.handoff) {
                (None, None) => true,
                (Some(a), Some(b)) => a.same_agent(b),
                _ => false,
            }
    }
}

impl ToolOutput {
    /// A text output; a reply is required.
    pub fn text(output: impl Into<String>) -> Self {
        Self { output: output.into(), reply_required: true, handoff: None }
    }

    /// No output and no reply (what a tool returning `()` produces).
    pub fn none() -> Self {
        Self { output: String::new(), reply_required: false, handoff: None }
    }

    /// Hands the session over to `agent`, with no output and no reply from the current agent
    /// (Python's returning an `Agent` from a tool).
    pub fn handoff(agent: crate::Agent) -> Self {
        Self { handoff: Some(agent), ..Self::none() }
    }

    /// Hands the session over to `agent` after this output; when the output asks for a reply,
    /// the current agent gives it first, without tools (Python's returning
    /// `(agent, output)`).
    pub fn with_handoff(mut self, agent: crate::Agent) -> Self {
        self.handoff = Some(agent);
        self
    }

    /// The JSON rendering of `value`; a reply is required.
    ///
    /// A JSON string is sent as its text (not quoted), `null` is [`ToolOutput::none`], anything
    /// else is compact JSON.
    pub fn json(value: &impl Serialize) -> Result<Self, ToolError> {
        let text = serde_json::to_string(value).map_err(ToolError::internal)?;
        if text == "null" {
            return Ok(Self::none());
        }
        if text.starts_with('"') {
            let unquoted: String = serde_json::from_str(&text).map_err(ToolError::internal)?;
            return Ok(Self::text(unquoted));
        }
        Ok(Self::text(text))
    }

    /// Sets whether the model is asked for a reply after this call.
    pub fn with_reply_required(mut self, reply_required: bool) -> Self {
        self.reply_required = reply_required;
        self
    }

    fn from_json_value(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => Self::none(),
            serde_json::Value::String(text) => Self::text(text),
            other => Self::text(other.to_string()),
        }
    }
}

/// Renders a [`Serialize`] value as a tool's JSON output.
///
/// Methods marked `#[function_tool]` render any `Serialize` return value as JSON on their own;
/// tools built with [`function_tool`](crate::llm::function_tool) from a free function return
/// `Json(value)` for types that don't implement [`IntoToolOutput`] themselves.
///
/// ```
/// use agents_core::prelude::*;
///
/// #[derive(Serialize)]
/// struct Forecast { high: i32, low: i32 }
///
/// async fn forecast() -> Json<Forecast> {
///     Json(Forecast { high: 21, low: 12 })
/// }
/// # let _ = function_tool(forecast, "forecast", "Tomorrow's forecast.");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

/// Conversion of a tool's return value into its [`ToolOutput`].
///
/// Implemented for `()` (no output, no reply), text (`String`, `&'static str`, …), numbers,
/// `bool` and `char` (their display form), JSON values and collections of `Serialize` values
/// (compact JSON), [`Json<T>`], `Option<T>` (`None` is no output), [`ToolOutput`] itself, and
/// `Result<T, E>` where `E: Into<ToolError>`.
///
/// In a tool returning `Result<T, ToolError>`, `?` converts the errors tools commonly meet —
/// [`ToolSetError`](super::ToolSetError) (from `into_agent()` in a handoff),
/// `std::io::Error`, `serde_json::Error`, [`LlmError`](super::LlmError), parse errors,
/// `Box<dyn Error + Send + Sync>` and a few more — into [`ToolError::Internal`]: logged in full,
/// shown to the model only as "An internal error occurred". Other errors convert with
/// `.map_err(ToolError::internal)`; [`ToolError::message`] is for what the model should read.
///
/// ```
/// use agents_core::prelude::*;
///
/// #[derive(Agent)]
/// #[agent(instructions = "You handle billing.")]
/// struct Billing;
///
/// /// Transfer the user to billing.
/// #[function_tool]
/// async fn to_billing() -> Result<Agent, ToolError> {
///     Ok(Billing.into_agent()?)
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a function tool",
    note = "return `()`, text, a number, `ToolOutput`, or wrap a `Serialize` value in `Json(..)`; \
            fallible tools return `Result<T, E>` with `E: Into<ToolError>`"
)]
pub trait IntoToolOutput {
    /// Converts the value.
    fn into_tool_output(self) -> Result<ToolOutput, ToolError>;
}

impl IntoToolOutput for ToolOutput {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        Ok(self)
    }
}

impl IntoToolOutput for crate::Agent {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::handoff(self))
    }
}

impl<T: IntoToolOutput> IntoToolOutput for (crate::Agent, T) {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        let (agent, output) = self;
        Ok(output.into_tool_output()?.with_handoff(agent))
    }
}

impl IntoToolOutput for () {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::none())
    }
}

macro_rules! text_output {
    ($($ty:ty),* $(,)?) => {$(
        impl IntoToolOutput for $ty {
            fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
                Ok(ToolOutput::text(self.to_string()))
            }
        }
    )*};
}

text_output!(
    String,
    &'static str,
    Cow<'static, str>,
    Box<str>,
    Arc<str>,
    bool,
    char,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    f32,
    f64,
);

impl IntoToolOutput for serde_json::Value {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::from_json_value(self))
    }
}

impl<T: Serialize> IntoToolOutput for Json<T> {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        ToolOutput::json(&self.0)
    }
}

impl<T: Serialize> IntoToolOutput for Vec<T> {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        ToolOutput::json(&self)
    }
}

impl<K: Serialize, V: Serialize, S> IntoToolOutput for HashMap<K, V, S> {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        ToolOutput::json(&self)
    }
}

impl<K: Serialize, V: Serialize> IntoToolOutput for BTreeMap<K, V> {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        ToolOutput::json(&self)
    }
}

impl<T: IntoToolOutput> IntoToolOutput for Option<T> {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        match self {
            Some(value) => value.into_tool_output(),
            None => Ok(ToolOutput::none()),
        }
    }
}

impl<T: IntoToolOutput, E: Into<ToolError>> IntoToolOutput for Result<T, E> {
    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        match self {
            Ok(value) => value.into_tool_output(),
            Err(error) => Err(error.into()),
        }
    }
}

/// `?` in a tool: errors a tool commonly meets become [`ToolError::Internal`] — logged in full,
/// and reported to the model only as "An internal error occurred" (like
/// [`ToolError::internal`]). Return [`ToolError::message`] for an error the model should read.
///
/// A blanket impl over every `std::error::Error` is not possible (it would overlap with
/// `From<ToolError> for ToolError` and the text conversions), hence the list; any other error
/// converts with `.map_err(ToolError::internal)`, or through `Box<dyn Error + Send + Sync>`.
macro_rules! internal_tool_error {
    ($($ty:ty),* $(,)?) => {$(
        impl From<$ty> for ToolError {
            fn from(error: $ty) -> Self {
                Self::internal(error)
            }
        }
    )*};
}

internal_tool_error!(
    super::ToolSetError,
    super::ToolDefinitionError,
    super::LlmError,
    std::io::Error,
    serde_json::Error,
    std::fmt::Error,
    std::num::ParseIntError,
    std::num::ParseFloatError,
    std::str::ParseBoolError,
    std::str::Utf8Error,
    std::string::FromUtf8Error,
    std::net::AddrParseError,
    std::time::SystemTimeError,
    tokio::task::JoinError,
    tokio::time::error::Elapsed,
);
