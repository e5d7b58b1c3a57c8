//! The OpenAI-compatible client's failures against `FakeOpenAi`: HTTP errors, cut and
//! malformed streams, timeouts, and when they are retried.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use agents_core::ApiErrorKind;
use agents_core::llm::Llm as _;
use agents_core::llm::{ApiConnectOptions, ChatChunk, ChatOptions, LlmError};
use agents_inference::openai;
use agents_test_support::{FakeOpenAi, FakeResponse, StreamPart};
use common::{drain, hello, llm, llm_with, text};
use serde_json::json;

#[tokio::test]
async fn a_429_is_retried_and_nothing_is_duplicated() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::status(429).with_header("x-ratelimit-remaining-requests", "0"),
        FakeResponse::text_deltas(["Hello", " again"]),
    ])
    .await
    .unwrap();
    let (chunks, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(chunks, [ChatChunk::Text("Hello".into()), ChatChunk::Text(" again".into())]);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body, "the retry sends the same request");
}

#[tokio::test]
async fn a_500_on_every_attempt_fails_after_max_retry_plus_one_attempts() {
    let fake = FakeOpenAi::with_responses((0..4).map(|_| FakeResponse::status(500))).await.unwrap();
    let (chunks, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(chunks.is_empty());
    let error = error.expect("an error");
    match error.kind() {
        ApiErrorKind::Status { status: 500, body } => {
            assert!(body.contains("The server had an error"), "{body}");
        }
        other => panic!("expected HTTP 500, got {other:?}"),
    }
    assert!(error.retryable());
    assert_eq!(fake.request_count(), 3, "max_retry = 2: three attempts");
    assert_eq!(fake.remaining(), 1);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_long_bodies_are_truncated() {
    let long = "x".repeat(10_000);
    let fake = FakeOpenAi::with_responses([
        FakeResponse::error(400, json!({"error": {"message": long}})),
        FakeResponse::text("unused"),
    ])
    .await
    .unwrap();
    let (_, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    let Some(ApiErrorKind::Status { status: 400, body }) = error.as_ref().map(LlmError::kind)
    else {
        panic!("{error:?}")
    };
    assert!(body.len() <= 2048 + '…'.len_utf8(), "{} bytes", body.len());
    assert!(body.starts_with(r#"{"error":{"message":"xxx"#) && body.ends_with('…'));
    assert!(!error.unwrap().retryable());
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn a_connection_cut_after_text_is_an_error_without_retry() {
    let fake = FakeOpenAi::with_responses([
        // The role chunk and "Hel", then the connection drops.
        FakeResponse::text_deltas(["Hel", "lo", " world"]).cut_after(2),
        FakeResponse::text("unused"),
    ])
    .await
    .unwrap();
    let (chunks, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert_eq!(chunks, [ChatChunk::Text("Hel".into())], "the text that arrived, once");
    let error = error.expect("an error");
    assert!(matches!(error.kind(), ApiErrorKind::Connection { .. }), "{error:?}");
    assert_eq!(fake.request_count(), 1, "no retry once text was emitted");
    assert_eq!(fake.remaining(), 1);
}

#[tokio::test]
async fn a_connection_cut_before_anything_was_emitted_is_retried() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::text("lost").cut_after(1),
        FakeResponse::text("found"),
    ])
    .await
    .unwrap();
    let (chunks, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&chunks), "found");
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_stream_that_ends_without_done_or_finish_reason_ended_early() {
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([StreamPart::text("Hel")])])
        .await
        .unwrap();
    let llm = llm_with(&fake, ApiConnectOptions::new(0, Duration::ZERO, Duration::from_secs(1)));
    let (chunks, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
    assert_eq!(text(&chunks), "Hel");
    match error.map(|error| error.kind().clone()) {
        Some(ApiErrorKind::Connection { message }) => assert!(message.contains("ended early")),
        other => panic!("expected a connection error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_malformed_chunk_is_a_bad_response() {
    let fake =
        FakeOpenAi::with_responses([FakeResponse::malformed(), FakeResponse::text("unused")])
            .await
            .unwrap();
    let (chunks, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(chunks.is_empty());
    let error = error.expect("an error");
    assert!(
        matches!(error.kind(), ApiErrorKind::BadResponse { message } if message.contains("not valid JSON"))
    );
    assert!(!error.retryable());
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn an_error_object_in_the_stream_is_a_provider_error() {
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([StreamPart::chunk(
        json!({"error": {"message": "model overloaded", "type": "server_error"}}),
    )])])
    .await
    .unwrap();
    let (_, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(
        matches!(error.as_ref().map(LlmError::kind), Some(ApiErrorKind::Provider { message }) if message.contains("model overloaded")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_json_answer_instead_of_a_stream_is_a_bad_response() {
    let fake = FakeOpenAi::with_responses([FakeResponse::json(
        200,
        json!({"object": "chat.completion", "choices": []}),
    )])
    .await
    .unwrap();
    let (_, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(
        matches!(error.as_ref().map(LlmError::kind), Some(ApiErrorKind::BadResponse { message }) if message.contains("text/event-stream")),
        "{error:?}"
    );
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn a_slow_first_byte_times_out_and_the_retry_succeeds() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::text("late").delayed(Duration::from_secs(3)),
        FakeResponse::text("on time"),
    ])
    .await
    .unwrap();
    let conn = ApiConnectOptions::new(1, Duration::from_millis(10), Duration::from_millis(300));
    let started = Instant::now();
    let (chunks, error) =
        drain(llm_with(&fake, conn).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&chunks), "on time");
    assert_eq!(fake.request_count(), 2);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_slow_first_byte_without_retries_is_a_timeout() {
    let fake =
        FakeOpenAi::with_responses([FakeResponse::text("late").delayed(Duration::from_secs(3))])
            .await
            .unwrap();
    let timeout = Duration::from_millis(200);
    let conn = ApiConnectOptions::new(0, Duration::from_millis(10), timeout);
    let (_, error) =
        drain(llm_with(&fake, conn).chat(&hello(), &[], &ChatOptions::default())).await;
    match error {
        Some(error) if matches!(error.kind(), ApiErrorKind::Timeout { .. }) => {
            assert!(error.retryable());
            assert!(matches!(error.kind(), ApiErrorKind::Timeout { after } if *after == timeout));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn request_options_override_the_builder_defaults() {
    let fake = FakeOpenAi::with_responses((0..3).map(|_| FakeResponse::status(503))).await.unwrap();
    // The builder allows 2 retries; the request allows none.
    let options = ChatOptions::default().with_conn_options(ApiConnectOptions::new(
        0,
        Duration::from_millis(10),
        Duration::from_millis(500),
    ));
    let (_, error) = drain(llm(&fake).chat(&hello(), &[], &options)).await;
    assert!(
        matches!(
            error.as_ref().map(LlmError::kind),
            Some(ApiErrorKind::Status { status: 503, .. })
        ),
        "{error:?}"
    );
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn an_unreachable_server_is_a_connection_error() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let llm = openai::Llm::builder("gpt-test")
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .conn_options(ApiConnectOptions::new(1, Duration::from_millis(10), Duration::from_secs(2)))
        .build()
        .unwrap();
    let (_, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
    match error.map(|error| error.kind().clone()) {
        Some(ApiErrorKind::Connection { message }) => {
            assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
}

#[test]
fn a_missing_api_key_names_the_variable() {
    // Tests must not change the environment: only check when the variable is not set.
    if std::env::var_os(openai::API_KEY_ENV).is_some_and(|v| !v.is_empty()) {
        return;
    }
    let error = openai::Llm::new("gpt-4.1-mini").unwrap_err();
    assert!(error.to_string().contains("OPENAI_API_KEY"), "{error}");
    assert!(matches!(error, agents_inference::ConfigError::MissingCredential { .. }));
    let llm_error: LlmError = error.into();
    assert!(matches!(llm_error.kind(), ApiErrorKind::Configuration { .. }));
    assert!(!llm_error.retryable());
}

#[tokio::test]
async fn a_stall_in_the_middle_of_the_stream_is_a_timeout() {
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([
        StreamPart::text("Hel"),
        StreamPart::Pause(Duration::from_secs(3)),
        StreamPart::text("lo"),
        StreamPart::finish("stop"),
        StreamPart::Done,
    ])])
    .await
    .unwrap();
    let timeout = Duration::from_millis(200);
    let conn = ApiConnectOptions::new(2, Duration::from_millis(10), timeout);
    let llm = llm_with(&fake, conn);
    let (chunks, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
    assert_eq!(text(&chunks), "Hel");
    assert!(
        matches!(error.as_ref().map(LlmError::kind), Some(ApiErrorKind::Timeout { .. })),
        "{error:?}"
    );
    assert_eq!(fake.request_count(), 1, "no retry once text was emitted");
}

/// A long tool call: its fragments keep arriving, each well within the timeout, but the call
/// is only yielded whole, after longer than the timeout.
#[tokio::test]
async fn a_long_tool_call_whose_fragments_keep_coming_does_not_time_out() {
    let fragments: Vec<String> = (0..12).map(|i| format!("\"k{i}\":{i},")).collect();
    let mut parts = vec![StreamPart::tool_call_fragments("call_1", "save", ["{"])];
    parts.extend(fragments.iter().map(|f| StreamPart::chunk(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": f}}]}, "finish_reason": null}]}))));
    parts.push(StreamPart::chunk(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"end\":true}"}}]}, "finish_reason": null}]})));
    parts.extend([StreamPart::finish("tool_calls"), StreamPart::Done]);
    let fake =
        FakeOpenAi::with_responses([FakeResponse::stream(parts).paced(Duration::from_millis(50))])
            .await
            .unwrap();
    // 16 parts 50 ms apart: 750 ms in all, with a 300 ms timeout.
    let conn = ApiConnectOptions::new(0, Duration::from_millis(10), Duration::from_millis(300));
    let (chunks, error) =
        drain(llm_with(&fake, conn).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(common::calls(&chunks).len(), 1);
}
