//! The device-independent half of the audio console: a device's samples turned into the
//! session's 10 ms mono 24 kHz frames, the playout buffer the speakers drain, and the level
//! meter. Nothing here touches a device, so all of it is unit-tested without one.

// Without the feature, only the unit tests use this module.
#![cfg_attr(not(feature = "audio-devices"), allow(dead_code, unused_imports))]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::audio::{AudioFrame, ResampleError, Resampler};
use crate::voice::{AudioOutput, PlaybackFinished};

/// The session's sample rate.
pub(crate) const SESSION_RATE: u32 = 24_000;
/// Samples in one 10 ms frame at [`SESSION_RATE`].
pub(crate) const FRAME_SAMPLES: usize = 240;
/// The level meter's floor, in dBFS: quieter is an empty bar.
const METER_FLOOR_DB: f32 = -60.0;
/// The playout buffer accepts more audio only while it holds less than this.
const PLAYOUT_AHEAD: Duration = Duration::from_secs(5);

/// Turns a device's interleaved samples (any rate, any channel count, `-1.0..=1.0`) into
/// 10 ms mono frames at 24 kHz: the channels are averaged, then resampled.
pub(crate) struct Capture {
    channels: usize,
    resampler: Resampler,
    mono: Vec<f32>,
    resampled: Vec<f32>,
    pending: Vec<i16>,
}

impl Capture {
    /// A converter from `channels` channels at `rate` Hz.
    pub(crate) fn new(rate: u32, channels: u16) -> Result<Self, ResampleError> {
        Ok(Self {
            channels: usize::from(channels.max(1)),
            resampler: Resampler::new(rate, SESSION_RATE)?,
            mono: Vec::new(),
            resampled: Vec::new(),
            pending: Vec::with_capacity(FRAME_SAMPLES * 2),
        })
    }

    /// Converts `samples`, calling `emit` with each complete frame.
    pub(crate) fn push(&mut self, samples: &[f32], mut emit: impl FnMut(AudioFrame)) {
        self.mono.clear();
        let channels = self.channels as f32;
        self.mono.extend(
            samples.chunks_exact(self.channels).map(|frame| frame.iter().sum::<f32>() / channels),
        );
        self.resampled.clear();
        self.resampler.process(&self.mono, &mut self.resampled);
        for &sample in &self.resampled {
            self.pending.push(to_i16(sample));
            if self.pending.len() == FRAME_SAMPLES {
                let data = std::mem::replace(&mut self.pending, Vec::with_capacity(FRAME_SAMPLES));
                // 240 mono samples at 24 kHz always make a valid frame.
                if let Ok(frame) = AudioFrame::new(data, SESSION_RATE, 1) {
                    emit(frame);
                }
            }
        }
    }
}

/// A sample on the `-1.0..=1.0` scale as 16 bits, clipped.
pub(crate) fn to_i16(sample: f32) -> i16 {
    (sample * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16
}

/// The level of `samples`, in dBFS (root mean square; [`METER_FLOOR_DB`] for silence).
pub(crate) fn level_dbfs(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return METER_FLOOR_DB;
    }
    let energy: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let rms = (energy / samples.len() as f64).sqrt() / 32_768.0;
    if rms <= 0.0 { METER_FLOOR_DB } else { (20.0 * rms.log10()).max(-120.0) as f32 }
}

/// The microphone's level, shared by the input callback and the meter.
#[derive(Debug)]
pub(crate) struct Level {
    /// The loudest frame since the meter last read it, as `f32` bits.
    peak_db: AtomicU32,
    /// Whether the microphone is muted (text mode): its frames are replaced by silence.
    muted: AtomicBool,
}

impl Level {
    pub(crate) fn new() -> Self {
        Self { peak_db: AtomicU32::new(METER_FLOOR_DB.to_bits()), muted: AtomicBool::new(false) }
    }

    /// Records a frame's level.
    pub(crate) fn record(&self, db: f32) {
        let _ = self.peak_db.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            (db > f32::from_bits(bits)).then_some(db.to_bits())
        });
    }

    /// The loudest level since the last call.
    pub(crate) fn take(&self) -> f32 {
        f32::from_bits(self.peak_db.swap(METER_FLOOR_DB.to_bits(), Ordering::Relaxed))
    }

    pub(crate) fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Relaxed);
    }

    pub(crate) fn is_muted(&self) -> bool {
        self.muted.load(Ordering::Relaxed)
    }
}

