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
use agents_core::voice::{AgentState, SessionEvent};
use futures::StreamExt;
use tokio::time::Instant;

const ENDPOINTING: Duration = Duration::from_millis(500);
const VAD_SILENCE: Duration = Duration::from_millis(200);

/// 300 ms of speech then 2 s of silence, in 10 ms frames at real time; `last_loud` is set
/// when the last frame of speech is delivered.
fn utterance(
    last_loud: Arc<Mutex<Option<Instant>>>,
) -> impl futures::Stream<Item = AudioFrame> + Send + 'static {
    let rate = 16_000;
    let speech = tone(Duration::from_millis(300), 300.0, rate);
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
    let session = AgentSession::builder()
        .llm(FakeLlm::new().then(FakeLlmResponse::text("Okay.")))
        .stt(Arc::new(stt))
        .tts(Arc::new(FakeTts::new()))
        .vad(Arc::new(FakeVad::new().with_min_silence_duration(VAD_SILENCE)))
        .min_endpointing_delay(ENDPOINTING)
        .build();
    let mut events = session.subscribe();
    let last_loud = Arc::new(Mutex::new(None));
    session
        .start(Agent::new("Be brief."))
        .audio_input(utterance(last_loud.clone()))
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
