//! The session's side of toolsets: session-wide tools, the set each request is offered
//! (the agent's plus the session's), the toolsets' lifecycle, and their events.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::future::join_all;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::core::SessionCore;
use super::events::{ErrorSource, SessionErrorEvent};
use crate::agent::Agent;
use crate::llm::toolset::ToolHub;
use crate::llm::{ToolSet, ToolSetError, Toolset, ToolsetError, ToolsetEvent};

/// A set-up toolset and the task reporting its events.
type Watcher = (Arc<dyn Toolset>, JoinHandle<()>);

/// Session-wide tools and toolsets, and what the toolsets of the session and of its active
/// agent report.
pub(crate) struct SessionTools {
    hub: ToolHub,
    /// The last combination: (agent's snapshot, session's snapshot, combined), so that equal
    /// inputs give the same snapshot (preemptive generation compares them).
    last: Mutex<Option<(ToolSet, ToolSet, ToolSet)>>,
    /// One task per set-up toolset, turning its events into session errors.
    watchers: Mutex<Vec<Watcher>>,
}

impl SessionTools {
    pub(crate) fn new(
        tools: ToolSet,
        toolsets: Vec<Arc<dyn Toolset>>,
    ) -> Result<Self, ToolSetError> {
        let hub = ToolHub::new("session", tools);
        hub.set_toolsets(toolsets)?;
        Ok(Self { hub, last: Mutex::new(None), watchers: Mutex::new(Vec::new()) })
    }

    /// No session tools (for a session whose tools clash: it cannot start).
    pub(crate) fn empty() -> Self {
        Self {
            hub: ToolHub::new("session", ToolSet::empty()),
            last: Mutex::new(None),
            watchers: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn toolsets(&self) -> Vec<Arc<dyn Toolset>> {
        self.hub.toolsets()
    }

    /// What a request of `agent` is offered now: the agent's tools, then the session's. On a
    /// name clash between the two the agent's tools win, and the clash is logged.
    pub(crate) fn offered(&self, agent: &Agent) -> ToolSet {
        let agent_tools = agent.tools();
        let session_tools = self.hub.offered();
        if session_tools.is_empty() {
            return agent_tools;
        }
        let mut last = lock(&self.last);
        if let Some((known_agent, known_session, combined)) = last.as_ref()
            && known_agent.same_snapshot(&agent_tools)
            && known_session.same_snapshot(&session_tools)
        {
            return combined.clone();
        }
        let combined = match ToolSet::new(agent_tools.clone() + session_tools.to_vec()) {
            Ok(combined) => combined,
            Err(error) => {
                tracing::error!(
                    agent = agent.id(),
                    "the session's tools are not offered to this agent: {error}"
                );
                agent_tools.clone()
            }
        };
        *last = Some((agent_tools, session_tools, combined.clone()));
        combined
    }
}

impl SessionCore {
    /// Sets up `toolsets` (all at once), and reports their events as the session's errors.
    /// On a failure, the ones that were set up are closed again.
    pub(crate) async fn setup_toolsets(
        self: &Arc<Self>,
        toolsets: &[Arc<dyn Toolset>],
    ) -> Result<(), ToolsetError> {
        let results = join_all(toolsets.iter().map(|toolset| toolset.setup())).await;
        let failure = results.iter().find_map(|result| result.as_ref().err()).cloned();
        if let Some(failure) = failure {
            let ready = toolsets.iter().zip(&results).filter(|(_, result)| result.is_ok());
            join_all(ready.map(|(toolset, _)| toolset.aclose())).await;
            return Err(failure);
        }
        let mut watchers = lock(&self.tools.watchers);
        for toolset in toolsets {
            // Set up again (two concurrent `start` calls, or the same toolset on the session
            // and its agent): one watcher is enough, a second would report each event twice.
            if watchers.iter().any(|(watched, _)| Arc::ptr_eq(watched, toolset)) {
                continue;
            }
            let core = Arc::clone(self);
            let mut events = toolset.tools().subscribe();
            let id = toolset.id().to_owned();
            let task = tokio::spawn(
                async move {
                    loop {
                        let message = match events.recv().await {
                            Ok(ToolsetEvent::Unavailable { reason }) => reason,
                            Ok(ToolsetEvent::Restored { message }) => message,
                            Err(RecvError::Lagged(_)) => continue,
                            Err(RecvError::Closed) => break,
                        };
                        core.report_error(
                            SessionErrorEvent::Toolset { toolset: id.clone(), message },
                            ErrorSource::Toolset,
                        );
                    }
                }
                .in_current_span(),
            );
            watchers.push((toolset.clone(), task));
        }
        Ok(())
    }

    /// Closes `toolsets` (all at once) and stops reporting their events.
    pub(crate) async fn close_toolsets(&self, toolsets: &[Arc<dyn Toolset>]) {
        {
            let mut watchers = lock(&self.tools.watchers);
            watchers.retain(|(toolset, task)| {
                let closing = toolsets.iter().any(|closed| Arc::ptr_eq(closed, toolset));
                if closing {
                    task.abort();
                }
                !closing
            });
        }
        join_all(toolsets.iter().map(|toolset| toolset.aclose())).await;
    }

    /// Closes every toolset that is set up (the session's, the agent's, and those of an agent
    /// a handoff was setting up), for the end of the session.
    pub(crate) async fn close_all_toolsets(&self) {
        let watched = std::mem::take(&mut *lock(&self.tools.watchers));
        let mut toolsets: Vec<Arc<dyn Toolset>> = Vec::with_capacity(watched.len());
        for (toolset, task) in watched {
            task.abort();
            if !toolsets.iter().any(|known| Arc::ptr_eq(known, &toolset)) {
                toolsets.push(toolset);
            }
        }
        join_all(toolsets.iter().map(|toolset| toolset.aclose())).await;
    }

    /// The tools a request of `agent` is offered now (its own and its toolsets', then the
    /// session's).
    pub(crate) fn offered_tools(&self, agent: &Agent) -> ToolSet {
        self.tools.offered(agent)
    }
}

/// Whether the tools of `toolsets` can be offered together (no name twice; the error names
/// both origins).
pub(crate) fn check_toolsets(toolsets: &[Arc<dyn Toolset>]) -> Result<(), ToolSetError> {
    ToolSet::new(toolsets.iter().flat_map(|toolset| toolset.tools().get())).map(drop)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
