//! The streaming state machine of the Python plugin (`VADStream._main_task`), window by window:
//! smoothing, hysteresis, minimum speech and silence, the speech buffer with its prefix padding.
//!
//! It sees no model: each window comes with its raw probability, so it is tested on its own.
//! Durations are `f64` seconds accumulated window by window, as in Python, so that comparisons
//! with the thresholds round the same way.

use std::collections::VecDeque;
use std::time::Duration;

use agents_core::audio::AudioFrame;
use agents_core::vad::{VadEvent, VadEventKind};

use crate::model::Geometry;
use crate::options::Settings;

/// Smoothing of the raw probabilities (Python's `ExpFilter(alpha=0.35)`).
const FILTER_ALPHA: f64 = 0.35;

/// One inference slower than this is logged (Python's `SLOW_INFERENCE_THRESHOLD`).
const SLOW_INFERENCE: f64 = 0.2;

/// Turns per-window probabilities into [`VadEvent`]s.
#[derive(Debug)]
pub(crate) struct Segmenter {
    settings: Settings,
    input_rate: u32,
    /// Model-rate samples per window.
    window: usize,
    /// Seconds per window.
    window_duration: f64,
    /// Input-rate samples per window (`window × input_rate / model_rate`, fractional).
    input_per_window: f64,

    filtered: Option<f64>,
    speaking: bool,
    speech_duration: f64,
    silence_duration: f64,
    samples_index: u64,
    timestamp: f64,
    /// Raw accumulated speech and silence (Python's `speech_threshold_duration` and
    /// `silence_threshold_duration`).
    speech_acc: f64,
    silence_acc: f64,
    /// The fraction of an input sample carried to the next window.
    copy_fraction: f64,
    extra_inference_time: f64,

    /// Input-rate mono samples not yet attributed to a window, from `pending_start` on.
    pending: Vec<i16>,
    pending_start: usize,

    /// The speech buffer: its length is its capacity, `speech_index` the write cursor.
    speech: Vec<i16>,
    speech_index: usize,
    max_reached: bool,
    prefix_padding_samples: usize,
}

impl Segmenter {
    /// A state machine for input at `input_rate` and a model of `geometry`.
    pub(crate) fn new(settings: Settings, geometry: Geometry, input_rate: u32) -> Self {
        let prefix_padding_samples = seconds_to_samples(settings.prefix_padding, input_rate);
        let capacity =
            seconds_to_samples(settings.max_buffered, input_rate) + prefix_padding_samples;
        Self {
            settings,
            input_rate,
            window: geometry.window,
            window_duration: geometry.window as f64 / f64::from(geometry.sample_rate),
            input_per_window: geometry.window as f64
                * (f64::from(input_rate) / f64::from(geometry.sample_rate)),
            filtered: None,
            speaking: false,
            speech_duration: 0.0,
            silence_duration: 0.0,
            samples_index: 0,
            timestamp: 0.0,
            speech_acc: 0.0,
            silence_acc: 0.0,
            copy_fraction: 0.0,
            extra_inference_time: 0.0,
            pending: Vec::new(),
            pending_start: 0,
            speech: vec![0; capacity],
            speech_index: 0,
            max_reached: false,
            prefix_padding_samples,
        }
    }

    /// Whether speech is ongoing.
    #[cfg(test)]
    pub(crate) fn speaking(&self) -> bool {
        self.speaking
    }

    /// Adds input-rate mono samples (they are attributed to windows as windows complete).
    pub(crate) fn push_input(&mut self, samples: &[i16]) {
        if self.pending_start > 0 && self.pending_start * 2 >= self.pending.len() {
            self.pending.drain(..self.pending_start);
            self.pending_start = 0;
        }
        self.pending.extend_from_slice(samples);
    }

    /// Forgets everything but the input rate and the options (Python's flush).
    pub(crate) fn reset(&mut self) {
        self.filtered = None;
        self.speaking = false;
        self.speech_duration = 0.0;
        self.silence_duration = 0.0;
        self.samples_index = 0;
        self.timestamp = 0.0;
        self.speech_acc = 0.0;
        self.silence_acc = 0.0;
        self.copy_fraction = 0.0;
        self.extra_inference_time = 0.0;
        self.pending.clear();
        self.pending_start = 0;
        self.speech.fill(0);
        self.speech_index = 0;
        self.max_reached = false;
    }

