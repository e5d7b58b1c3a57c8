//! `AgentSession`'s public API: start, replies, `run`, close, and what the session reports.
//!
//! The session itself is a handle on the [`SessionCore`](super::core::SessionCore); this module
//! only checks the calls, starts the tasks and waits for them.

use std::any::Any;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures::FutureExt;
use futures::stream::BoxStream;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::builder::AgentSessionBuilder;
use super::core::{AgentSession, JobKind, RunCollector, SessionCore, as_hook_of, sync_in_run};
use super::error::SessionError;
use super::events::{
    AgentState, CloseReason, ErrorSource, SessionErrorEvent, SessionEvent, UserState,
};
use super::mock::MockTools;
use super::options::{ReplyOptions, SayOptions, SessionOptions};
use super::output::AudioOutput;
use super::recognition::{InputClock, Recognition};
use super::run_result::RunResult;
use super::speech::SpeechHandle;
use super::toolsets::check_toolsets;
use crate::agent::Agent;
use crate::agent::AgentContext;
use crate::audio::AudioFrame;
use crate::llm::{AgentHandoff, ApiConnectOptions, ChatContext, ChatItem, Llm, Toolset};
use crate::room::Room;
use crate::stt::Stt;

/// Ends a `run`'s collection when the `run` future ends, finished or dropped.
struct RunGuard<'a>(&'a SessionCore);

/// Marks the audio input done when dropped.
struct AudioInputDone(Arc<SessionCore>);

impl Drop for AudioInputDone {
    fn drop(&mut self) {
        self.0.audio_input_done.send_replace(true);
    }
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.0.state().run = None;
    }
}

impl fmt::Debug for AgentSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentSession").field("options", &self.core.options).finish_non_exhaustive()
    }
}

/// `session.start(agent)`: a future that starts the session, optionally in a room.
#[must_use = "a StartSession does nothing until awaited"]
pub struct StartSession<'a> {
    session: &'a AgentSession,
    agent: Agent,
    room: Option<Room>,
    audio: Option<BoxStream<'static, AudioFrame>>,
    audio_output: Option<Arc<dyn AudioOutput>>,
}

impl StartSession<'_> {
    /// Speaks the agent's replies into `output` through the session's TTS.
    pub fn audio_output(mut self, output: Arc<dyn AudioOutput>) -> Self {
        self.audio_output = Some(output);
        self
    }

    /// Listens to `audio` (the user's microphone, a room track, a WAV file): the VAD and STT
    /// turn it into user turns, and the user speaking over the agent interrupts it.
    pub fn audio_input(
        mut self,
        audio: impl futures::Stream<Item = AudioFrame> + Send + 'static,
    ) -> Self {
        self.audio = Some(Box::pin(audio));
        self
    }

    /// Starts the session in `room` (Python's `session.start(agent, room=ctx.room)`).
    pub fn room(mut self, room: &Room) -> Self {
        self.room = Some(room.clone());
        self
    }
}

impl<'a> IntoFuture for StartSession<'a> {
    type Output = Result<(), SessionError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let Self { session, agent, room, audio, mut audio_output } = self;
            let mut audio = audio.map(|audio| (audio, InputClock::Wall));
            if let Some(room) = &room {
                // The room's audio, for what the session can use: a text-only session in a
                // LiveKit room neither hears nor speaks (as in Python), where audio given with
                // `.audio(..)` needs its speech-to-text.
                let (room_input, room_output) = room.take_audio();
                if session.core.stt.is_some() {
                    audio = audio.or(room_input);
                }
                if session.core.tts.is_some() {
                    audio_output = audio_output.or(room_output);
                }
            }
            // What cannot start is refused before any toolset is set up.
            session.check_components(audio_output.is_some())?;
            let recognition =
                audio.map(|(audio, clock)| session.recognition(audio, clock)).transpose()?;
            session.setup_for_start(&agent).await?;
            let toolsets = agent.toolsets();
            let started = session.start_now(agent, room, recognition, audio_output);
            if let Err(error) = &started {
                session.close_after_failed_start(&toolsets, error).await;
            }
            started
        })
    }
}

