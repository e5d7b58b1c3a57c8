//! The OpenAI-compatible client against a hostile server: repeated tool calls, a finish
//! without `[DONE]`, `Retry-After`, `event: error`, outlandish usage, lines that never end,
//! wrong content types, nameless calls, trickles, and secrets in URLs. Each test checks what
//! reaches the user (the stream's chunks and errors, or a session's run) and, where the reply
//! goes on, what reaches the model (the next request's history).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agents_core::ApiErrorKind;
use agents_core::llm::{
    ApiConnectOptions, ChatChunk, ChatItem, ChatOptions, CompletionUsage, Llm as _, LlmError,
};
use agents_core::prelude::*;
use agents_core::voice::{SessionError, SessionErrorEvent};
use agents_inference::{inference, openai};
use agents_test_support::{FakeOpenAi, FakeResponse, RecordedRequest, StreamPart};
use common::{calls, drain, hello, llm_with, text};
use serde_json::{Value, json};

const MS: Duration = Duration::from_millis(1);

fn conn(max_retry: u32) -> ApiConnectOptions {
    ApiConnectOptions::new(max_retry, MS * 10, Duration::from_secs(2))
}

/// A chunk whose only choice carries `delta`.
fn delta(delta: Value) -> StreamPart {
    StreamPart::chunk(json!({"choices": [{"index": 0, "delta": delta, "finish_reason": null}]}))
}

/// A whole tool call in one fragment, at `index`.
fn whole_call(index: u64, id: &str, name: &str, arguments: &str) -> StreamPart {
    delta(json!({"tool_calls": [{
        "index": index, "id": id, "type": "function",
        "function": {"name": name, "arguments": arguments},
    }]}))
}

