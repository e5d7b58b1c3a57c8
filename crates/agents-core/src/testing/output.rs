//! [`FakeAudioOutput`]: a speaker that plays at a chosen speed and keeps what it was given.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::lock;
use crate::audio::AudioFrame;
use crate::voice::{AudioOutput, PlaybackFinished};

/// An [`AudioOutput`] that plays each segment on a clock — real time, or faster — and keeps
/// every frame captured and how each segment ended (Python's `FakeAudioOutput`).
///
/// A segment starts playing at its first frame; [`wait_for_playout`](AudioOutput::wait_for_playout)
/// returns once it is flushed and played, or at once when it was cleared, with the position
/// reached.
#[derive(Debug)]
pub struct FakeAudioOutput {
    speed: f64,
    state: Mutex<Playout>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct Playout {
    /// Audio of the current segment.
    captured: Duration,
    started: Option<Instant>,
    flushed: bool,
    cleared_at: Option<Duration>,
    frames: Vec<AudioFrame>,
    segments: Vec<PlaybackFinished>,
}

impl Playout {
    fn played(&self, speed: f64) -> Duration {
        let elapsed = self.started.map_or(Duration::ZERO, |start| {
            if speed.is_finite() { start.elapsed().mul_f64(speed) } else { Duration::MAX }
        });
        elapsed.min(self.captured)
    }
}

impl Default for FakeAudioOutput {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeAudioOutput {
    /// A speaker that plays in real time.
    pub fn new() -> Self {
        Self::with_speed(1.0)
    }

    /// A speaker that plays everything the moment it is flushed.
    pub fn instant() -> Self {
        Self::with_speed(f64::INFINITY)
    }

    /// A speaker that plays `speed` seconds of audio a second (e.g. 4.0: four times real
    /// time); a speed that is not above zero plays instantly.
    pub fn with_speed(speed: f64) -> Self {
        let speed = if speed > 0.0 { speed } else { f64::INFINITY };
        Self { speed, state: Mutex::default(), changed: Notify::new() }
    }

    /// Every frame captured so far, over all segments.
    pub fn frames(&self) -> Vec<AudioFrame> {
        lock(&self.state).frames.clone()
    }

    /// The audio captured so far, over all segments.
    pub fn captured(&self) -> Duration {
        lock(&self.state).frames.iter().map(AudioFrame::duration).sum()
    }

    /// How each segment waited for so far ended, in order.
    pub fn segments(&self) -> Vec<PlaybackFinished> {
        lock(&self.state).segments.clone()
    }
}

#[async_trait]
impl AudioOutput for FakeAudioOutput {
    async fn capture_frame(&self, frame: AudioFrame) {
        let mut state = lock(&self.state);
        state.started.get_or_insert_with(Instant::now);
        state.captured += frame.duration();
        state.frames.push(frame);
    }

    fn flush(&self) {
        lock(&self.state).flushed = true;
        self.changed.notify_waiters();
    }

    fn clear_buffer(&self) {
        {
            let mut state = lock(&self.state);
            let played = state.played(self.speed);
            state.cleared_at.get_or_insert(played);
        }
        self.changed.notify_waiters();
    }

    async fn wait_for_playout(&self) -> PlaybackFinished {
        loop {
            let changed = self.changed.notified();
            let wait = {
                let mut state = lock(&self.state);
                let played = state.played(self.speed);
                let finished = match state.cleared_at {
                    Some(position) => Some(PlaybackFinished::new(position, true)),
                    None if state.flushed && played >= state.captured => {
                        Some(PlaybackFinished::new(state.captured, false))
                    }
                    None => None,
                };
                if let Some(finished) = finished {
                    let frames = std::mem::take(&mut state.frames);
                    let mut segments = std::mem::take(&mut state.segments);
                    segments.push(finished);
                    *state = Playout { frames, segments, ..Playout::default() };
                    return finished;
                }
                match (state.flushed, self.speed.is_finite()) {
                    (true, true) => Some((state.captured - played).div_f64(self.speed)),
                    _ => None,
                }
            };
            match wait {
                Some(wait) => {
                    tokio::select! {
                        () = changed => {}
                        () = tokio::time::sleep(wait) => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::tone;

    #[tokio::test(start_paused = true)]
    async fn a_segment_plays_in_real_time_and_a_clear_stops_it_where_it_is() {
        let output = FakeAudioOutput::new();
        for frame in tone(Duration::from_millis(300), 440.0, 24_000) {
            output.capture_frame(frame).await;
        }
        output.flush();
        let start = Instant::now();
        let finished = output.wait_for_playout().await;
        assert_eq!(finished, PlaybackFinished::new(Duration::from_millis(300), false));
        assert_eq!(start.elapsed(), Duration::from_millis(300));

        for frame in tone(Duration::from_millis(500), 440.0, 24_000) {
            output.capture_frame(frame).await;
        }
        tokio::time::sleep(Duration::from_millis(120)).await;
        output.clear_buffer();
        let finished = output.wait_for_playout().await;
        assert_eq!(finished, PlaybackFinished::new(Duration::from_millis(120), true));
        assert_eq!(output.segments().len(), 2);
        assert_eq!(output.captured(), Duration::from_millis(800));
    }
}
