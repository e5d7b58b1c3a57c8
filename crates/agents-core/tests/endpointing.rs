//! When a spoken turn ends: `min_endpointing_delay` counts from the moment the user last spoke,
//! as in Python (`last_speaking_time = now - silence_duration` at the VAD's end of speech), not
//! from the VAD's end-of-speech event, which comes a whole VAD silence window later; and a
//! final transcript that comes after that delay ends the turn at once instead of starting the
//! delay again. On a paused clock, so the times are exact.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::audio::AudioFrame;
use agents_core::prelude::*;
use agents_core::testing::{FakeAudioOutput, FakeLlm, FakeLlmResponse, FakeStt, FakeTts, FakeVad};
use agents_core::testing::{silence, tone};
use agents_core::vad::{Vad, VadEvent, VadEventKind, VadStream};
use agents_core::voice::{AgentState, SessionEvent};
use futures::StreamExt;
use futures::channel::mpsc;
use tokio::time::Instant;

const ENDPOINTING: Duration = Duration::from_millis(500);
const VAD_SILENCE: Duration = Duration::from_millis(200);

const RATE: u32 = 16_000;

/// `speech` then 2 s of silence, in 10 ms frames at real time; `last_loud` is set when the
/// last frame of speech is delivered.
fn utterance(
    speech: Duration,
    last_loud: Arc<Mutex<Option<Instant>>>,
) -> impl futures::Stream<Item = AudioFrame> + Send + 'static {
    let rate = RATE;
    let speech = tone(speech, 300.0, rate);
    let loud = speech.len();
    let frames: Vec<AudioFrame> =
        speech.into_iter().chain(silence(Duration::from_secs(2), rate)).collect();
    futures::stream::iter(frames.into_iter().enumerate()).then(move |(index, frame)| {
        let last_loud = last_loud.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            if index + 1 == loud {
                *last_loud.lock().unwrap() = Some(Instant::now());
            }
            frame
        }
    })
}

/// How long after the last speech the turn was committed (the agent starts thinking).
async fn commit_after_speech(stt: FakeStt) -> Duration {
    let vad = FakeVad::new().with_min_silence_duration(VAD_SILENCE);
    commit_after(Duration::from_millis(300), stt, Arc::new(vad)).await
}

/// How long after `speech` ended the turn heard by `vad` was committed.
async fn commit_after(speech: Duration, stt: FakeStt, vad: Arc<dyn Vad>) -> Duration {
    let session = AgentSession::builder()
        .llm(FakeLlm::new().then(FakeLlmResponse::text("Okay.")))
        .stt(Arc::new(stt))
        .tts(Arc::new(FakeTts::new()))
        .vad(vad)
        .min_endpointing_delay(ENDPOINTING)
        .build();
    let mut events = session.subscribe();
    let last_loud = Arc::new(Mutex::new(None));
    session
        .start(Agent::new("Be brief."))
        .audio_input(utterance(speech, last_loud.clone()))
        .audio_output(Arc::new(FakeAudioOutput::new()))
        .await
        .unwrap();
    let thinking = loop {
        match events.recv().await.unwrap() {
            SessionEvent::AgentStateChanged { new_state: AgentState::Thinking, .. } => {
                break Instant::now();
            }
            _ => continue,
        }
    };
    let last_loud = last_loud.lock().unwrap().expect("the speech was delivered");
    session.close().await;
    thinking - last_loud
}

#[tokio::test(start_paused = true)]
async fn the_endpointing_delay_counts_from_the_last_speech_not_from_the_vad_event() {
    // The VAD says the speech ended 200 ms after it did; the turn ends 500 ms after the
    // speech, not 500 ms after the VAD's event (700 ms).
    let waited = commit_after_speech(FakeStt::streaming(["Hello."])).await;
    assert!(
        waited >= ENDPOINTING && waited <= ENDPOINTING + Duration::from_millis(20),
        "the turn was committed {waited:?} after the last speech (endpointing delay {ENDPOINTING:?})"
    );
}

