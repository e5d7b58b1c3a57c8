//! Events an `AgentSession` emits, for subscribers and tests.

use std::sync::Arc;
use std::time::Duration;

use crate::llm::{ChatItem, CompletionUsage, FunctionCall, FunctionCallOutput, LlmError};

/// What the agent is doing (Python's `AgentState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AgentState {
    /// The session is starting.
    Initializing,
    /// Waiting for the user.
    Listening,
    /// Waiting for the LLM.
    Thinking,
    /// Producing the reply.
    Speaking,
}

/// What the user is doing (Python's `UserState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserState {
    /// The user is speaking.
    Speaking,
    /// The user is silent.
    Listening,
}

/// Why a session closed (Python's `CloseReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// `AgentSession::close` was called.
    UserInitiated,
    /// The job is shutting down.
    JobShutdown,
    /// An unrecoverable error.
    Error,
}

/// Which part of the pipeline an error came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorSource {
    /// The LLM.
    Llm,
    /// A tool call the model made that could not be honoured.
    ToolCall,
    /// An agent hook or pipeline node (a panic in user code).
    Hook,
    /// The speech-to-text.
    Stt,
    /// The text-to-speech.
    Tts,
    /// A toolset (an MCP server that exited, or came back).
    Toolset,
}

/// Metrics of one LLM request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LlmMetrics {
    /// Time from the request to the first chunk, if any chunk came.
    pub ttft: Option<Duration>,
    /// Time from the request to the end of its stream.
    pub duration: Duration,
    /// Token usage reported by the provider (zeros when it reported none).
    pub usage: CompletionUsage,
    /// Whether the request was cut short by an interruption.
    pub cancelled: bool,
    /// Which step of the reply's tool loop this was (1 for the first request).
    pub step: u32,
}

/// Metrics of the text-to-speech for one reply step.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TtsMetrics {
    /// Time from the first text given to the TTS to its first audio.
    pub ttfb: Option<Duration>,
    /// Time from the first text to the end of the synthesis (or the interruption).
    pub duration: Duration,
    /// Audio produced.
    pub audio_duration: Duration,
    /// Characters of text synthesized.
    pub characters: usize,
    /// Whether it was cut short by an interruption.
    pub cancelled: bool,
}

/// Metrics of speech-to-text (Python's `STTMetrics`): one per usage report of a streaming STT,
/// one per utterance of a non-streaming one.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SttMetrics {
    /// The provider's request id; empty if none.
    pub request_id: String,
    /// How long the request took (non-streaming); zero for a streaming recognition, as in
    /// Python.
    pub duration: Duration,
    /// Audio recognized.
    pub audio_duration: Duration,
    /// Whether the STT recognized the audio as it streamed.
    pub streamed: bool,
}

/// Metrics of the end of a user's turn (Python's `EOUMetrics`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EouMetrics {
    /// Time from the end of the user's speech to the turn being committed.
    pub end_of_utterance_delay: Duration,
    /// Time from the end of the user's speech to the final transcript.
    pub transcription_delay: Duration,
}

/// Metrics of the VAD, about once per second of audio (Python's `VADMetrics`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VadMetrics {
    /// Inferences since the last report.
    pub inference_count: u32,
    /// Their total inference time.
    pub inference_duration_total: Duration,
}

/// Latency of one spoken turn.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TurnMetrics {
    /// Time from the end of the user's speech to the agent's first audio out.
    pub e2e_latency: Duration,
}

/// Metrics, by source (Python's `AgentMetrics`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AgentMetrics {
    /// An LLM request.
    Llm(LlmMetrics),
    /// A TTS synthesis.
    Tts(TtsMetrics),
    /// Speech recognized by the STT.
    Stt(SttMetrics),
    /// The end of a user's turn.
    EndOfUtterance(EouMetrics),
    /// The VAD.
    Vad(VadMetrics),
    /// A spoken turn, end to end.
    Turn(TurnMetrics),
}