/// The tool-call ids of the assistant messages of a request, in order.
fn sent_call_ids(request: &RecordedRequest) -> Vec<String> {
    request
        .messages()
        .iter()
        .filter_map(|m| m["tool_calls"].as_array())
        .flatten()
        .map(|call| call["id"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// The `tool_call_id`s of the tool messages of a request, in order.
fn sent_output_ids(request: &RecordedRequest) -> Vec<String> {
    request
        .messages()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["tool_call_id"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// A server that, like OpenAI, rejects a history in which a tool-call id appears twice.
fn rejects_duplicate_ids(request: &RecordedRequest) -> Option<FakeResponse> {
    let ids = sent_call_ids(request);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    (unique.len() != ids.len()).then(|| {
        FakeResponse::error(
            400,
            json!({"error": {"message": "Duplicate value for 'tool_call_id'", "type": "invalid_request_error"}}),
        )
    })
}

fn last_is_tool_output(request: &RecordedRequest) -> bool {
    request.messages().last().is_some_and(|m| m["role"] == "tool")
}

struct Counter {
    runs: AtomicUsize,
}

#[function_tools]
impl Counter {
    /// Adds one to the counter.
    #[function_tool]
    async fn bump(&self) -> String {
        let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        format!("bumped {n} time(s)")
    }
}

fn counter_session(fake: &FakeOpenAi) -> (Arc<Counter>, AgentSession, Agent) {
    let llm = openai::Llm::builder("gpt-test")
        .base_url(fake.base_url())
        .api_key("sk-test")
        .build()
        .unwrap();
    let session = AgentSession::builder().llm(llm).conn_options(conn(1)).build();
    let counter = Arc::new(Counter { runs: AtomicUsize::new(0) });
    let agent = Agent::new("Count.").with_tools(counter.function_tools()).unwrap();
    (counter, session, agent)
}

// Item 8: a tool call the server sends twice runs once, and is sent back once.

#[tokio::test]
async fn a_call_sent_twice_runs_once_and_its_id_is_sent_once() {
    let fake = FakeOpenAi::with_handler(|request| {
        if let Some(rejection) = rejects_duplicate_ids(request) {
            return rejection;
        }
        if last_is_tool_output(request) {
            return FakeResponse::text("Bumped.");
        }
        if request.messages().last().is_some_and(|m| m["content"] == "again?") {
            return FakeResponse::text("Again.");
        }
        FakeResponse::stream([
            // The same call at two indexes...
            whole_call(0, "call_1", "bump", "{}"),
            whole_call(1, "call_1", "bump", "{}"),
            StreamPart::finish("tool_calls"),
            // ... and once more after the finish reason.
            whole_call(0, "call_1", "bump", "{}"),
            StreamPart::Done,
        ])
    })
    .await
    .unwrap();
    let (counter, session, agent) = counter_session(&fake);
    session.start(agent).await.unwrap();

    let result = session.run("bump it").await.unwrap();
    assert!(result.errors().is_empty(), "{:?}", result.errors());
    assert_eq!(counter.runs.load(Ordering::SeqCst), 1, "the call ran once");
    assert_eq!(result.last_message().as_deref(), Some("Bumped."));
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(sent_call_ids(&requests[1]), ["call_1"]);
    assert_eq!(sent_output_ids(&requests[1]), ["call_1"]);

    // The next turn's history is still valid for a strict server.
    let again = session.run("again?").await.unwrap();
    assert!(again.errors().is_empty(), "{:?}", again.errors());
    assert_eq!(sent_call_ids(&fake.last_request().unwrap()), ["call_1"]);
    session.close().await;
}

#[tokio::test]
async fn calls_without_ids_get_ids_no_other_call_has() {
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([
        delta(json!({"tool_calls": [{"index": 0, "function": {"name": "a", "arguments": "{}"}}]})),
        whole_call(1, "call_0", "b", "{}"),
        StreamPart::finish("tool_calls"),
        StreamPart::Done,
    ])])
    .await
    .unwrap();
    let (chunks, error) =
        drain(llm_with(&fake, conn(0)).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    let ids: Vec<String> = calls(&chunks).into_iter().map(|(id, _, _)| id).collect();
    assert_eq!(ids, ["call_1", "call_0"]);
}

// Item 9: the finish reason ends the step, with or without `[DONE]`.

#[tokio::test]
async fn a_finish_without_done_ends_the_step_and_the_follow_up_is_asked() {
    let fake = FakeOpenAi::with_handler(|request| {
        if last_is_tool_output(request) {
            FakeResponse::stream([
                StreamPart::text("All done."),
                StreamPart::finish("stop"),
                StreamPart::Pause(Duration::from_secs(30)),
            ])
        } else {
            FakeResponse::stream([
                whole_call(0, "call_1", "bump", "{}"),
                StreamPart::finish("tool_calls"),
                // No usage, no `[DONE]`: the connection just stays open.
                StreamPart::Pause(Duration::from_secs(30)),
            ])
        }
    })
    .await
    .unwrap();
    let (counter, session, agent) = counter_session(&fake);
    session.start(agent).await.unwrap();
    let started = Instant::now();
    let result = session.run("bump it").await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(result.errors().is_empty(), "{:?}", result.errors());
    assert_eq!(counter.runs.load(Ordering::SeqCst), 1);
    assert_eq!(result.last_message().as_deref(), Some("All done."));
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "one request per step, no retry");
    assert_eq!(sent_output_ids(&requests[1]), ["call_1"]);
    session.close().await;
}

#[tokio::test]
async fn usage_after_the_finish_reason_is_read_without_waiting_for_done() {
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([
        StreamPart::text("Hi"),
        StreamPart::finish("stop"),
        StreamPart::usage(12, 3),
        StreamPart::Pause(Duration::from_secs(30)),
    ])])
    .await
    .unwrap();
    let started = Instant::now();
    let (chunks, error) =
        drain(llm_with(&fake, conn(2)).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert!(started.elapsed() < MS * 400, "{:?}", started.elapsed());
    assert_eq!(
        chunks,
        [ChatChunk::Text("Hi".into()), ChatChunk::Usage(CompletionUsage::new(12, 0, 3))]
    );
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn a_finish_without_usage_or_done_waits_briefly_and_is_no_error() {
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([
        StreamPart::text("Hi"),
        StreamPart::finish("stop"),
        StreamPart::Pause(Duration::from_secs(30)),
    ])])
    .await
    .unwrap();
    let started = Instant::now();
    let (chunks, error) =
        drain(llm_with(&fake, conn(2)).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&chunks), "Hi");
    // The usage chunk is awaited for half a second at most, not the 2 s idle timeout.
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(fake.request_count(), 1);
}

