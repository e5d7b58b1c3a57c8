//! [`McpToolset`]: an MCP server's tools as a live toolset — listed on setup, re-listed on
//! `notifications/tools/list_changed`, withdrawn while the server is gone and restored when
//! it is back.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use agents_core::async_trait;
use agents_core::llm::{FunctionTool, LiveTools, Toolset, ToolsetError, ToolsetEvent};
use rmcp::model::Tool;
use rmcp::{Peer, RoleClient};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::connection::{Service, Shared, connect, scrub_for};
use crate::error::McpError;
use crate::server::McpServer;

/// The tools of one MCP server, as a [`Toolset`] for an agent or a session.
///
/// `setup` connects (starting the process of a stdio server) and lists the tools; from then
/// on a task owned by the toolset follows the server: on `notifications/tools/list_changed` it
/// re-lists and swaps the tools atomically (the next LLM request sees them, also in the
/// middle of a turn); when the connection ends (a stdio server that exits) the tools are
/// withdrawn, the server is reconnected with back-off and its tools restored, with a
/// [`ToolsetEvent`] each way. `aclose` stops the task and the connection (killing the child
/// process).
///
/// Cheap to clone (an `Arc` inside); clones are the same toolset.
#[derive(Clone)]
pub struct McpToolset {
    inner: Arc<Inner>,
}

struct Inner {
    server: McpServer,
    id: String,
    tools: LiveTools,
    shared: Arc<Shared>,
    /// The tools made so far, by their name for the model: a tool listed again unchanged is
    /// the same `FunctionTool` (no new strictness warning, equal snapshots).
    made: Mutex<HashMap<String, (Tool, FunctionTool)>>,
    running: tokio::sync::Mutex<Option<Running>>,
}

