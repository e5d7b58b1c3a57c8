//! Word timings for a TTS that gives none (not `aligned_transcript`): each chunk of text it
//! speaks (`delta_text`) is spread over the audio from where the chunk starts, by characters
//! at a speaking rate, as Python's transcription synchronizer spreads it by syllables. The
//! room's transcript releases these words as the playout passes their end, and the history of
//! an interrupted reply keeps the words whose end had played: the same timings, so the two
//! agree.

use std::time::Duration;

use crate::types::TimedString;

/// The speaking rate assumed before any chunk has been spoken, in characters a second
/// (spaces and punctuation included): Python's 3.83 syllables a second, at about 3.7
/// characters a syllable of English text.
const DEFAULT_CHARS_PER_SECOND: f64 = 14.0;

/// How much spoken audio the rate is measured on before it replaces the default.
const MIN_MEASURED_AUDIO: Duration = Duration::from_millis(500);

/// Times the words of the chunks of one segment.
#[derive(Debug, Default)]
pub(super) struct WordEstimator {
    /// Where the last word given ends.
    last_end: Duration,
    /// The chunk being spoken: where its audio starts, and its characters.
    current: Option<(Duration, usize)>,
    /// The characters and audio of the chunks spoken so far (each up to the next one's
    /// start), for the speaking rate of this voice.
    spoken_chars: usize,
    spoken_audio: Duration,
}

impl WordEstimator {
    /// The words of `text`, a chunk whose audio starts at `at` (on the segment's clock),
    /// each with its trailing whitespace. They follow each other from `at` (or from the end
    /// of the words before, if that is later: words never overtake), each lasting its
    /// characters at the rate measured on the chunks before, or the default rate.
    pub(super) fn words(&mut self, text: &str, at: Duration) -> Vec<TimedString> {
        if let Some((start, chars)) = self.current.take()
            && at > start
        {
            self.spoken_chars += chars;
            self.spoken_audio += at - start;
        }
        let rate = self.chars_per_second();
        let start = at.max(self.last_end).as_secs_f64();
        let time = |chars: usize| start + chars as f64 / rate;
        let mut words = Vec::new();
        let mut chars_before = 0_usize;
        for word in text.split_inclusive(char::is_whitespace) {
            let chars = word.chars().count();
            if !word.trim().is_empty() {
                words.push(TimedString::new(word, time(chars_before), time(chars_before + chars)));
            }
            chars_before += chars;
        }
        self.last_end = Duration::try_from_secs_f64(time(chars_before)).unwrap_or(self.last_end);
        self.current = Some((at, chars_before));
        words
    }

    /// The rate of this voice, once measured on enough audio; else the default.
    fn chars_per_second(&self) -> f64 {
        if self.spoken_audio >= MIN_MEASURED_AUDIO && self.spoken_chars > 0 {
            self.spoken_chars as f64 / self.spoken_audio.as_secs_f64()
        } else {
            DEFAULT_CHARS_PER_SECOND
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timings(words: &[TimedString]) -> Vec<(&str, f64, f64)> {
        words.iter().map(|word| (word.text.as_str(), word.start_time, word.end_time)).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_chunks_words_are_spread_by_their_characters_at_the_speaking_rate() {
        let mut estimator = WordEstimator::default();
        // 14 characters at 14 a second: one second.
        let words = estimator.words("Hi there, you.", Duration::from_millis(200));
        let words = timings(&words);
        assert_eq!(words.iter().map(|w| w.0).collect::<Vec<_>>(), ["Hi ", "there, ", "you."]);
        assert!(close(words[0].1, 0.2) && close(words[0].2, 0.2 + 3.0 / 14.0));
        assert!(close(words[1].2, 0.2 + 10.0 / 14.0));
        assert!(close(words[2].2, 1.2));
    }

    #[test]
    fn the_rate_is_measured_on_the_chunks_spoken_and_words_never_overtake() {
        let mut estimator = WordEstimator::default();
        // 20 characters spoken in 2 s: 10 a second from then on.
        estimator.words("Twenty characters!! ", Duration::ZERO);
        let words = estimator.words("Ten a second", Duration::from_millis(2_000));
        assert!(close(words[0].start_time, 2.0));
        assert!(words.last().is_some_and(|w| close(w.end_time, 3.2)), "{:?}", timings(&words));

        // A chunk starting before the words before it end (the estimate was slow) starts
        // after them.
        let mut estimator = WordEstimator::default();
        estimator.words("Fourteen chars", Duration::ZERO);
        let words = estimator.words("Next", Duration::from_millis(300));
        assert!(close(words[0].start_time, 1.0), "{:?}", timings(&words));
        // Whitespace alone is no word, but takes its time.
        let words = estimator.words("  a  b", Duration::from_millis(300));
        assert_eq!(timings(&words).iter().map(|w| w.0).collect::<Vec<_>>(), ["a ", "b"]);
    }
}