// Item 10: `Retry-After` is honoured, or the error says how long the server asked for.

#[tokio::test]
async fn a_retry_comes_no_sooner_than_retry_after() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::status(429).with_header("retry-after", "1"),
        FakeResponse::text("finally"),
    ])
    .await
    .unwrap();
    let started = Instant::now();
    let conn = ApiConnectOptions::new(3, MS * 500, Duration::from_secs(2));
    let (chunks, error) =
        drain(llm_with(&fake, conn).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&chunks), "finally");
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_connect_options_fails_at_once() {
    for (status, retry_after, shown) in
        [(503, "20", "20 s"), (429, "Fri, 01 Jan 2100 00:00:00 GMT", "rate-limited")]
    {
        let fake = FakeOpenAi::with_responses([
            FakeResponse::status(status).with_header("retry-after", retry_after),
            FakeResponse::text("unused"),
        ])
        .await
        .unwrap();
        let started = Instant::now();
        // Three retries 2 s apart allow 6 s of waiting.
        let conn = ApiConnectOptions::new(3, Duration::from_secs(2), Duration::from_secs(2));
        let (_, error) =
            drain(llm_with(&fake, conn).chat(&hello(), &[], &ChatOptions::default())).await;
        assert!(started.elapsed() < MS * 500, "{:?}", started.elapsed());
        let error = error.expect("an error");
        assert!(
            matches!(error.kind(), ApiErrorKind::RateLimited { status: s, .. } if *s == status)
        );
        let message = error.to_string();
        assert!(message.contains("rate-limited") && message.contains(shown), "{message}");
        assert!(error.retry_after().unwrap() >= Duration::from_secs(20));
        assert_eq!(fake.request_count(), 1);
    }
}

// Item 11: an `error` event is reported with the server's message.

#[tokio::test]
async fn an_error_event_is_reported_with_the_servers_message() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::stream([
            StreamPart::text("Hel"),
            StreamPart::named(
                "error",
                json!({"error": {"message": "upstream model overloaded", "type": "server_error"}})
                    .to_string(),
            ),
            StreamPart::Pause(Duration::from_secs(30)),
        ]),
        // The shape some gateways use: no `error` key, so it reads as an empty chunk.
        FakeResponse::stream([
            StreamPart::named(
                "error",
                json!({"message": "quota exceeded", "type": "insufficient_quota"}).to_string(),
            ),
            StreamPart::finish("stop"),
            StreamPart::Done,
        ]),
    ])
    .await
    .unwrap();
    let llm = llm_with(&fake, conn(2));
    let (chunks, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
    assert_eq!(text(&chunks), "Hel");
    match error.map(|error| error.kind().clone()) {
        Some(ApiErrorKind::Provider { message }) => {
            assert_eq!(message, "upstream model overloaded (server_error)");
        }
        other => panic!("expected the provider's error, got {other:?}"),
    }
    let (chunks, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(chunks.is_empty());
    match error.map(|error| error.kind().clone()) {
        Some(ApiErrorKind::Provider { message }) => {
            assert_eq!(message, "quota exceeded (insufficient_quota)");
        }
        other => panic!("expected the provider's error, got {other:?}"),
    }
    assert_eq!(fake.request_count(), 2, "not retried");
}

// Item 13: outlandish usage neither panics nor costs the reply.

#[tokio::test]
async fn a_usage_of_u64_max_keeps_the_reply() {
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([
        StreamPart::text("Still here."),
        StreamPart::finish("stop"),
        StreamPart::Usage { prompt_tokens: u64::MAX, cached_tokens: 0, completion_tokens: 9 },
        StreamPart::Done,
    ])])
    .await
    .unwrap();
    let (chunks, error) =
        drain(llm_with(&fake, conn(0)).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&chunks), "Still here.");
    let usage = chunks.iter().find_map(|c| match c {
        ChatChunk::Usage(usage) => Some(*usage),
        _ => None,
    });
    assert_eq!(usage.map(|u| u.total_tokens), Some(u64::MAX));
}