/// The task following the server, and how to stop it.
struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl fmt::Debug for McpToolset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpToolset")
            .field("server", &self.inner.server)
            .field("tools", &self.inner.tools.get())
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl McpToolset {
    /// The toolset of `server` (not connected until `setup`).
    pub fn new(server: McpServer) -> Self {
        let id = server.server_name();
        let shared = Arc::new(Shared::new(id.clone(), server.timeout));
        Self {
            inner: Arc::new(Inner {
                server,
                id,
                tools: LiveTools::new(),
                shared,
                made: Mutex::new(HashMap::new()),
                running: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// Whether the toolset is connected to its server now.
    pub fn is_connected(&self) -> bool {
        self.inner.shared.is_connected()
    }
}

#[async_trait]
impl Toolset for McpToolset {
    fn id(&self) -> &str {
        &self.inner.id
    }

    fn tools(&self) -> &LiveTools {
        &self.inner.tools
    }

    async fn setup(&self) -> Result<(), ToolsetError> {
        let mut running = self.inner.running.lock().await;
        if running.is_some() {
            return Ok(());
        }
        let failed = |error: McpError| ToolsetError::new(self.inner.id.clone(), error.to_string());
        let service =
            connect(&self.inner.server, self.inner.shared.clone()).await.map_err(failed)?;
        self.inner.publish(service.peer()).await.map_err(failed)?;
        let (stop, stopped) = watch::channel(false);
        let inner = self.inner.clone();
        let task = tokio::spawn(inner.follow(service, stopped).in_current_span());
        *running = Some(Running { stop, task });
        Ok(())
    }

    async fn aclose(&self) {
        let running = self.inner.running.lock().await.take();
        if let Some(Running { stop, task }) = running {
            stop.send_replace(true);
            // A panic in the task has been logged by the runtime; closing goes on.
            let _ = task.await;
        }
        self.inner.shared.set_peer(None);
        self.inner.tools.clear();
    }
}

impl Inner {
    /// Lists the server's tools (within the request timeout) and offers them.
    async fn publish(&self, peer: &Peer<RoleClient>) -> Result<(), McpError> {
        let notified = self.shared.notified();
        let timeout = self.shared.timeout;
        let reason = match tokio::time::timeout(timeout, peer.list_all_tools()).await {
            Ok(Ok(listed)) => Ok(listed),
            Ok(Err(error)) => Err(scrub_for(&self.server, &error.to_string())),
            Err(_) => Err(format!(
                "the server did not answer `tools/list` within {:.1} s",
                timeout.as_secs_f64()
            )),
        };
        let listed = match reason {
            Ok(listed) => listed,
            Err(reason) => {
                // The calls waiting for this listing need not wait out their timeout: the
                // tools offered stay what they were.
                self.shared.mark_published(notified);
                return Err(McpError::List { server: self.id.clone(), reason });
            }
        };
        let tools = self.function_tools(listed);
        self.shared.set_peer(Some(peer.clone()));
        if let Err(error) = self.tools.set(tools) {
            tracing::error!(server = %self.id, "the MCP server's tools were not offered: {error}");
        }
        self.shared.mark_published(notified);
        Ok(())
    }

    /// The listed tools the model may see, as function tools.
    fn function_tools(&self, listed: Vec<Tool>) -> Vec<FunctionTool> {
        let mut made = lock(&self.made);
        let mut tools = Vec::with_capacity(listed.len());
        let mut kept = HashMap::with_capacity(listed.len());
        for tool in listed {
            let remote = tool.name.to_string();
            if let Some(allowed) = &self.server.allowed_tools
                && !allowed.contains(&remote)
            {
                continue;
            }
            let name = format!("{}{remote}", self.server.prefix);
            let function = match made.remove(&name) {
                Some((known, function)) if known == tool => function,
                _ => match self.function_tool(&name, &tool) {
                    Some(function) => function,
                    None => continue,
                },
            };
            tools.push(function.clone());
            kept.insert(name, (tool, function));
        }
        *made = kept;
        tools
    }

    fn function_tool(&self, name: &str, tool: &Tool) -> Option<FunctionTool> {
        let remote = tool.name.to_string();
        let description = tool
            .description
            .as_deref()
            .map(str::to_owned)
            .or_else(|| tool.title.clone())
            .unwrap_or_default();
        let parameters = crate::schema::canonical(&tool.input_schema);
        let shared = self.shared.clone();
        let made = FunctionTool::from_schema(
            name,
            description,
            format!("MCP server `{}`", self.id),
            parameters,
            move |ctx, arguments| {
                let shared = shared.clone();
                let remote = remote.clone();
                async move { shared.call(ctx, &remote, arguments).await }
            },
        );
        match made {
            Ok(function) => Some(function),
            Err(error) => {
                tracing::warn!(server = %self.id, "the MCP tool `{}` is not offered: {error}", tool.name);
                None
            }
        }
    }

    /// Follows the server until stopped: re-lists on list changes, reconnects when the
    /// connection ends.
    async fn follow(self: Arc<Self>, service: Service, mut stopped: watch::Receiver<bool>) {
        let backoff = self.server.reconnect;
        let mut service = Some(service);
        let mut delay = backoff.initial;
        loop {
            let Some(current) = service.take() else {
                tokio::select! {
                    () = until_stopped(&mut stopped) => return,
                    () = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(backoff.max);
                let connected = tokio::select! {
                    () = until_stopped(&mut stopped) => return,
                    connected = connect(&self.server, self.shared.clone()) => connected,
                };
                let connected = match connected {
                    Ok(connected) => {
                        let published = tokio::select! {
                            () = until_stopped(&mut stopped) => return,
                            published = self.publish(connected.peer()) => published,
                        };
                        Ok((connected, published))
                    }
                    Err(error) => Err(error),
                };
                match connected {
                    Ok((connected, published)) => match published {
                        Ok(()) => {
                            delay = backoff.initial;
                            let count = self.tools.get().len();
                            self.tools.report(ToolsetEvent::Restored {
                                message: format!(
                                    "the MCP server `{}` is back: its {count} tools are offered again",
                                    self.id
                                ),
                            });
                            service = Some(connected);
                        }
                        Err(error) => tracing::warn!(server = %self.id, "{error}; retrying"),
                    },
                    Err(error) => tracing::warn!(server = %self.id, "{error}; retrying"),
                }
                continue;
            };
            let peer = current.peer().clone();
            let cancel = current.cancellation_token();
            let ended = current.waiting();
            tokio::pin!(ended);
            loop {
                tokio::select! {
                    biased;
                    () = until_stopped(&mut stopped) => {
                        cancel.cancel();
                        let _ = ended.await;
                        return;
                    }
                    _ = &mut ended => break,
                    () = self.shared.list_changed.notified() => {
                        let published = tokio::select! {
                            biased;
                            () = until_stopped(&mut stopped) => {
                                cancel.cancel();
                                let _ = ended.await;
                                return;
                            }
                            published = self.publish(&peer) => published,
                        };
                        if let Err(error) = published {
                            tracing::warn!(server = %self.id, "{error}");
                        }
                    }
                }
            }
            self.shared.set_peer(None);
            self.tools.clear();
            self.tools.report(ToolsetEvent::Unavailable {
                reason: format!(
                    "the MCP server `{}` stopped: its tools are withdrawn until it is back \
                     (reconnecting)",
                    self.id
                ),
            });
        }
    }
}

/// Resolves once the toolset is closing (or its owner is gone).
async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
