//! The room a job's agent runs in.
//!
//! Today a room is local: the console's `console-room`, where the session's input and output
//! are the terminal. LiveKit rooms (through livekit-ffi) come with the rooms work; the session
//! only needs what this type offers.

use std::fmt;
use std::sync::Arc;

use tokio::sync::watch;

use crate::voice::AgentSession;

/// A room: its name, and the agent session running in it.
#[derive(Clone)]
pub struct Room {
    inner: Arc<RoomInner>,
}

struct RoomInner {
    name: String,
    session: watch::Sender<Option<AgentSession>>,
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Room").field("name", &self.inner.name).finish_non_exhaustive()
    }
}

impl Room {
    /// A local room (no LiveKit server), such as the console's.
    pub fn local(name: impl Into<String>) -> Self {
        Self { inner: Arc::new(RoomInner { name: name.into(), session: watch::Sender::new(None) }) }
    }

    /// The room's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The agent session started in this room, if any.
    pub fn agent_session(&self) -> Option<AgentSession> {
        self.inner.session.borrow().clone()
    }

    /// Waits until an agent session is started in this room.
    pub async fn wait_for_agent_session(&self) -> AgentSession {
        let mut receiver = self.inner.session.subscribe();
        loop {
            if let Some(session) = receiver.borrow_and_update().clone() {
                return session;
            }
            // The sender lives in `self`, so `changed` cannot fail while we wait.
            if receiver.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    pub(crate) fn attach_session(&self, session: AgentSession) {
        self.inner.session.send_replace(Some(session));
    }
}
