//! Where the agent's voice goes: the `AudioOutput` trait.

use std::time::Duration;

use async_trait::async_trait;

use crate::audio::AudioFrame;
use crate::types::TimedString;

/// How a segment's playout ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PlaybackFinished {
    /// How much of the segment was played.
    pub position: Duration,
    /// Whether it was cut short by [`AudioOutput::clear_buffer`].
    pub interrupted: bool,
}

impl PlaybackFinished {
    /// A playout that reached `position`.
    pub fn new(position: Duration, interrupted: bool) -> Self {
        Self { position, interrupted }
    }
}

/// A sink for the agent's audio (speakers, a room track, a WAV file): frames of one segment
/// are captured, flushed, and played; an interruption clears what is not played yet.
#[async_trait]
pub trait AudioOutput: Send + Sync + 'static {
    /// Queues `frame` for playout (may wait while the sink's buffer is full).
    ///
    /// The session drops this future when the speech is interrupted while it waits (then
    /// calls [`clear_buffer`](Self::clear_buffer)): it must be cancellation-safe, leaving the
    /// frame either queued whole or not at all.
    async fn capture_frame(&self, frame: AudioFrame);

    /// The current segment has no more frames.
    fn flush(&self);

    /// Drops the audio not played yet (the agent was interrupted).
    fn clear_buffer(&self);

    /// Waits until the current segment has played out or was cleared.
    async fn wait_for_playout(&self) -> PlaybackFinished;

    /// The words the current segment's audio speaks, each timed in seconds from the start of
    /// the segment (the clock of [`PlaybackFinished::position`]), given before their audio
    /// is captured. An output that shows the agent's transcript in step with the playout uses
    /// them (a LiveKit room's `lk.transcription`): a word is shown once it has played, so an
    /// interrupted segment shows the words the session keeps. The default ignores them.
    fn capture_words(&self, words: &[TimedString]) {
        let _ = words;
    }

    /// A new segment starts: its audio speaks the agent's message `item_id` (the id the
    /// message has in the history, if the session adds it; a `say` that is not added, or a
    /// reply the user interrupted before a word was heard, is never added). Called before the
    /// segment's words and frames. An output that shows the agent's transcript uses it to
    /// know which messages it has shown already (a LiveKit room sends the others whole when
    /// the session adds them). The default ignores it.
    fn begin_segment(&self, item_id: &str) {
        let _ = item_id;
    }
}
