//! Errors of function tools: what a tool returns to the LLM, and what is wrong with a definition.

use std::error::Error as StdError;

/// The text the LLM receives in place of details it must not see.
pub(crate) const INTERNAL_ERROR_MESSAGE: &str = "An internal error occurred";

/// Why a tool call produced no normal output.
///
/// Covers Python's `ToolError` (a message returned to the LLM), `StopResponse` (no reply for
/// this call), and the failures the framework detects around a call: arguments that don't match
/// the tool's types, an unknown tool name, a panic. The session returns
/// [`ToolError::llm_message`] to the model as the call's (error) output, so the model can
/// correct itself.
///
/// ```
/// use agents_core::prelude::*;
///
/// fn check(city: &str) -> Result<(), ToolError> {
///     if city.is_empty() {
///         return Err(ToolError::message("`city` must not be empty; ask the user for a city"));
///     }
///     Ok(())
/// }
/// assert_eq!(check("").unwrap_err().llm_message(), "`city` must not be empty; ask the user for a city");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// A message for the LLM (Python's `raise ToolError(msg)`).
    #[error("{0}")]
    Message(String),
    /// Don't generate a reply for this call (Python's `raise StopResponse()`).
    #[error("the tool asked not to reply to this call (StopResponse)")]
    StopResponse,
    /// The arguments the model produced don't match the tool's parameters.
    #[error("Error parsing arguments for `{tool}`: {reason}")]
    InvalidArguments {
        /// The tool that was called.
        tool: String,
        /// What was wrong, in words the model can act on.
        reason: String,
    },
    /// The model called a tool that is not in the set it was offered.
    #[error("Unknown function: {name} - available tools: {available}")]
    UnknownTool {
        /// The name the model used.
        name: String,
        /// The tools that were offered, comma-separated.
        available: String,
    },
    /// The tool panicked. The panic was caught; the model is told an internal error occurred.
    #[error("tool `{tool}` panicked: {message}")]
    Panicked {
        /// The tool that panicked.
        tool: String,
        /// The panic payload, when it was a string.
        message: String,
    },
    /// The tool failed for an internal reason the model should not see verbatim.
    #[error(transparent)]
    Internal(Box<dyn StdError + Send + Sync>),
}

impl ToolError {
    /// A message returned to the LLM as the call's error output.
    pub fn message(message: impl Into<String>) -> Self {
        Self::Message(message.into())
    }

    /// An internal failure: logged in full, reported to the model as
    /// `"An internal error occurred"`.
    pub fn internal(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Internal(error.into())
    }

    /// Whether this is [`ToolError::StopResponse`], which is not an error for the model.
    pub fn is_stop_response(&self) -> bool {
        matches!(self, Self::StopResponse)
    }

    /// The text sent to the model as the tool output for this error.
    ///
    /// [`Panicked`](Self::Panicked) and [`Internal`](Self::Internal) errors are reported as
    /// `"An internal error occurred"` (as in Python); [`StopResponse`](Self::StopResponse) has
    /// an empty output.
    pub fn llm_message(&self) -> String {
        match self {
            Self::StopResponse => String::new(),
            Self::Panicked { .. } | Self::Internal(_) => INTERNAL_ERROR_MESSAGE.to_owned(),
            other => other.to_string(),
        }
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        Self::Message(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        Self::Message(message.to_owned())
    }
}

impl From<Box<dyn StdError + Send + Sync>> for ToolError {
    fn from(error: Box<dyn StdError + Send + Sync>) -> Self {
        Self::Internal(error)
    }
}

/// A function tool could not be defined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolDefinitionError {
    /// The name is not a valid tool name.
    #[error(
        "invalid function tool name `{name}`: {reason}; a tool name must match \
         ^[a-zA-Z_][a-zA-Z0-9_-]{{0,63}}$ (a letter or `_`, then up to 63 letters, digits, `_` or `-`)"
    )]
    InvalidName {
        /// The rejected name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The description is empty: the model would not know when to call the tool.
    #[error(
        "function tool `{tool}` has an empty description; the description tells the model when \
         to call the tool: say what it does (the `#[function_tool]` macro takes it from the doc comment)"
    )]
    EmptyDescription {
        /// The tool being defined.
        tool: String,
    },
    /// The arguments type does not describe a JSON object.
    #[error(
        "the arguments of function tool `{tool}` must be a struct (a JSON object schema), \
         but its schema is {found}; put the arguments in a struct deriving `Deserialize` and `JsonSchema`"
    )]
    ArgumentsNotAnObject {
        /// The tool being defined.
        tool: String,
        /// The schema that was produced instead.
        found: String,
    },
    /// A raw JSON schema given for a tool's parameters is not usable.
    #[error("invalid raw parameters schema for function tool `{tool}`: {reason}")]
    InvalidRawSchema {
        /// The tool being defined.
        tool: String,
        /// What is wrong with the schema.
        reason: String,
    },
}

/// A set of tools could not be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolSetError {
    /// Two tools in one set have the same name; the model could not tell them apart.
    #[error(
        "duplicate function tool name `{name}`: defined by {first} and by {second}; \
         rename one of them (`name = \"...\"` on `#[function_tool]`, or the name given to `function_tool`)"
    )]
    DuplicateName {
        /// The clashing name.
        name: String,
        /// Where the first tool with that name was defined.
        first: String,
        /// Where the second one was defined.
        second: String,
    },
    /// One tool is listed twice in one set.
    #[error(
        "function tool `{name}` ({origin}) is listed twice in one tool set: remove one of the two"
    )]
    ListedTwice {
        /// The tool's name.
        name: String,
        /// Where the tool was defined.
        origin: String,
    },
}
