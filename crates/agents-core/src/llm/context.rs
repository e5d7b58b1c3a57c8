//! The per-call context handed to function tools.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A function call emitted by the LLM: which tool, with which arguments.
///
/// Mirrors Python's `llm.FunctionCall`: `call_id` is the provider's id for the call and
/// `arguments` is the raw JSON text the model produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCall {
    /// Item id, unique in the conversation.
    pub id: String,
    /// The provider's id for this call; the tool's output answers this id.
    pub call_id: String,
    /// Name of the tool to call.
    pub name: String,
    /// The arguments as JSON text, exactly as the model produced them.
    pub arguments: String,
}

impl FunctionCall {
    /// A function call with the given id, tool name and JSON arguments.
    pub fn new(
        call_id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            id: super::chat::new_id("item"),
            call_id: call_id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }
}

/// Context of one tool call, passed to every tool that asks for it (Python's `RunContext`).
///
/// A tool asks for it by taking a parameter of type `RunContext`; the parameter's name does not
/// matter and it never appears in the tool's JSON schema. It is owned and cheap to clone (an
/// `Arc` inside), so a tool can move it into tasks it spawns.
///
/// ```
/// use agents_core::prelude::*;
///
/// async fn whoami(ctx: RunContext) -> String {
///     format!("call {} of `{}`", ctx.function_call().call_id, ctx.function_call().name)
/// }
/// # let _ = function_tool(whoami, "whoami", "Describe this call.");
/// ```
#[derive(Debug, Clone)]
pub struct RunContext {
    inner: Arc<RunContextInner>,
}

#[derive(Debug)]
struct RunContextInner {
    function_call: FunctionCall,
    /// Who made the call, when a layer above this one made it (a session's reply): that layer
    /// adds its own accessors to `RunContext` (the session's are `session`, `speech_handle`
    /// and `userdata`), so tools know no more of it than this.
    caller: Option<Box<dyn Caller>>,
}

/// What a layer above attaches to the contexts of the calls it makes.
pub(crate) trait Caller: Any + fmt::Debug + Send + Sync {}

impl<T: Any + fmt::Debug + Send + Sync> Caller for T {}

impl RunContext {
    /// A context for `function_call`, outside of any session.
    ///
    /// Sessions build contexts themselves; this constructor is for invoking tools directly, in
    /// tests or from your own dispatch code.
    pub fn new(function_call: FunctionCall) -> Self {
        Self { inner: Arc::new(RunContextInner { function_call, caller: None }) }
    }

    /// A context for a call made by `caller`, which the caller's layer reads back with
    /// [`caller`](Self::caller).
    pub(crate) fn with_caller(function_call: FunctionCall, caller: impl Caller) -> Self {
        Self { inner: Arc::new(RunContextInner { function_call, caller: Some(Box::new(caller)) }) }
    }

    /// The caller attached to this context, if it is a `T`.
    pub(crate) fn caller<T: Any>(&self) -> Option<&T> {
        let caller: &dyn Any = self.inner.caller.as_deref()?;
        caller.downcast_ref::<T>()
    }

    /// The function call this tool is answering.
    pub fn function_call(&self) -> &FunctionCall {
        &self.inner.function_call
    }
}
