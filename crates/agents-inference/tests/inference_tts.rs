//! `inference::Tts` against `FakeGateway`: the protocol, the pool, retries and faults.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use agents_core::ApiErrorKind;
use agents_core::llm::ApiConnectOptions;
use agents_core::tts::{SynthesizedAudio, Tts as _, TtsError, TtsOptions};
use agents_inference::inference;
use agents_test_support::{FakeGateway, TtsFault, TtsPlan};
use futures::StreamExt;
use serde_json::json;

const KEY: &str = "APItest";
const SECRET: &str = "tts-secret-never-shown";
const VOICE: &str = "9626c31c-bec5-4cca-baa8-f8ba9e84c8bc";

fn fast() -> ApiConnectOptions {
    ApiConnectOptions::new(2, Duration::from_millis(10), Duration::from_millis(400))
}

fn tts(fake: &FakeGateway) -> inference::Tts {
    tts_with(fake, fast())
}

fn tts_with(fake: &FakeGateway, conn: ApiConnectOptions) -> inference::Tts {
    inference::Tts::builder("cartesia/sonic-3")
        .base_url(fake.base_url())
        .api_key(KEY)
        .api_secret(SECRET)
        .conn_options(conn)
        .build()
        .expect("the TTS builds")
        .voice(VOICE)
}

/// Everything a stream gives: its audio, and the error it ended with.
async fn drain(
    mut stream: impl futures::Stream<Item = Result<SynthesizedAudio, TtsError>> + Unpin,
) -> (Vec<SynthesizedAudio>, Option<TtsError>) {
    let mut frames = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(audio) => frames.push(audio),
            Err(error) => {
                assert!(stream.next().await.is_none(), "the stream goes on after {error}");
                return (frames, Some(error));
            }
        }
    }
    (frames, None)
}

fn seconds(frames: &[SynthesizedAudio]) -> f64 {
    frames.iter().map(|audio| audio.frame.duration().as_secs_f64()).sum()
}

#[tokio::test]
async fn a_stream_speaks_sentence_by_sentence_with_word_timings() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    let tts = tts(&fake);
    assert!(tts.capabilities().streaming);
    assert_eq!(tts.sample_rate(), 24_000);
    let mut stream = tts.stream(&TtsOptions::default());
    for piece in ["Hello there, how are", " you doing? I am fine", " today, thank you."] {
        stream.push_text(piece);
    }
    stream.end_input();
    let (frames, error) = drain(stream).await;
    assert!(error.is_none(), "{error:?}");
    // 12 words, 100 ms each, in 20 ms frames.
    assert!((seconds(&frames) - 1.2).abs() < 1e-6, "{}", seconds(&frames));
    assert!(frames.iter().all(|audio| audio.frame.sample_rate() == 24_000));
    assert!(frames.iter().all(|audio| audio.frame.samples_per_channel() == 480));
    assert!(frames.last().unwrap().is_final);
    assert_eq!(frames.iter().filter(|audio| audio.is_final).count(), 1);
    let segment = &frames[0].segment_id;
    assert!(frames.iter().all(|audio| &audio.segment_id == segment));
    assert_eq!(frames[0].request_id, "fake_tts");
    let words: Vec<_> = frames.iter().flat_map(|audio| audio.timed_transcript.clone()).collect();
    let text: String = words.iter().map(|word| word.text.as_str()).collect();
    assert_eq!(text, "Hello there, how are you doing? I am fine today, thank you. ");
    assert!((words[11].end_time - 1.2).abs() < 1e-6);
    assert!((words[5].start_time - 0.5).abs() < 1e-6);
    let delta: String = frames.iter().map(|audio| audio.delta_text.as_str()).collect();
    assert_eq!(delta, "Hello there, how are you doing? I am fine today, thank you. ");

    assert_eq!(fake.violations(), Vec::<String>::new());
    let connections = fake.accepted("/v1/tts");
    assert_eq!(connections.len(), 1);
    let connection = &connections[0];
    assert_eq!(connection.model.as_deref(), Some("cartesia/sonic-3"));
    assert!(connection.header("user-agent").unwrap().starts_with("LiveKit Agents Rust/"));
    let create = &connection.messages[0];
    assert_eq!(create["type"], "session.create");
    assert_eq!(create["voice"], VOICE);
    assert_eq!(create["model"], "cartesia/sonic-3");
    assert_eq!(create["connection"], json!({"timeout": 0.4, "retries": 2}));
    let sentences = connection.messages_of("input_transcript");
    assert_eq!(sentences.len(), 2);
    assert_eq!(sentences[0]["transcript"], "Hello there, how are you doing? ");
    assert_eq!(sentences[0]["generation_config"]["voice"], VOICE);
    assert_eq!(connection.messages_of("session.flush").len(), 1);
    assert_eq!(tts.pooled_connections(), 1);
}

