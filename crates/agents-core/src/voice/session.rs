//! `AgentSession`: runs an agent — its replies, tool loop, hooks and handoffs.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use super::events::{
    AgentState, CloseReason, ErrorSource, SessionErrorEvent, SessionEvent, UserState,
};
use super::generation;
use super::hooks::AgentContext;
use super::mock::MockTools;
use super::output::AudioOutput;
use super::recognition::InputClock;
use super::run_result::{RunEvent, RunResult};
use super::speech::SpeechHandle;
use crate::agent::Agent;
use crate::audio::AudioFrame;
use crate::llm::{
    AgentHandoff, ApiConnectOptions, ChatContext, ChatItem, ChatMessage, ChatRole, IntoToolSet,
    Llm, ToolChoice, ToolSet, ToolSetError, Toolset, ToolsetError,
};
use crate::room::Room;
use crate::stt::Stt;
use crate::tts::Tts;
use crate::vad::Vad;

tokio::task_local! {
    /// The agent whose lifecycle hook is running: the replies the hook asks for run as that
    /// agent, ahead of queued ones.
    static IN_HOOK: Agent;
    /// The `run` whose input caused the work of this task (0: none). Replies, handoffs and
    /// hooks inherit it from whoever asked for them, so a run collects what it caused and
    /// nothing else.
    static RUN_ID: u64;
}

/// The `run` that caused the work of the current task (0: none).
pub(crate) fn current_run() -> u64 {
    RUN_ID.try_with(|id| *id).unwrap_or(0)
}

/// `future`, run as part of the current task's `run` (for the tasks it spawns).
pub(crate) fn in_current_run<F: Future>(future: F) -> impl Future<Output = F::Output> {
    RUN_ID.scope(current_run(), future)
}

/// Options of one reply (Python's `generate_reply` keyword arguments).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ReplyOptions {
    /// A user message to add before replying.
    pub user_input: Option<String>,
    /// Extra instructions for this reply only (not kept in the history).
    pub instructions: Option<String>,
    /// The tool choice of the reply's first LLM step.
    pub tool_choice: Option<ToolChoice>,
    /// Whether the user may interrupt it; defaults to the session's setting.
    pub allow_interruptions: Option<bool>,
    /// When the user stopped speaking, for a spoken turn (end-to-end latency).
    pub(crate) end_of_speech: Option<tokio::time::Instant>,
}

impl ReplyOptions {
    /// A reply to `user_input`.
    pub fn user_input(user_input: impl Into<String>) -> Self {
        Self { user_input: Some(user_input.into()), ..Self::default() }
    }

    /// A reply following `instructions`.
    pub fn instructions(instructions: impl Into<String>) -> Self {
        Self { instructions: Some(instructions.into()), ..Self::default() }
    }

    /// Sets the tool choice of the first step.
    pub fn with_tool_choice(mut self, tool_choice: ToolChoice) -> Self {
        self.tool_choice = Some(tool_choice);
        self
    }

    /// Sets the extra instructions.
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }
}

/// Options of a session (Python's `AgentSession(...)` keyword arguments that exist so far).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Follow-up LLM steps with tools allowed after the first (Python's `max_tool_steps`):
    /// with `N`, tools run in up to `N + 1` rounds, then one final reply is generated with
    /// tool calls disallowed.
    pub max_tool_steps: u32,
    /// Whether the user may interrupt the agent.
    pub allow_interruptions: bool,
    /// Whether to start the LLM before the end of the user's turn (used by the voice pipeline).
    pub preemptive_generation: bool,
    /// Retries and timeouts of the LLM requests; `None` leaves them to the LLM client.
    pub conn_options: Option<ApiConnectOptions>,
    /// How long after the end of the user's speech the turn ends, once a final transcript is
    /// there (Python's `min_endpointing_delay`, 0.5 s).
    pub min_endpointing_delay: Duration,
    /// The longest wait after the end of speech for a final transcript before the turn ends
    /// with what was heard (Python's `max_endpointing_delay`, 3 s).
    pub max_endpointing_delay: Duration,
    /// How long the user must speak over the agent to interrupt it (Python's
    /// `min_interruption_duration`, 0.5 s).
    pub min_interruption_duration: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            max_tool_steps: 3,
            allow_interruptions: true,
            preemptive_generation: true,
            conn_options: None,
            min_endpointing_delay: Duration::from_millis(500),
            max_endpointing_delay: Duration::from_secs(3),
            min_interruption_duration: Duration::from_millis(500),
        }
    }
}

