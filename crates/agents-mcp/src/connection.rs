//! One connection to an MCP server: the transport, the client handler (tool list changes,
//! progress), listing tools, and calling them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use agents_core::llm::{RunContext, ToolError, ToolOutput};
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientRequest, ProgressNotificationParam,
    ProgressToken, ServerResult,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService};
use rmcp::{ClientHandler, Peer, RoleClient, ServiceError, ServiceExt};
use serde_json::Value;
use tokio::sync::{Notify, watch};

use crate::error::McpError;
use crate::server::{McpServer, Transport, redacted_url};

/// A running client session with the server.
pub(crate) type Service = RunningService<RoleClient, Handler>;

/// What the server tells the client: tool list changes and call progress.
pub(crate) struct Handler {
    pub(crate) shared: Arc<Shared>,
}

/// State shared by the toolset, its tools and the connection's handler.
pub(crate) struct Shared {
    /// The server's name.
    pub(crate) server: String,
    /// The current connection, when there is one.
    peer: Mutex<Option<Peer<RoleClient>>>,
    /// Set by `notifications/tools/list_changed`.
    pub(crate) list_changed: Notify,
    /// How many `list_changed` notifications came.
    notified: AtomicU64,
    /// The number of notifications the offered tools reflect.
    published: watch::Sender<u64>,
    /// The calls in flight, by their progress token, with when each ended: a notification the
    /// server sent just before its answer may be handled just after it (rmcp runs notification
    /// handlers as tasks of their own), so an ended call keeps its route for `PROGRESS_GRACE`.
    progress: Mutex<HashMap<ProgressToken, (RunContext, Option<Instant>)>>,
    /// How long a request may take.
    pub(crate) timeout: Duration,
}

/// How long an ended call still takes the progress notifications sent before its answer.
const PROGRESS_GRACE: Duration = Duration::from_secs(1);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(server: String, timeout: Duration) -> Self {
        Self {
            server,
            peer: Mutex::new(None),
            list_changed: Notify::new(),
            notified: AtomicU64::new(0),
            published: watch::Sender::new(0),
            progress: Mutex::new(HashMap::new()),
            timeout,
        }
    }

    pub(crate) fn set_peer(&self, peer: Option<Peer<RoleClient>>) {
        *lock(&self.peer) = peer;
    }

    /// The notifications seen so far: a listing started now reflects them.
    pub(crate) fn notified(&self) -> u64 {
        self.notified.load(Ordering::SeqCst)
    }

    /// The tools listed after `notified` notifications are offered.
    pub(crate) fn mark_published(&self, notified: u64) {
        self.published.send_if_modified(|published| {
            let newer = notified > *published;
            if newer {
                *published = notified;
            }
            newer
        });
    }

    /// Waits (up to the timeout) until the tools offered reflect every `list_changed` that
    /// came so far: a call that changed the server's tools returns once the next LLM
    /// request will see the change.
    async fn wait_for_published(&self) {
        let seen = self.notified();
        let mut published = self.published.subscribe();
        let caught_up = published.wait_for(|published| *published >= seen);
        let _ = tokio::time::timeout(self.timeout, caught_up).await;
    }

    pub(crate) fn is_connected(&self) -> bool {
        lock(&self.peer).is_some()
    }

    fn peer(&self) -> Option<Peer<RoleClient>> {
        lock(&self.peer).clone()
    }

    /// Calls the server's tool `name` with `arguments`, for the call in `ctx`.
    pub(crate) async fn call(
        &self,
        ctx: RunContext,
        name: &str,
        arguments: Value,
    ) -> Result<ToolOutput, ToolError> {
        let server = &self.server;
        let Some(peer) = self.peer() else {
            return Err(ToolError::message(format!(
                "The MCP server `{server}` is not available right now (it is reconnecting): \
                 `{name}` was not run. Try again later."
            )));
        };
        let mut params = CallToolRequestParams::new(name.to_owned());
        params.arguments = match arguments {
            Value::Object(map) => Some(map),
            _ => None,
        };
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let options = PeerRequestOptions::with_timeout(self.timeout);
        let handle = peer
            .send_request_with_option(request, options)
            .await
            .map_err(|error| failure(server, name, &error))?;
        let token = handle.progress_token.clone();
        {
            let mut progress = lock(&self.progress);
            // Routes of calls that ended more than the grace period ago go now.
            progress
                .retain(|_, (_, ended)| ended.is_none_or(|ended| ended.elapsed() < PROGRESS_GRACE));
            progress.insert(token.clone(), (ctx, None));
        }
        let _unregister = Unregister { shared: self, token };
        let response = handle.await_response().await;
        self.wait_for_published().await;
        match response {
            Ok(ServerResult::CallToolResult(result)) => {
                let text = crate::content::render(&result);
                if result.is_error == Some(true) {
                    let text = if text.is_empty() { "the tool failed".to_owned() } else { text };
                    return Err(ToolError::message(text));
                }
                Ok(ToolOutput::text(text))
            }
            Ok(_) => Err(ToolError::message(format!(
                "The MCP server `{server}` answered the call to `{name}` with something that is \
                 not a tool result."
            ))),
            Err(error) => Err(failure(server, name, &error)),
        }
    }

    fn progress(&self, params: ProgressNotificationParam) {
        let ctx = lock(&self.progress)
            .get(&params.progress_token)
            .filter(|(_, ended)| ended.is_none_or(|ended| ended.elapsed() < PROGRESS_GRACE))
            .map(|(ctx, _)| ctx.clone());
        if let Some(ctx) = ctx {
            ctx.report_progress(params.progress, params.total, params.message);
        }
    }
}

