//! `inference::Stt` against `FakeGateway`: the protocol, event mapping, reconnection, faults.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use agents_core::ApiErrorKind;
use agents_core::audio::AudioFrame;
use agents_core::llm::ApiConnectOptions;
use agents_core::stt::{SpeechEvent, SpeechEventKind, Stt as _, SttError, SttOptions, SttStream};
use agents_inference::inference;
use agents_test_support::{FakeGateway, SttFault, SttPlan, Utterance};
use futures::StreamExt;
use serde_json::json;

const KEY: &str = "APItest";
const SECRET: &str = "stt-secret-never-shown";

fn fast() -> ApiConnectOptions {
    ApiConnectOptions::new(2, Duration::from_millis(10), Duration::from_millis(500))
}

fn stt(fake: &FakeGateway) -> inference::Stt {
    inference::Stt::builder("deepgram/nova-3-general:en")
        .base_url(fake.base_url())
        .api_key(KEY)
        .api_secret(SECRET)
        .keyterms(["LiveKit"])
        .fallback("assemblyai/universal-streaming:en")
        .conn_options(fast())
        .build()
        .expect("the STT builds")
}

/// `seconds` of a 220 Hz tone at `rate`, in 10 ms frames.
fn speech(seconds: f64, rate: u32) -> Vec<AudioFrame> {
    let per_frame = (rate / 100) as usize;
    let frames = (seconds * 100.0).round() as usize;
    (0..frames)
        .map(|f| {
            let samples = (0..per_frame)
                .map(|i| {
                    let t = (f * per_frame + i) as f64 / f64::from(rate);
                    ((t * 220.0 * std::f64::consts::TAU).sin() * 6000.0) as i16
                })
                .collect();
            AudioFrame::new(samples, rate, 1).unwrap()
        })
        .collect()
}

/// Pushes `frames`, ends the input, and gives every event and the error the stream ended with.
async fn recognize(
    mut stream: Box<dyn SttStream>,
    frames: &[AudioFrame],
) -> (Vec<SpeechEvent>, Option<SttError>) {
    for frame in frames {
        stream.push_frame(frame);
    }
    stream.end_input();
    drain(stream).await
}

/// [`recognize`], pushing a 10 ms frame every 5 ms (so that the gateway answers meanwhile).
async fn recognize_paced(
    mut stream: Box<dyn SttStream>,
    frames: &[AudioFrame],
) -> (Vec<SpeechEvent>, Option<SttError>) {
    let mut events = Vec::new();
    for frame in frames {
        stream.push_frame(frame);
        // Polling starts the stream's task and collects what came meanwhile.
        match tokio::time::timeout(Duration::from_millis(5), stream.next()).await {
            Ok(Some(Ok(event))) => events.push(event),
            Ok(Some(Err(error))) => {
                assert!(stream.next().await.is_none(), "the stream goes on after {error}");
                return (events, Some(error));
            }
            Ok(None) => panic!("the stream ended before its input"),
            Err(_) => {}
        }
    }
    stream.end_input();
    let (rest, error) = drain(stream).await;
    events.extend(rest);
    (events, error)
}

async fn drain(mut stream: Box<dyn SttStream>) -> (Vec<SpeechEvent>, Option<SttError>) {
    let mut events = Vec::new();
    while let Some(item) =
        tokio::time::timeout(Duration::from_secs(20), stream.next()).await.expect("the stream ends")
    {
        match item {
            Ok(event) => events.push(event),
            Err(error) => {
                assert!(stream.next().await.is_none(), "the stream goes on after {error}");
                return (events, Some(error));
            }
        }
    }
    (events, None)
}

fn finals(events: &[SpeechEvent]) -> Vec<&str> {
    events
        .iter()
        .filter(|event| event.kind == SpeechEventKind::FinalTranscript)
        .map(SpeechEvent::text)
        .collect()
}