/// Builds an [`AgentSession`].
#[derive(Default)]
pub struct AgentSessionBuilder {
    llm: Option<Arc<dyn Llm>>,
    vad: Option<Arc<dyn Vad>>,
    stt: Option<Arc<dyn Stt>>,
    tts: Option<Arc<dyn Tts>>,
    options: SessionOptions,
    userdata: Option<Arc<dyn Any + Send + Sync>>,
    tools: Option<Result<ToolSet, ToolSetError>>,
    toolsets: Vec<Arc<dyn Toolset>>,
}

impl fmt::Debug for AgentSessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentSessionBuilder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl AgentSessionBuilder {
    /// The LLM the session's agents use.
    pub fn llm(mut self, llm: impl Llm) -> Self {
        self.llm = Some(Arc::new(llm));
        self
    }

    /// The LLM, already shared.
    pub fn llm_shared(mut self, llm: Arc<dyn Llm>) -> Self {
        self.llm = Some(llm);
        self
    }

    /// The voice activity detector for audio input (Python's `vad=`).
    pub fn vad(mut self, vad: Arc<dyn Vad>) -> Self {
        self.vad = Some(vad);
        self
    }

    /// The speech-to-text for audio input (Python's `stt=`). A non-streaming STT needs a
    /// [`vad`](Self::vad) to cut the audio into utterances.
    pub fn stt(mut self, stt: Arc<dyn Stt>) -> Self {
        self.stt = Some(stt);
        self
    }

    /// The text-to-speech for audio output (Python's `tts=`). A non-streaming TTS is spoken
    /// sentence by sentence.
    pub fn tts(mut self, tts: Arc<dyn Tts>) -> Self {
        self.tts = Some(tts);
        self
    }

    /// Sets `min_endpointing_delay` (default 0.5 s).
    pub fn min_endpointing_delay(mut self, delay: Duration) -> Self {
        self.options.min_endpointing_delay = delay;
        self
    }

    /// Sets `max_endpointing_delay` (default 3 s).
    pub fn max_endpointing_delay(mut self, delay: Duration) -> Self {
        self.options.max_endpointing_delay = delay;
        self
    }

    /// Sets `min_interruption_duration` (default 0.5 s).
    pub fn min_interruption_duration(mut self, duration: Duration) -> Self {
        self.options.min_interruption_duration = duration;
        self
    }

    /// Sets `max_tool_steps` (default 3).
    pub fn max_tool_steps(mut self, max_tool_steps: u32) -> Self {
        self.options.max_tool_steps = max_tool_steps;
        self
    }

    /// Sets `allow_interruptions` (default true).
    pub fn allow_interruptions(mut self, allow: bool) -> Self {
        self.options.allow_interruptions = allow;
        self
    }

    /// Sets `preemptive_generation` (default true).
    pub fn preemptive_generation(mut self, enabled: bool) -> Self {
        self.options.preemptive_generation = enabled;
        self
    }

    /// Sets the LLM connection options.
    pub fn conn_options(mut self, conn_options: ApiConnectOptions) -> Self {
        self.options.conn_options = Some(conn_options);
        self
    }

    /// Tools offered to every agent of the session, after the agent's own (Python's
    /// `AgentSession(tools=[...])`). A name clash within them fails `start`.
    pub fn tools(mut self, tools: impl IntoToolSet) -> Self {
        self.tools = Some(tools.into_tool_set());
        self
    }

    /// Toolsets offered to every agent of the session (Python's `AgentSession(tools=[toolset])`,
    /// `mcp_servers=[...]`): set up by `start`, closed by `close`. Adds to those given before.
    pub fn toolsets(mut self, toolsets: impl IntoIterator<Item = Arc<dyn Toolset>>) -> Self {
        self.toolsets.extend(toolsets);
        self
    }

    /// Data of yours the session carries, for tools and hooks (Python's `userdata`).
    pub fn userdata<T: Any + Send + Sync>(mut self, userdata: T) -> Self {
        self.userdata = Some(Arc::new(userdata));
        self
    }

    /// Builds the session; start it with [`AgentSession::start`].
    pub fn build(self) -> AgentSession {
        let (events, _) = broadcast::channel(1024);
        AgentSession {
            inner: Arc::new(SessionInner {
                llm: self.llm,
                vad: self.vad,
                stt: self.stt,
                tts: self.tts,
                options: self.options,
                userdata: self.userdata,
                tools: self
                    .tools
                    .unwrap_or_else(|| Ok(ToolSet::empty()))
                    .and_then(|tools| super::toolsets::SessionTools::new(tools, self.toolsets)),
                events,
                busy: watch::Sender::new(0),
                hooks_running: watch::Sender::new(0),
                interrupt_epoch: watch::Sender::new(0),
                state: Mutex::new(State::default()),
                hook_tasks: Mutex::new(JoinSet::new()),
                closed: watch::Sender::new(false),
                audio_input_done: watch::Sender::new(true),
            }),
        }
    }
}

