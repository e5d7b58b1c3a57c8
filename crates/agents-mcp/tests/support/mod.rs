//! Real MCP servers for the tests: the test server over stdio (a child process) and over
//! streamable HTTP on 127.0.0.1, both built with rmcp's server side.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use agents_core::voice::{AgentSession, SessionEvent};
use agents_mcp::McpServer;
use agents_mcp::test_server::TestServer;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// The test server as a child process.
pub fn stdio_server() -> McpServer {
    McpServer::stdio(env!("CARGO_BIN_EXE_agents-mcp-test-server"), Vec::<String>::new())
        .name("local")
        .timeout(Duration::from_secs(10))
}

/// The test server over streamable HTTP on 127.0.0.1; stops when dropped.
pub struct HttpServer {
    pub url: String,
    pub server: TestServer,
    task: JoinHandle<()>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HttpServer {
    pub async fn start() -> Self {
        let server = TestServer::new(false);
        let shared = server.clone();
        let service = StreamableHttpService::new(
            move || Ok(shared.clone()),
            Arc::new(LocalSessionManager::default()),
            StreamableHttpServerConfig::default(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(service.clone());
                connections.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, server, task }
    }

    pub fn mcp_server(&self) -> McpServer {
        McpServer::http(self.url.clone())
            .name("remote")
            .header("Authorization", "Bearer test-token")
            .timeout(Duration::from_secs(10))
    }
}

/// The next event matching `pick`, within 10 s.
pub async fn next_event<T>(
    events: &mut broadcast::Receiver<SessionEvent>,
    mut pick: impl FnMut(SessionEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(event) {
                        return found;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the session's events ended"),
            }
        }
    })
    .await
    .expect("the event within 10 s")
}

/// The outputs of the function calls in the session's history, by tool name, in order.
pub fn outputs(session: &AgentSession) -> Vec<(String, String, bool)> {
    session
        .history()
        .items()
        .iter()
        .filter_map(|item| match item {
            agents_core::llm::ChatItem::FunctionCallOutput(output) => {
                Some((output.name.clone(), output.output.clone(), output.is_error))
            }
            _ => None,
        })
        .collect()
}