#[tokio::test]
async fn a_usage_that_is_not_a_count_is_ignored() {
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([
        StreamPart::text("Still here."),
        StreamPart::finish("stop"),
        StreamPart::chunk(
            json!({"choices": [], "usage": {"prompt_tokens": -4, "completion_tokens": 1e40}}),
        ),
        StreamPart::Done,
    ])])
    .await
    .unwrap();
    let (chunks, error) =
        drain(llm_with(&fake, conn(0)).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(chunks, [ChatChunk::Text("Still here.".into())]);
}

// Item 14: bounded lines and events; a body that is not an event stream says so.

#[tokio::test]
async fn a_line_that_never_ends_is_cut_off_and_not_retried() {
    // 300 MiB without a line break, in 64 KiB pieces, then silence.
    let parts = [
        StreamPart::bytes(b"data: ".to_vec()),
        StreamPart::repeat(vec![b'x'; 64 * 1024], 4800),
        StreamPart::Pause(Duration::from_secs(30)),
    ];
    let fake = FakeOpenAi::with_responses([FakeResponse::stream(parts), FakeResponse::text("no")])
        .await
        .unwrap();
    let started = Instant::now();
    let (chunks, error) =
        drain(llm_with(&fake, conn(3)).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(chunks.is_empty());
    let error = error.expect("an error");
    assert!(
        matches!(error.kind(), ApiErrorKind::BadResponse { message } if message.contains("longer than 1048576 bytes")),
        "{error:?}"
    );
    assert!(!error.retryable());
    assert_eq!(fake.request_count(), 1, "a size cap is not retried");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_200_that_is_neither_an_event_stream_nor_json_is_a_protocol_error() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::body(200, Some("text/html; charset=utf-8"), "<html>Sign in</html>"),
        FakeResponse::body(200, None, "data: {}\n\n"),
        FakeResponse::body(200, Some("text/event-stream"), "data: [DONE]\n\n"),
    ])
    .await
    .unwrap();
    let llm = llm_with(&fake, conn(2));
    let (_, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
    let error = error.expect("an error");
    assert!(
        matches!(error.kind(), ApiErrorKind::BadResponse { message } if message.contains("`text/html`") && message.contains("neither an event stream")),
        "{error:?}"
    );
    let (_, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
    let error = error.expect("an error");
    assert!(error.to_string().contains("no content type"), "{error}");
    assert_eq!(fake.request_count(), 2, "protocol errors are not retried");
    let (chunks, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(chunks.is_empty() && error.is_none(), "{error:?}");
}

// Item 15: a nameless call keeps the valid calls beside it; a trickle is cut off.

#[tokio::test]
async fn a_nameless_call_keeps_the_valid_calls_and_is_reported() {
    let fake = FakeOpenAi::with_handler(|request| {
        if request.messages().iter().any(|m| m["content"] == "and now?") {
            return FakeResponse::text("Bumped once.");
        }
        FakeResponse::stream([
            whole_call(0, "call_1", "bump", "{}"),
            whole_call(1, "call_2", "", "{}"),
            StreamPart::finish("tool_calls"),
            StreamPart::Done,
        ])
    })
    .await
    .unwrap();
    let (counter, session, agent) = counter_session(&fake);
    session.start(agent).await.unwrap();

    // The step's LLM reply failed, so the run is an error (and carries what the run did).
    let result = match session.run("bump it").await {
        Err(SessionError::RunFailed(result)) => *result,
        other => panic!("expected a failed run, got {other:?}"),
    };
    assert_eq!(counter.runs.load(Ordering::SeqCst), 1, "the valid call ran");
    match result.errors() {
        [SessionErrorEvent::Llm(error)]
            if matches!(error.kind(), ApiErrorKind::BadResponse { .. }) =>
        {
            let message = error.to_string();
            assert!(message.contains("`call_2` has no function name"), "{message}");
            assert!(message.contains("the other call of the reply was run"), "{message}");
        }
        other => panic!("expected one LLM error, got {other:?}"),
    }
    // The model sees the valid call and its output, and nothing of the nameless one.
    session.run("and now?").await.unwrap();
    let last = fake.last_request().unwrap();
    assert_eq!(sent_call_ids(&last), ["call_1"]);
    assert_eq!(sent_output_ids(&last), ["call_1"]);
    let history = session.history();
    let call_items =
        history.items().iter().filter(|i| matches!(i, ChatItem::FunctionCall(_))).count();
    assert_eq!(call_items, 1);
    session.close().await;
}

#[tokio::test]
async fn a_trickle_is_cut_off_by_the_reply_timeout() {
    let event = format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {"content": "never"}, "finish_reason": null}]})
    );
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([StreamPart::trickle(
        event.into_bytes(),
        MS * 50,
    )])])
    .await
    .unwrap();
    // Each byte comes well within the 2 s idle timeout; the reply may take 600 ms.
    let conn = conn(2).with_reply_timeout(MS * 600);
    let started = Instant::now();
    let (chunks, error) =
        drain(llm_with(&fake, conn).chat(&hello(), &[], &ChatOptions::default())).await;
    let elapsed = started.elapsed();
    assert!(chunks.is_empty());
    assert!(
        matches!(error.as_ref().map(LlmError::kind), Some(ApiErrorKind::ReplyTimeout { after }) if *after == MS * 600),
        "{error:?}"
    );
    assert!(elapsed >= MS * 600 && elapsed < MS * 900, "{elapsed:?}");
    assert_eq!(fake.request_count(), 1);
}