#[tokio::test]
async fn transcripts_map_onto_speech_events() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_stt(SttPlan::new([
        Utterance::after(Duration::from_secs(1), "hello world").with_preflight().with_speaker("S1"),
        Utterance::on_finalize("goodbye now"),
    ]));
    let stt = stt(&fake);
    assert!(stt.capabilities().streaming);
    let started = tokio::time::Instant::now();
    let (events, error) = recognize(stt.stream(&SttOptions::default()), &speech(2.0, 48_000)).await;
    assert!(error.is_none(), "{error:?}");
    let kinds: Vec<_> = events.iter().map(|event| event.kind).collect();
    use SpeechEventKind::*;
    assert_eq!(
        kinds,
        [
            StartOfSpeech,
            InterimTranscript,
            PreflightTranscript,
            RecognitionUsage,
            FinalTranscript,
            EndOfSpeech,
            StartOfSpeech,
            InterimTranscript,
            RecognitionUsage,
            FinalTranscript,
            EndOfSpeech,
        ]
    );
    assert_eq!(events[1].text(), "hello");
    assert_eq!(finals(&events), ["hello world", "goodbye now"]);
    let first = &events[4].alternatives[0];
    assert_eq!(first.speaker_id.as_deref(), Some("S1"));
    assert_eq!(first.language, "en");
    assert!((first.confidence - 0.9).abs() < 1e-6);
    assert!(first.start_time.abs() < 1e-9 && (first.end_time - 1.0).abs() < 0.06);
    assert_eq!(first.words.len(), 2);
    assert_eq!(first.words[1].text, "world");
    assert_eq!(events[4].request_id, "fake_request");
    // Usage adds up to the audio sent.
    let usage: f64 = events
        .iter()
        .filter_map(|event| event.usage)
        .map(|usage| usage.audio_duration.as_secs_f64())
        .sum();
    assert!((usage - 2.0).abs() < 0.01, "{usage}");
    // The stream ended INACTIVITY_TIMEOUT after the last final.
    assert!(started.elapsed() >= inference::INACTIVITY_TIMEOUT);

    assert_eq!(fake.violations(), Vec::<String>::new());
    let connection = &fake.accepted("/v1/stt")[0];
    assert_eq!(connection.model.as_deref(), Some("deepgram/nova-3-general"));
    let create = &connection.messages[0];
    assert_eq!(
        create["settings"],
        json!({"sample_rate": "16000", "encoding": "pcm_s16le",
               "extra": {"keyterm": ["LiveKit"]}, "language": "en"})
    );
    assert_eq!(create["model"], "deepgram/nova-3-general");
    assert_eq!(
        create["fallback"],
        json!({"models": [{"model": "assemblyai/universal-streaming", "extra": null}]})
    );
    assert_eq!(create["connection"], json!({"timeout": 0.5, "retries": 2}));
    // 2 s at 16 kHz, in 50 ms messages (1,600 bytes).
    assert_eq!(connection.audio_bytes, 64_000);
    let audio = connection.messages_of("input_audio");
    assert_eq!(audio.len(), 40);
    assert_eq!(connection.messages_of("session.finalize").len(), 1);
    // The stream says goodbye before closing (the fake records it a moment later).
    for _ in 0..100 {
        if !fake.accepted("/v1/stt")[0].messages_of("session.close").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(fake.accepted("/v1/stt")[0].messages_of("session.close").len(), 1);
}

#[tokio::test]
async fn openai_models_get_24_khz_audio_and_auto_sends_no_model() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    for model in ["openai/gpt-live-transcribe", "auto:fr"] {
        let stt = inference::Stt::builder(model)
            .base_url(fake.base_url())
            .api_key(KEY)
            .api_secret(SECRET)
            .conn_options(fast())
            .build()
            .unwrap();
        let mut stream = stt.stream(&SttOptions::default());
        for frame in speech(0.1, 16_000) {
            stream.push_frame(&frame);
        }
        stream.end_input();
        let _ = drain(stream).await;
    }
    let connections = fake.accepted("/v1/stt");
    assert_eq!(connections[0].messages[0]["settings"]["sample_rate"], "24000");
    assert_eq!(connections[0].audio_bytes, 4_800);
    assert!(connections[1].messages[0].get("model").is_none());
    assert_eq!(connections[1].model, None);
    assert_eq!(connections[1].messages[0]["settings"]["language"], "fr");
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn a_dropped_connection_resends_the_audio_not_yet_transcribed() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_stt(
        SttPlan::new([Utterance::after(Duration::from_millis(500), "first part")])
            .with_fault(SttFault::CloseAfter(Duration::from_secs(1))),
    );
    fake.script_stt(SttPlan::new([
        Utterance::after(Duration::from_secs(1), "second part"),
        Utterance::on_finalize("tail end"),
    ]));
    let stt = stt(&fake);
    let (events, error) =
        recognize_paced(stt.stream(&SttOptions::default()), &speech(2.0, 16_000)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finals(&events), ["first part", "second part", "tail end"]);
    let connections = fake.accepted("/v1/stt");
    assert_eq!(connections.len(), 2);
    // The second connection got everything after the first final: 1.5 s.
    assert_eq!(connections[1].audio_bytes, 48_000);
    // Its times count from the start of the stream.
    let second = events
        .iter()
        .find(|event| {
            event.kind == SpeechEventKind::FinalTranscript && event.text() == "second part"
        })
        .unwrap();
    assert!((second.alternatives[0].start_time - 0.5).abs() < 1e-6);
    assert!((second.alternatives[0].end_time - 1.5).abs() < 0.06);
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn gateway_errors_are_typed_and_retried_when_retryable() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_stt(SttPlan::default().with_fault(SttFault::ErrorAfter(
        Duration::from_millis(200),
        json!(503),
        "provider unavailable".into(),
    )));
    fake.script_stt(SttPlan::new([Utterance::on_finalize("made it")]));
    let (events, error) =
        recognize(stt(&fake).stream(&SttOptions::default()), &speech(0.5, 16_000)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finals(&events), ["made it"]);
    assert_eq!(fake.accepted("/v1/stt").len(), 2);

    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_stt(SttPlan::default().with_fault(SttFault::ErrorAfter(
        Duration::from_millis(200),
        json!(400),
        "unknown model".into(),
    )));
    let (_, error) =
        recognize(stt(&fake).stream(&SttOptions::default()), &speech(0.5, 16_000)).await;
    let error = error.unwrap();
    assert!(
        matches!(error.kind(), ApiErrorKind::Status { status: 400, body } if body.contains("unknown model")),
        "{error:?}"
    );
    assert!(!error.retryable());
    assert_eq!(fake.accepted("/v1/stt").len(), 1);
}

