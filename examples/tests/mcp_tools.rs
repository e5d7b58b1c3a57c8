//! `mcp_tools`, run as a user runs it (`console --text`) against a fake LiveKit Inference and
//! agents-mcp's test MCP server, served over streamable HTTP on 127.0.0.1: a call goes
//! through the server, the server changes its tool list, and the next request offers the
//! new tool.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use agents_mcp::test_server::TestServer;
use agents_test_support::{FakeOpenAi, FakeResponse, RecordedRequest};
use common::{assert_in_order, example, last_message, last_user_text, show};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;

/// agents-mcp's test server over streamable HTTP on 127.0.0.1; returns its URL. It stops
/// with the test's runtime.
async fn start_mcp_server() -> String {
    let server = TestServer::new(false);
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    url
}

/// A model that echoes through the server, asks it for a new tool, then uses that tool.
fn model(request: &RecordedRequest) -> FakeResponse {
    let last = last_message(request);
    if last["role"] == "tool" {
        return FakeResponse::text(format!(
            "The server said: {}",
            last["content"].as_str().unwrap()
        ));
    }
    let user = last_user_text(request);
    if user.starts_with("echo") {
        FakeResponse::tool_call("call_1", "echo", r#"{"text":"hello"}"#)
    } else if user.starts_with("add") {
        FakeResponse::tool_call("call_2", "add_tool", r#"{"name":"shout"}"#)
    } else if user.starts_with("shout") {
        FakeResponse::tool_call("call_3", "shout", r#"{"text":"HELLO"}"#)
    } else {
        FakeResponse::text("?")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_come_from_the_server_and_follow_its_changes() {
    let llm = FakeOpenAi::with_handler(model).await.unwrap();
    let url = start_mcp_server().await;
    let mut command = example("mcp_tools", &["console", "--text"], &llm.base_url());
    command.env("MCP_SERVER", &url);
    let output =
        common::run_with_input(command, "echo hello\nadd a tool called shout\nshout hello\n").await;
    assert_in_order(
        &output,
        &[
            "➜ echo",
            "✓ hello",
            "The server said: hello",
            "➜ add_tool",
            "✓ added shout",
            "➜ shout",
            "✓ HELLO",
            "The server said: HELLO",
        ],
    );
    let requests = llm.requests();
    assert_eq!(requests.len(), 6, "{}", show(&output));
    let offered = requests[0].tool_names();
    assert_eq!(offered[0], "note", "the agent's own tool first: {offered:?}");
    assert!(offered.contains(&"echo") && offered.contains(&"add_tool"), "{offered:?}");
    assert!(!offered.contains(&"shout"), "{offered:?}");
    // The step right after `add_tool` already offers the new tool, and so does the next turn.
    assert_eq!(last_message(&requests[3])["content"], "added shout");
    for request in &requests[3..] {
        assert!(request.tool_names().contains(&"shout"), "{:?}", request.tool_names());
    }
}

#[tokio::test]
async fn without_mcp_server_the_console_says_what_to_set() {
    let llm = FakeOpenAi::with_handler(model).await.unwrap();
    let mut command = example("mcp_tools", &["console", "--text"], &llm.base_url());
    command.env_remove("MCP_SERVER");
    let output = common::run_with_input(command, "echo hello\n").await;
    assert!(!output.status.success(), "{}", show(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("set MCP_SERVER to an MCP server's URL"), "{}", show(&output));
    assert_eq!(llm.request_count(), 0);
}

#[tokio::test]
async fn a_stdio_server_that_cannot_start_is_named_in_the_error() {
    let llm = FakeOpenAi::with_handler(model).await.unwrap();
    let mut command = example("mcp_tools", &["console", "--text"], &llm.base_url());
    command.env("MCP_SERVER", "/nonexistent/mcp-server --stdio");
    let output = common::run_with_input(command, "echo hello\n").await;
    assert!(!output.status.success(), "{}", show(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "could not start the MCP server `mcp-server` (`/nonexistent/mcp-server`): No such \
             file or directory"
        ),
        "{}",
        show(&output)
    );
    assert_eq!(llm.request_count(), 0);
}
