//! `SessionCore`: the state a session's tasks share, and the operations on it.
//!
//! [`AgentSession`] is a handle on it; the tasks (the scheduler, a reply, recognition, hooks)
//! hold the core itself and never go through the public facade. See the module documentation
//! of `voice` for who owns what.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::FutureExt;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use super::busy::{Busy, BusyCount};
use super::error::SessionError;
use super::events::{AgentState, ErrorSource, SessionErrorEvent, SessionEvent, UserState};
use super::mock::MockTools;
use super::model_input::ComponentError;
use super::options::{ReplyOptions, SessionOptions};
use super::output::AudioOutput;
use super::preemptive::Preemptive;
use super::run_result::RunEvent;
use super::speech::SpeechHandle;
use super::toolsets::SessionTools;
use crate::agent::Agent;
use crate::llm::ToolSetError;
use crate::llm::{ChatContext, ChatItem, Llm};
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
pub(super) fn current_run() -> u64 {
    RUN_ID.try_with(|id| *id).unwrap_or(0)
}

/// `future`, run as part of the current task's `run` (for the tasks it spawns).
pub(super) fn in_current_run<F: Future>(future: F) -> impl Future<Output = F::Output> {
    RUN_ID.scope(current_run(), future)
}

/// `future`, run as part of the `run` with id `run` (0: none).
pub(super) fn in_run<F: Future>(run: u64, future: F) -> impl Future<Output = F::Output> {
    RUN_ID.scope(run, future)
}

/// `f`, called as part of the `run` with id `run` (0: none).
pub(super) fn sync_in_run<R>(run: u64, f: impl FnOnce() -> R) -> R {
    RUN_ID.sync_scope(run, f)
}

/// `hook`, run as a lifecycle hook of `agent`: the replies it asks for are that agent's and go
/// ahead of queued ones.
pub(super) fn as_hook_of<F: Future>(agent: Agent, hook: F) -> impl Future<Output = F::Output> {
    IN_HOOK.scope(agent, hook)
}

/// A running agent session (Python's `AgentSession`): holds the active agent, the
/// conversation history, and runs replies one at a time.
///
/// Cheap to clone (an `Arc` inside); clones are the same session.
#[derive(Clone)]
pub struct AgentSession {
    pub(super) core: Arc<SessionCore>,
}

/// The components, options and state of one session, shared by the facade and every task.
pub(super) struct SessionCore {
    pub(super) llm: Option<Arc<dyn Llm>>,
    pub(super) vad: Option<Arc<dyn Vad>>,
    pub(super) stt: Option<Arc<dyn Stt>>,
    pub(super) tts: Option<Arc<dyn Tts>>,
    pub(super) options: SessionOptions,
    pub(super) userdata: Option<Arc<dyn Any + Send + Sync>>,
    /// The builder's first component that could not be used: `start` fails with it.
    pub(super) invalid: Option<ComponentError>,
    /// Session-wide tools and toolsets; empty when they clash (`tools_error` says why).
    pub(super) tools: SessionTools,
    /// Why the session-wide tools clash: `start` fails with it.
    pub(super) tools_error: Option<ToolSetError>,
    events: broadcast::Sender<SessionEvent>,
    /// Queued and running replies, plus running hooks: zero means idle.
    busy: BusyCount,
    /// Running hooks.
    pub(super) hooks_running: BusyCount,
    /// Bumped by every interruption: queued jobs older than it are dropped.
    pub(super) interrupt_epoch: watch::Sender<u64>,
    state: Mutex<State>,
    hook_tasks: Mutex<JoinSet<()>>,
    pub(super) closed: watch::Sender<bool>,
    /// False while audio input is being recognized.
    pub(super) audio_input_done: watch::Sender<bool>,
}

/// What changes while the session runs, behind one lock (never held across an `.await`).
#[derive(Default)]
pub(super) struct State {
    pub(super) started: bool,
    pub(super) closed: bool,
    pub(super) agent: Option<Agent>,
    history: ChatContext,
    agent_state: Option<AgentState>,
    pub(super) queue: Option<mpsc::UnboundedSender<Job>>,
    pub(super) scheduler: Option<JoinHandle<()>>,
    pub(super) current: Option<SpeechHandle>,
    pub(super) run: Option<RunCollector>,
    /// The id of the last `run`.
    pub(super) last_run: u64,
    mocks: MockTools,
    /// The task finishing `close`, once started.
    pub(super) closer: Option<JoinHandle<()>>,
    user_state: Option<UserState>,
    pub(super) audio_output: Option<Arc<dyn AudioOutput>>,
    preemptive: Option<Preemptive>,
    /// The task turning audio input into user turns.
    pub(super) recognition: Option<JoinHandle<()>>,
    /// How many errors the session reported, and the last (for the console's exit status:
    /// kept here, since a subscriber that falls behind can miss the events).
    errors_reported: usize,
    last_error: Option<(ErrorSource, SessionErrorEvent)>,
}

