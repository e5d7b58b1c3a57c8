//! A tool call's [`RunContext`] as a session makes it: the session and the reply that made the
//! call. `llm` knows no session; the accessors below are the session layer's.

use std::any::Any;
use std::sync::Arc;

use super::core::AgentSession;
use super::speech::SpeechHandle;
use crate::llm::{FunctionCall, RunContext};

/// The caller a session attaches to the contexts of the tool calls its replies make.
#[derive(Debug)]
struct SessionCaller {
    session: AgentSession,
    speech: SpeechHandle,
}

impl RunContext {
    /// A context for a call made by a session's reply.
    pub(crate) fn in_session(
        function_call: FunctionCall,
        session: AgentSession,
        speech: SpeechHandle,
    ) -> Self {
        Self::with_caller(function_call, SessionCaller { session, speech })
    }

    fn session_caller(&self) -> Option<&SessionCaller> {
        self.caller::<SessionCaller>()
    }

    /// The session that made the call (Python's `context.session`); `None` for a call made
    /// outside a session.
    pub fn session(&self) -> Option<&AgentSession> {
        self.session_caller().map(|caller| &caller.session)
    }

    /// The reply that made the call (Python's `context.speech_handle`).
    pub fn speech_handle(&self) -> Option<&SpeechHandle> {
        self.session_caller().map(|caller| &caller.speech)
    }

    /// The session's data, if it is a `T` (Python's `context.userdata`).
    pub fn userdata<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.session().and_then(AgentSession::userdata::<T>)
    }

    /// Reports the call's progress as a `SessionEvent::FunctionToolProgress` (nothing outside
    /// a session): `progress` so far, of `total` when known, with an optional `message`.
    pub fn report_progress(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        if let Some(session) = self.session() {
            session.core.emit(super::events::SessionEvent::FunctionToolProgress {
                function_call: Box::new(self.function_call().clone()),
                progress,
                total,
                message,
            });
        }
    }
}
