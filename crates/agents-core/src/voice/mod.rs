//! Running agents: `AgentSession`, its replies and tool loop, agent hooks, events, and the
//! test helpers (`RunResult`, `MockTools`).
//!
//! The session is text-only for now; the voice pipeline (VAD, STT, TTS) plugs in here.

mod events;
mod generation;
mod hooks;
mod mock;
mod output;
mod preemptive;
pub(crate) mod recognition;
mod run_result;
mod session;
mod speaker;
mod speech;
mod toolsets;

pub use events::{
    AgentMetrics, AgentState, CloseReason, EouMetrics, ErrorSource, LlmMetrics, SessionErrorEvent,
    SessionEvent, SttMetrics, TtsMetrics, TurnMetrics, UserState, VadMetrics,
};
pub use hooks::{
    AgentContext, AgentDefinition, AgentHooks, ModelSettings, NoHooks, StopResponse,
    default_agent_id, default_llm_node,
};
pub use mock::{MockTool, MockTools};
pub use output::{AudioOutput, PlaybackFinished};
pub use run_result::{
    EventAssert, FunctionCallAssert, FunctionCallOutputAssert, MessageAssert, RunAssert, RunEvent,
    RunResult,
};
pub use session::{
    AgentSession, AgentSessionBuilder, ReplyOptions, SessionError, SessionOptions, StartSession,
};
pub use speech::SpeechHandle;