#[tokio::test]
async fn an_early_session_closed_reconnects() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_stt(
        SttPlan::default().with_fault(SttFault::SessionClosedAfter(Duration::from_millis(300))),
    );
    fake.script_stt(SttPlan::new([Utterance::on_finalize("still here")]));
    let (events, error) =
        recognize_paced(stt(&fake).stream(&SttOptions::default()), &speech(0.6, 16_000)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finals(&events), ["still here"]);
    assert_eq!(fake.accepted("/v1/stt").len(), 2);
    // Nothing was transcribed on the first: the second got all the audio.
    assert_eq!(fake.accepted("/v1/stt")[1].audio_bytes, 19_200);

    // When every attempt is closed early, the stream ends with a retryable connection error.
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    for _ in 0..3 {
        fake.script_stt(
            SttPlan::default().with_fault(SttFault::SessionClosedAfter(Duration::from_millis(100))),
        );
    }
    let (_, error) =
        recognize_paced(stt(&fake).stream(&SttOptions::default()), &speech(0.6, 16_000)).await;
    let error = error.unwrap();
    assert!(
        matches!(error.kind(), ApiErrorKind::Connection { .. }) && error.retryable(),
        "{error:?}"
    );
    assert_eq!(fake.accepted("/v1/stt").len(), 3);
}

