//! `stt::StreamAdapter`: a non-streaming STT made to stream with a VAD.
//!
//! These are unit tests of the adapter's logic, so both sides are test doubles defined here:
//! a VAD that emits scripted events (instead of running a model on the audio) and an STT that
//! "transcribes" an utterance as the number of samples it was given.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use agents_core::ApiErrorKind;
use agents_core::audio::AudioFrame;
use agents_core::stt::{
    SpeechData, SpeechEvent, SpeechEventKind, StreamAdapter, Stt, SttCapabilities, SttError,
    SttOptions,
};
use agents_core::vad::{Vad, VadEvent, VadEventKind, VadStream};
use futures::{Stream, StreamExt};

/// A VAD whose streams emit, for the n-th frame pushed, the n-th entry of the script:
/// `StartOfSpeech` starts an utterance, `EndOfSpeech` ends it and carries its frames.
struct ScriptedVad {
    script: Vec<Option<VadEventKind>>,
}

impl Vad for ScriptedVad {
    fn stream(&self) -> Box<dyn VadStream> {
        Box::new(ScriptedVadStream {
            script: self.script.iter().copied().collect(),
            utterance: Vec::new(),
            speaking: false,
            events: VecDeque::new(),
            ended: false,
            waker: None,
        })
    }

    fn update_interval(&self) -> f64 {
        0.032
    }
}

struct ScriptedVadStream {
    script: VecDeque<Option<VadEventKind>>,
    utterance: Vec<AudioFrame>,
    speaking: bool,
    events: VecDeque<VadEvent>,
    ended: bool,
    waker: Option<Waker>,
}

