//! Speaking a reply: the LLM's text through the TTS into the audio output, as it streams.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::core::SessionCore;
use super::events::{
    AgentMetrics, AgentState, ErrorSource, SessionErrorEvent, SessionEvent, TtsMetrics, TurnMetrics,
};
use super::output::{AudioOutput, PlaybackFinished};
use super::speech::SpeechHandle;
use super::untimed::WordEstimator;
use crate::tokenize::SentenceTokenizer;
use crate::tts::{StreamAdapter, SynthesizeStream, SynthesizedAudio, Tts, TtsError, TtsOptions};
use crate::types::TimedString;
use tokio::time::Instant;

/// How far short of the audio captured a playout position may be and still count as all of
/// it played (a device clock's resampling rounds it down by up to a few samples).
const PLAYED_ROUNDING: Duration = Duration::from_millis(1);

/// One reply step's voice: text in, audio out.
pub(crate) struct Speaker {
    synth: Box<dyn SynthesizeStream>,
    output: Arc<dyn AudioOutput>,
    /// Audio captured into the output.
    captured: Duration,
    /// Characters of text the captured audio speaks, when the TTS says (`delta_text`).
    captured_text: usize,
    /// The words the TTS timed (`timed_transcript`), with when each ends in the captured audio.
    words: Vec<(Duration, String)>,
    /// The segment being captured and where in the captured audio it starts.
    segment: Option<(String, Duration)>,
    /// The TTS times its words (`aligned_transcript`): its untimed `delta_text` is then not
    /// given to the output as well (the same text would be shown twice).
    aligned: bool,
    /// Times the words of a TTS that does not (the output and the history cut use them).
    untimed: WordEstimator,
    synth_done: bool,
    failed: bool,
    /// When the first text was given, and the first audio came.
    first_text_at: Option<Instant>,
    first_audio_at: Option<Instant>,
    characters: usize,
    /// When the user stopped speaking, for the end-to-end latency of a spoken turn.
    end_of_speech: Option<Instant>,
}

impl Speaker {
    /// A speaker of the agent's message `item_id` (its id in the history, if it is added).
    pub(crate) fn new(tts: Arc<dyn Tts>, output: Arc<dyn AudioOutput>, item_id: &str) -> Self {
        output.begin_segment(item_id);
        let options = TtsOptions::default();
        let aligned = tts.capabilities().aligned_transcript;
        let synth = if tts.capabilities().streaming {
            tts.stream(&options)
        } else {
            StreamAdapter::new(tts, SentenceTokenizer::default()).stream(&options)
        };
        Self {
            synth,
            output,
            captured: Duration::ZERO,
            captured_text: 0,
            words: Vec::new(),
            segment: None,
            aligned,
            untimed: WordEstimator::default(),
            synth_done: false,
            failed: false,
            first_text_at: None,
            first_audio_at: None,
            characters: 0,
            end_of_speech: None,
        }
    }

    /// Measures the end-to-end latency of a spoken turn from `end_of_speech`.
    pub(crate) fn with_end_of_speech(mut self, end_of_speech: Option<Instant>) -> Self {
        self.end_of_speech = end_of_speech;
        self
    }

    /// Reports the synthesis's metrics.
    pub(crate) fn report(&self, core: &SessionCore, cancelled: bool) {
        let Some(started) = self.first_text_at else { return };
        core.emit(SessionEvent::MetricsCollected {
            metrics: AgentMetrics::Tts(TtsMetrics {
                ttfb: self.first_audio_at.map(|first| first - started),
                duration: started.elapsed(),
                audio_duration: self.captured,
                characters: self.characters,
                cancelled,
            }),
        });
    }

    /// More of the reply's text.
    pub(crate) fn push_text(&mut self, text: &str) {
        if !self.failed {
            self.first_text_at.get_or_insert_with(Instant::now);
            self.characters += text.chars().count();
            self.synth.push_text(text);
        }
    }