// Item 7: secrets in URLs reach no log, error or `Debug` output.

/// Everything logged at any level while `f` runs.
async fn logs_of<F: std::future::Future>(f: F) -> (String, F::Output) {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let output = f.await;
    drop(guard);
    let logs = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
    (logs, output)
}

#[tokio::test]
async fn url_secrets_reach_no_log_error_or_debug_output() {
    // A port nobody listens on: every attempt fails to connect, and is logged.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://gateway:hunter2@127.0.0.1:{port}/v1?api-key=qs3cret");
    let builder = inference::Llm::builder("openai/gpt-4.1-mini")
        .base_url(&url)
        .api_key("APIkey")
        .api_secret("s3cret-secret")
        .conn_options(conn(3));
    let builder_debug = format!("{builder:?}");
    let llm = builder.build().unwrap();
    let llm_debug = format!("{llm:?}");
    let (logs, (chunks, error)) =
        logs_of(drain(llm.chat(&hello(), &[], &ChatOptions::default()))).await;
    assert!(chunks.is_empty());
    let error = error.expect("a connection error");
    assert!(matches!(error.kind(), ApiErrorKind::Connection { .. }), "{error:?}");
    assert!(logs.matches("retrying").count() >= 3, "the retries are logged: {logs}");
    let error_text = format!("{error} {error:?}");
    assert!(error_text.contains(&format!("http://***@127.0.0.1:{port}/v1")), "{error_text}");
    for (what, text) in [
        ("the logs", &logs),
        ("the error", &error_text),
        ("the builder's Debug", &builder_debug),
        ("the client's Debug", &llm_debug),
        ("the base URL", &llm.base_url().to_owned()),
    ] {
        for secret in ["hunter2", "qs3cret", "s3cret-secret"] {
            assert!(!text.contains(secret), "{what} show `{secret}`: {text}");
        }
    }

    // The same for the OpenAI client with an API key, and a bad URL.
    let builder = openai::Llm::builder("gpt").base_url(&url).api_key("sk-live-key");
    let debug = format!("{builder:?} {:?}", builder.clone().build().unwrap());
    assert!(!debug.contains("hunter2") && !debug.contains("sk-live-key"), "{debug}");
    let error =
        openai::Llm::builder("gpt").base_url("ftp://u:hunter2@host/v1").build().unwrap_err();
    assert!(!format!("{error} {error:?}").contains("hunter2"), "{error}");
}

#[tokio::test]
async fn a_password_in_the_url_still_authenticates() {
    let fake = FakeOpenAi::with_responses([FakeResponse::text("hi")]).await.unwrap();
    let url = fake.base_url().replace("http://", "http://gateway:hunter2@");
    let llm = openai::Llm::builder("gpt").base_url(url).conn_options(conn(0)).build().unwrap();
    let (chunks, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&chunks), "hi");
    // Basic credentials, from the URL: `gateway:hunter2`.
    let authorization = fake.last_request().unwrap().header("authorization").map(str::to_owned);
    assert_eq!(authorization.as_deref(), Some("Basic Z2F0ZXdheTpodW50ZXIy"));
}