/// Misuse of a session, or a [`run`](AgentSession::run) whose reply failed.
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
    /// The session's tools clash (`AgentSession::builder().tools(...)` / `.toolsets(...)`).
    #[error("the session's tools: {0}")]
    Tools(#[from] ToolSetError),
    /// A toolset of the session or of the agent could not be set up.
    #[error(transparent)]
    Toolset(#[from] ToolsetError),
    /// Audio input needs a component the session was not built with.
    #[error("audio input needs {0}")]
    MissingComponent(&'static str),
    /// A reply of the run failed: an LLM request failed (after its retries), or an agent hook
    /// or node panicked. The run's result is kept, with its events (a partial reply, the tools
    /// that ran) and its errors.
    #[error("{}", .0.failure())]
    RunFailed(Box<RunResult>),
}

/// A running agent session (Python's `AgentSession`): holds the active agent, the
/// conversation history, and runs replies one at a time.
///
/// Cheap to clone (an `Arc` inside); clones are the same session.
#[derive(Clone)]
pub struct AgentSession {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    llm: Option<Arc<dyn Llm>>,
    vad: Option<Arc<dyn Vad>>,
    stt: Option<Arc<dyn Stt>>,
    tts: Option<Arc<dyn Tts>>,
    options: SessionOptions,
    userdata: Option<Arc<dyn Any + Send + Sync>>,
    /// Session-wide tools and toolsets (or why they clash).
    tools: Result<super::toolsets::SessionTools, ToolSetError>,
    events: broadcast::Sender<SessionEvent>,
    /// Queued and running replies, plus running hooks: zero means idle.
    busy: watch::Sender<usize>,
    hooks_running: watch::Sender<usize>,
    interrupt_epoch: watch::Sender<u64>,
    state: Mutex<State>,
    hook_tasks: Mutex<JoinSet<()>>,
    closed: watch::Sender<bool>,
    /// False while audio input is being recognized.
    audio_input_done: watch::Sender<bool>,
}

#[derive(Default)]
struct State {
    started: bool,
    closed: bool,
    agent: Option<Agent>,
    history: ChatContext,
    agent_state: Option<AgentState>,
    queue: Option<mpsc::UnboundedSender<Job>>,
    scheduler: Option<JoinHandle<()>>,
    current: Option<SpeechHandle>,
    run: Option<RunCollector>,
    /// The id of the last `run`.
    last_run: u64,
    mocks: MockTools,
    /// The task finishing `close`, once started.
    closer: Option<JoinHandle<()>>,
    user_state: Option<UserState>,
    audio_output: Option<Arc<dyn AudioOutput>>,
    preemptive: Option<super::preemptive::Preemptive>,
    /// The task turning audio input into user turns.
    recognition: Option<JoinHandle<()>>,
    /// How many errors the session reported, and the last (for the console's exit status:
    /// kept here, since a subscriber that falls behind can miss the events).
    errors_reported: usize,
    last_error: Option<(ErrorSource, SessionErrorEvent)>,
}

/// Ends a `run`'s collection when the `run` future ends, finished or dropped.
struct RunGuard<'a>(&'a AgentSession);

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.0.state().run = None;
    }
}

/// Counts a hook as running until dropped.
struct HookGuard(AgentSession);

impl Drop for HookGuard {
    fn drop(&mut self) {
        let inner = &self.0.inner;
        inner.hooks_running.send_modify(|running| *running = running.saturating_sub(1));
        inner.busy.send_modify(|busy| *busy = busy.saturating_sub(1));
    }
}

#[derive(Default)]
struct RunCollector {
    /// Its id, never 0.
    id: u64,
    events: Vec<RunEvent>,
    errors: Vec<SessionErrorEvent>,
    /// Whether one of its replies failed (an LLM error, a panic in a hook or node).
    failed: bool,
}

pub(crate) enum JobKind {
    Reply(ReplyOptions),
    Say(String),
    Handoff(Agent),
}

struct Job {
    handle: SpeechHandle,
    kind: JobKind,
    /// The agent of the hook that asked for it (`None`: the session's current agent).
    hook_agent: Option<Agent>,
    epoch: u64,
    /// The `run` that caused it (0: none).
    run: u64,
}

impl Job {
    fn asked_by_hook(&self) -> bool {
        self.hook_agent.is_some()
    }