/// The meter's line for a level: a bar of `width` cells and the figure.
pub(crate) fn meter_line(db: f32, width: usize) -> String {
    let fraction = ((db - METER_FLOOR_DB) / -METER_FLOOR_DB).clamp(0.0, 1.0);
    let filled = (fraction * width as f32).round() as usize;
    let bar: String = "█".repeat(filled) + &"·".repeat(width - filled);
    let figure = if db <= METER_FLOOR_DB { "  -∞".to_owned() } else { format!("{db:4.0}") };
    format!("mic {bar} {figure} dB  (Ctrl+T: type instead, Ctrl+C: quit)")
}

/// The agent's audio on its way to the speakers: captured frames are converted to the
/// device's rate and queued; the device's callback drains the queue (silence when empty).
pub(crate) struct Playout {
    rate: u32,
    state: Mutex<PlayoutState>,
    /// Signalled when samples were played, the buffer was cleared, or the device failed.
    changed: Notify,
}

struct PlayoutState {
    /// Mono samples at the device rate, not played yet.
    queue: VecDeque<f32>,
    /// From the frames' rate to the device's (made at the first frame of each rate).
    resampler: Option<Resampler>,
    scratch: Vec<f32>,
    /// Samples of the current segment played so far.
    played: u64,
    flushed: bool,
    cleared: bool,
    /// The device stopped: nothing will play any more.
    failed: bool,
}

