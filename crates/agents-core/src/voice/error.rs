//! `SessionError`: misuse of a session, or a `run` whose reply failed.

use super::run_result::RunResult;
use crate::llm::ToolError;

/// Misuse of a session, or a [`run`](super::AgentSession::run) whose reply failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session is not running: call `start` first (or it was closed).
    #[error("the AgentSession is not running: call `session.start(agent)` first")]
    NotRunning,
    /// `start` was called twice.
    #[error("the AgentSession is already started")]
    AlreadyStarted,
    /// `run` was called while another `run` was in progress.
    #[error("nested runs are not supported: wait for the current `run` to finish")]
    NestedRun,
    /// Audio input needs a component the session was not built with.
    #[error("audio input needs {0}")]
    MissingComponent(&'static str),
    /// A reply of the run failed: an LLM request failed (after its retries), or an agent hook
    /// or node panicked. The run's result is kept, with its events (a partial reply, the tools
    /// that ran) and its errors.
    #[error("{}", .0.failure())]
    RunFailed(Box<RunResult>),
}

/// `?` on a session call in a tool: like the errors of `llm`'s list, a [`ToolError::Internal`]
/// (logged in full, reported to the model only as "An internal error occurred").
impl From<SessionError> for ToolError {
    fn from(error: SessionError) -> Self {
        Self::internal(error)
    }
}