#[tokio::test]
async fn flushes_make_segments_timed_from_their_own_start() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    let tts = tts(&fake);
    let mut stream = tts.stream(&TtsOptions::default());
    stream.push_text("One two three.");
    stream.flush();
    stream.push_text("Four five.");
    stream.flush();
    stream.end_input();
    let (frames, error) = drain(stream).await;
    assert!(error.is_none(), "{error:?}");
    let finals: Vec<_> = frames.iter().filter(|audio| audio.is_final).collect();
    assert_eq!(finals.len(), 2);
    assert_ne!(frames[0].segment_id, frames.last().unwrap().segment_id);
    let second: Vec<_> = frames
        .iter()
        .filter(|audio| audio.segment_id == frames.last().unwrap().segment_id)
        .flat_map(|audio| audio.timed_transcript.clone())
        .collect();
    assert_eq!(second[0].text, "Four ");
    assert!(second[0].start_time.abs() < 1e-9);
    // Both syntheses ran one after the other on one connection.
    assert_eq!(fake.accepted("/v1/tts").len(), 1);
    assert_eq!(fake.syntheses(), 2);
}

#[tokio::test]
async fn connections_are_pooled_and_serve_one_synthesis_at_a_time() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    let tts = tts(&fake);
    for text in ["First reply here.", "Second reply here."] {
        let audio = tts.synthesize(text, &TtsOptions::default()).collect_frame().await.unwrap();
        assert!((audio.unwrap().duration().as_secs_f64() - 0.3).abs() < 1e-6);
    }
    assert_eq!(fake.accepted("/v1/tts").len(), 1);
    let (a, b) = futures::join!(
        tts.synthesize("Together now.", &TtsOptions::default()).collect_frame(),
        tts.synthesize("At once again.", &TtsOptions::default()).collect_frame(),
    );
    assert!(a.unwrap().is_some() && b.unwrap().is_some());
    assert_eq!(fake.accepted("/v1/tts").len(), 2);
    assert_eq!(tts.pooled_connections(), 2);
    // Every connection opened with its own session.create, and a fresh token each.
    let connections = fake.accepted("/v1/tts");
    assert!(connections.iter().all(|c| c.messages[0]["type"] == "session.create"));
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn no_text_opens_no_connection() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    let mut stream = tts(&fake).stream(&TtsOptions::default());
    stream.flush();
    stream.end_input();
    let (frames, error) = drain(stream).await;
    assert!(frames.is_empty() && error.is_none());
    assert!(fake.connections().is_empty());
}

#[tokio::test]
async fn refused_upgrades_retry_when_retryable() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.refuse_next(429);
    fake.refuse_next(500);
    let tts = tts(&fake);
    let audio = tts.synthesize("Retry me now.", &TtsOptions::default()).collect_frame().await;
    assert!(audio.unwrap().is_some());
    assert_eq!(fake.connections().len(), 3);

    fake.refuse_next(401);
    let fresh = tts_with(&fake, fast()); // an empty pool
    let (frames, error) = drain(fresh.synthesize("Not allowed.", &TtsOptions::default())).await;
    assert!(frames.is_empty());
    let error = error.unwrap();
    assert!(matches!(error.kind(), ApiErrorKind::Status { status: 401, .. }), "{error:?}");
    assert!(!error.to_string().contains(SECRET));
    assert_eq!(fake.connections().len(), 4, "a 401 is not retried");
}

