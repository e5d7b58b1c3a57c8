//! MCP tool calls over stdio and streamable HTTP, and how fast a `list_changed` reaches the
//! offered tools; prints a Markdown table.
//!
//! Run with `cargo bench -p agents-bench --bench mcp`. Results are in `BENCHMARKS.md`.
//!
//! The server is agents-mcp's test server (rmcp's server side): over stdio it is this very
//! benchmark executable started again as a child process (with `AGENTS_MCP_BENCH_SERVER` set),
//! over HTTP it runs in-process on 127.0.0.1 on its own runtime thread. Its `echo` tool does
//! no work beyond copying its argument, so a call is the round trip.
//!
//! * `rmcp call`: `Peer::call_tool` of a bare rmcp client — the floor: transport, JSON-RPC,
//!   the server.
//! * `toolset call`: the same call as the model makes it, through an `McpToolset`'s
//!   `FunctionTool` (`ToolSet::invoke`: argument parsing, the request with its timeout and
//!   progress routing, rendering the result). `toolset − rmcp` is what agents-mcp adds.
//! * `list_changed → offered` (HTTP): a bare client asks the server to flip its tool list
//!   once; the time until a *second* client's `McpToolset` offers the new list (the
//!   notification, the re-listing and the atomic swap).
//! * `flip → offered` (stdio): an `McpToolset` call that changes the server's list, which
//!   returns once the new list is offered (the call, the notification and the re-listing).
//! * Python (`bench/python/mcp_calls.py`, in the virtual environment of
//!   `agents_bench::python`): the same `echo` calls on the same two servers from Python's `mcp`
//!   SDK, bare and through livekit-agents' MCP function tools; skipped, with the reason, when
//!   the environment cannot be made (`AGENTS_BENCH_NO_PYTHON=1` skips it on purpose).

use std::sync::Arc;
use std::time::{Duration, Instant};

use agents_bench::python;
use agents_core::llm::{FunctionCall, RunContext, ToolSet, Toolset};
use agents_mcp::McpServer;
use agents_mcp::test_server::TestServer;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleClient, ServiceExt};
use serde_json::json;
use tokio::runtime::Runtime;

/// Set in the child process: serve MCP on stdio instead of benchmarking.
const SERVER_ENV: &str = "AGENTS_MCP_BENCH_SERVER";
const WARM_UP: usize = 200;
const CALLS: usize = 2000;
const FLIPS: usize = 300;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    if std::env::var_os(SERVER_ENV).is_some() {
        return runtime.block_on(async {
            let service = TestServer::new(false).serve(rmcp::transport::stdio()).await?;
            service.waiting().await?;
            Ok(())
        });
    }
    // The bare rmcp HTTP client builds a default reqwest client, which needs a process-wide
    // crypto provider (agents-mcp configures its own).
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exe = std::env::current_exe()?;
    let url = http_server()?;
    println!("| benchmark | transport | median | p90 | mean | samples |");
    println!("|---|---|---|---|---|---|");
    runtime.block_on(async {
        let mut command = tokio::process::Command::new(&exe);
        command.env(SERVER_ENV, "1");
        let raw = ().serve(rmcp::transport::TokioChildProcess::new(command)?).await?;
        report("rmcp call", "stdio", raw_calls(&raw).await);
        let stdio = McpServer::stdio(exe.to_string_lossy(), Vec::<String>::new())
            .env(SERVER_ENV, "1")
            .into_toolset();
        stdio.setup().await?;
        report("toolset call", "stdio", toolset_calls(&stdio.tools().get()).await);
        report("flip → offered", "stdio", flips_through_toolset(&stdio.tools().get()).await);
        stdio.aclose().await;
        raw.cancel().await?;

        let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.as_str());
        let raw = ().serve(transport).await?;
        report("rmcp call", "HTTP", raw_calls(&raw).await);
        let http = McpServer::http(url.as_str()).into_toolset();
        http.setup().await?;
        report("toolset call", "HTTP", toolset_calls(&http.tools().get()).await);
        report("list_changed → offered", "HTTP", flips_seen(&raw, &http).await);
        http.aclose().await;
        raw.cancel().await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    // Python's MCP client (the `mcp` SDK, bare and through livekit-agents' MCP tools) on the
    // same two servers, in the same run.
    match python::python_venv() {
        Ok(python) => {
            let status = std::process::Command::new(python)
                .arg(python::script("mcp_calls.py"))
                .arg(&exe)
                .arg(&url)
                .status()?;
            if !status.success() {
                println!("(the Python side failed: {status})");
            }
        }
        Err(reason) => println!("(the Python side skipped: {reason})"),
    }
    Ok(())
}

