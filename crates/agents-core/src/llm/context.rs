//! The per-call context handed to function tools.

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
    session: Option<crate::voice::AgentSession>,
    speech: Option<crate::voice::SpeechHandle>,
}

impl RunContext {
    /// A context for `function_call`, outside of any session.
    ///
    /// Sessions build contexts themselves; this constructor is for invoking tools directly, in
    /// tests or from your own dispatch code.
    pub fn new(function_call: FunctionCall) -> Self {
        Self { inner: Arc::new(RunContextInner { function_call, session: None, speech: None }) }
    }

    /// A context for a call made by a session's reply.
    pub(crate) fn in_session(
        function_call: FunctionCall,
        session: crate::voice::AgentSession,
        speech: crate::voice::SpeechHandle,
    ) -> Self {
        Self {
            inner: Arc::new(RunContextInner {
                function_call,
                session: Some(session),
                speech: Some(speech),
            }),
        }
    }

    /// The session that made the call (Python's `context.session`); `None` for a call made
    /// outside a session.
    pub fn session(&self) -> Option<&crate::voice::AgentSession> {
        self.inner.session.as_ref()
    }

    /// The reply that made the call (Python's `context.speech_handle`).
    pub fn speech_handle(&self) -> Option<&crate::voice::SpeechHandle> {
        self.inner.speech.as_ref()
    }

    /// The session's data, if it is a `T` (Python's `context.userdata`).
    pub fn userdata<T: std::any::Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.session().and_then(crate::voice::AgentSession::userdata::<T>)
    }

    /// The function call this tool is answering.
    pub fn function_call(&self) -> &FunctionCall {
        &self.inner.function_call
    }

    /// Reports the call's progress as a `SessionEvent::FunctionToolProgress` (nothing outside
    /// a session): `progress` so far, of `total` when known, with an optional `message`.
    pub fn report_progress(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        if let Some(session) = self.session() {
            session.emit(crate::voice::SessionEvent::FunctionToolProgress {
                function_call: self.inner.function_call.clone(),
                progress,
                total,
                message,
            });
        }
    }
}