    /// The next synthesized audio; never resolves once the synthesis ended.
    pub(crate) async fn next_audio(&mut self) -> Option<Result<SynthesizedAudio, TtsError>> {
        if self.synth_done || self.failed {
            return std::future::pending().await;
        }
        let next = self.synth.next().await;
        if next.is_none() {
            self.synth_done = true;
        }
        next
    }

    /// Plays synthesized audio (or reports a failed synthesis; the reply goes on as text).
    ///
    /// The output may make the frame wait (its buffer is full, or it waits for the room to be
    /// joined): an interruption of `handle` ends the wait and the frame is dropped, so the
    /// caller sees the interruption at once and [`stop`](Self::stop) clears what was queued.
    pub(crate) async fn play(
        &mut self,
        core: &SessionCore,
        handle: &SpeechHandle,
        audio: Option<Result<SynthesizedAudio, TtsError>>,
    ) {
        match audio {
            Some(Ok(audio)) => {
                if self.first_audio_at.is_none() {
                    let now = Instant::now();
                    self.first_audio_at = Some(now);
                    core.set_agent_state(AgentState::Speaking);
                    if let Some(end_of_speech) = self.end_of_speech {
                        core.emit(SessionEvent::MetricsCollected {
                            metrics: AgentMetrics::Turn(TurnMetrics {
                                e2e_latency: now - end_of_speech,
                            }),
                        });
                    }
                }
                self.timed_words(&audio);
                self.captured += audio.frame.duration();
                self.captured_text += audio.delta_text.chars().count();
                // `capture_frame` is dropped at an interruption: a frame it was waiting to
                // queue is not played, one it queued is cleared by `stop`.
                tokio::select! {
                    biased;
                    () = handle.wait_for_interruption() => {}
                    () = self.output.capture_frame(audio.frame) => {}
                }
            }
            Some(Err(error)) => {
                self.failed = true;
                core.report_error(
                    SessionErrorEvent::Other(crate::api_error::error_chain(&error).into()),
                    ErrorSource::Tts,
                );
            }
            None => {}
        }
    }

    /// The text is complete: speaks the rest and waits for the playout, unless interrupted.
    pub(crate) async fn finish(
        &mut self,
        core: &SessionCore,
        handle: &SpeechHandle,
    ) -> PlaybackFinished {
        if !self.failed {
            self.synth.flush();
            self.synth.end_input();
        }
        loop {
            tokio::select! {
                biased;
                () = handle.wait_for_interruption() => return self.stop().await,
                audio = self.next_audio(), if !self.synth_done && !self.failed => {
                    self.play(core, handle, audio).await;
                }
                () = std::future::ready(()), if self.synth_done || self.failed => break,
            }
        }
        self.output.flush();
        tokio::select! {
            biased;
            () = handle.wait_for_interruption() => self.stop().await,
            playback = self.output.wait_for_playout() => playback,
        }
    }

    /// Interrupted: drops the audio not played and tells how much was.
    pub(crate) async fn stop(&mut self) -> PlaybackFinished {
        self.output.clear_buffer();
        self.output.wait_for_playout().await
    }

    /// Keeps the frame's word timings, which count from the start of its segment.
    fn timed_words(&mut self, audio: &SynthesizedAudio) {
        let segment_start = match &self.segment {
            Some((id, start)) if *id == audio.segment_id => *start,
            _ => {
                self.segment = Some((audio.segment_id.clone(), self.captured));
                self.captured
            }
        };
        let offset = segment_start.as_secs_f64();
        let mut timed = Vec::with_capacity(audio.timed_transcript.len());
        for word in &audio.timed_transcript {
            let end = Duration::try_from_secs_f64(word.end_time).unwrap_or(Duration::ZERO);
            self.words.push((segment_start + end, word.text.clone()));
            timed.push(TimedString::new(
                word.text.clone(),
                offset + word.start_time.max(0.0),
                offset + word.end_time.max(0.0),
            ));
        }
        if timed.is_empty() && !self.aligned && !audio.delta_text.is_empty() {
            // Untimed text: its words are timed by an estimate from where its audio starts,
            // shown by those timings and kept by them when the reply is interrupted.
            for word in self.untimed.words(&audio.delta_text, self.captured) {
                let end = Duration::try_from_secs_f64(word.end_time).unwrap_or(Duration::MAX);
                self.words.push((end, word.text.clone()));
                timed.push(word);
            }
        }
        if !timed.is_empty() {
            self.output.capture_words(&timed);
        }
    }

