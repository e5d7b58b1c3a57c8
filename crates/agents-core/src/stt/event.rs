//! What a speech-to-text stream reports: [`SpeechEvent`]s carrying [`SpeechData`].

use std::time::Duration;

use crate::types::TimedString;

/// What a [`SpeechEvent`] reports (Python's `SpeechEventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpeechEventKind {
    /// The user started speaking.
    StartOfSpeech,
    /// A transcript that may still change.
    InterimTranscript,
    /// A transcript stable enough to start preparing a reply on (e.g. Deepgram Flux's eager
    /// end of turn); a final transcript follows.
    PreflightTranscript,
    /// The final transcript of a segment of speech.
    FinalTranscript,
    /// How much audio was recognized ([`SpeechEvent::usage`]), for metrics.
    RecognitionUsage,
    /// The user stopped speaking.
    EndOfSpeech,
}

/// Audio recognized, for metrics (Python's `RecognitionUsage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RecognitionUsage {
    /// How much audio the provider processed.
    pub audio_duration: Duration,
    /// How long the request took, for one non-streaming recognition (an utterance sent whole);
    /// `None` for a streaming recognition, whose audio is recognized as it comes.
    pub request_duration: Option<Duration>,
}

impl RecognitionUsage {
    /// Usage of `audio_duration` of audio, recognized as it streamed.
    pub fn new(audio_duration: Duration) -> Self {
        Self { audio_duration, request_duration: None }
    }

    /// Usage of one non-streaming request of `audio_duration` that took `request_duration`.
    pub fn request(audio_duration: Duration, request_duration: Duration) -> Self {
        Self { audio_duration, request_duration: Some(request_duration) }
    }
}

/// One transcript hypothesis (Python's `SpeechData`).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct SpeechData {
    /// The text recognized.
    pub text: String,
    /// The language, as the provider names it (e.g. `en`, `en-US`); empty if unknown.
    pub language: String,
    /// How sure the provider is, from 0 to 1 (0 if it does not say).
    pub confidence: f32,
    /// Seconds from the start of the stream (or the recognized audio) to the speech.
    pub start_time: f64,
    /// Seconds from the start of the stream (or the recognized audio) to the end of the speech.
    pub end_time: f64,
    /// The speaker, when the provider tells speakers apart.
    pub speaker_id: Option<String>,
    /// The words with their timing, when the provider gives them.
    pub words: Vec<TimedString>,
}

impl SpeechData {
    /// A hypothesis of `text`, other fields empty.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), ..Self::default() }
    }

    /// Sets the language.
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }

    /// Sets the confidence.
    pub fn with_confidence(mut self, confidence: f32) -> Self {
        self.confidence = confidence;
        self
    }

    /// Sets the start and end times, in seconds.
    pub fn with_times(mut self, start_time: f64, end_time: f64) -> Self {
        self.start_time = start_time;
        self.end_time = end_time;
        self
    }
}

/// An event of a speech-to-text stream, or the result of a recognition (Python's
/// `SpeechEvent`).
///
/// ```
/// use agents_core::stt::{SpeechData, SpeechEvent, SpeechEventKind};
///
/// let event = SpeechEvent::new(SpeechEventKind::FinalTranscript)
///     .with_alternative(SpeechData::new("hello").with_language("en"))
///     .with_request_id("req_1");
/// assert_eq!(event.text(), "hello");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SpeechEvent {
    /// What happened.
    pub kind: SpeechEventKind,
    /// The hypotheses, best first (transcript events).
    pub alternatives: Vec<SpeechData>,
    /// The provider's request id; empty if none.
    pub request_id: String,
    /// The audio recognized ([`SpeechEventKind::RecognitionUsage`]).
    pub usage: Option<RecognitionUsage>,
}

impl SpeechEvent {
    /// An event of `kind` with no alternatives, request id or usage.
    pub fn new(kind: SpeechEventKind) -> Self {
        Self { kind, alternatives: Vec::new(), request_id: String::new(), usage: None }
    }

    /// A [`SpeechEventKind::RecognitionUsage`] event of a streaming recognition.
    pub fn recognition_usage(audio_duration: Duration) -> Self {
        Self::usage(RecognitionUsage::new(audio_duration))
    }

    /// A [`SpeechEventKind::RecognitionUsage`] event with `usage`.
    pub fn usage(usage: RecognitionUsage) -> Self {
        Self { usage: Some(usage), ..Self::new(SpeechEventKind::RecognitionUsage) }
    }

    /// Adds a hypothesis.
    pub fn with_alternative(mut self, alternative: SpeechData) -> Self {
        self.alternatives.push(alternative);
        self
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = request_id.into();
        self
    }

    /// The best hypothesis' text; empty if there is none.
    pub fn text(&self) -> &str {
        self.alternatives.first().map_or("", |alternative| alternative.text.as_str())
    }
}