impl AgentSession {
    /// Sets up the session's toolsets and the first agent's, before `start`.
    async fn setup_for_start(&self, agent: &Agent) -> Result<(), SessionError> {
        let core = &self.core;
        {
            let state = core.state();
            if state.started {
                return Err(SessionError::AlreadyStarted);
            }
            if state.closed {
                return Err(SessionError::NotRunning);
            }
        }
        if let Some(error) = &core.tools_error {
            return Err(SessionError::Tools(error.clone()));
        }
        let session_toolsets = core.tools.toolsets();
        core.setup_toolsets(&session_toolsets).await?;
        let agent_toolsets = agent.toolsets();
        if let Err(error) = core.setup_toolsets(&agent_toolsets).await {
            core.close_toolsets(&session_toolsets).await;
            return Err(error.into());
        }
        // Listed now: two toolsets' tools may share a name (two MCP servers without prefixes).
        let clash =
            check_toolsets(&session_toolsets).and_then(|()| check_toolsets(&agent_toolsets));
        if let Err(error) = clash {
            core.close_toolsets(&agent_toolsets).await;
            core.close_toolsets(&session_toolsets).await;
            return Err(SessionError::Tools(error));
        }
        Ok(())
    }

    /// A builder with Python's defaults.
    pub fn builder() -> AgentSessionBuilder {
        AgentSessionBuilder::default()
    }

    /// The session's options.
    pub fn options(&self) -> &SessionOptions {
        &self.core.options
    }

    /// The LLM, if the session has one.
    pub fn llm(&self) -> Option<&Arc<dyn Llm>> {
        self.core.llm.as_ref()
    }

    /// The LLM connection options.
    pub fn conn_options(&self) -> Option<ApiConnectOptions> {
        self.core.options.conn_options
    }

