//! `SpeechHandle`: one reply of the agent, from scheduling to the end of its tool loop.

use std::fmt;
use std::sync::Arc;

use tokio::sync::watch;

/// A handle on one reply of the agent (Python's `SpeechHandle`): created by
/// `generate_reply` and `say`, done when the reply and all its tool steps are.
#[derive(Clone)]
pub struct SpeechHandle {
    inner: Arc<SpeechInner>,
}

struct SpeechInner {
    id: String,
    allow_interruptions: bool,
    interrupted: watch::Sender<bool>,
    done: watch::Sender<bool>,
}

impl fmt::Debug for SpeechHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpeechHandle")
            .field("id", &self.inner.id)
            .field("interrupted", &self.interrupted())
            .field("done", &self.done())
            .finish()
    }
}

impl SpeechHandle {
    pub(crate) fn new(allow_interruptions: bool) -> Self {
        Self {
            inner: Arc::new(SpeechInner {
                id: crate::llm::new_id("speech"),
                allow_interruptions,
                interrupted: watch::Sender::new(false),
                done: watch::Sender::new(false),
            }),
        }
    }

    /// The speech's id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Whether the user may interrupt it.
    pub fn allow_interruptions(&self) -> bool {
        self.inner.allow_interruptions
    }

    /// Whether it was interrupted.
    pub fn interrupted(&self) -> bool {
        *self.inner.interrupted.borrow()
    }

    /// Whether it is done (played out, interrupted or failed).
    pub fn done(&self) -> bool {
        *self.inner.done.borrow()
    }

    /// Interrupts it: the LLM request and tools in flight are cancelled. Has no effect on a
    /// speech that disallows interruptions unless `force` is set.
    pub fn interrupt(&self, force: bool) {
        if self.inner.allow_interruptions || force {
            self.inner.interrupted.send_replace(true);
        }
    }

    /// Waits until the speech is done, tool steps included (Python's `wait_for_playout`).
    ///
    /// A tool must not wait for the speech that called it (`ctx.speech_handle()`): that speech
    /// includes the tool, so it would wait for itself.
    pub async fn wait_for_playout(&self) {
        let mut done = self.inner.done.subscribe();
        // The sender lives as long as `self`, so `wait_for` only ends when done is set.
        let _ = done.wait_for(|done| *done).await;
    }

    /// Resolves when the speech is interrupted.
    pub(crate) async fn wait_for_interruption(&self) {
        let mut interrupted = self.inner.interrupted.subscribe();
        let _ = interrupted.wait_for(|interrupted| *interrupted).await;
    }

    pub(crate) fn mark_done(&self) {
        self.inner.done.send_replace(true);
    }
}