    /// Whether an interruption drops it while queued: handoffs and uninterruptible replies
    /// stay.
    fn droppable(&self) -> bool {
        !matches!(self.kind, JobKind::Handoff(_)) && self.handle.allow_interruptions()
    }
}

impl fmt::Debug for AgentSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentSession").field("options", &self.inner.options).finish_non_exhaustive()
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
                let (room_input, room_output) = room.take_audio();
                audio = audio.or(room_input);
                audio_output = audio_output.or(room_output);
            }
            session.setup_for_start(&agent).await?;
            session.start_now(agent, room, audio, audio_output)
        })
    }
}

impl AgentSession {
    /// A builder with Python's defaults.
    pub fn builder() -> AgentSessionBuilder {
        AgentSessionBuilder::default()
    }

    /// Sets up the session's toolsets and the first agent's, before `start`.
    async fn setup_for_start(&self, agent: &Agent) -> Result<(), SessionError> {
        {
            let state = self.state();
            if state.started {
                return Err(SessionError::AlreadyStarted);
            }
            if state.closed {
                return Err(SessionError::NotRunning);
            }
        }
        let session_toolsets = match &self.inner.tools {
            Ok(tools) => tools.toolsets(),
            Err(error) => return Err(SessionError::Tools(error.clone())),
        };
        self.setup_toolsets(&session_toolsets).await?;
        let agent_toolsets = agent.toolsets();
        if let Err(error) = self.setup_toolsets(&agent_toolsets).await {
            self.close_toolsets(&session_toolsets).await;
            return Err(error.into());
        }
        // Listed now: two toolsets' tools may share a name (two MCP servers without prefixes).
        let clash = super::toolsets::check_toolsets(&session_toolsets)
            .and_then(|()| super::toolsets::check_toolsets(&agent_toolsets));
        if let Err(error) = clash {
            self.close_toolsets(&agent_toolsets).await;
            self.close_toolsets(&session_toolsets).await;
            return Err(SessionError::Tools(error));
        }
        Ok(())
    }

    /// The session-wide tools (valid once `start` succeeded).
    pub(crate) fn tools_state(&self) -> &super::toolsets::SessionTools {
        match &self.inner.tools {
            Ok(tools) => tools,
            Err(_) => super::toolsets::SessionTools::none(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session's options.
    pub fn options(&self) -> &SessionOptions {
        &self.inner.options
    }

    /// The LLM, if the session has one.
    pub fn llm(&self) -> Option<&Arc<dyn Llm>> {
        self.inner.llm.as_ref()
    }

    /// The LLM connection options.
    pub fn conn_options(&self) -> Option<ApiConnectOptions> {
        self.inner.options.conn_options
    }

    /// Your data, if it is a `T` (Python's `session.userdata`).
    pub fn userdata<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.inner.userdata.clone().and_then(|data| data.downcast::<T>().ok())
    }

    /// Subscribes to the session's events. Events sent before subscribing are not seen.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.inner.events.subscribe()
    }

    /// The agent currently running.
    pub fn current_agent(&self) -> Option<Agent> {
        self.state().agent.clone()
    }

    /// A copy of everything said and done in the session (Python's `session.history`).
    pub fn history(&self) -> ChatContext {
        self.state().history.clone()
    }

    /// What the agent is doing.
    pub fn agent_state(&self) -> AgentState {
        self.state().agent_state.unwrap_or(AgentState::Initializing)
    }

    /// The speech being generated, if any.
    pub fn current_speech(&self) -> Option<SpeechHandle> {
        self.state().current.clone()
    }

    /// Replaces how tools are executed, by tool name, for tests (Python's `mock_tools`): the
    /// model still sees the real tools and the arguments are still parsed. An empty
    /// [`MockTools`] removes the mocks.
    pub fn mock_tools(&self, mocks: MockTools) {
        self.state().mocks = mocks;
    }

    pub(crate) fn mocks(&self) -> MockTools {
        self.state().mocks.clone()
    }

    /// Starts the session with `agent`: the agent's `on_enter` runs, and replies can be asked
    /// for. Add `.room(&room)` to run it in a room.
    pub fn start(&self, agent: Agent) -> StartSession<'_> {
        StartSession { session: self, agent, room: None, audio: None, audio_output: None }
    }

