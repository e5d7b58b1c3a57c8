//! Running agents: `AgentSession`, its replies and tool loop, agent hooks, events, and the
//! test helpers (`RunResult`, `MockTools`).
//!
//! A session runs in text (`run`, `generate_reply`, `say`) and in voice: with
//! [`StartSession::audio_input`] the VAD and the STT turn the user's audio into user turns, and
//! with [`StartSession::audio_output`] the TTS speaks the replies (a [`Room`](crate::room::Room)
//! gives both).
//!
//! # Layers
//!
//! The modules depend on each other in one direction, from the top down (no module imports
//! one above it):
//!
//! ```text
//! session, builder        the facade: AgentSession's public API, and its builder
//!    │
//! scheduler, generation,  the tasks: they use the core, never the facade
//! recognition, speaker
//!    │
//! run_context             what a tool is given: `RunContext::session`/`speech_handle`/
//!    │                    `userdata` (hooks get `crate::agent::AgentContext`)
//! core, busy, preemptive  `SessionCore`, the shared state and its operations (emit, commit,
//!    │                    report_error, the state setters, the job queue); busy counting;
//!    │                    the preemptive LLM request
//! error, events, options, speech, run_result, mock, output, instructions, untimed
//!                         data types (untimed: word timings estimated for a TTS without)
//! ```
//!
//! `AgentSession` is only a handle on the core (`Arc<SessionCore>`), declared next to it so
//! the tasks can hand user code (hooks, tools) a session; its methods are in `session`. User
//! code calls back through that handle, never the library's own tasks.
//!
//! Outside `voice`: `llm` (models, tools, the chat context) knows no session — a
//! `RunContext` carries its caller opaquely, and the session's accessors on it are added here,
//! in `run_context`; `voice` uses `llm` and `agent`. The agent types (`Agent`, `AgentDefinition`,
//! `AgentHooks`, `AgentContext`) live in `crate::agent`; `AgentContext` names the session
//! handle, because a hook is given the session.

//! # Concurrency
//!
//! A session is a few tokio tasks around one `SessionCore` (`core.rs`), shared
//! through an `Arc` by every `AgentSession` clone and every task:
//!
//! - **The core** holds what never changes (components, options) and a `State` behind a
//!   `std::sync::Mutex` (the agent, the history, the current speech, the `run` collecting
//!   events, the mocks, the handles of the tasks below). The lock is taken for a few
//!   statements, never across an `.await`, and events are sent after it is released.
//! - **The scheduler** (one task per session, spawned by `start`) owns the receiving end of the
//!   job queue (an unbounded `mpsc`: replies, `say`s and handoffs, sent by `generate_reply`,
//!   `say`, `update_agent`, recognition and tools) and the jobs waiting to run. It runs one job
//!   at a time, in its own task: the reply's LLM steps and its speaker (TTS into the audio
//!   output). While a hook runs it only takes the jobs that hook asked for; an interruption
//!   (the `interrupt_epoch` watch) drops the droppable queued ones.
//! - **Tool calls** run as tasks of a `JoinSet` owned by the reply step that started them,
//!   as soon as the model streams each call; the step awaits them all, or shuts them down
//!   when the reply is interrupted.
//! - **Hooks** (`on_enter` at `start`; `on_exit` then `on_enter` at a handoff) run as tasks of
//!   the core's hook `JoinSet`. A panic in one is caught and reported.
//! - **Recognition** (one task, with audio input) reads the audio, the VAD and STT streams,
//!   sets the user state, interrupts the agent when the user speaks over it, and queues a reply
//!   per user turn. A **preemptive request** (a task owned by the `Preemptive` in the state,
//!   aborted when it is dropped) starts the LLM before the end of the turn.
//! - **Busy work** — queued and running jobs, running hooks — is counted by guards
//!   (`Busy`, in `busy.rs`) that a job or hook task holds until it is done, so an early
//!   return, a panic or a cancelled task cannot leave the count high. `run`, `wait_for_idle`
//!   and recognition wait on it (a `watch`) to reach zero.
//! - **Events** go out on a `broadcast` channel (1024 deep) to every `subscribe`r; nothing
//!   waits for subscribers. A `run`'s own events and errors are recorded in the state, tagged
//!   with the `run`'s id (a task-local inherited by the work the run causes).
//!
//! **Shutdown** (`close`): the state is marked closed and the queue's sender dropped; a closer
//! task (so that closing from a tool or a hook completes) aborts recognition and the
//! preemptive request, interrupts the current reply even if uninterruptible (its tool tasks
//! are shut down with it), waits for the scheduler to drop what is left in the queue and end,
//! runs the agent's `on_exit`, aborts and awaits the remaining hook tasks, then sets `closed`
//! and sends the `Close` event.

mod builder;
mod busy;
mod core;
mod error;
mod events;
mod generation;
mod instructions;
mod mock;
mod model_input;
mod options;
mod output;
mod preemptive;
pub(crate) mod recognition;
mod run_context;
mod run_result;
mod scheduler;
mod session;
mod speaker;
mod speech;
mod toolsets;
mod untimed;

pub use self::core::AgentSession;
/// The agent types, defined in [`agent`](crate::agent) and used by the session.
pub use crate::agent::{
    AgentContext, AgentDefinition, AgentHooks, ModelSettings, NoHooks, StopResponse,
    default_agent_id, default_llm_node,
};
pub use builder::AgentSessionBuilder;
pub use error::SessionError;
pub use events::{
    AgentMetrics, AgentState, CloseReason, EouMetrics, ErrorSource, LlmMetrics, SessionErrorEvent,
    SessionEvent, SttMetrics, TtsMetrics, TurnMetrics, UserState, VadMetrics,
};
pub use mock::{MockTool, MockTools};
pub use model_input::{ComponentError, ComponentKind, IntoLlm, IntoStt, IntoTts, input};
pub use options::{ReplyOptions, SayOptions, SessionOptions};
pub use output::{AudioOutput, PlaybackFinished};
pub use run_result::{
    EventAssert, FunctionCallAssert, FunctionCallOutputAssert, MessageAssert, RunAssert, RunEvent,
    RunResult,
};
pub use session::StartSession;
pub use speech::SpeechHandle;
