//! The scheduler task: runs the queued replies, `say`s and handoffs one at a time, in order.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::core::{Job, JobKind, SessionCore, as_hook_of, in_run, sync_in_run};
use super::events::{AgentState, ErrorSource, SessionErrorEvent};
use super::generation;
use super::speaker::Speaker;
use super::speech::SpeechHandle;
use crate::agent::Agent;
use crate::agent::AgentContext;
use crate::llm::{AgentHandoff, ChatItem, ChatMessage, ChatRole};

/// Runs jobs one at a time, in order; while a hook runs, only the replies it asked for.
/// Ends once the queue is closed (`close`) and what is left is dropped.
pub(super) async fn run(core: Arc<SessionCore>, mut receiver: mpsc::UnboundedReceiver<Job>) {
    let mut pending: VecDeque<Job> = VecDeque::new();
    let mut hooks_running = core.hooks_running.subscribe();
    let mut epochs = core.interrupt_epoch.subscribe();
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
                finish_dropped(dropped);
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
            run_guarded(&core, job).await;
            continue;
        }
        if !open {
            // Closed: what is left waits for hooks that will not ask for it anymore.
            for dropped in pending.drain(..) {
                finish_dropped(dropped);
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

/// Runs `job`; a panic in it ends the job and is reported, and the session carries on. The job
/// counts as busy until it is done and its error, if any, reported.
async fn run_guarded(core: &Arc<SessionCore>, job: Job) {
    let Job { handle, kind, hook_agent, epoch, run, busy } = job;
    let job = in_run(run, run_job(core, handle.clone(), kind, hook_agent, epoch));
    if AssertUnwindSafe(job).catch_unwind().await.is_err() {
        // A panic in user code run by the reply (`on_user_turn_completed`, `llm_node`):
        // the reply ends, the session carries on.
        core.state().current = None;
        handle.mark_done();
        core.set_agent_state(AgentState::Listening);
        sync_in_run(run, || {
            core.report_error(
                SessionErrorEvent::Other("a reply panicked in an agent hook or node".into()),
                ErrorSource::Hook,
            );
        });
    }
    drop(busy);
}

async fn run_job(
    core: &Arc<SessionCore>,
    handle: SpeechHandle,
    kind: JobKind,
    hook_agent: Option<Agent>,
    epoch: u64,
) {
    let agent = {
        let mut state = core.state();
        state.current = Some(handle.clone());
        hook_agent.or_else(|| state.agent.clone())
    };
    // An interruption between choosing this job and making it current must not be lost.
    if epoch < *core.interrupt_epoch.borrow() {
        handle.interrupt(false);
    }
    match (kind, agent) {
        (JobKind::Reply(options), Some(agent)) => {
            generation::run_reply(core, &handle, &agent, options).await;
        }
        (JobKind::Say(text, add_to_chat_ctx), Some(agent)) => {
            let mut message = ChatMessage::new(ChatRole::Assistant, text.clone());
            if let Some((tts, output)) = core.voice() {
                // Spoken through the TTS; interrupted, only what was heard is kept.
                let mut speaker = Speaker::new(tts, output, &message.id);
                speaker.push_text(&text);
                let playback = speaker.finish(core, &handle).await;
                // Cut short, or interrupted before all of it was synthesized (the output may
                // call a clear after the last frame played no interruption).
                speaker.report(core, playback.interrupted || handle.interrupted());
                if playback.interrupted || handle.interrupted() {
                    message.content = vec![speaker.heard(&text, playback).to_owned()];
                    message.interrupted = true;
                }
            }
            if add_to_chat_ctx && !message.text().is_empty() {
                core.commit(ChatItem::Message(message), Some(&agent));
            }
        }
        (JobKind::Handoff(new_agent), old_agent) => hand_off(core, old_agent, new_agent),
        (_, None) => {}
    }
    core.state().current = None;
    core.set_agent_state(AgentState::Listening);
    handle.mark_done();
}

/// Makes `new_agent` the session's agent; the old agent's `on_exit`, then the new one's
/// `on_enter`, run as a hook task.
fn hand_off(core: &Arc<SessionCore>, old_agent: Option<Agent>, new_agent: Agent) {
    core.state().agent = Some(new_agent.clone());
    let old_id = old_agent.as_ref().map(|agent| agent.id().to_owned());
    core.commit(ChatItem::AgentHandoff(AgentHandoff::new(old_id, new_agent.id())), None);
    let hook_core = Arc::clone(core);
    let hooks: BoxFuture<'static, ()> = Box::pin(async move {
        if let Some(old_agent) = old_agent {
            let ctx = AgentContext { session: hook_core.session(), agent: old_agent.clone() };
            // Replies asked for in `on_exit` are the old agent's last words.
            let on_exit = old_agent.hooks().on_exit(ctx);
            run_hook(&hook_core, &old_agent, "on_exit", on_exit).await;
            hook_core.close_toolsets(&old_agent.toolsets()).await;
        }
        if let Err(error) = hook_core.setup_toolsets(&new_agent.toolsets()).await {
            hook_core.report_error(
                SessionErrorEvent::Toolset {
                    toolset: error.toolset.clone(),
                    message: error.to_string(),
                },
                ErrorSource::Toolset,
            );
        }
        let ctx = AgentContext { session: hook_core.session(), agent: new_agent.clone() };
        let on_enter = new_agent.hooks().on_enter(ctx);
        run_hook(&hook_core, &new_agent, "on_enter", on_enter).await;
    });
    core.spawn_hook(hooks);
}

/// Runs one of `agent`'s hooks; a panic in it is reported and the handoff goes on.
async fn run_hook(
    core: &Arc<SessionCore>,
    agent: &Agent,
    name: &str,
    hook: impl std::future::Future<Output = ()>,
) {
    let hook = AssertUnwindSafe(as_hook_of(agent.clone(), hook)).catch_unwind();
    if hook.await.is_err() {
        core.report_error(
            SessionErrorEvent::Other(
                format!("the agent `{}`'s {name} hook panicked", agent.id()).into(),
            ),
            ErrorSource::Hook,
        );
    }
}

/// A job dropped unrun: its handle is done, and it is no longer busy.
fn finish_dropped(job: Job) {
    job.handle.mark_done();
    drop(job);
}