    fn start_now(
        &self,
        agent: Agent,
        room: Option<Room>,
        audio: Option<(BoxStream<'static, AudioFrame>, InputClock)>,
        audio_output: Option<Arc<dyn AudioOutput>>,
    ) -> Result<(), SessionError> {
        let recognition = audio.map(|(audio, clock)| self.recognition(audio, clock)).transpose()?;
        if audio_output.is_some() && self.inner.tts.is_none() {
            return Err(SessionError::MissingComponent(
                "a text-to-speech for audio output: AgentSession::builder().tts(...)",
            ));
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        {
            let mut state = self.state();
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
            state.scheduler =
                Some(tokio::spawn(scheduler(self.clone(), receiver).in_current_span()));
            if let Some(recognition) = recognition {
                self.inner.audio_input_done.send_replace(false);
                let session = self.clone();
                state.recognition = Some(tokio::spawn(
                    async move {
                        super::recognition::run(session.clone(), recognition).await;
                        session.inner.audio_input_done.send_replace(true);
                    }
                    .in_current_span(),
                ));
            }
        }
        self.set_agent_state(AgentState::Initializing);
        self.commit(ChatItem::AgentHandoff(AgentHandoff::new(None, agent.id())), None);
        self.set_agent_state(AgentState::Listening);
        let ctx = AgentContext { session: self.clone(), agent: agent.clone() };
        let hook_agent = agent.clone();
        self.spawn_hook(
            IN_HOOK.scope(hook_agent, async move { agent.hooks().on_enter(ctx).await }),
        );
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
    ) -> Result<super::recognition::Recognition, SessionError> {
        let Some(stt) = self.inner.stt.clone() else {
            return Err(SessionError::MissingComponent(
                "a speech-to-text: AgentSession::builder().stt(...)",
            ));
        };
        let vad = self.inner.vad.clone();
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
        Ok(super::recognition::Recognition {
            audio,
            clock,
            vad: vad.map(|vad| vad.stream()),
            stt: stt.stream(&options),
            stt_streams,
        })
    }

    /// The TTS and the audio output the agent speaks into, when the session has both.
    pub(crate) fn voice(&self) -> Option<(Arc<dyn Tts>, Arc<dyn AudioOutput>)> {
        let output = self.state().audio_output.clone()?;
        Some((self.inner.tts.clone()?, output))
    }

    /// What the user is doing.
    pub fn user_state(&self) -> UserState {
        self.state().user_state.unwrap_or(UserState::Listening)
    }

    pub(crate) fn set_user_state(&self, new_state: UserState) {
        let old_state = {
            let mut state = self.state();
            let old = state.user_state.replace(new_state).unwrap_or(UserState::Listening);
            if old == new_state {
                return;
            }
            old
        };
        self.emit(SessionEvent::UserStateChanged { old_state, new_state });
    }

    /// Starts the LLM on `transcript` before the end of the turn, if preemptive generation is
    /// on; replaces (cancels) an earlier preemptive request.
    pub(crate) fn start_preemptive(&self, transcript: &str) {
        if !self.inner.options.preemptive_generation || self.inner.llm.is_none() {
            return;
        }
        let Some(agent) = self.current_agent() else { return };
        let preemptive = super::preemptive::Preemptive::start(self, agent, transcript.to_owned());
        let replaced = self.state().preemptive.replace(preemptive);
        drop(replaced);
    }

    /// Cancels the preemptive request (the user goes on speaking).
    pub(crate) fn cancel_preemptive(&self) {
        let cancelled = self.state().preemptive.take();
        drop(cancelled);
    }

    /// The preemptive request made for `transcript`, if there is one.
    pub(crate) fn take_preemptive(
        &self,
        transcript: &str,
    ) -> Option<super::preemptive::Preemptive> {
        let preemptive = self.state().preemptive.take()?;
        (preemptive.transcript() == transcript).then_some(preemptive)
    }

    /// The user speaks over the agent: the current reply is interrupted, if it allows it.
    pub(crate) fn interrupt_for_user(&self) {
        if let Some(current) = self.current_speech()
            && !current.interrupted()
        {
            current.interrupt(false);
        }
    }

    /// Asks the agent for a reply (Python's `generate_reply`). It is queued behind replies
    /// already asked for; the handle tells when it is done. If the session is not running,
    /// the handle is done at once and an error is logged.
    ///
    /// From a hook (`on_enter`, `on_exit`), the reply runs as that hook's agent and ahead of
    /// queued replies, so the hook may await it. Not so from a task the hook spawns: that
    /// reply waits for the hook, and awaiting it there would wait forever.
    pub fn generate_reply(&self, options: ReplyOptions) -> SpeechHandle {
        let allow = options.allow_interruptions.unwrap_or(self.inner.options.allow_interruptions);
        self.enqueue(JobKind::Reply(options), allow)
    }

    /// Says `text` as the agent (Python's `say`), without asking the LLM: spoken through the
    /// TTS when the session has audio output, and added to the conversation (only what was
    /// heard, if the user interrupts it).
    pub fn say(&self, text: impl Into<String>) -> SpeechHandle {
        self.enqueue(JobKind::Say(text.into()), self.inner.options.allow_interruptions)
    }

    /// Hands the session over to `agent` after the current reply (Python's `update_agent`):
    /// the current agent's `on_exit` runs, then the new agent's `on_enter`.
    pub fn update_agent(&self, agent: Agent) -> SpeechHandle {
        self.enqueue(JobKind::Handoff(agent), false)
    }

    fn enqueue(&self, kind: JobKind, allow_interruptions: bool) -> SpeechHandle {
        let handle = SpeechHandle::new(allow_interruptions);
        let job = Job {
            handle: handle.clone(),
            kind,
            hook_agent: IN_HOOK.try_with(Agent::clone).ok(),
            epoch: *self.inner.interrupt_epoch.borrow(),
            run: current_run(),
        };
        let queue = self.state().queue.clone();
        let Some(queue) = queue else {
            tracing::error!("{}", SessionError::NotRunning);
            handle.mark_done();
            return handle;
        };
        self.inner.busy.send_modify(|busy| *busy += 1);
        if let Err(rejected) = queue.send(job) {
            self.inner.busy.send_modify(|busy| *busy = busy.saturating_sub(1));
            rejected.0.handle.mark_done();
        }
        handle
    }

    /// Interrupts the current reply and drops the queued ones (Python's `interrupt`).
    /// Replies that disallow interruptions, and queued handoffs, are left alone.
    pub fn interrupt(&self) {
        self.interrupt_with(false);
    }

    fn interrupt_with(&self, force: bool) {
        self.inner.interrupt_epoch.send_modify(|epoch| *epoch += 1);
        if let Some(current) = self.current_speech() {
            current.interrupt(force);
        }
    }

    /// Waits until no reply is queued or running and no hook is running.
    ///
    /// Don't call it (nor [`run`](Self::run)) from a tool or a hook: it would wait for itself.
    pub async fn wait_for_idle(&self) {
        let mut busy = self.inner.busy.subscribe();
        // The sender lives in `self`, so this only ends when the session is idle.
        let _ = busy.wait_for(|busy| *busy == 0).await;
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
        let id = {
            let mut state = self.state();
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
        let guard = RunGuard(self);
        // The hooks in flight (the `on_enter` of `start`) queue their replies first.
        let mut hooks_running = self.inner.hooks_running.subscribe();
        // The sender lives in `self`, so this only ends when no hook runs.
        let _ = hooks_running.wait_for(|running| *running == 0).await;
        RUN_ID.sync_scope(id, || self.generate_reply(ReplyOptions::user_input(user_input)));
        self.wait_for_idle().await;
        let collected = self.state().run.take().unwrap_or_default();
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
        let scheduler = {
            let mut state = self.state();
            if !state.closed {
                state.closed = true;
                if !state.started {
                    drop(state);
                    self.inner.closed.send_replace(true);
                    return;
                }
                state.queue = None;
                let scheduler = state.scheduler.take();
                let agent = state.agent.clone();
                let session = self.clone();
                state.closer = Some(tokio::spawn(
                    async move { session.finish_closing(scheduler, agent).await }.in_current_span(),
                ));
            }
            state.closer.is_some()
        };
        if scheduler {
            self.wait_for_close().await;
        }
    }

    async fn finish_closing(&self, scheduler: Option<JoinHandle<()>>, agent: Option<Agent>) {
        let recognition = self.state().recognition.take();
        if let Some(recognition) = recognition {
            recognition.abort();
            let _ = recognition.await;
        }
        self.inner.audio_input_done.send_replace(true);
        self.interrupt_with(true);
        if let Some(scheduler) = scheduler {
            let _ = scheduler.await;
        }
        if let Some(agent) = agent {
            let ctx = AgentContext { session: self.clone(), agent: agent.clone() };
            let on_exit = AssertUnwindSafe(agent.hooks().on_exit(ctx)).catch_unwind();
            if on_exit.await.is_err() {
                tracing::error!(agent = agent.id(), "the agent's on_exit panicked");
            }
            self.close_toolsets(&agent.toolsets()).await;
        }
        self.close_toolsets(&self.tools_state().toolsets()).await;
        let mut hook_tasks = std::mem::take(
            &mut *self.inner.hook_tasks.lock().unwrap_or_else(PoisonError::into_inner),
        );
        hook_tasks.shutdown().await;
        self.inner.hooks_running.send_replace(0);
        self.inner.busy.send_replace(0);
        self.set_agent_state(AgentState::Listening);
        self.inner.closed.send_replace(true);
        self.emit(SessionEvent::Close { reason: CloseReason::UserInitiated });
    }

    /// Waits until the audio input has ended and every turn heard in it was committed (at once
    /// without audio input).
    pub async fn wait_for_audio_input(&self) {
        let mut done = self.inner.audio_input_done.subscribe();
        // The sender lives in `self`, so this only ends once the input is done.
        let _ = done.wait_for(|done| *done).await;
    }

    /// Whether the session has been closed.
    pub fn is_closed(&self) -> bool {
        *self.inner.closed.borrow()
    }

    /// Waits until the session is closed (at once if it already is).
    pub async fn wait_for_close(&self) {
        let mut closed = self.inner.closed.subscribe();
        // The sender lives in `self`, so this only ends once the session is closed.
        let _ = closed.wait_for(|closed| *closed).await;
    }

    /// Runs `hook` as a task (the caller scopes it with `IN_HOOK`); counted as work in flight
    /// until it ends, also by a panic or an abort.
    fn spawn_hook(&self, hook: impl Future<Output = ()> + Send + 'static) {
        self.inner.busy.send_modify(|busy| *busy += 1);
        self.inner.hooks_running.send_modify(|running| *running += 1);
        let guard = HookGuard(self.clone());
        let task = in_current_run(async move {
            if AssertUnwindSafe(hook).catch_unwind().await.is_err() {
                guard.0.report_error(
                    SessionErrorEvent::Other("an agent hook panicked".into()),
                    ErrorSource::Hook,
                );
            }
            drop(guard);
        });
        self.inner
            .hook_tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .spawn(task.in_current_span());
    }

    pub(crate) fn emit(&self, event: SessionEvent) {
        // No subscriber is fine.
        let _ = self.inner.events.send(event);
    }

    pub(crate) fn set_agent_state(&self, new_state: AgentState) {
        let old_state = {
            let mut state = self.state();
            let old = state.agent_state.replace(new_state);
            if old == Some(new_state) {
                return;
            }
            old
        };
        if let Some(old_state) = old_state {
            self.emit(SessionEvent::AgentStateChanged { old_state, new_state });
        }
    }

    /// Adds `item` to the history (and to `agent`'s conversation, when given), records it for
    /// a `run` in progress, and announces messages and handoffs.
    pub(crate) fn commit(&self, item: ChatItem, agent: Option<&Agent>) {
        if let Some(agent) = agent {
            agent.chat_ctx_mut().push(item.clone());
        }
        {
            let mut state = self.state();
            state.history.push(item.clone());
            if let Some(run) = state.run.as_mut()
                && run.id == current_run()
                && let Some(event) = RunEvent::from_item(&item)
            {
                run.events.push(event);
            }
        }
        if matches!(item, ChatItem::Message(_) | ChatItem::AgentHandoff(_)) {
            self.emit(SessionEvent::ConversationItemAdded { item });
        }
    }

    /// Reports an error: an event, and the result of the `run` that caused the failing work.
    pub(crate) fn report_error(&self, error: SessionErrorEvent, source: ErrorSource) {
        tracing::error!(?source, "{error}");
        {
            let mut state = self.state();
            state.errors_reported += 1;
            state.last_error = Some((source.clone(), error.clone()));
            if let Some(run) = state.run.as_mut()
                && run.id == current_run()
            {
                run.errors.push(error.clone());
                run.failed |= matches!(source, ErrorSource::Llm | ErrorSource::Hook);
            }
        }
        self.emit(SessionEvent::Error { error, source });
    }

    /// How many errors the session has reported, and the last one.
    pub(crate) fn reported_errors(&self) -> (usize, Option<(ErrorSource, SessionErrorEvent)>) {
        let state = self.state();
        (state.errors_reported, state.last_error.clone())
    }

    async fn run_job(&self, job: Job) {
        let Job { handle, kind, hook_agent, epoch, run: _ } = job;
        let agent = {
            let mut state = self.state();
            state.current = Some(handle.clone());
            hook_agent.or_else(|| state.agent.clone())
        };
        // An interruption between choosing this job and making it current must not be lost.
        if epoch < *self.inner.interrupt_epoch.borrow() {
            handle.interrupt(false);
        }
        match (kind, agent) {
            (JobKind::Reply(options), Some(agent)) => {
                generation::run_reply(self, &handle, &agent, options).await;
            }
            (JobKind::Say(text), Some(agent)) => {
                let mut message = ChatMessage::new(ChatRole::Assistant, text.clone());
                if let Some((tts, output)) = self.voice() {
                    // Spoken through the TTS; interrupted, only what was heard is kept.
                    let mut speaker = super::speaker::Speaker::new(tts, output);
                    speaker.push_text(&text);
                    let playback = speaker.finish(self, &handle).await;
                    speaker.report(self, playback.interrupted);
                    if playback.interrupted || handle.interrupted() {
                        message.content = vec![speaker.heard(&text, playback).to_owned()];
                        message.interrupted = true;
                    }
                }
                if !message.text().is_empty() {
                    self.commit(ChatItem::Message(message), Some(&agent));
                }
            }
            (JobKind::Handoff(new_agent), old_agent) => self.hand_off(old_agent, new_agent),
            (_, None) => {}
        }
        self.state().current = None;
        self.set_agent_state(AgentState::Listening);
        handle.mark_done();
    }

    fn hand_off(&self, old_agent: Option<Agent>, new_agent: Agent) {
        self.state().agent = Some(new_agent.clone());
        let old_id = old_agent.as_ref().map(|agent| agent.id().to_owned());
        self.commit(ChatItem::AgentHandoff(AgentHandoff::new(old_id, new_agent.id())), None);
        let session = self.clone();
        let hooks: BoxFuture<'static, ()> = Box::pin(async move {
            if let Some(old_agent) = old_agent {
                let ctx = AgentContext { session: session.clone(), agent: old_agent.clone() };
                // Replies asked for in `on_exit` are the old agent's last words.
                IN_HOOK.scope(old_agent.clone(), old_agent.hooks().on_exit(ctx)).await;
                session.close_toolsets(&old_agent.toolsets()).await;
            }
            if let Err(error) = session.setup_toolsets(&new_agent.toolsets()).await {
                session.report_error(
                    SessionErrorEvent::Toolset {
                        toolset: error.toolset.clone(),
                        message: error.to_string(),
                    },
                    ErrorSource::Toolset,
                );
            }
            let ctx = AgentContext { session, agent: new_agent.clone() };
            IN_HOOK.scope(new_agent.clone(), new_agent.hooks().on_enter(ctx)).await;
        });
        self.spawn_hook(hooks);
    }
}

/// Runs jobs one at a time, in order; while a hook runs, only the replies it asked for.
async fn scheduler(session: AgentSession, mut receiver: mpsc::UnboundedReceiver<Job>) {
    let mut pending: VecDeque<Job> = VecDeque::new();
    let mut hooks_running = session.inner.hooks_running.subscribe();
    let mut epochs = session.inner.interrupt_epoch.subscribe();
    let mut open = true;
    loop {
        while let Ok(job) = receiver.try_recv() {
            pending.push_back(job);
        }
        let epoch = *epochs.borrow_and_update();
        while let Some(position) =
            pending.iter().position(|job| job.epoch < epoch && job.droppable())
        {
            if let Some(dropped) = pending.remove(position) {
                dropped.handle.interrupt(true);
                finish_dropped(&session, dropped);
            }
        }
        let hooks_active = *hooks_running.borrow_and_update() > 0;
        let next = if hooks_active {
            pending.iter().position(Job::asked_by_hook)
        } else if pending.is_empty() {
            None
        } else {
            Some(0)
        };
        if let Some(job) = next.and_then(|position| pending.remove(position)) {
            let handle = job.handle.clone();
            let run = job.run;
            let job = RUN_ID.scope(run, session.run_job(job));
            if AssertUnwindSafe(job).catch_unwind().await.is_err() {
                // A panic in user code run by the reply (`on_user_turn_completed`, `llm_node`):
                // the reply ends, the session carries on.
                session.state().current = None;
                handle.mark_done();
                session.set_agent_state(AgentState::Listening);
                RUN_ID.sync_scope(run, || {
                    session.report_error(
                        SessionErrorEvent::Other(
                            "a reply panicked in an agent hook or node".into(),
                        ),
                        ErrorSource::Hook,
                    );
                });
            }
            session.inner.busy.send_modify(|busy| *busy = busy.saturating_sub(1));
            continue;
        }
        if !open {
            // Closed: what is left waits for hooks that will not ask for it anymore.
            for dropped in pending.drain(..) {
                finish_dropped(&session, dropped);
            }
            break;
        }
        tokio::select! {
            job = receiver.recv() => match job {
                Some(job) => pending.push_back(job),
                None => open = false,
            },
            changed = hooks_running.changed() => {
                if changed.is_err() {
                    open = false;
                }
            }
            changed = epochs.changed() => {
                if changed.is_err() {
                    open = false;
                }
            }
        }
    }
}

fn finish_dropped(session: &AgentSession, job: Job) {
    job.handle.mark_done();
    session.inner.busy.send_modify(|busy| *busy = busy.saturating_sub(1));
}