/// What one `run` collects: the events and errors of the work its input caused.
#[derive(Default)]
pub(super) struct RunCollector {
    /// Its id, never 0.
    pub(super) id: u64,
    pub(super) events: Vec<RunEvent>,
    pub(super) errors: Vec<SessionErrorEvent>,
    /// Whether one of its replies failed (an LLM error, a panic in a hook or node).
    pub(super) failed: bool,
}

/// What a queued job does.
pub(super) enum JobKind {
    Reply(ReplyOptions),
    /// The text, and whether it is added to the history.
    Say(String, bool),
    Handoff(Agent),
}

/// A reply, a `say` or a handoff, queued for the scheduler. Counted as busy work from the
/// moment it is queued until it is dropped.
pub(super) struct Job {
    pub(super) handle: SpeechHandle,
    pub(super) kind: JobKind,
    /// The agent of the hook that asked for it (`None`: the session's current agent).
    pub(super) hook_agent: Option<Agent>,
    pub(super) epoch: u64,
    /// The `run` that caused it (0: none).
    pub(super) run: u64,
    pub(super) busy: Busy,
}

impl Job {
    pub(super) fn asked_by_hook(&self) -> bool {
        self.hook_agent.is_some()
    }

    /// Whether an interruption drops it while queued: handoffs and uninterruptible replies
    /// stay.
    pub(super) fn droppable(&self) -> bool {
        !matches!(self.kind, JobKind::Handoff(_)) && self.handle.allow_interruptions()
    }
}

/// The components a session is built from.
pub(super) struct Components {
    pub(super) llm: Option<Arc<dyn Llm>>,
    pub(super) vad: Option<Arc<dyn Vad>>,
    pub(super) stt: Option<Arc<dyn Stt>>,
    pub(super) tts: Option<Arc<dyn Tts>>,
    pub(super) options: SessionOptions,
    pub(super) userdata: Option<Arc<dyn Any + Send + Sync>>,
    pub(super) invalid: Option<ComponentError>,
    pub(super) tools: Result<SessionTools, ToolSetError>,
}

impl SessionCore {
    pub(super) fn new(components: Components) -> Arc<Self> {
        let Components { llm, vad, stt, tts, options, userdata, invalid, tools } = components;
        let (tools, tools_error) = match tools {
            Ok(tools) => (tools, None),
            Err(error) => (SessionTools::empty(), Some(error)),
        };
        let (events, _) = broadcast::channel(1024);
        Arc::new(Self {
            llm,
            vad,
            stt,
            tts,
            options,
            userdata,
            invalid,
            tools,
            tools_error,
            events,
            busy: BusyCount::default(),
            hooks_running: BusyCount::default(),
            interrupt_epoch: watch::Sender::new(0),
            state: Mutex::new(State::default()),
            hook_tasks: Mutex::new(JoinSet::new()),
            closed: watch::Sender::new(false),
            audio_input_done: watch::Sender::new(true),
        })
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The public handle on this core, for user code (hooks, tools).
    pub(super) fn session(self: &Arc<Self>) -> AgentSession {
        AgentSession { core: Arc::clone(self) }
    }

    /// Subscribes to the session's events.
    pub(super) fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.events.subscribe()
    }

    pub(super) fn emit(&self, event: SessionEvent) {
        // No subscriber is fine.
        let _ = self.events.send(event);
    }

    pub(super) fn current_agent(&self) -> Option<Agent> {
        self.state().agent.clone()
    }

    pub(super) fn history(&self) -> ChatContext {
        self.state().history.clone()
    }

    pub(super) fn current_speech(&self) -> Option<SpeechHandle> {
        self.state().current.clone()
    }

    pub(super) fn agent_state(&self) -> AgentState {
        self.state().agent_state.unwrap_or(AgentState::Initializing)
    }

    pub(super) fn user_state(&self) -> UserState {
        self.state().user_state.unwrap_or(UserState::Listening)
    }

    pub(super) fn set_mocks(&self, mocks: MockTools) {
        self.state().mocks = mocks;
    }

    pub(super) fn mocks(&self) -> MockTools {
        self.state().mocks.clone()
    }

    /// The TTS and the audio output the agent speaks into, when the session has both.
    pub(super) fn voice(&self) -> Option<(Arc<dyn Tts>, Arc<dyn AudioOutput>)> {
        let output = self.state().audio_output.clone()?;
        Some((self.tts.clone()?, output))
    }