impl Playout {
    /// A buffer for a device playing at `rate` Hz.
    pub(crate) fn new(rate: u32) -> Self {
        Self {
            rate: rate.max(1),
            state: Mutex::new(PlayoutState {
                queue: VecDeque::new(),
                resampler: None,
                scratch: Vec::new(),
                played: 0,
                flushed: false,
                cleared: false,
                failed: false,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, PlayoutState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fills `out` (mono samples, the device's callback) from the queue, silence past its end.
    pub(crate) fn fill(&self, out: &mut [f32]) {
        let mut state = self.state();
        let available = state.queue.len().min(out.len());
        for (slot, sample) in out.iter_mut().zip(state.queue.drain(..available)) {
            *slot = sample;
        }
        out[available..].fill(0.0);
        state.played += available as u64;
        drop(state);
        if available > 0 {
            self.changed.notify_waiters();
        }
    }

    /// The device stopped: waits for playout end at once.
    pub(crate) fn fail(&self) {
        self.state().failed = true;
        self.changed.notify_waiters();
    }

    /// Samples queued and not played.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.state().queue.len()
    }

    fn duration(&self, samples: u64) -> Duration {
        Duration::from_secs_f64(samples as f64 / f64::from(self.rate))
    }
}

#[async_trait]
impl AudioOutput for Playout {
    async fn capture_frame(&self, frame: AudioFrame) {
        // Back-pressure: the TTS runs ahead of real time; keep a few seconds queued at most.
        let ahead = (PLAYOUT_AHEAD.as_secs_f64() * f64::from(self.rate)) as usize;
        loop {
            let notified = self.changed.notified();
            {
                let state = self.state();
                if state.failed || state.cleared || state.queue.len() < ahead {
                    break;
                }
            }
            notified.await;
        }
        let mono = frame.to_mono();
        let mut state = self.state();
        if state.failed {
            return;
        }
        let state = &mut *state;
        if state.resampler.as_ref().is_none_or(|r| r.input_rate() != mono.sample_rate()) {
            match Resampler::new(mono.sample_rate(), self.rate) {
                Ok(resampler) => state.resampler = Some(resampler),
                Err(error) => {
                    tracing::error!("cannot play the agent's audio: {error}");
                    return;
                }
            }
        }
        state.scratch.clear();
        if let Some(resampler) = state.resampler.as_mut() {
            resampler.process_i16(mono.data(), &mut state.scratch);
        }
        state.queue.extend(state.scratch.iter().map(|s| s / 32_768.0));
    }

    fn flush(&self) {
        let mut guard = self.state();
        let state = &mut *guard;
        state.scratch.clear();
        // The resampler's tail; it starts afresh for the next segment.
        if let Some(resampler) = state.resampler.as_mut() {
            resampler.flush(&mut state.scratch);
        }
        state.queue.extend(state.scratch.iter().map(|s| s / 32_768.0));
        state.flushed = true;
        drop(guard);
        self.changed.notify_waiters();
    }

    fn clear_buffer(&self) {
        let mut state = self.state();
        state.queue.clear();
        if let Some(resampler) = state.resampler.as_mut() {
            resampler.reset();
        }
        state.cleared = true;
        drop(state);
        self.changed.notify_waiters();
    }

    async fn wait_for_playout(&self) -> PlaybackFinished {
        loop {
            let notified = self.changed.notified();
            {
                let mut state = self.state();
                let done =
                    state.cleared || state.failed || (state.flushed && state.queue.is_empty());
                if done {
                    let finished =
                        PlaybackFinished::new(self.duration(state.played), state.cleared);
                    state.played = 0;
                    state.flushed = false;
                    state.cleared = false;
                    state.queue.clear();
                    return finished;
                }
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;

    #[test]
    fn stereo_48k_becomes_10ms_mono_24k_frames() {
        let mut capture = Capture::new(48_000, 2).unwrap();
        // 100 ms of a 0.5 left / 0.25 right constant, in odd-sized callbacks.
        let samples: Vec<f32> = [0.5f32, 0.25].repeat(4_800);
        let mut frames = Vec::new();
        for chunk in samples.chunks(2 * 333) {
            capture.push(chunk, |frame| frames.push(frame));
        }
        // 4800 input samples make 2400 outputs, less the resampler's look-ahead.
        assert!(frames.len() >= 9, "{}", frames.len());
        for frame in &frames {
            assert_eq!((frame.sample_rate(), frame.num_channels()), (24_000, 1));
            assert_eq!(frame.samples_per_channel(), 240);
            assert_eq!(frame.duration(), Duration::from_millis(10));
        }
        // Past the filter's start, the down-mix is the average: 0.375 of full scale.
        let middle = frames[5].data()[120];
        assert!((i32::from(middle) - 12_288).abs() < 40, "{middle}");
    }

    #[test]
    fn a_24k_mono_device_is_passed_through() {
        let mut capture = Capture::new(24_000, 1).unwrap();
        let samples: Vec<f32> = (0..480).map(|i| i as f32 / 1_000.0).collect();
        let mut frames = Vec::new();
        capture.push(&samples[..100], |frame| frames.push(frame));
        assert!(frames.is_empty());
        capture.push(&samples[100..], |frame| frames.push(frame));
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].data()[0], to_i16(0.24));
    }

    #[test]
    fn samples_are_clipped_to_16_bits() {
        assert_eq!(to_i16(2.0), i16::MAX);
        assert_eq!(to_i16(-2.0), i16::MIN);
        assert_eq!(to_i16(0.5), 16_384);
    }

    #[test]
    fn the_level_of_silence_a_tone_and_full_scale() {
        assert_eq!(level_dbfs(&[0; 240]), METER_FLOOR_DB);
        assert_eq!(level_dbfs(&[]), METER_FLOOR_DB);
        let full = level_dbfs(&[i16::MIN; 240]);
        assert!(full.abs() < 0.01, "{full}");
        let half = level_dbfs(&[16_384, -16_384].repeat(120));
        assert!((half + 6.02).abs() < 0.05, "{half}");
    }

    #[test]
    fn the_meter_keeps_the_peak_until_read() {
        let level = Level::new();
        level.record(-30.0);
        level.record(-10.0);
        level.record(-40.0);
        assert_eq!(level.take(), -10.0);
        assert_eq!(level.take(), METER_FLOOR_DB);
        assert!(!level.is_muted());
        level.set_muted(true);
        assert!(level.is_muted());
    }

    #[test]
    fn the_meter_line_fills_with_the_level() {
        let empty = meter_line(-90.0, 10);
        assert!(empty.starts_with("mic ·········· "), "{empty}");
        assert!(empty.contains("-∞ dB"), "{empty}");
        let half = meter_line(-30.0, 10);
        assert!(half.starts_with("mic █████····· "), "{half}");
        assert!(half.contains(" -30 dB"), "{half}");
        assert!(meter_line(3.0, 10).starts_with("mic ██████████ "));
    }

    fn tone(samples: usize) -> AudioFrame {
        AudioFrame::new(vec![8_000; samples], 24_000, 1).unwrap()
    }

    #[tokio::test]
    async fn a_flushed_segment_plays_out_at_the_device_rate() {
        let playout = Playout::new(48_000);
        playout.capture_frame(tone(2_400)).await; // 100 ms
        playout.flush();
        // 100 ms at 48 kHz, give or take the resampler's edges.
        let queued = playout.queued();
        assert!((4_790..=4_810).contains(&queued), "{queued}");
        let mut out = vec![1.0f32; 1_000];
        playout.fill(&mut out);
        assert!((out[500] - 8_000.0 / 32_768.0).abs() < 0.01, "{}", out[500]);
        let mut rest = vec![1.0f32; 10_000];
        playout.fill(&mut rest);
        assert_eq!(rest[9_999], 0.0, "silence past the end");
        let finished = playout.wait_for_playout().await;
        assert!(!finished.interrupted);
        let position = finished.position.as_secs_f64();
        assert!((position - 0.1).abs() < 0.001, "{position}");
    }

    #[tokio::test]
    async fn wait_for_playout_waits_for_the_device_then_reports_the_position() {
        let playout = Arc::new(Playout::new(24_000));
        playout.capture_frame(tone(480)).await;
        playout.flush();
        let waiter = tokio::spawn({
            let playout = playout.clone();
            async move { playout.wait_for_playout().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "nothing played yet");
        let mut out = vec![0.0f32; 240];
        playout.fill(&mut out);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "half played");
        playout.fill(&mut out);
        let finished = waiter.await.unwrap();
        assert_eq!(finished.position, Duration::from_millis(20));
        assert!(!finished.interrupted);
    }

    #[tokio::test]
    async fn clear_buffer_drops_the_rest_at_once_and_reports_what_played() {
        let playout = Arc::new(Playout::new(24_000));
        playout.capture_frame(tone(24_000)).await; // 1 s, not flushed yet
        let mut out = vec![0.0f32; 2_400];
        playout.fill(&mut out);
        let waiter = tokio::spawn({
            let playout = playout.clone();
            async move { playout.wait_for_playout().await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        playout.clear_buffer();
        let finished = waiter.await.unwrap();
        assert!(finished.interrupted);
        assert_eq!(finished.position, Duration::from_millis(100));
        assert_eq!(playout.queued(), 0);
        playout.fill(&mut out);
        assert!(out.iter().all(|&s| s == 0.0), "nothing left to play");
        // The next segment starts from zero.
        playout.capture_frame(tone(240)).await;
        playout.flush();
        playout.fill(&mut out);
        let next = playout.wait_for_playout().await;
        assert_eq!((next.position, next.interrupted), (Duration::from_millis(10), false));
    }

    #[tokio::test]
    async fn a_failed_device_ends_the_wait_and_capture_does_not_block() {
        let playout = Playout::new(24_000);
        playout.capture_frame(tone(24_000 * 6)).await; // more than the look-ahead
        playout.fail();
        playout.capture_frame(tone(240)).await;
        playout.flush();
        let finished =
            tokio::time::timeout(Duration::from_secs(1), playout.wait_for_playout()).await.unwrap();
        assert_eq!(finished.position, Duration::ZERO);
    }

    #[tokio::test]
    async fn capture_waits_while_seconds_of_audio_are_queued() {
        let playout = Arc::new(Playout::new(24_000));
        playout.capture_frame(tone(24_000 * 5)).await;
        let capture = tokio::spawn({
            let playout = playout.clone();
            async move { playout.capture_frame(tone(240)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!capture.is_finished(), "the buffer is full");
        let mut out = vec![0.0f32; 4_800];
        playout.fill(&mut out);
        tokio::time::timeout(Duration::from_secs(1), capture).await.unwrap().unwrap();
    }
}
