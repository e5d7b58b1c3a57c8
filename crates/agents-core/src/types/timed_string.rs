//! Text with its timing in audio: words of transcripts and of synthesized speech.

/// Text with its timing in the audio (Python's `TimedString`): a word of a transcript or of
/// synthesized speech.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct TimedString {
    /// The text (a word, possibly with its trailing space).
    pub text: String,
    /// Seconds from the start of the audio to the start of the text.
    pub start_time: f64,
    /// Seconds from the start of the audio to the end of the text.
    pub end_time: f64,
    /// How sure the provider is, from 0 to 1, when it says (speech recognition).
    pub confidence: Option<f32>,
}

impl TimedString {
    /// `text` spoken from `start_time` to `end_time` seconds.
    pub fn new(text: impl Into<String>, start_time: f64, end_time: f64) -> Self {
        Self { text: text.into(), start_time, end_time, confidence: None }
    }
}