    /// Your data, if it is a `T` (Python's `session.userdata`).
    pub fn userdata<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.core.userdata.clone().and_then(|data| data.downcast::<T>().ok())
    }

    /// Subscribes to the session's events. Events sent before subscribing are not seen.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.core.subscribe()
    }

    /// The agent currently running.
    pub fn current_agent(&self) -> Option<Agent> {
        self.core.current_agent()
    }

    /// A copy of everything said and done in the session (Python's `session.history`).
    pub fn history(&self) -> ChatContext {
        self.core.history()
    }

    /// What the agent is doing.
    pub fn agent_state(&self) -> AgentState {
        self.core.agent_state()
    }

    /// The speech being generated, if any.
    pub fn current_speech(&self) -> Option<SpeechHandle> {
        self.core.current_speech()
    }

    /// Replaces how tools are executed, by tool name, for tests (Python's `mock_tools`): the
    /// model still sees the real tools and the arguments are still parsed. An empty
    /// [`MockTools`] removes the mocks.
    pub fn mock_tools(&self, mocks: MockTools) {
        self.core.set_mocks(mocks);
    }

    /// Starts the session with `agent`: the agent's `on_enter` runs, and replies can be asked
    /// for. Add `.room(&room)` to run it in a room.
    pub fn start(&self, agent: Agent) -> StartSession<'_> {
        StartSession { session: self, agent, room: None, audio: None, audio_output: None }
    }

    /// Whether the session's components can start it (with audio output or not).
    fn check_components(&self, audio_output: bool) -> Result<(), SessionError> {
        if let Some(invalid) = &self.core.invalid {
            return Err(SessionError::InvalidComponent(invalid.clone()));
        }
        if audio_output && self.core.tts.is_none() {
            return Err(SessionError::MissingComponent(
                "a text-to-speech for audio output: AgentSession::builder().tts(...)",
            ));
        }
        Ok(())
    }

    /// Closes what `setup_for_start` set up for a start that then failed: the agent's
    /// toolsets, and the session's unless another start won the race (they are its now).
    async fn close_after_failed_start(&self, toolsets: &[Arc<dyn Toolset>], error: &SessionError) {
        let core = &self.core;
        let running = core.current_agent().map(|agent| agent.toolsets()).unwrap_or_default();
        let unused: Vec<Arc<dyn Toolset>> = toolsets
            .iter()
            .filter(|toolset| !running.iter().any(|used| Arc::ptr_eq(used, toolset)))
            .cloned()
            .collect();
        core.close_toolsets(&unused).await;
        if !matches!(error, SessionError::AlreadyStarted) {
            core.close_toolsets(&core.tools.toolsets()).await;
        }
    }

    fn start_now(
        &self,
        agent: Agent,
        room: Option<Room>,
        recognition: Option<Recognition>,
        audio_output: Option<Arc<dyn AudioOutput>>,
    ) -> Result<(), SessionError> {
        let core = &self.core;
        let (sender, receiver) = mpsc::unbounded_channel();
        {
            let mut state = core.state();
            if state.started {
                return Err(SessionError::AlreadyStarted);
            }
            if state.closed {
                return Err(SessionError::NotRunning);
            }
            state.started = true;
            state.agent = Some(agent.clone());
            state.audio_output = audio_output;
            state.queue = Some(sender);
            state.scheduler = Some(tokio::spawn(
                super::scheduler::run(Arc::clone(core), receiver).in_current_span(),
            ));
            if let Some(recognition) = recognition {
                core.audio_input_done.send_replace(false);
                let core = Arc::clone(core);
                state.recognition = Some(tokio::spawn(
                    async move {
                        // However the recognition ends (a panic included), the input is done.
                        let _done = AudioInputDone(Arc::clone(&core));
                        super::recognition::run(&core, recognition).await;
                    }
                    .in_current_span(),
                ));
            }
        }
        core.set_agent_state(AgentState::Initializing);
        core.commit(ChatItem::AgentHandoff(AgentHandoff::new(None, agent.id())), None);
        core.set_agent_state(AgentState::Listening);
        let ctx = AgentContext { session: core.session(), agent: agent.clone() };
        let hook_agent = agent.clone();
        core.spawn_hook(as_hook_of(hook_agent, async move { agent.hooks().on_enter(ctx).await }));
        // Last: whoever waits for the session in the room sees `on_enter` already counted as
        // work in flight.
        if let Some(room) = room {
            room.attach_session(self.clone());
        }
        Ok(())
    }

    /// The streams that turn `audio` into user turns.
    fn recognition(
        &self,
        audio: BoxStream<'static, AudioFrame>,
        clock: InputClock,
    ) -> Result<Recognition, SessionError> {
        let Some(stt) = self.core.stt.clone() else {
            return Err(SessionError::MissingComponent(
                "a speech-to-text: AgentSession::builder().stt(...)",
            ));
        };
        let vad = self.core.vad.clone();
        let stt_streams = stt.capabilities().streaming;
        let stt: Arc<dyn Stt> = match (stt_streams, &vad) {
            (true, _) => stt,
            (false, Some(vad)) => Arc::new(crate::stt::StreamAdapter::new(stt, vad.clone())),
            (false, None) => {
                return Err(SessionError::MissingComponent(
                    "a VAD to use a non-streaming speech-to-text: AgentSession::builder().vad(...)",
                ));
            }
        };
        let options = crate::stt::SttOptions::default();
        Ok(Recognition {
            audio,
            clock,
            vad: vad.map(|vad| vad.stream()),
            stt: stt.stream(&options),
            stt_streams,
        })
    }

    /// What the user is doing.
    pub fn user_state(&self) -> UserState {
        self.core.user_state()
    }

    /// Asks the agent for a reply (Python's `generate_reply`). It is queued behind replies
    /// already asked for; the handle tells when it is done. If the session is not running,
    /// the handle is done at once and an error is logged.
    ///
    /// From a hook (`on_enter`, `on_exit`), the reply runs as that hook's agent and ahead of
    /// queued replies, so the hook may await it. Not so from a task the hook spawns: that
    /// reply waits for the hook, and awaiting it there would wait forever.
    pub fn generate_reply(&self, options: ReplyOptions) -> SpeechHandle {
        self.core.generate_reply(options)
    }

    /// Says `text` as the agent (Python's `say`), without asking the LLM: spoken through the
    /// TTS when the session has audio output, and added to the conversation (only what was
    /// heard, if the user interrupts it).
    pub fn say(&self, text: impl Into<String>) -> SpeechHandle {
        self.say_with(text, SayOptions::default())
    }

    /// Says `text` as [`say`](Self::say) does, with `options` (Python's `say` keyword
    /// arguments): with `add_to_chat_ctx` off it is spoken (and transcribed in a room) but
    /// not added to the history.
    pub fn say_with(&self, text: impl Into<String>, options: SayOptions) -> SpeechHandle {
        let allow_interruptions =
            options.allow_interruptions.unwrap_or(self.core.options.allow_interruptions);
        self.core.enqueue(JobKind::Say(text.into(), options.add_to_chat_ctx), allow_interruptions)
    }

    /// Hands the session over to `agent` after the current reply (Python's `update_agent`):
    /// the current agent's `on_exit` runs, then the new agent's `on_enter`.
    pub fn update_agent(&self, agent: Agent) -> SpeechHandle {
        self.core.update_agent(agent)
    }

    /// Interrupts the current reply and drops the queued ones (Python's `interrupt`).
    /// Replies that disallow interruptions, and queued handoffs, are left alone.
    pub fn interrupt(&self) {
        self.core.interrupt(false);
    }

    /// Waits until no reply is queued or running and no hook is running.
    ///
    /// Don't call it (nor [`run`](Self::run)) from a tool or a hook: it would wait for itself.
    pub async fn wait_for_idle(&self) {
        self.core.wait_for_idle().await;
    }

    /// Sends `user_input` and waits for everything it causes — replies, tool steps,
    /// handoffs and the new agent's `on_enter` — to finish (Python's
    /// `session.run(user_input=...)`), for tests and text clients.
    ///
    /// The result holds only what the input caused, as in Python. Work asked for outside the
    /// run — the greeting the `on_enter` of [`start`](Self::start) asks for, replies from
    /// [`generate_reply`](Self::generate_reply) or [`say`](Self::say) — is not in it, whatever
    /// its timing: the run first waits for the hooks in flight (so a greeting always comes
    /// before the input in the history), queues its input behind the replies already asked
    /// for, and returns once the session is idle. Read [`history`](Self::history) or
    /// [`subscribe`](Self::subscribe) to check a greeting.
    ///
    /// # Errors
    ///
    /// [`SessionError::RunFailed`] when a reply of the run failed — an LLM request failed after
    /// its retries (a partial reply is kept, marked interrupted), or an agent hook or node
    /// panicked — as Python's `run` raises the speech's error. The error carries the
    /// [`RunResult`] with the events and errors; its message names the errors. Errors that
    /// leave the reply whole (a tool call the model made where tools were not allowed) are in
    /// [`RunResult::errors`] of an `Ok` result. [`SessionError::NotRunning`] before `start` or
    /// after `close`, and [`SessionError::NestedRun`] while another run is in progress.
    pub async fn run(&self, user_input: impl Into<String>) -> Result<RunResult, SessionError> {
        let core = &self.core;
        let id = {
            let mut state = core.state();
            if !state.started || state.closed {
                return Err(SessionError::NotRunning);
            }
            if state.run.is_some() {
                return Err(SessionError::NestedRun);
            }
            state.last_run += 1;
            let id = state.last_run;
            state.run = Some(RunCollector { id, ..RunCollector::default() });
            id
        };
        // If this future is dropped before the end, the next `run` must still be possible.
        let guard = RunGuard(core);
        // The hooks in flight (the `on_enter` of `start`) queue their replies first.
        core.hooks_running.wait_for_zero().await;
        sync_in_run(id, || core.generate_reply(ReplyOptions::user_input(user_input)));
        core.wait_for_idle().await;
        let collected = core.state().run.take().unwrap_or_default();
        drop(guard);
        let result = RunResult::new(collected.events, collected.errors);
        if collected.failed {
            return Err(SessionError::RunFailed(Box::new(result)));
        }
        Ok(result)
    }

    /// Closes the session: the current reply is interrupted, queued ones are dropped, the
    /// agent's `on_exit` runs, and a `Close` event is sent. Idempotent; concurrent callers all
    /// wait for the end. The closing runs as a task of its own, so it completes even when called
    /// from a tool or a hook of this session (whose task the closing cancels).
    pub async fn close(&self) {
        self.close_with(CloseReason::UserInitiated).await;
    }

    /// [`close`](Self::close), its `Close` event giving `reason` (the job's end gives
    /// [`CloseReason::JobShutdown`]).
    pub(crate) async fn close_with(&self, reason: CloseReason) {
        let closing = {
            let mut state = self.core.state();
            if !state.closed {
                state.closed = true;
                if !state.started {
                    drop(state);
                    self.core.closed.send_replace(true);
                    return;
                }
                state.queue = None;
                let scheduler = state.scheduler.take();
                let agent = state.agent.clone();
                let core = Arc::clone(&self.core);
                state.closer = Some(tokio::spawn(
                    async move { finish_closing(&core, scheduler, agent, reason).await }
                        .in_current_span(),
                ));
            }
            state.closer.is_some()
        };
        if closing {
            self.wait_for_close().await;
        }
    }

    /// Waits until the audio input has ended and every turn heard in it was committed (at once
    /// without audio input).
    pub async fn wait_for_audio_input(&self) {
        let mut done = self.core.audio_input_done.subscribe();
        // The sender lives in `self`, so this only ends once the input is done.
        let _ = done.wait_for(|done| *done).await;
    }

    /// Whether the session has been closed.
    pub fn is_closed(&self) -> bool {
        *self.core.closed.borrow()
    }

    /// Waits until the session is closed (at once if it already is).
    pub async fn wait_for_close(&self) {
        let mut closed = self.core.closed.subscribe();
        // The sender lives in `self`, so this only ends once the session is closed.
        let _ = closed.wait_for(|closed| *closed).await;
    }

    /// How many errors the session has reported, and the last one.
    pub(crate) fn reported_errors(&self) -> (usize, Option<(ErrorSource, SessionErrorEvent)>) {
        self.core.reported_errors()
    }
}

/// The end of `close`, as a task of its own: each task is stopped in turn, then the agent's
/// `on_exit` runs.
async fn finish_closing(
    core: &Arc<SessionCore>,
    scheduler: Option<JoinHandle<()>>,
    agent: Option<Agent>,
    reason: CloseReason,
) {
    let recognition = core.state().recognition.take();
    if let Some(recognition) = recognition {
        recognition.abort();
        let _ = recognition.await;
    }
    core.audio_input_done.send_replace(true);
    core.cancel_preemptive();
    core.interrupt(true);
    if let Some(scheduler) = scheduler {
        let _ = scheduler.await;
    }
    if let Some(agent) = agent {
        let ctx = AgentContext { session: core.session(), agent: agent.clone() };
        let on_exit = AssertUnwindSafe(agent.hooks().on_exit(ctx)).catch_unwind();
        if on_exit.await.is_err() {
            tracing::error!(agent = agent.id(), "the agent's on_exit panicked");
        }
    }
    // The hooks first: a handoff in flight may still be setting up its agent's toolsets.
    core.shut_down_hooks().await;
    core.close_all_toolsets().await;
    core.set_agent_state(AgentState::Listening);
    core.closed.send_replace(true);
    core.emit(SessionEvent::Close { reason });
}