    pub(super) fn set_agent_state(&self, new_state: AgentState) {
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

    pub(super) fn set_user_state(&self, new_state: UserState) {
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

    /// Adds `item` to the history (and to `agent`'s conversation, when given), records it for
    /// a `run` in progress, and announces messages and handoffs.
    pub(super) fn commit(&self, item: ChatItem, agent: Option<&Agent>) {
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
    pub(super) fn report_error(&self, error: SessionErrorEvent, source: ErrorSource) {
        tracing::error!(?source, "{}", crate::api_error::error_chain(&error));
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
    pub(super) fn reported_errors(&self) -> (usize, Option<(ErrorSource, SessionErrorEvent)>) {
        let state = self.state();
        (state.errors_reported, state.last_error.clone())
    }

    /// Keeps `preemptive` for the reply to its transcript; replaces (cancels) an earlier one.
    pub(super) fn set_preemptive(&self, preemptive: Preemptive) {
        let replaced = self.state().preemptive.replace(preemptive);
        drop(replaced);
    }

    /// Cancels the preemptive request (the user goes on speaking).
    pub(super) fn cancel_preemptive(&self) {
        let cancelled = self.state().preemptive.take();
        drop(cancelled);
    }

    /// The preemptive request made for `transcript`, if there is one.
    pub(super) fn take_preemptive(&self, transcript: &str) -> Option<Preemptive> {
        let preemptive = self.state().preemptive.take()?;
        (preemptive.transcript() == transcript).then_some(preemptive)
    }

    /// The user speaks over the agent: the current reply is interrupted, if it allows it.
    pub(super) fn interrupt_for_user(&self) {
        if let Some(current) = self.current_speech()
            && !current.interrupted()
        {
            current.interrupt(false);
        }
    }

    /// Interrupts the current reply (even an uninterruptible one with `force`) and marks the
    /// queued ones for dropping.
    pub(super) fn interrupt(&self, force: bool) {
        self.interrupt_epoch.send_modify(|epoch| *epoch += 1);
        if let Some(current) = self.current_speech() {
            current.interrupt(force);
        }
    }

    /// Queues a reply; `allow_interruptions` defaults to the session's setting.
    pub(super) fn generate_reply(&self, options: ReplyOptions) -> SpeechHandle {
        let allow = options.allow_interruptions.unwrap_or(self.options.allow_interruptions);
        self.enqueue(JobKind::Reply(options), allow)
    }

    /// Queues a handoff to `agent`.
    pub(super) fn update_agent(&self, agent: Agent) -> SpeechHandle {
        self.enqueue(JobKind::Handoff(agent), false)
    }

    /// Queues a job for the scheduler; its handle is done at once if the session is not
    /// running.
    pub(super) fn enqueue(&self, kind: JobKind, allow_interruptions: bool) -> SpeechHandle {
        let handle = SpeechHandle::new(allow_interruptions);
        let queue = self.state().queue.clone();
        let Some(queue) = queue else {
            tracing::error!("{}", SessionError::NotRunning);
            handle.mark_done();
            return handle;
        };
        let job = Job {
            handle: handle.clone(),
            kind,
            hook_agent: IN_HOOK.try_with(Agent::clone).ok(),
            epoch: *self.interrupt_epoch.borrow(),
            run: current_run(),
            busy: self.busy.start(),
        };
        if let Err(rejected) = queue.send(job) {
            // The scheduler is gone (the session closed): the job is done, and no longer busy
            // when dropped here.
            rejected.0.handle.mark_done();
        }
        handle
    }

    /// Waits until no reply is queued or running and no hook is running.
    pub(super) async fn wait_for_idle(&self) {
        self.busy.wait_for_zero().await;
    }

    /// Runs `hook` as a task (the caller scopes it with [`as_hook_of`]); counted as work in
    /// flight until it ends, also by a panic or an abort.
    pub(super) fn spawn_hook(self: &Arc<Self>, hook: impl Future<Output = ()> + Send + 'static) {
        let busy = (self.busy.start(), self.hooks_running.start());
        let core = Arc::clone(self);
        let task = in_current_run(async move {
            if AssertUnwindSafe(hook).catch_unwind().await.is_err() {
                core.report_error(
                    SessionErrorEvent::Other("an agent hook panicked".into()),
                    ErrorSource::Hook,
                );
            }
            // Only now idle: the error above belongs to the `run` waiting for it.
            drop(busy);
        });
        self.hook_tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .spawn(task.in_current_span());
    }

    /// Aborts the hooks still running and waits for them to end.
    pub(super) async fn shut_down_hooks(&self) {
        let mut hook_tasks =
            std::mem::take(&mut *self.hook_tasks.lock().unwrap_or_else(PoisonError::into_inner));
        hook_tasks.shutdown().await;
    }
}