/// The test server over HTTP on a runtime of its own (another thread); its URL.
fn http_server() -> Result<String, Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}/mcp", listener.local_addr()?);
    std::thread::spawn(move || serve_http(runtime, listener));
    Ok(url)
}

fn serve_http(runtime: Runtime, listener: tokio::net::TcpListener) {
    let server = TestServer::new(false);
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    runtime.block_on(async move {
        while let Ok((stream, _)) = listener.accept().await {
            // As HTTP servers do: responses are not held back waiting for ACKs.
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

async fn raw_calls(raw: &RunningService<RoleClient, ()>) -> Vec<Duration> {
    let call = || {
        let mut params = CallToolRequestParams::new("echo");
        params.arguments = json!({"text": "hi"}).as_object().cloned();
        raw.peer().call_tool(params)
    };
    for _ in 0..WARM_UP {
        let _ = call().await;
    }
    let mut times = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        let result = call().await;
        times.push(started.elapsed());
        assert!(result.is_ok(), "{result:?}");
    }
    times
}

async fn toolset_calls(tools: &ToolSet) -> Vec<Duration> {
    let call = || {
        let call = FunctionCall::new("call", "echo", r#"{"text": "hi"}"#);
        tools.invoke(RunContext::new(call))
    };
    for _ in 0..WARM_UP {
        let _ = call().await;
    }
    let mut times = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        let result = call().await;
        times.push(started.elapsed());
        assert!(result.is_ok_and(|output| output.output == "hi"));
    }
    times
}

async fn flips_through_toolset(tools: &ToolSet) -> Vec<Duration> {
    let mut times = Vec::with_capacity(FLIPS);
    for _ in 0..FLIPS {
        let call = FunctionCall::new("call", "flip", r#"{"times": 1}"#);
        let started = Instant::now();
        let result = tools.invoke(RunContext::new(call)).await;
        times.push(started.elapsed());
        assert!(result.is_ok());
    }
    times
}

async fn flips_seen(
    raw: &RunningService<RoleClient, ()>,
    toolset: &agents_mcp::McpToolset,
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(FLIPS);
    for _ in 0..FLIPS {
        let listed = toolset.tools().get().contains("flipper");
        let mut params = CallToolRequestParams::new("flip");
        params.arguments = json!({"times": 1}).as_object().cloned();
        let started = Instant::now();
        let flip = raw.peer().call_tool(params);
        let seen = async {
            while toolset.tools().get().contains("flipper") == listed {
                tokio::task::yield_now().await;
            }
            started.elapsed()
        };
        let (result, seen) = tokio::join!(flip, seen);
        assert!(result.is_ok());
        times.push(seen);
    }
    times
}

fn report(name: &str, transport: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |fraction: f64| times[((times.len() - 1) as f64 * fraction) as usize];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let micros = |duration: Duration| format!("{:.1} µs", duration.as_secs_f64() * 1e6);
    println!(
        "| {name} | {transport} | **{}** | {} | {} | {} |",
        micros(at(0.5)),
        micros(at(0.9)),
        micros(mean),
        times.len()
    );
}
