//! MCP toolsets against real MCP servers (rmcp's server side): over stdio as a child process
//! and over streamable HTTP on 127.0.0.1, driven by sessions whose model is a `FakeLlm`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use agents_core::llm::{FunctionCall, RunContext, Toolset};
use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse};
use agents_core::voice::{ErrorSource, SessionErrorEvent, SessionEvent};
use agents_mcp::test_server::Listing;
use agents_mcp::{Backoff, McpAgentExt, McpServer, McpSessionBuilderExt};
use serde_json::json;
use support::{HttpServer, next_event, outputs, stdio_server};

async fn turn_calling_echo(server: McpServer) {
    let llm = FakeLlm::new()
        .on_input("Say hello", FakeLlmResponse::tool_call("echo", json!({"text": "hello"})))
        .on_input("hello", FakeLlmResponse::text("The server said hello."));
    let session = AgentSession::builder().llm(llm.clone()).mcp_servers([server]).build();
    session.start(Agent::new("x")).await.unwrap();
    session.run("Say hello").await.unwrap();
    let offered = &llm.requests()[0].tools;
    assert!(offered.iter().any(|name| name == "echo"), "offered: {offered:?}");
    assert_eq!(outputs(&session), [("echo".to_owned(), "hello".to_owned(), false)]);
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_turn_calls_an_mcp_tool_over_stdio() {
    turn_calling_echo(stdio_server()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_turn_calls_an_mcp_tool_over_http() {
    let http = HttpServer::start().await;
    turn_calling_echo(http.mcp_server()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_errors_the_model_reads() {
    let http = HttpServer::start().await;
    let llm = FakeLlm::new().then(
        FakeLlmResponse::tool_call("fail", json!({}))
            .with_tool_call("refuse", json!({}))
            .with_tool_call("slow", json!({"ms": 3000})),
    );
    let server = http.mcp_server().timeout(Duration::from_millis(500));
    let llm = llm.then(FakeLlmResponse::text("Sorry."));
    let session = AgentSession::builder().llm(llm).mcp_servers([server]).build();
    session.start(Agent::new("x")).await.unwrap();
    session.run("Try").await.unwrap();
    let outputs = outputs(&session);
    assert_eq!(outputs[0], ("fail".to_owned(), "the database is down".to_owned(), true));
    assert_eq!(outputs[1].0, "refuse");
    assert!(outputs[1].2);
    assert!(
        outputs[1].1.starts_with("The MCP server `remote` refused the call to `refuse`:"),
        "{}",
        outputs[1].1
    );
    assert!(outputs[1].1.contains("calls are not accepted today"));
    assert_eq!(
        outputs[2],
        (
            "slow".to_owned(),
            "The MCP server `remote` did not answer the call to `slow` within 0.5 s.".to_owned(),
            true
        )
    );
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_notifications_are_tool_events() {
    let llm = FakeLlm::new()
        .on_input("Wait", FakeLlmResponse::tool_call("slow", json!({"ms": 90, "steps": 3})))
        .on_input("done after 90 ms", FakeLlmResponse::text("Done."));
    let session = AgentSession::builder().llm(llm).mcp_servers([stdio_server()]).build();
    let mut events = session.subscribe();
    session.start(Agent::new("x")).await.unwrap();
    session.run("Wait").await.unwrap();
    let mut progress = Vec::new();
    while progress.len() < 3 {
        progress.push(
            next_event(&mut events, |event| match event {
                SessionEvent::FunctionToolProgress { function_call, progress, total, message } => {
                    Some((function_call.name, progress, total, message))
                }
                _ => None,
            })
            .await,
        );
    }
    assert_eq!(
        progress,
        [
            ("slow".to_owned(), 1.0, Some(3.0), Some("step 1".to_owned())),
            ("slow".to_owned(), 2.0, Some(3.0), Some("step 2".to_owned())),
            ("slow".to_owned(), 3.0, Some(3.0), Some("step 3".to_owned())),
        ]
    );
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_added_mid_turn_is_offered_to_the_next_step() {
    let llm = FakeLlm::new()
        .on_input("Add", FakeLlmResponse::tool_call("add_tool", json!({"name": "weather"})))
        .on_input("added weather", FakeLlmResponse::tool_call("weather", json!({"text": "sunny"})))
        .on_input("sunny", FakeLlmResponse::text("It is sunny."));
    let session = AgentSession::builder().llm(llm.clone()).mcp_servers([stdio_server()]).build();
    session.start(Agent::new("x")).await.unwrap();
    session.run("Add").await.unwrap();
    let requests = llm.requests();
    assert!(!requests[0].tools.iter().any(|name| name == "weather"));
    assert!(requests[1].tools.iter().any(|name| name == "weather"), "the next step offers it");
    assert_eq!(outputs(&session)[1], ("weather".to_owned(), "sunny".to_owned(), false));
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_removed_while_called_completes_and_is_not_offered_again() {
    let llm = FakeLlm::new()
        .on_input(
            "Go",
            // The removal is sent 200 ms after the call, while the call runs on the server.
            FakeLlmResponse::tool_call("slow", json!({"ms": 400}))
                .with_tool_call("remove_tool", json!({"name": "slow"}))
                .with_duration(Duration::from_millis(200)),
        )
        .then(FakeLlmResponse::text("ok"));
    let session = AgentSession::builder().llm(llm.clone()).mcp_servers([stdio_server()]).build();
    session.start(Agent::new("x")).await.unwrap();
    session.run("Go").await.unwrap();
    assert_eq!(
        outputs(&session),
        [
            ("slow".to_owned(), "done after 400 ms".to_owned(), false),
            ("remove_tool".to_owned(), "removed slow".to_owned(), false),
        ]
    );
    let requests = llm.requests();
    assert!(requests[0].tools.iter().any(|name| name == "slow"));
    assert!(!requests[1].tools.iter().any(|name| name == "slow"), "no longer offered");
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_server_that_crashes_is_withdrawn_and_restored() {
    let llm = FakeLlm::new()
        .on_input("Crash", FakeLlmResponse::tool_call("crash", json!({})))
        .then(FakeLlmResponse::text("It crashed."))
        .on_input("Again", FakeLlmResponse::tool_call("echo", json!({"text": "back"})))
        .on_input("back", FakeLlmResponse::text("It is back."));
    let server = stdio_server()
        .reconnect_backoff(Backoff::new(Duration::from_millis(50), Duration::from_millis(200)));
    let toolset = server.into_toolset();
    let agent = Agent::new("x").with_toolsets([Arc::new(toolset.clone()) as _]).unwrap();
    let session = AgentSession::builder().llm(llm).build();
    let mut events = session.subscribe();
    session.start(agent.clone()).await.unwrap();
    assert!(agent.tools().contains("echo"));
    session.run("Crash").await.unwrap();
    let crash = &outputs(&session)[0];
    assert_eq!(crash.0, "crash");
    assert!(crash.2, "the call fails cleanly: {crash:?}");
    let mut toolset_errors = Vec::new();
    while toolset_errors.len() < 2 {
        toolset_errors.push(
            next_event(&mut events, |event| match event {
                SessionEvent::Error {
                    error: SessionErrorEvent::Toolset { toolset, message },
                    source: ErrorSource::Toolset,
                } => Some((toolset, message)),
                _ => None,
            })
            .await,
        );
    }
    assert_eq!(toolset_errors[0].0, "local");
    assert!(toolset_errors[0].1.contains("its tools are withdrawn"), "{:?}", toolset_errors[0]);
    assert!(toolset_errors[1].1.contains("is back"), "{:?}", toolset_errors[1]);
    assert!(agent.tools().contains("echo"), "restored");
    session.run("Again").await.unwrap();
    assert_eq!(outputs(&session)[1], ("echo".to_owned(), "back".to_owned(), false));
    session.close().await;
    assert!(!toolset.is_connected());
    assert!(agent.tools().is_empty(), "closed with the session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_are_made_canonical_and_strict_where_possible() {
    let toolset = stdio_server().into_toolset();
    toolset.setup().await.unwrap();
    let tools = toolset.tools().get();
    let no_schema = tools.get("no_schema").unwrap();
    assert_eq!(no_schema.parameters(), &json!({"type": "object", "properties": {}}));
    assert_eq!(no_schema.description(), "");
    assert!(no_schema.strict_parameters().is_some());

    let with_ref = tools.get("with_ref").unwrap();
    assert!(with_ref.parameters().get("$defs").is_none());
    assert!(with_ref.parameters().get("$schema").is_none());
    let strict = with_ref.strict_parameters().expect("strict once inlined");
    assert_eq!(strict["properties"]["address"]["required"], json!(["city"]));

    let with_format = tools.get("with_format").unwrap().parameters();
    assert_eq!(with_format["properties"]["when"]["format"], "date-time");
    assert!(with_format["properties"]["code"].get("format").is_none());

    let with_enum = tools.get("with_enum").unwrap();
    let strict = with_enum.strict_parameters().unwrap();
    assert_eq!(strict["properties"]["unit"]["enum"], json!(["celsius", "fahrenheit"]));
    assert_eq!(strict["properties"]["days"]["type"], json!(["integer", "null"]));

    let recursive = tools.get("recursive").unwrap();
    assert!(recursive.strict_parameters().is_none(), "a recursive $ref is sent non-strict");

    // Calls reach the server with the arguments as given (strict's nulls dropped).
    let call = FunctionCall::new("c1", "with_enum", r#"{"unit": "celsius", "days": null}"#);
    let output = with_enum.invoke(RunContext::new(call.clone()), &call.arguments).await.unwrap();
    assert_eq!(output.output, r#"{"unit":"celsius"}"#);
    let call = FunctionCall::new("c2", "with_ref", r#"{"address": {"city": "Paris"}}"#);
    let output = with_ref.invoke(RunContext::new(call.clone()), &call.arguments).await.unwrap();
    assert_eq!(output.output, r#"{"address":{"city":"Paris"}}"#);
    toolset.aclose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_parts_are_rendered_for_the_model() {
    let http = HttpServer::start().await;
    let toolset = http.mcp_server().into_toolset();
    toolset.setup().await.unwrap();
    let tools = toolset.tools().get();
    let call = FunctionCall::new("c1", "media", "{}");
    let output = tools.invoke(RunContext::new(call)).await.unwrap();
    assert_eq!(
        output.output,
        "a chart:\n\n[image: image/png, 5 bytes]\n\n[resource file:///notes.txt]\nremember the milk"
    );
    let call = FunctionCall::new("c2", "add", r#"{"a": 2, "b": 3}"#);
    let output = tools.invoke(RunContext::new(call)).await.unwrap();
    assert!(output.output.contains(r#"{"sum":5}"#), "{}", output.output);
    toolset.aclose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_tools_and_prefixes_shape_the_offered_names() {
    let http = HttpServer::start().await;
    let a = stdio_server().name("a").allowed_tools(["echo", "add"]).tool_name_prefix("a_");
    let b = http.mcp_server().name("b").allowed_tools(["echo"]).tool_name_prefix("b_");
    let llm = FakeLlm::new()
        .on_input("Hi", FakeLlmResponse::tool_call("b_echo", json!({"text": "from b"})))
        .on_input("from b", FakeLlmResponse::text("ok"));
    let agent = Agent::new("x").with_mcp_servers([a, b]).unwrap();
    let session = AgentSession::builder().llm(llm.clone()).build();
    session.start(agent).await.unwrap();
    session.run("Hi").await.unwrap();
    assert_eq!(llm.requests()[0].tools, ["a_echo", "a_add", "b_echo"]);
    assert_eq!(outputs(&session), [("b_echo".to_owned(), "from b".to_owned(), false)]);
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_with_one_tool_name_fail_start_naming_both() {
    let http = HttpServer::start().await;
    let agent = Agent::new("x")
        .with_mcp_servers([stdio_server().name("files"), http.mcp_server().name("weather")])
        .unwrap();
    let session = AgentSession::builder().llm(FakeLlm::new()).build();
    let error = session.start(agent.clone()).await.unwrap_err().to_string();
    assert!(
        error.contains("duplicate function tool name `echo`: defined by MCP server `files` and by MCP server `weather`"),
        "{error}"
    );
    assert!(agent.tools().is_empty(), "both servers were closed again");
}

#[tokio::test]
async fn a_server_that_cannot_start_is_a_clear_error() {
    let agent = Agent::new("x")
        .with_mcp_servers([McpServer::stdio("/nonexistent/mcp-server", ["--stdio"])])
        .unwrap();
    let session = AgentSession::builder().llm(FakeLlm::new()).build();
    let error = session.start(agent).await.unwrap_err().to_string();
    assert!(
        error.starts_with(
            "toolset `mcp-server` could not be set up: could not start the MCP server `mcp-server` (`/nonexistent/mcp-server`)"
        ),
        "{error}"
    );
    assert!(error.contains("check that the command is installed and on PATH"), "{error}");
}

#[tokio::test]
async fn debug_output_and_errors_never_show_header_values_or_url_secrets() {
    let server = McpServer::http("http://user:hunter2@127.0.0.1:9/mcp?key=sk-secret")
        .header("Authorization", "Bearer sk-live-token")
        .timeout(Duration::from_millis(300));
    let shown = format!("{server:?}");
    for secret in ["hunter2", "sk-secret", "sk-live-token"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    let error = server.into_toolset().setup().await.unwrap_err().to_string();
    for secret in ["hunter2", "sk-secret", "sk-live-token"] {
        assert!(!error.contains(secret), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_lists_its_tools_fails_setup_within_the_timeout() {
    let http = HttpServer::start().await;
    http.server.set_listing(Listing::Hang);
    let toolset = http.mcp_server().timeout(Duration::from_millis(300)).into_toolset();
    let setup = tokio::time::timeout(Duration::from_secs(5), toolset.setup()).await;
    let error = setup.expect("setup ends instead of hanging").unwrap_err().to_string();
    assert!(error.contains("did not answer `tools/list` within 0.3 s"), "{error}");
    tokio::time::timeout(Duration::from_secs(5), toolset.aclose()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_while_a_re_listing_hangs_does_not_wait_for_it() {
    let http = HttpServer::start().await;
    let toolset = http.mcp_server().timeout(Duration::from_secs(30)).into_toolset();
    toolset.setup().await.unwrap();
    http.server.set_listing(Listing::Hang);
    let call = FunctionCall::new("c1", "add_tool", json!({"name": "weather"}).to_string());
    let tools = toolset.tools().get();
    let calling = tokio::spawn(async move { tools.invoke(RunContext::new(call)).await });
    // The call's list change starts a re-listing that never ends.
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::time::timeout(Duration::from_secs(5), toolset.aclose())
        .await
        .expect("aclose does not wait for the listing");
    calling.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_errors_never_show_url_secrets_and_do_not_hold_calls_back() {
    let http = HttpServer::start().await;
    let url = format!("{}?key=sk-secret", http.url);
    let toolset = McpServer::http(url.clone()).timeout(Duration::from_secs(3)).into_toolset();
    toolset.setup().await.unwrap();
    http.server.set_listing(Listing::Fail(format!("no listing for {url}")));
    let tools = toolset.tools().get();
    let call = FunctionCall::new("c1", "add_tool", json!({"name": "weather"}).to_string());
    let started = std::time::Instant::now();
    let output = tools.invoke(RunContext::new(call)).await.unwrap();
    assert_eq!(output.output, "added weather");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the call waited {:?} for a listing that had failed",
        started.elapsed()
    );
    toolset.aclose().await;
    // The same listing at setup: its error is what the user sees.
    let toolset = McpServer::http(url).timeout(Duration::from_secs(3)).into_toolset();
    let error = toolset.setup().await.unwrap_err().to_string();
    assert!(error.contains("could not list the tools"), "{error}");
    assert!(!error.contains("sk-secret"), "{error}");
}