    /// The part of `text` the user heard, given how much audio played: the words that ended
    /// before the playout stopped (all the words given, when all the captured audio played),
    /// as the TTS timed them or, for a TTS that does not, as they were estimated; else the
    /// share of the text the share of the audio played speaks. Cut at a whole word.
    pub(crate) fn heard<'t>(&self, text: &'t str, playback: PlaybackFinished) -> &'t str {
        if self.captured.is_zero() {
            return "";
        }
        if !self.words.is_empty() {
            // All the captured audio played: every word given with it was heard (an estimate
            // may time a word past the end of its audio), as the room shows them. The output's
            // own verdict decides, as it does for the room's transcript; an output that calls
            // every clear an interruption (the console's) is taken at its position, within
            // the rounding of a device clock.
            let all_played = !playback.interrupted
                || self.captured.saturating_sub(playback.position) <= PLAYED_ROUNDING;
            let played = self
                .words
                .iter()
                .filter(|(end, _)| all_played || *end <= playback.position)
                .map(|(_, word)| word.as_str());
            if let Some(heard) = prefix_of_words(text, played) {
                return heard;
            }
        }
        let spoken_chars =
            if self.captured_text > 0 { self.captured_text } else { text.chars().count() };
        let ratio = (playback.position.as_secs_f64() / self.captured.as_secs_f64()).clamp(0.0, 1.0);
        let heard_chars = (spoken_chars as f64 * ratio).round() as usize;
        let end = text.char_indices().nth(heard_chars).map_or(text.len(), |(index, _)| index);
        let heard = &text[..end];
        // Cut at the last whole word.
        if end < text.len() {
            match heard.rfind(char::is_whitespace) {
                Some(space) => heard[..space].trim_end(),
                None => "",
            }
        } else {
            heard
        }
    }
}

/// The start of `text` through the last of `words`, found in order; `None` when a word is not
/// in the text (the TTS spoke it otherwise, e.g. "twelve" for "12").
fn prefix_of_words<'t, 'w>(text: &'t str, words: impl Iterator<Item = &'w str>) -> Option<&'t str> {
    let mut end = 0;
    for word in words {
        let word = word.trim();
        if word.is_empty() {
            continue;
        }
        end += text[end..].find(word)? + word.len();
    }
    Some(&text[..end])
}

#[cfg(test)]
mod tests {
    use super::prefix_of_words;

    #[test]
    fn heard_words_are_found_in_order_in_the_text() {
        let text = "It is noon, and I am doing very well.";
        assert_eq!(prefix_of_words(text, ["It ", "is ", "noon,"].into_iter()), Some("It is noon,"));
        assert_eq!(prefix_of_words(text, ["It", "is", "noon"].into_iter()), Some("It is noon"));
        assert_eq!(prefix_of_words(text, std::iter::empty()), Some(""));
        // "I" is found after "and", not in "It".
        assert_eq!(
            prefix_of_words(text, ["It", "is", "noon,", "and", "I"].into_iter()),
            Some("It is noon, and I")
        );
        assert_eq!(prefix_of_words(text, ["It", "twelve"].into_iter()), None);
        assert_eq!(
            prefix_of_words("Ça va très bien", ["Ça", "va", "très"].into_iter()),
            Some("Ça va très")
        );
    }
}