impl Stream for ScriptedVadStream {
    type Item = VadEvent;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<VadEvent>> {
        if let Some(event) = self.events.pop_front() {
            return Poll::Ready(Some(event));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl VadStream for ScriptedVadStream {
    fn push_frame(&mut self, frame: &AudioFrame) {
        let step = self.script.pop_front().flatten();
        if step == Some(VadEventKind::StartOfSpeech) {
            self.speaking = true;
        }
        if self.speaking {
            self.utterance.push(frame.clone());
        }
        if let Some(kind) = step {
            let mut event = VadEvent::new(kind);
            if kind == VadEventKind::EndOfSpeech {
                self.speaking = false;
                event.frames = std::mem::take(&mut self.utterance);
            } else {
                event.frames = self.utterance.clone();
            }
            self.events.push_back(event);
        }
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn flush(&mut self) {}

    fn end_input(&mut self) {
        self.ended = true;
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// A non-streaming STT that takes a while, then "recognizes" `"<n> samples"`; `empty` makes
/// it recognize nothing, `fail` makes it fail.
#[derive(Default)]
struct CountingStt {
    calls: Mutex<Vec<usize>>,
    empty: bool,
    fail: bool,
}

#[agents_core::async_trait]
impl Stt for CountingStt {
    fn capabilities(&self) -> SttCapabilities {
        SttCapabilities::new(false, false)
    }

    async fn recognize(
        &self,
        frames: &[AudioFrame],
        options: &SttOptions,
    ) -> Result<SpeechEvent, SttError> {
        assert_eq!(options.language.as_deref(), Some("en"));
        let samples: usize = frames.iter().map(AudioFrame::samples_per_channel).sum();
        self.calls.lock().unwrap().push(samples);
        tokio::time::sleep(Duration::from_millis(5)).await;
        if self.fail {
            return Err(SttError::status(500, "boom"));
        }
        let text = if self.empty { String::new() } else { format!("{samples} samples") };
        Ok(SpeechEvent::new(SpeechEventKind::FinalTranscript)
            .with_alternative(SpeechData::new(text).with_language("en"))
            .with_request_id("req"))
    }
}

fn frame() -> AudioFrame {
    AudioFrame::silence(16_000, 1, 160).unwrap()
}

/// Runs `frames_pushed` frames through an adapter over `stt` with the VAD `script`.
async fn run(
    stt: Arc<CountingStt>,
    script: Vec<Option<VadEventKind>>,
) -> Vec<Result<SpeechEvent, SttError>> {
    let adapter = StreamAdapter::new(stt, Arc::new(ScriptedVad { script: script.clone() }));
    let mut stream = adapter.stream(&SttOptions::default().with_language("en"));
    for _ in 0..script.len() {
        stream.push_frame(&frame());
    }
    stream.end_input();
    stream.collect().await
}

fn kinds(events: &[Result<SpeechEvent, SttError>]) -> Vec<SpeechEventKind> {
    events.iter().map(|e| e.as_ref().unwrap().kind).collect()
}

use SpeechEventKind::{EndOfSpeech, FinalTranscript, RecognitionUsage, StartOfSpeech};
const START: Option<VadEventKind> = Some(VadEventKind::StartOfSpeech);
const END: Option<VadEventKind> = Some(VadEventKind::EndOfSpeech);

#[tokio::test]
async fn transcribes_each_utterance_between_vad_events() {
    let stt = Arc::new(CountingStt::default());
    let events = run(stt.clone(), vec![None, START, None, None, END, None, START, END, None]).await;
    assert_eq!(
        kinds(&events),
        [
            StartOfSpeech,
            FinalTranscript,
            RecognitionUsage,
            EndOfSpeech,
            StartOfSpeech,
            FinalTranscript,
            RecognitionUsage,
            EndOfSpeech
        ]
    );
    // Each request's usage: the utterance's audio (10 ms frames of 160 samples at 16 kHz)
    // and the request's duration, with its request id.
    let usages: Vec<&SpeechEvent> =
        events.iter().map(|e| e.as_ref().unwrap()).filter(|e| e.kind == RecognitionUsage).collect();
    let audio: Vec<Duration> = usages.iter().map(|e| e.usage.unwrap().audio_duration).collect();
    assert_eq!(audio, [Duration::from_millis(40), Duration::from_millis(20)]);
    assert!(usages.iter().all(|e| e.usage.unwrap().request_duration.is_some()));
    assert_eq!(usages[0].request_id, "req");
    let finals: Vec<&SpeechEvent> =
        events.iter().map(|e| e.as_ref().unwrap()).filter(|e| e.kind == FinalTranscript).collect();
    assert_eq!(finals[0].text(), "640 samples");
    assert_eq!(finals[0].alternatives[0].language, "en");
    assert_eq!(finals[0].request_id, "req");
    assert_eq!(finals[1].text(), "320 samples");
    assert_eq!(*stt.calls.lock().unwrap(), [640, 320]);
}

#[tokio::test]
async fn sends_no_final_transcript_when_nothing_was_recognized() {
    let stt = Arc::new(CountingStt { empty: true, ..CountingStt::default() });
    let events = run(stt, vec![START, END]).await;
    // The request was made (and is accounted for), but recognized nothing.
    assert_eq!(kinds(&events), [StartOfSpeech, RecognitionUsage, EndOfSpeech]);
}

#[tokio::test]
async fn a_failed_recognition_ends_the_stream_with_its_error() {
    let stt = Arc::new(CountingStt { fail: true, ..CountingStt::default() });
    let events = run(stt.clone(), vec![START, END, START, END]).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].as_ref().unwrap().kind, StartOfSpeech);
    let error = events[1].as_ref().unwrap_err();
    assert!(matches!(error.kind(), ApiErrorKind::Status { status: 500, .. }) && error.retryable());
    assert_eq!(stt.calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_adapter_streams_and_the_plain_stt_says_to_use_it() {
    let stt = Arc::new(CountingStt::default());
    let adapter = StreamAdapter::new(stt.clone(), Arc::new(ScriptedVad { script: vec![] }));
    assert!(adapter.capabilities().streaming);
    assert!(!adapter.capabilities().interim_results);

    let mut plain = stt.stream(&SttOptions::default());
    let error = plain.next().await.unwrap().unwrap_err();
    assert!(matches!(error.kind(), ApiErrorKind::Configuration { .. }));
    assert!(error.to_string().contains("StreamAdapter"), "{error}");
    assert!(plain.next().await.is_none());
}