#[tokio::test]
async fn malformed_json_is_a_bad_response() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_stt(
        SttPlan::default().with_fault(SttFault::MalformedAfter(Duration::from_millis(100))),
    );
    let (_, error) =
        recognize(stt(&fake).stream(&SttOptions::default()), &speech(0.3, 16_000)).await;
    assert!(
        matches!(error.as_ref().map(SttError::kind), Some(ApiErrorKind::BadResponse { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn refused_upgrades() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.refuse_next(429);
    fake.refuse_next(500);
    fake.script_stt(SttPlan::new([Utterance::on_finalize("finally")]));
    let (events, error) =
        recognize(stt(&fake).stream(&SttOptions::default()), &speech(0.2, 16_000)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finals(&events), ["finally"]);
    // The audio pushed while connecting was not lost.
    assert_eq!(fake.accepted("/v1/stt")[0].audio_bytes, 6_400);

    fake.refuse_next(401);
    let (_, error) =
        recognize(stt(&fake).stream(&SttOptions::default()), &speech(0.2, 16_000)).await;
    let error = error.unwrap();
    assert!(matches!(error.kind(), ApiErrorKind::Status { status: 401, .. }), "{error:?}");
    assert!(!error.to_string().contains(SECRET));
}

#[tokio::test]
async fn wrong_credentials_are_refused_by_the_gateway() {
    let fake = FakeGateway::start(KEY, "another-secret").await.unwrap();
    let (_, error) =
        recognize(stt(&fake).stream(&SttOptions::default()), &speech(0.1, 16_000)).await;
    assert!(
        matches!(
            error.as_ref().map(SttError::kind),
            Some(ApiErrorKind::Status { status: 401, .. })
        ),
        "{error:?}"
    );
    assert!(fake.violations()[0].contains("does not verify"), "{:?}", fake.violations());
}

#[tokio::test]
async fn option_changes_reach_open_streams() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_stt(SttPlan::new([Utterance::on_finalize("bonjour")]));
    let stt = stt(&fake);
    let mut stream = stt.stream(&SttOptions::default());
    let frames = speech(0.4, 16_000);
    for frame in &frames[..20] {
        stream.push_frame(frame);
    }
    // The stream's task starts when it is polled.
    let first = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(first.is_err(), "no event yet");
    stt.set_language("fr");
    stt.set_keyterms(["Paris", "Lyon"]);
    for frame in &frames[20..] {
        stream.push_frame(frame);
    }
    stream.end_input();
    let (events, error) = drain(stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finals(&events), ["bonjour"]);
    let connection = &fake.accepted("/v1/stt")[0];
    let updates = connection.messages_of("session.update");
    let last = updates.last().expect("a session.update");
    assert_eq!(last["settings"]["language"], "fr");
    assert_eq!(last["settings"]["extra"]["keyterm"], json!(["Paris", "Lyon"]));
    assert_eq!(stt.language().as_deref(), Some("fr"));
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[test]
fn the_secret_stays_out_of_debug_output() {
    let builder = inference::Stt::builder("deepgram/nova-3")
        .api_key(KEY)
        .api_secret(SECRET)
        .worker_token("worker-token-never-shown");
    let shown = format!("{builder:?}");
    assert!(!shown.contains(SECRET) && !shown.contains("worker-token-never-shown"), "{shown}");
    let stt = builder.build().unwrap();
    let shown = format!("{stt:?}");
    assert!(!shown.contains(SECRET) && !shown.contains("worker-token-never-shown"), "{shown}");
    assert!(shown.contains("deepgram/nova-3"), "{shown}");
}

#[test]
fn the_api_key_and_url_credentials_stay_out_of_debug_output() {
    let builder = inference::Stt::builder("deepgram/nova-3")
        .base_url("https://url-token-never-shown@gateway.example/v1?key=query-never-shown")
        .api_key("api-key-never-shown")
        .api_secret(SECRET);
    let shown = format!("{builder:?}");
    for secret in ["api-key-never-shown", "url-token-never-shown", "query-never-shown"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    let stt = builder.build().unwrap();
    let shown = format!("{stt:?}");
    for secret in ["url-token-never-shown", "query-never-shown"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn a_url_token_stays_out_of_connection_errors() {
    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let stt = inference::Stt::builder("deepgram/nova-3")
        .base_url(format!("http://url-token-never-shown@127.0.0.1:{port}/v1"))
        .api_key(KEY)
        .api_secret(SECRET)
        .conn_options(ApiConnectOptions::new(0, Duration::ZERO, Duration::from_secs(2)))
        .build()
        .unwrap();
    let (_, error) = recognize(stt.stream(&SttOptions::default()), &speech(0.1, 16_000)).await;
    let error = error.expect("the connection fails");
    // The message, the kept cause and the Debug output all leave the URL's password out.
    let cause = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
    let (message, debug) = (error.to_string(), format!("{error:?}"));
    assert!(message.contains("cannot reach"), "{message}");
    for shown in [message, cause, debug] {
        assert!(!shown.contains("url-token-never-shown"), "{shown}");
    }
}

#[tokio::test]
async fn an_ipv6_loopback_gateway_is_reached() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback ([::1] cannot be bound)");
        return;
    }
    let fake = FakeGateway::start_on("[::1]:0", KEY, SECRET).await.unwrap();
    assert!(fake.base_url().starts_with("http://[::1]:"), "{}", fake.base_url());
    fake.script_stt(SttPlan::new([Utterance::on_finalize("over six")]));
    let (events, error) =
        recognize(stt(&fake).stream(&SttOptions::default()), &speech(0.5, 16_000)).await;
    assert!(error.is_none(), "{error:?}");
    let finals: Vec<_> = events
        .iter()
        .filter(|event| event.kind == SpeechEventKind::FinalTranscript)
        .map(|event| event.alternatives[0].text.clone())
        .collect();
    assert_eq!(finals, ["over six"]);
}

#[tokio::test]
async fn a_final_after_session_finalized_is_still_delivered() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_stt(SttPlan::new([
        Utterance::on_finalize("first part"),
        Utterance::after_finalized("late words"),
    ]));
    let (events, error) =
        recognize(stt(&fake).stream(&SttOptions::default()), &speech(0.5, 16_000)).await;
    assert!(error.is_none(), "{error:?}");
    let finals: Vec<_> = events
        .iter()
        .filter(|event| event.kind == SpeechEventKind::FinalTranscript)
        .map(|event| event.alternatives[0].text.clone())
        .collect();
    assert_eq!(finals, ["first part", "late words"]);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}