/// An event of an `AgentSession` (Python's `session.on(...)` events).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A message or agent handoff was added to the conversation (function calls and their
    /// outputs come in [`FunctionToolsExecuted`](Self::FunctionToolsExecuted)).
    ConversationItemAdded {
        /// The item.
        item: ChatItem,
    },
    /// A tool call started running, as soon as the model's answer carried it (Python's
    /// `ToolCallStarted`). Calls the reply may not make (tools not allowed) are not run and
    /// have no such event.
    FunctionToolStarted {
        /// The call.
        function_call: FunctionCall,
    },
    /// A tool call finished (Python's `ToolCallEnded`): its output, or the error the model
    /// reads (`output.is_error`), and how long it ran. Sent as each call ends, before the
    /// batch's [`FunctionToolsExecuted`](Self::FunctionToolsExecuted).
    ///
    /// The call and its output are boxed: every session preallocates its event channel's
    /// slots at the size of the largest event, so large variants would cost every session.
    FunctionToolFinished {
        /// The call.
        function_call: Box<FunctionCall>,
        /// Its output (an error output when `is_error`).
        output: Box<FunctionCallOutput>,
        /// From the start of the call to its end.
        duration: Duration,
    },
    /// A running tool call reported progress (an MCP server's progress notifications, or
    /// [`RunContext::report_progress`](crate::llm::RunContext::report_progress)).
    FunctionToolProgress {
        /// The call (boxed, as in [`FunctionToolFinished`](Self::FunctionToolFinished)).
        function_call: Box<FunctionCall>,
        /// Progress so far (it only increases).
        progress: f64,
        /// The total, when known.
        total: Option<f64>,
        /// A message about the progress, if any.
        message: Option<String>,
    },
    /// A batch of tool calls finished: parallel lists, in the order the model made the calls
    /// (the order of the history), whatever order they finished in. After an interruption,
    /// only the calls that had finished.
    FunctionToolsExecuted {
        /// The calls.
        function_calls: Vec<FunctionCall>,
        /// Their outputs.
        function_call_outputs: Vec<FunctionCallOutput>,
    },
    /// The agent's state changed.
    AgentStateChanged {
        /// The previous state.
        old_state: AgentState,
        /// The new state.
        new_state: AgentState,
    },
    /// The user's state changed (from the VAD, or the STT without one).
    UserStateChanged {
        /// The previous state.
        old_state: UserState,
        /// The new state.
        new_state: UserState,
    },
    /// The STT transcribed the user (Python's `user_input_transcribed`).
    UserInputTranscribed {
        /// The text.
        transcript: String,
        /// Whether it is final.
        is_final: bool,
    },
    /// Metrics of a part of the pipeline.
    MetricsCollected {
        /// The metrics.
        metrics: AgentMetrics,
    },
    /// Something failed; the session carries on.
    Error {
        /// What failed.
        error: SessionErrorEvent,
        /// Where.
        source: ErrorSource,
    },
    /// The session closed.
    Close {
        /// Why.
        reason: CloseReason,
    },
}

/// The error carried by [`SessionEvent::Error`].
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SessionErrorEvent {
    /// An LLM request failed (after its retries).
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// The model called tools in a reply where it was told not to (`tool_choice` none, after
    /// `max_tool_steps`): the calls were recorded with an error output and not executed.
    #[error("the model called {names} although tool calls were not allowed in this reply")]
    UnexpectedToolCalls {
        /// The tools it called, comma-separated.
        names: String,
    },
    /// A toolset lost its source or got it back (an MCP server that exited and was
    /// reconnected).
    #[error("toolset `{toolset}`: {message}")]
    Toolset {
        /// The toolset's id.
        toolset: String,
        /// What happened.
        message: String,
    },
    /// A hook or tool failed with a message.
    #[error("{0}")]
    Other(Arc<str>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_small_because_every_session_preallocates_1024_of_them() {
        // The session's broadcast channel allocates all its slots up front: each byte of the
        // largest variant costs ~1 KB per session (a 216-byte event cost 110 KB per idle job).
        // Box large payloads instead of growing this.
        assert!(
            std::mem::size_of::<SessionEvent>() <= 112,
            "{}",
            std::mem::size_of::<SessionEvent>()
        );
    }
}