#[tokio::test]
async fn retries_run_out() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    for _ in 0..3 {
        fake.refuse_next(503);
    }
    let (_, error) = drain(tts(&fake).synthesize("Never.", &TtsOptions::default())).await;
    assert!(
        matches!(
            error.as_ref().map(TtsError::kind),
            Some(ApiErrorKind::Status { status: 503, .. })
        ),
        "{error:?}"
    );
    assert_eq!(fake.connections().len(), 3, "1 attempt + 2 retries");
}

#[tokio::test]
async fn an_error_message_before_audio_retries_on_a_new_connection() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_tts(TtsPlan::fault(TtsFault::Error(json!(503), "provider overloaded".into())));
    let tts = tts(&fake);
    let audio = tts.synthesize("Try again.", &TtsOptions::default()).collect_frame().await;
    assert!((audio.unwrap().unwrap().duration().as_secs_f64() - 0.2).abs() < 1e-6);
    assert_eq!(fake.accepted("/v1/tts").len(), 2);
    // The failed connection was not put back.
    assert_eq!(tts.pooled_connections(), 1);

    fake.script_tts(TtsPlan::fault(TtsFault::Error(json!(400), "bad voice".into())));
    let (_, error) = drain(tts.synthesize("Bad.", &TtsOptions::default())).await;
    assert!(
        matches!(error.as_ref().map(TtsError::kind), Some(ApiErrorKind::Status { status: 400, body }) if body.contains("bad voice")),
        "{error:?}"
    );
}

#[tokio::test]
async fn silence_times_out_per_message_and_retries() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_tts(TtsPlan::fault(TtsFault::Silence));
    let tts = tts(&fake);
    let started = tokio::time::Instant::now();
    let audio = tts.synthesize("Hello again.", &TtsOptions::default()).collect_frame().await;
    assert!(audio.unwrap().is_some());
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(fake.accepted("/v1/tts").len(), 2);

    fake.script_tts(TtsPlan::fault(TtsFault::Silence));
    fake.script_tts(TtsPlan::fault(TtsFault::Silence));
    fake.script_tts(TtsPlan::fault(TtsFault::Silence));
    let (_, error) = drain(tts.synthesize("Nobody.", &TtsOptions::default())).await;
    assert!(
        matches!(error.as_ref().map(TtsError::kind), Some(ApiErrorKind::Timeout { after }) if *after == Duration::from_millis(400))
    );
}

#[tokio::test]
async fn a_slow_first_byte_within_the_timeout_is_waited_for() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_tts(TtsPlan::tones().first_byte_after(Duration::from_millis(250)));
    let tts = tts(&fake);
    let audio = tts.synthesize("Slowly.", &TtsOptions::default()).collect_frame().await;
    assert!(audio.unwrap().is_some());
    assert_eq!(fake.accepted("/v1/tts").len(), 1);
}