    /// New options, live: the padding and the buffer are resized, the cursor kept in range.
    pub(crate) fn update(&mut self, settings: Settings) {
        let old_max = self.settings.max_buffered;
        self.settings = settings;
        self.prefix_padding_samples = seconds_to_samples(settings.prefix_padding, self.input_rate);
        let capacity = seconds_to_samples(settings.max_buffered, self.input_rate)
            + self.prefix_padding_samples;
        self.speech.resize(capacity, 0);
        self.speech_index = self.speech_index.min(self.speech.len());
        if settings.max_buffered > old_max {
            self.max_reached = false;
        }
    }

    /// One window was inferred: `raw` is the model's probability. Appends the events to `out`.
    pub(crate) fn on_window(
        &mut self,
        raw: f32,
        inference_duration: Duration,
        out: &mut VecDeque<VadEvent>,
    ) {
        let sample = f64::from(raw);
        let p = match self.filtered {
            None => sample,
            Some(previous) => FILTER_ALPHA * previous + (1.0 - FILTER_ALPHA) * sample,
        };
        self.filtered = Some(p);

        let wd = self.window_duration;
        self.samples_index += self.window as u64;
        self.timestamp += wd;

        // The input-rate samples of this window, carrying the fraction so nothing drifts.
        let to_copy = self.input_per_window + self.copy_fraction;
        let to_copy_int = to_copy as usize;
        self.copy_fraction = to_copy - to_copy_int as f64;
        let available = self.pending.len() - self.pending_start;
        let taken = to_copy_int.min(available);
        let window_samples = &self.pending[self.pending_start..self.pending_start + taken];

        let space = self.speech.len() - self.speech_index;
        let to_buffer = to_copy_int.min(space).min(taken);
        if to_copy_int.min(space) > 0 {
            self.speech[self.speech_index..self.speech_index + to_buffer]
                .copy_from_slice(&window_samples[..to_buffer]);
            self.speech_index += to_buffer;
        } else if !self.max_reached {
            self.max_reached = true;
            tracing::warn!(
                "max_buffered_speech reached, ignoring further data for the current speech input"
            );
        }

        let seconds = inference_duration.as_secs_f64();
        self.extra_inference_time = (self.extra_inference_time + seconds - wd).max(0.0);
        if seconds > SLOW_INFERENCE {
            tracing::warn!(
                delay = self.extra_inference_time,
                "VAD inference is slower than realtime"
            );
        }

        if self.speaking {
            self.speech_duration += wd;
        } else {
            self.silence_duration += wd;
        }

        let frame = mono_frame(window_samples.to_vec(), self.input_rate);
        self.pending_start += taken;
        let mut done = self.event(VadEventKind::InferenceDone);
        done.frames = frame.into_iter().collect();
        done.probability = p as f32;
        done.inference_duration = inference_duration;
        done.raw_accumulated_silence = self.silence_acc;
        done.raw_accumulated_speech = self.speech_acc;
        out.push_back(done);

        if p >= self.settings.activation || (self.speaking && p > self.settings.deactivation) {
            self.speech_acc += wd;
            self.silence_acc = 0.0;
            if !self.speaking && self.speech_acc >= self.settings.min_speech {
                self.speaking = true;
                self.silence_duration = 0.0;
                self.speech_duration = self.speech_acc;
                let mut start = self.event(VadEventKind::StartOfSpeech);
                start.frames = self.speech_frame().into_iter().collect();
                out.push_back(start);
            }
        } else {
            self.silence_acc += wd;
            self.speech_acc = 0.0;
            if !self.speaking {
                self.reset_write_cursor();
            }
            if self.speaking && self.silence_acc >= self.settings.min_silence {
                self.speaking = false;
                self.silence_duration = self.silence_acc;
                let mut end = self.event(VadEventKind::EndOfSpeech);
                end.speech_duration = (self.speech_duration - self.silence_acc).max(0.0);
                end.frames = self.speech_frame().into_iter().collect();
                out.push_back(end);
                self.speech_duration = 0.0;
                self.reset_write_cursor();
            }
        }
    }

    /// An event of `kind` with the current counters (raw accumulations left at zero, as
    /// Python's start and end events have them).
    fn event(&self, kind: VadEventKind) -> VadEvent {
        let mut event = VadEvent::new(kind);
        event.samples_index = self.samples_index;
        event.timestamp = self.timestamp;
        event.speech_duration = self.speech_duration;
        event.silence_duration = self.silence_duration;
        event.speaking = self.speaking;
        event
    }

