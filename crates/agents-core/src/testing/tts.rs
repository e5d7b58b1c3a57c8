//! [`FakeTts`]: a TTS that speaks a tone.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;

use super::audio::tone;
use super::lock;
use crate::tts::{
    ChunkedStream, SynthesizedAudio, TimedString, Tts, TtsCapabilities, TtsError, TtsOptions,
};

/// A text-to-speech model that speaks a 440 Hz tone for each text, a fixed time per character
/// (default 50 ms), in 10 ms frames at 24 kHz, with word timings (an aligned transcript, so an
/// interrupted reply keeps exactly the words whose tone played). Clones share the record of
/// texts spoken.
///
/// It does not stream: the session speaks through it sentence by sentence (its
/// [`StreamAdapter`](crate::tts::StreamAdapter)), as with any non-streaming TTS.
#[derive(Debug, Clone)]
pub struct FakeTts {
    texts: Arc<Mutex<Vec<String>>>,
    sample_rate: u32,
    char_duration: Duration,
    ttfb: Duration,
}

impl Default for FakeTts {
    fn default() -> Self {
        Self {
            texts: Arc::default(),
            sample_rate: 24_000,
            char_duration: Duration::from_millis(50),
            ttfb: Duration::ZERO,
        }
    }
}

impl FakeTts {
    /// A TTS with the default voice: 50 ms a character at 24 kHz, first audio at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how long each character is spoken.
    pub fn with_char_duration(mut self, duration: Duration) -> Self {
        self.char_duration = duration;
        self
    }

    /// Sets the time to the first audio of each synthesis.
    pub fn with_ttfb(mut self, ttfb: Duration) -> Self {
        self.ttfb = ttfb;
        self
    }

    /// Sets the sample rate of the audio.
    pub fn with_sample_rate(mut self, sample_rate: u32) -> Self {
        self.sample_rate = sample_rate.max(100);
        self
    }

    /// The texts spoken so far, in order.
    pub fn texts(&self) -> Vec<String> {
        lock(&self.texts).clone()
    }

    /// How long `text` is spoken.
    pub fn duration_of(&self, text: &str) -> Duration {
        self.char_duration.saturating_mul(u32::try_from(text.chars().count()).unwrap_or(u32::MAX))
    }

    /// Each word of `text` (with its trailing space) timed by its characters.
    fn words(&self, text: &str) -> Vec<TimedString> {
        let mut words = Vec::new();
        let mut chars_before = 0_usize;
        for word in text.split_inclusive(' ') {
            let chars = word.chars().count();
            let at = |count: usize| self.char_duration.as_secs_f64() * count as f64;
            if !word.trim().is_empty() {
                words.push(TimedString::new(word, at(chars_before), at(chars_before + chars)));
            }
            chars_before += chars;
        }
        words
    }
}

impl Tts for FakeTts {
    fn model(&self) -> &str {
        "fake"
    }

    fn provider(&self) -> &str {
        "agents-core testing"
    }

    fn capabilities(&self) -> TtsCapabilities {
        TtsCapabilities::new(false, true)
    }

    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn num_channels(&self) -> u16 {
        1
    }

    fn synthesize(&self, text: &str, _options: &TtsOptions) -> ChunkedStream {
        lock(&self.texts).push(text.to_owned());
        let duration = self.duration_of(text);
        let frames = tone(duration, 440.0, self.sample_rate);
        let last = frames.len().saturating_sub(1);
        let words = self.words(text);
        let text_owned = text.to_owned();
        let audio: Vec<Result<SynthesizedAudio, TtsError>> = frames
            .into_iter()
            .enumerate()
            .map(|(index, frame)| {
                let audio = SynthesizedAudio::new(frame).with_final(index == last);
                Ok(if index == 0 {
                    audio.with_delta_text(text_owned.clone()).with_timed_transcript(words.clone())
                } else {
                    audio
                })
            })
            .collect();
        let ttfb = self.ttfb;
        let stream = futures::stream::once(async move {
            if !ttfb.is_zero() {
                tokio::time::sleep(ttfb).await;
            }
            futures::stream::iter(audio)
        })
        .flatten();
        ChunkedStream::new(text, stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_text_is_a_tone_of_its_length_with_word_timings() {
        let tts = FakeTts::new().with_char_duration(Duration::from_millis(10));
        let frames: Vec<SynthesizedAudio> = tts
            .synthesize("Hi there", &TtsOptions::default())
            .map(|audio| audio.ok())
            .filter_map(|audio| async { audio })
            .collect()
            .await;
        let duration: Duration = frames.iter().map(|audio| audio.frame.duration()).sum();
        assert_eq!(duration, Duration::from_millis(80));
        assert!(frames.last().is_some_and(|audio| audio.is_final));
        assert_eq!(frames[0].delta_text, "Hi there");
        let words: Vec<(String, f64, f64)> = frames[0]
            .timed_transcript
            .iter()
            .map(|word| (word.text.clone(), word.start_time, word.end_time))
            .collect();
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].0, "Hi ");
        assert!((words[1].1 - 0.03).abs() < 1e-9 && (words[1].2 - 0.08).abs() < 1e-9);
        assert_eq!(tts.texts(), ["Hi there"]);
    }
}