#[tokio::test(start_paused = true)]
async fn a_final_transcript_after_the_endpointing_delay_ends_the_turn_at_once() {
    // Recognized whole after the VAD's end of speech (200 ms after the speech), in 400 ms:
    // the transcript comes 600 ms after the speech, past the 500 ms delay, so the turn ends
    // then (not 500 ms later, at 1.1 s).
    let stt = FakeStt::new(["Hello."]).with_delay(Duration::from_millis(400));
    let waited = commit_after_speech(stt).await;
    let expected = VAD_SILENCE + Duration::from_millis(400);
    assert!(
        waited >= expected && waited <= expected + Duration::from_millis(20),
        "the turn was committed {waited:?} after the last speech (transcript at {expected:?})"
    );
}

/// A VAD that decides like Silero: on whole windows of 32 ms, each only once `LOOK_AHEAD` of
/// audio past its end has been pushed (a resampler's look-ahead, an inference run on another
/// thread while frames keep coming), so its end of speech is read after more audio than the
/// silence it reports. Speech is a loud window; it ends after `VAD_SILENCE` of quiet windows.
struct WindowedVad;

const WINDOW: Duration = Duration::from_millis(32);
const LOOK_AHEAD: Duration = Duration::from_millis(24);

impl Vad for WindowedVad {
    fn stream(&self) -> Box<dyn VadStream> {
        let (events, receiver) = mpsc::unbounded();
        Box::new(WindowedStream {
            events: Some(events),
            receiver,
            pending: Vec::new(),
            processed: Duration::ZERO,
            speaking: false,
            silence: Duration::ZERO,
        })
    }

    fn update_interval(&self) -> f64 {
        WINDOW.as_secs_f64()
    }
}

struct WindowedStream {
    events: Option<mpsc::UnboundedSender<VadEvent>>,
    receiver: mpsc::UnboundedReceiver<VadEvent>,
    /// Samples not decided yet.
    pending: Vec<i16>,
    /// The audio of the windows decided.
    processed: Duration,
    speaking: bool,
    silence: Duration,
}

impl WindowedStream {
    fn emit(&self, kind: VadEventKind) {
        let mut event = VadEvent::new(kind);
        event.timestamp = self.processed.as_secs_f64();
        event.silence_duration = self.silence.as_secs_f64();
        event.speaking = self.speaking;
        if let Some(events) = &self.events {
            let _ = events.unbounded_send(event);
        }
    }
}

impl futures::Stream for WindowedStream {
    type Item = VadEvent;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<VadEvent>> {
        self.receiver.poll_next_unpin(cx)
    }
}

impl VadStream for WindowedStream {
    fn push_frame(&mut self, frame: &AudioFrame) {
        let samples = |d: Duration| (d.as_secs_f64() * f64::from(RATE)).round() as usize;
        self.pending.extend_from_slice(frame.data());
        while self.pending.len() >= samples(WINDOW + LOOK_AHEAD) {
            let window: Vec<i16> = self.pending.drain(..samples(WINDOW)).collect();
            let loud = window.iter().any(|&s| s.unsigned_abs() > 1_000);
            self.processed += WINDOW;
            if loud {
                self.silence = Duration::ZERO;
                if !self.speaking {
                    self.speaking = true;
                    self.emit(VadEventKind::StartOfSpeech);
                }
            } else if self.speaking {
                self.silence += WINDOW;
                if self.silence >= VAD_SILENCE {
                    self.speaking = false;
                    self.emit(VadEventKind::EndOfSpeech);
                }
            }
            self.emit(VadEventKind::InferenceDone);
        }
    }

    fn flush(&mut self) {
        self.pending.clear();
    }

    fn end_input(&mut self) {
        self.events = None;
    }
}

#[tokio::test(start_paused = true)]
async fn the_delay_counts_from_the_speech_the_vad_heard_not_from_when_it_said_so() {
    // 320 ms of speech: 10 windows. Its end is decided with the 7th quiet window (224 ms of
    // silence ≥ 200 ms), which ends at 544 ms of audio and is decided once 568 ms were pushed:
    // the frame that ends at 570 ms. Counting the silence back from then would place the
    // speech's end 26 ms late (at 346 ms) and the commit with it; the audio the VAD had not
    // yet processed is counted back too.
    let speech = Duration::from_millis(320);
    let stt = FakeStt::streaming(["Hello."]);
    let waited = commit_after(speech, stt, Arc::new(WindowedVad)).await;
    assert!(
        waited >= ENDPOINTING && waited <= ENDPOINTING + Duration::from_millis(2),
        "the turn was committed {waited:?} after the last speech (endpointing delay {ENDPOINTING:?})"
    );
}
