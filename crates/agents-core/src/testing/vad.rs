//! [`FakeVad`]: speech is what is loud.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;

use super::events::Events;
use crate::audio::AudioFrame;
use crate::vad::{Vad, VadEvent, VadEventKind, VadStream};

/// A [`Vad`] that hears speech in loud audio: a frame whose RMS is above the threshold
/// (default 1,000, about -30 dBFS) is speech, and speech ends after the minimum silence
/// (default 200 ms) of quieter frames. Deterministic, instant, and made for [`tone`](super::tone)
/// and [`silence`](super::silence) — or real recordings with quiet pauses.
///
/// Its streams report every frame as one inference ([`VadEventKind::InferenceDone`], with
/// probability 1 for speech and 0 for silence), so the session's interruption rules
/// (`min_interruption_duration`) apply as with Silero.
#[derive(Debug, Clone, Copy)]
pub struct FakeVad {
    threshold: f64,
    min_silence: Duration,
}

impl Default for FakeVad {
    fn default() -> Self {
        Self { threshold: 1_000.0, min_silence: Duration::from_millis(200) }
    }
}

impl FakeVad {
    /// A VAD with the default threshold and minimum silence.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the RMS above which a frame is speech.
    pub fn with_threshold(mut self, rms: f64) -> Self {
        self.threshold = rms;
        self
    }

    /// Sets how long speech must stay quiet to end.
    pub fn with_min_silence_duration(mut self, duration: Duration) -> Self {
        self.min_silence = duration;
        self
    }

    /// A detector with this VAD's settings.
    pub(super) fn detector(&self) -> Detector {
        Detector { vad: *self, ..Detector::default() }
    }
}

impl Vad for FakeVad {
    fn stream(&self) -> Box<dyn VadStream> {
        Box::new(FakeVadStream { detector: self.detector(), ..FakeVadStream::default() })
    }

    fn update_interval(&self) -> f64 {
        0.01
    }
}

/// What a frame changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Nothing: silence goes on, or speech goes on.
    None,
    /// Speech started with this frame.
    Started,
    /// Speech ended with this frame.
    Ended,
}

/// Speech by loudness, frame by frame; keeps the utterance's audio.
#[derive(Debug, Default)]
pub(super) struct Detector {
    vad: FakeVad,
    pub(super) speaking: bool,
    pub(super) speech: Duration,
    pub(super) quiet: Duration,
    pub(super) processed: Duration,
    pub(super) samples: u64,
    pub(super) utterance: Vec<AudioFrame>,
}

impl Detector {
    /// Takes in `frame` (down-mixed to mono).
    pub(super) fn push(&mut self, frame: &AudioFrame) -> Change {
        let mono = frame.to_mono();
        let data = mono.data();
        let energy: f64 = data.iter().map(|&s| f64::from(s).powi(2)).sum();
        let loud = !data.is_empty() && (energy / data.len() as f64).sqrt() > self.vad.threshold;
        let duration = mono.duration();
        self.processed += duration;
        self.samples += data.len() as u64;
        let mut change = Change::None;
        if loud && !self.speaking {
            self.speaking = true;
            self.speech = Duration::ZERO;
            change = Change::Started;
        }
        if self.speaking {
            self.utterance.push(mono);
            if loud {
                self.speech += duration;
                self.quiet = Duration::ZERO;
            } else {
                self.quiet += duration;
                if self.quiet >= self.vad.min_silence {
                    self.speaking = false;
                    change = Change::Ended;
                }
            }
        } else {
            self.quiet += duration;
        }
        change
    }

    /// An event of `kind` with the detector's counters.
    pub(super) fn event(&self, kind: VadEventKind) -> VadEvent {
        let mut event = VadEvent::new(kind);
        event.samples_index = self.samples;
        event.timestamp = self.processed.as_secs_f64();
        event.speech_duration = self.speech.as_secs_f64();
        event.silence_duration = self.quiet.as_secs_f64();
        event.speaking = self.speaking;
        event
    }
}

/// A stream of a [`FakeVad`].
#[derive(Debug, Default)]
struct FakeVadStream {
    detector: Detector,
    events: Events<VadEvent>,
}

impl Stream for FakeVadStream {
    type Item = VadEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<VadEvent>> {
        self.events.poll_next(cx)
    }
}

impl VadStream for FakeVadStream {
    fn push_frame(&mut self, frame: &AudioFrame) {
        if self.events.is_ended() {
            return;
        }
        let change = self.detector.push(frame);
        if change == Change::Started {
            let mut event = self.detector.event(VadEventKind::StartOfSpeech);
            event.frames = self.detector.utterance.clone();
            self.events.push(event);
        }
        let mut inference = self.detector.event(VadEventKind::InferenceDone);
        inference.probability = if self.detector.speaking { 1.0 } else { 0.0 };
        inference.frames = vec![frame.to_mono()];
        self.events.push(inference);
        if change == Change::Ended {
            let mut event = self.detector.event(VadEventKind::EndOfSpeech);
            event.frames = std::mem::take(&mut self.detector.utterance);
            self.events.push(event);
        }
    }

    fn flush(&mut self) {
        // A fresh detector for what comes next; events already produced are still read.
        self.detector = self.detector.vad.detector();
    }

    fn end_input(&mut self) {
        self.events.end();
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::testing::{silence, tone};

    #[test]
    fn a_tone_between_silences_is_one_utterance() {
        let mut stream = FakeVad::new().stream();
        let audio = silence(Duration::from_millis(100), 16_000)
            .into_iter()
            .chain(tone(Duration::from_millis(300), 440.0, 16_000))
            .chain(silence(Duration::from_millis(300), 16_000));
        for frame in audio {
            stream.push_frame(&frame);
        }
        stream.end_input();
        let events: Vec<VadEvent> = futures::executor::block_on(stream.collect());
        let kinds: Vec<VadEventKind> = events
            .iter()
            .map(|event| event.kind)
            .filter(|kind| *kind != VadEventKind::InferenceDone)
            .collect();
        assert_eq!(kinds, [VadEventKind::StartOfSpeech, VadEventKind::EndOfSpeech]);
        let end = events.iter().find(|event| event.kind == VadEventKind::EndOfSpeech);
        let utterance: Duration =
            end.map(|e| e.frames.iter().map(AudioFrame::duration).sum()).unwrap_or_default();
        // 300 ms of tone and the 200 ms of silence that ended it.
        assert_eq!(utterance, Duration::from_millis(500));
        assert_eq!(events.iter().filter(|e| e.kind == VadEventKind::InferenceDone).count(), 70);
    }

    #[test]
    fn a_flush_keeps_the_events_already_produced() {
        let mut stream = FakeVad::new().stream();
        let audio = tone(Duration::from_millis(100), 440.0, 16_000)
            .into_iter()
            .chain(silence(Duration::from_millis(200), 16_000));
        for frame in audio {
            stream.push_frame(&frame);
        }
        stream.flush();
        stream.end_input();
        let events: Vec<VadEvent> = futures::executor::block_on(stream.collect());
        assert!(events.iter().any(|event| event.kind == VadEventKind::EndOfSpeech));
    }
}