/// Marks a call's progress routing as ended when the call ends, however it ends (the next
/// call removes it once the grace period is over).
struct Unregister<'a> {
    shared: &'a Shared,
    token: ProgressToken,
}

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        if let Some((_, ended)) = lock(&self.shared.progress).get_mut(&self.token) {
            *ended = Some(Instant::now());
        }
    }
}

/// A failed call, in words the model can act on.
fn failure(server: &str, name: &str, error: &ServiceError) -> ToolError {
    ToolError::message(match error {
        ServiceError::McpError(error) => {
            format!("The MCP server `{server}` refused the call to `{name}`: {}", error.message)
        }
        ServiceError::Timeout { timeout } => format!(
            "The MCP server `{server}` did not answer the call to `{name}` within {:.1} s.",
            timeout.as_secs_f64()
        ),
        ServiceError::TransportClosed | ServiceError::TransportSend(_) => format!(
            "The MCP server `{server}` stopped during the call to `{name}`; the call may not have \
             completed."
        ),
        other => format!("The call to `{name}` on the MCP server `{server}` failed: {other}"),
    })
}

impl ClientHandler for Handler {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.shared.notified.fetch_add(1, Ordering::SeqCst);
        self.shared.list_changed.notify_one();
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.shared.progress(params);
    }
}

/// Connects to `server` (starting its process, for stdio) and completes the handshake.
pub(crate) async fn connect(server: &McpServer, shared: Arc<Shared>) -> Result<Service, McpError> {
    let name = shared.server.clone();
    let handler = Handler { shared };
    let connecting = async {
        match &server.transport {
            Transport::Stdio { command, args, env, cwd } => {
                let mut process = tokio::process::Command::new(command);
                process.args(args).envs(env).kill_on_drop(true);
                if let Some(cwd) = cwd {
                    process.current_dir(cwd);
                }
                let transport =
                    rmcp::transport::TokioChildProcess::new(process).map_err(|error| {
                        McpError::Spawn {
                            server: name.clone(),
                            command: command.clone(),
                            reason: error.to_string(),
                        }
                    })?;
                handler.serve(transport).await.map_err(|error| McpError::Connect {
                    server: name.clone(),
                    target: format!("`{command}`"),
                    reason: error.to_string(),
                })
            }
            Transport::Http { url, headers } => {
                let client = crate::http::client(&name, url, headers, server.timeout)?;
                let config =
                    rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
                        url.as_str(),
                    );
                let transport =
                    rmcp::transport::StreamableHttpClientTransport::with_client(client, config);
                handler.serve(transport).await.map_err(|error| McpError::Connect {
                    server: name.clone(),
                    target: redacted_url(url),
                    reason: scrub(&error.to_string(), url, headers),
                })
            }
        }
    };
    match tokio::time::timeout(server.timeout.max(Duration::from_secs(1)) * 2, connecting).await {
        Ok(result) => result,
        Err(_) => Err(McpError::Connect {
            server: name,
            target: match &server.transport {
                Transport::Stdio { command, .. } => format!("`{command}`"),
                Transport::Http { url, .. } => redacted_url(url),
            },
            reason: "the handshake did not finish in time".to_owned(),
        }),
    }
}

/// `text` without the secrets of `server`'s URL and headers (nothing to hide for stdio).
pub(crate) fn scrub_for(server: &McpServer, text: &str) -> String {
    match &server.transport {
        Transport::Stdio { .. } => text.to_owned(),
        Transport::Http { url, headers } => scrub(text, url, headers),
    }
}

/// `text` without the secrets of `url` (user information, query) and of the header values.
fn scrub(text: &str, url: &str, headers: &[(String, String)]) -> String {
    let mut secrets: Vec<String> = headers.iter().map(|(_, value)| value.clone()).collect();
    if let Ok(parsed) = reqwest::Url::parse(url) {
        secrets.push(parsed.to_string());
        secrets.extend(parsed.password().map(str::to_owned));
        secrets.extend(parsed.query().map(str::to_owned));
        secrets.extend(parsed.query_pairs().map(|(_, value)| value.into_owned()));
    }
    secrets.push(url.to_owned());
    // Longest first, so that a secret inside another is not left half-replaced.
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|secret| secret.len() >= 4) {
        let replacement = if secret.as_str() == url || reqwest::Url::parse(secret).is_ok() {
            redacted_url(url)
        } else {
            "<redacted>".to_owned()
        };
        text = text.replace(secret.as_str(), &replacement);
    }
    text
}