    /// A copy of the speech buffer so far.
    fn speech_frame(&self) -> Option<AudioFrame> {
        mono_frame(self.speech[..self.speech_index].to_vec(), self.input_rate)
    }

    /// Keeps the last `prefix_padding` samples at the start of the buffer.
    fn reset_write_cursor(&mut self) {
        if self.speech_index <= self.prefix_padding_samples {
            return;
        }
        let from = self.speech_index - self.prefix_padding_samples;
        self.speech.copy_within(from..self.speech_index, 0);
        self.max_reached = false;
        self.speech_index = self.prefix_padding_samples;
    }
}

/// `int(seconds × rate)`, as Python truncates it.
fn seconds_to_samples(seconds: f64, rate: u32) -> usize {
    (seconds * f64::from(rate)) as usize
}

/// A mono frame; the rate is never zero here (the input rate comes from a valid frame).
fn mono_frame(samples: Vec<i16>, rate: u32) -> Option<AudioFrame> {
    AudioFrame::new(samples, rate, 1).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::VadOptions;

    const G16: Geometry = Geometry { sample_rate: 16_000, window: 512, context: 64 };

    /// Runs `probs` through a machine fed with `input_rate` audio whose sample `i` is `i % 30000`.
    fn run(settings: Settings, input_rate: u32, probs: &[f32]) -> (Segmenter, Vec<VadEvent>) {
        let mut seg = Segmenter::new(settings, G16, input_rate);
        let per_window = 512 * input_rate as usize / 16_000 + 1;
        let mut out = VecDeque::new();
        let mut next = 0usize;
        for &p in probs {
            let samples: Vec<i16> =
                (next..next + per_window).map(|i| (i % 30_000) as i16).collect();
            next += per_window;
            seg.push_input(&samples);
            seg.on_window(p, Duration::from_micros(80), &mut out);
        }
        (seg, out.into())
    }

    fn kinds(events: &[VadEvent]) -> Vec<(VadEventKind, u64)> {
        events
            .iter()
            .filter(|e| e.kind != VadEventKind::InferenceDone)
            .map(|e| (e.kind, e.samples_index / 512))
            .collect()
    }

    fn defaults() -> Settings {
        VadOptions::default().settings()
    }

    #[test]
    fn exp_filter_smooths_from_the_first_sample() {
        let (_, events) = run(defaults(), 16_000, &[0.2, 1.0, 1.0]);
        let p: Vec<f32> = events.iter().map(|e| e.probability).collect();
        assert_eq!(p[0], 0.2);
        assert!((p[1] - (0.35 * 0.2 + 0.65)).abs() < 1e-6);
        assert!((p[2] - (0.35 * (0.35 * 0.2 + 0.65) + 0.65)).abs() < 1e-6);
    }

    #[test]
    fn start_needs_min_speech_and_end_needs_min_silence() {
        // 2 windows (64 ms ≥ 50 ms) of speech start; 18 windows (576 ms ≥ 550 ms) of silence end.
        let mut probs = vec![0.0; 5];
        probs.extend([1.0; 10]);
        probs.extend([0.0; 25]);
        let (seg, events) = run(defaults(), 16_000, &probs);
        // Window 6 (1-based) is the first filtered ≥ 0.5 (0.65), window 7 the second. After
        // speech stops, window 16 is smoothed to just under 0.35 (the deactivation threshold),
        // so silence counts from there: 18 windows later, at 33, speech ends.
        assert_eq!(
            kinds(&events),
            vec![(VadEventKind::StartOfSpeech, 7), (VadEventKind::EndOfSpeech, 15 + 18)]
        );
        assert!(!seg.speaking());
        let start = events.iter().find(|e| e.kind == VadEventKind::StartOfSpeech).unwrap();
        assert!(start.speaking);
        assert!((start.speech_duration - 0.064).abs() < 1e-12);
        assert_eq!(start.silence_duration, 0.0);
        let end = events.iter().find(|e| e.kind == VadEventKind::EndOfSpeech).unwrap();
        assert!(!end.speaking);
        assert!((end.silence_duration - 0.576).abs() < 1e-9);
    }

    #[test]
    fn hysteresis_keeps_speech_above_deactivation() {
        // 0.4 is below activation (0.5) but above deactivation (0.35): speech goes on.
        let mut probs = vec![1.0; 5];
        probs.extend([0.4; 40]);
        let (seg, events) = run(defaults(), 16_000, &probs);
        assert!(seg.speaking());
        assert_eq!(kinds(&events).len(), 1);
        // Without speech first, 0.4 never starts it.
        let (seg, events) = run(defaults(), 16_000, &[0.4; 40]);
        assert!(!seg.speaking());
        assert!(kinds(&events).is_empty());
    }

    #[test]
    fn short_blips_do_not_start_speech() {
        let settings = Settings { min_speech: 0.1, ..defaults() };
        // One high window smoothed: 1.0, then 0.35 (< 0.5): only 32 ms of speech.
        let (_, events) = run(settings, 16_000, &[1.0, 0.0, 0.0, 0.0]);
        assert!(kinds(&events).is_empty());
    }

    #[test]
    fn inference_done_carries_the_window_at_the_input_rate() {
        // 44.1 kHz: 512 × 2.75625 = 1411.2 input samples per window; the fraction is carried.
        let (_, events) = run(defaults(), 44_100, &[0.0; 5]);
        let lens: Vec<usize> = events.iter().map(|e| e.frames[0].samples_per_channel()).collect();
        assert_eq!(lens, vec![1411, 1411, 1411, 1411, 1412]);
        assert!(events.iter().all(|e| e.frames[0].sample_rate() == 44_100));
        assert_eq!(events[4].samples_index, 5 * 512);
        assert!((events[4].timestamp - 0.16).abs() < 1e-12);
        assert_eq!(events[1].raw_accumulated_silence, 0.032);
    }

    #[test]
    fn speech_frames_hold_prefix_padding_and_speech() {
        let mut probs = vec![0.0; 40];
        probs.extend([1.0; 20]);
        probs.extend([0.0; 30]);
        let (_, events) = run(defaults(), 16_000, &probs);
        let start = events.iter().find(|e| e.kind == VadEventKind::StartOfSpeech).unwrap();
        // Padding: 8000 samples kept before the window where speech first counted, plus 2
        // windows of speech... the cursor is reset at each silent window, keeping 8000.
        let start_len = start.frames[0].samples_per_channel();
        assert_eq!(start_len, 8_000 + 2 * 512);
        // The buffer's last samples are the audio of the start window itself.
        let done = events
            .iter()
            .filter(|e| e.kind == VadEventKind::InferenceDone)
            .nth((start.samples_index / 512 - 1) as usize)
            .unwrap();
        let tail = &start.frames[0].data()[start_len - 512..];
        assert_eq!(tail, done.frames[0].data());
        let end = events.iter().find(|e| e.kind == VadEventKind::EndOfSpeech).unwrap();
        let windows_since_padding = (end.samples_index - start.samples_index) as usize / 512;
        assert_eq!(end.frames[0].samples_per_channel(), start_len + windows_since_padding * 512);
    }

    #[test]
    fn max_buffered_speech_caps_the_buffer() {
        let settings = Settings { max_buffered: 0.1, prefix_padding: 0.0, ..defaults() };
        let mut probs = vec![1.0; 30];
        probs.extend([0.0; 30]);
        let (_, events) = run(settings, 16_000, &probs);
        let end = events.iter().find(|e| e.kind == VadEventKind::EndOfSpeech).unwrap();
        assert_eq!(end.frames[0].samples_per_channel(), 1_600);
    }

    #[test]
    fn update_resizes_and_reset_forgets() {
        let (mut seg, _) = run(defaults(), 16_000, &[1.0; 10]);
        assert!(seg.speaking());
        let before = seg.speech_index;
        seg.update(Settings { max_buffered: 0.1, prefix_padding: 0.05, ..defaults() });
        assert_eq!(seg.speech.len(), 1_600 + 800);
        assert!(seg.speech_index <= before.min(2_400));
        seg.reset();
        assert!(!seg.speaking());
        assert_eq!(seg.speech_index, 0);
        assert_eq!(seg.samples_index, 0);
        assert_eq!(seg.filtered, None);
    }

    #[test]
    fn missing_input_is_not_invented() {
        // Fewer input samples than the window needs (only at the very end of a stream).
        let mut seg = Segmenter::new(defaults(), G16, 16_000);
        seg.push_input(&[1; 100]);
        let mut out = VecDeque::new();
        seg.on_window(0.0, Duration::ZERO, &mut out);
        assert_eq!(out[0].frames[0].samples_per_channel(), 100);
        seg.on_window(0.0, Duration::ZERO, &mut out);
        assert!(out[1].frames[0].is_empty());
    }
}
