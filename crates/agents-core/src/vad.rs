//! Voice activity detection: the `Vad` and `VadStream` traits and their events.

use std::time::Duration;

use futures::Stream;

use crate::audio::AudioFrame;

/// What a [`VadEvent`] reports (Python's `VADEventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VadEventKind {
    /// Speech started; `frames` holds the buffered audio (prefix padding and speech so far).
    StartOfSpeech,
    /// One inference window was processed; `probability` is its (smoothed) speech probability.
    InferenceDone,
    /// Speech ended; `frames` holds the whole utterance with its prefix padding.
    EndOfSpeech,
}

/// An event of a [`VadStream`] (Python's `VADEvent`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VadEvent {
    /// What happened.
    pub kind: VadEventKind,
    /// Samples processed so far, at the model's rate.
    pub samples_index: u64,
    /// Seconds of audio processed so far.
    pub timestamp: f64,
    /// Seconds of speech (of the current or ended utterance).
    pub speech_duration: f64,
    /// Seconds of silence (since the last speech).
    pub silence_duration: f64,
    /// Audio at the input rate, mono: the window (`InferenceDone`) or the utterance.
    pub frames: Vec<AudioFrame>,
    /// The smoothed speech probability (`InferenceDone`; 0 otherwise).
    pub probability: f32,
    /// Time the inference took (`InferenceDone`; zero otherwise).
    pub inference_duration: Duration,
    /// Whether speech is ongoing after this event.
    pub speaking: bool,
    /// Raw silence accumulated (before hysteresis), in seconds.
    pub raw_accumulated_silence: f64,
    /// Raw speech accumulated (before hysteresis), in seconds.
    pub raw_accumulated_speech: f64,
}

impl VadEvent {
    /// An event of `kind` with every other field zero or empty.
    pub fn new(kind: VadEventKind) -> Self {
        Self {
            kind,
            samples_index: 0,
            timestamp: 0.0,
            speech_duration: 0.0,
            silence_duration: 0.0,
            frames: Vec::new(),
            probability: 0.0,
            inference_duration: Duration::ZERO,
            speaking: false,
            raw_accumulated_silence: 0.0,
            raw_accumulated_speech: 0.0,
        }
    }
}

/// A voice activity detector (Python's `vad.VAD`): makes independent streams.
pub trait Vad: Send + Sync + 'static {
    /// A new stream with its own state.
    fn stream(&self) -> Box<dyn VadStream>;

    /// Seconds of audio per inference (0.032 for Silero at 16 kHz).
    fn update_interval(&self) -> f64;
}

/// One stream of audio through a [`Vad`]: push frames in, read events out.
///
/// Frames may be of any sample rate (the first frame fixes it) and any channel count (they are
/// down-mixed).
pub trait VadStream: Stream<Item = VadEvent> + Send + Unpin {
    /// Adds audio.
    fn push_frame(&mut self, frame: &AudioFrame);

    /// Resets the stream's state (model, filter, buffers), as if it had just been created.
    fn flush(&mut self);

    /// No more audio: the stream ends once the pushed audio is processed.
    fn end_input(&mut self);
}
