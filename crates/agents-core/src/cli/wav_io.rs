//! The console's audio files: a WAV file as the user's microphone, and a WAV file as the
//! agent's speakers.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::oneshot;

use crate::audio::{AudioFrame, WavError, WavWriter, read_wav_frames};
use crate::room::Room;
use crate::voice::{AudioOutput, PlaybackFinished};

/// The console's frame size.
const FRAME: Duration = Duration::from_millis(10);

/// The frames of the WAV file at `path`: paced at real time, or as fast as they are read.
///
/// Read fast, the first frame waits for the session the console's room gets (`room`) to be
/// done with its own turns (a greeting), as a user would; the session then holds the input
/// while it replies (it runs on the audio's timeline: `InputClock::Audio`).
pub(crate) fn wav_input(
    path: &Path,
    fast: bool,
    room: oneshot::Receiver<Room>,
) -> Result<BoxStream<'static, AudioFrame>, WavError> {
    let frames = read_wav_frames(path, FRAME)?;
    let stream = futures::stream::iter(frames);
    if fast {
        let greeted = async move {
            if let Ok(room) = room.await {
                room.wait_for_agent_session().await.wait_for_idle().await;
            }
        };
        let greeted = futures::stream::once(greeted).filter_map(|()| async { None });
        return Ok(greeted.chain(stream).boxed());
    }
    let start = tokio::time::Instant::now();
    let mut at = Duration::ZERO;
    Ok(stream
        .then(move |frame| {
            at += frame.duration();
            let due = start + at;
            async move {
                tokio::time::sleep_until(due).await;
                frame
            }
        })
        .boxed())
}

/// Writes the agent's audio to a WAV file (created at the first frame, in that frame's
/// format). Playout is instant: a file has no real-time clock.
pub(crate) struct WavOutput {
    path: PathBuf,
    state: Mutex<WavState>,
}

#[derive(Default)]
struct WavState {
    writer: Option<WavWriter>,
    error: Option<WavError>,
    segment: Duration,
    cleared: bool,
}

impl WavOutput {
    pub(crate) fn new(path: &Path) -> Self {
        Self { path: path.to_owned(), state: Mutex::new(WavState::default()) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, WavState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Finishes the file; an empty 24 kHz mono file when the agent never spoke.
    pub(crate) fn finish(&self) -> Result<(), WavError> {
        let mut state = self.state();
        if let Some(error) = state.error.take() {
            return Err(error);
        }
        match state.writer.take() {
            Some(writer) => writer.finalize(),
            None => WavWriter::create(&self.path, 24_000, 1)?.finalize(),
        }
    }
}

#[async_trait]
impl AudioOutput for WavOutput {
    async fn capture_frame(&self, frame: AudioFrame) {
        let mut state = self.state();
        if state.error.is_some() {
            return;
        }
        if state.writer.is_none() {
            match WavWriter::create(&self.path, frame.sample_rate(), frame.num_channels()) {
                Ok(writer) => state.writer = Some(writer),
                Err(error) => {
                    tracing::error!("{error}");
                    state.error = Some(error);
                    return;
                }
            }
        }
        state.segment += frame.duration();
        if let Some(Err(error)) = state.writer.as_mut().map(|writer| writer.write_frame(&frame)) {
            tracing::error!("{error}");
            state.error = Some(error);
        }
    }

    fn flush(&self) {}

    fn clear_buffer(&self) {
        self.state().cleared = true;
    }

    async fn wait_for_playout(&self) -> PlaybackFinished {
        let mut state = self.state();
        let finished = PlaybackFinished::new(state.segment, state.cleared);
        state.segment = Duration::ZERO;
        state.cleared = false;
        finished
    }
}