#[tokio::test]
async fn malformed_json_is_a_bad_response() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_tts(TtsPlan::fault(TtsFault::Malformed));
    let (frames, error) = drain(tts(&fake).synthesize("Garbled.", &TtsOptions::default())).await;
    assert!(frames.is_empty());
    assert!(
        matches!(error.as_ref().map(TtsError::kind), Some(ApiErrorKind::BadResponse { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_close_after_audio_ends_the_stream_keeping_the_audio() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    fake.script_tts(TtsPlan::fault(TtsFault::CloseAfterAudio(2)));
    let tts = tts(&fake);
    let mut stream = tts.stream(&TtsOptions::default());
    stream.push_text("One two three four five.");
    stream.end_input();
    let (frames, error) = drain(stream).await;
    assert!(
        matches!(error.as_ref().map(TtsError::kind), Some(ApiErrorKind::Connection { .. })),
        "{error:?}"
    );
    assert!((seconds(&frames) - 0.2).abs() < 1e-6, "{}", seconds(&frames));
    let words: Vec<_> = frames.iter().flat_map(|audio| audio.timed_transcript.clone()).collect();
    assert!(words.is_empty(), "the fake aligns a sentence after its audio");
    assert_eq!(fake.accepted("/v1/tts").len(), 1, "no retry once audio was given");
    assert_eq!(tts.pooled_connections(), 0);
}

#[tokio::test]
async fn a_pooled_connection_closed_by_the_gateway_is_replaced() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    // No retries: only the uncounted replacement of a stale pooled connection can succeed.
    let no_retry = ApiConnectOptions::new(0, Duration::from_millis(10), Duration::from_millis(400));
    let tts = tts_with(&fake, no_retry);
    tts.synthesize("Warm up.", &TtsOptions::default()).collect_frame().await.unwrap();
    assert_eq!(tts.pooled_connections(), 1);
    // The fake closes the idle connection when asked to by the next plan: close at once.
    fake.script_tts(TtsPlan::fault(TtsFault::CloseAfterAudio(0)));
    let audio = tts.synthesize("Hello there.", &TtsOptions::default()).collect_frame().await;
    assert!(audio.unwrap().is_some());
    assert_eq!(fake.accepted("/v1/tts").len(), 2);
}

/// Set in the child process that checks the missing key with a cleared environment.
const CHILD: &str = "AGENTS_INFERENCE_TTS_TEST_CHILD";

#[tokio::test]
async fn missing_credentials_name_the_variables() {
    if std::env::var_os(CHILD).is_some() {
        let error = inference::Tts::builder("cartesia/sonic-3")
            .base_url("http://127.0.0.1:1/v1")
            .api_secret("x")
            .api_key("")
            .build()
            .unwrap_err()
            .to_string();
        assert!(error.contains("LIVEKIT_INFERENCE_API_KEY or LIVEKIT_API_KEY"), "{error}");
        assert!(error.contains("inference::TtsBuilder::api_key"), "{error}");
        return;
    }
    // The key is looked up in the environment: the check runs in this test binary again,
    // without the LiveKit variables, whatever the environment of this run holds.
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.args(["missing_credentials_name_the_variables", "--exact", "--test-threads=1"]);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("LIVEKIT_") {
            child.env_remove(name);
        }
    }
    let output = child.env(CHILD, "1").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed"), "{stdout}");
    let tts = inference::Tts::builder("cartesia/sonic-3:abc")
        .api_key("k")
        .api_secret(SECRET)
        .build()
        .unwrap();
    assert_eq!(tts.voice_id(), Some("abc"));
    assert!(!format!("{tts:?}").contains(SECRET));
    let builder =
        inference::Tts::builder("cartesia/sonic-3").api_secret(SECRET).worker_token("wt-hush");
    let shown = format!("{builder:?}");
    assert!(!shown.contains(SECRET) && !shown.contains("wt-hush"), "{shown}");
}

#[tokio::test]
async fn prewarm_opens_the_connection_the_first_synthesis_uses() {
    let fake = FakeGateway::start(KEY, SECRET).await.unwrap();
    let tts = tts(&fake);
    tts.prewarm().await.unwrap();
    assert_eq!(tts.pooled_connections(), 1);
    assert_eq!(fake.accepted("/v1/tts").len(), 1);
    let audio = tts.synthesize("Ready at once.", &TtsOptions::default()).collect_frame().await;
    assert!(audio.unwrap().is_some());
    assert_eq!(fake.accepted("/v1/tts").len(), 1, "the prewarmed connection was used");

    fake.refuse_next(401);
    let error = tts_with(&fake, fast()).prewarm().await.unwrap_err();
    assert!(matches!(error.kind(), ApiErrorKind::Status { status: 401, .. }), "{error:?}");
}
