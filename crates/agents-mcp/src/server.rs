//! What an MCP server is and how to reach it: [`McpServer`], built with
//! [`McpServer::stdio`] or [`McpServer::http`] (Python's `MCPServerStdio` / `MCPServerHTTP`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agents_core::llm::Toolset;

use crate::toolset::McpToolset;

/// How to reach the server.
#[derive(Clone)]
pub(crate) enum Transport {
    /// A child process speaking MCP on its stdin/stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<PathBuf>,
    },
    /// Streamable HTTP.
    Http { url: String, headers: Vec<(String, String)> },
}

/// An MCP server to take tools from (Python's `mcp.MCPServerStdio` / `mcp.MCPServerHTTP`).
///
/// A description only: [`into_toolset`](Self::into_toolset) (or giving it to
/// `mcp_servers(...)`) makes the [`McpToolset`] that connects when the session sets it up.
///
/// ```
/// use std::time::Duration;
/// use agents_mcp::McpServer;
///
/// let weather = McpServer::http("https://mcp.example.com/mcp")
///     .header("Authorization", "Bearer secret-token")
///     .timeout(Duration::from_secs(10))
///     .allowed_tools(["get_forecast"])
///     .tool_name_prefix("weather_");
/// assert!(!format!("{weather:?}").contains("secret-token"));
///
/// let files = McpServer::stdio("npx", ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"])
///     .name("files");
/// assert_eq!(files.server_name(), "files");
/// ```
#[derive(Clone)]
pub struct McpServer {
    pub(crate) transport: Transport,
    pub(crate) name: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) allowed_tools: Option<Vec<String>>,
    pub(crate) prefix: String,
    pub(crate) reconnect: Backoff,
}

/// How a server whose connection ends is reconnected: waits doubling from `initial` up to
/// `max`, reset after every successful connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { initial: Duration::from_millis(200), max: Duration::from_secs(10) }
    }
}

impl Backoff {
    /// Waits from `initial`, doubling up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max: max.max(initial) }
    }
}

impl McpServer {
    /// Python's `client_session_timeout_seconds` default: how long a request may take.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    fn with_transport(transport: Transport) -> Self {
        Self {
            transport,
            name: None,
            timeout: Self::DEFAULT_TIMEOUT,
            allowed_tools: None,
            prefix: String::new(),
            reconnect: Backoff::default(),
        }
    }

    /// A server run as a child process speaking MCP on stdin/stdout (Python's
    /// `MCPServerStdio(command, args)`). The process is started by `setup`, restarted with
    /// back-off if it exits, and killed on close.
    pub fn stdio(
        command: impl Into<String>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::with_transport(Transport::Stdio {
            command: command.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: BTreeMap::new(),
            cwd: None,
        })
    }

    /// A server over streamable HTTP at `url` (Python's `MCPServerHTTP(url)`).
    pub fn http(url: impl Into<String>) -> Self {
        Self::with_transport(Transport::Http { url: url.into(), headers: Vec::new() })
    }

    /// Names the server in tool origins, logs, errors and events (default: the command, or
    /// the URL's host).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds an HTTP header to every request (HTTP servers only; e.g. `Authorization`). Header
    /// values never appear in logs, errors or `Debug` output.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let Transport::Http { headers, .. } = &mut self.transport {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// Sets an environment variable of the child process (stdio servers only; Python's `env`).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        if let Transport::Stdio { env, .. } = &mut self.transport {
            env.insert(key.into(), value.into());
        }
        self
    }

    /// Sets the working directory of the child process (stdio servers only; Python's `cwd`).
    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        if let Transport::Stdio { cwd: dir, .. } = &mut self.transport {
            *dir = Some(cwd.into());
        }
        self
    }

    /// How long a request to the server (a tool call, a listing, the connection) may take
    /// (default 5 s, Python's `client_session_timeout_seconds`). A tool call that takes
    /// longer ends with an error the model reads.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Offers only these of the server's tools (by the server's names; Python's
    /// `allowed_tools`).
    pub fn allowed_tools(mut self, tools: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.allowed_tools = Some(tools.into_iter().map(Into::into).collect());
        self
    }

    /// Prefixes the server's tool names as the model sees them, so that two servers' tools
    /// cannot clash (calls go to the server under its own names).
    pub fn tool_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How the server is reconnected when its connection ends (a stdio server that exits).
    pub fn reconnect_backoff(mut self, backoff: Backoff) -> Self {
        self.reconnect = backoff;
        self
    }

    /// The server's name: as given, else the command or the URL's host.
    pub fn server_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match &self.transport {
            Transport::Stdio { command, .. } => {
                command.rsplit('/').next().unwrap_or(command).to_owned()
            }
            Transport::Http { url, .. } => reqwest::Url::parse(url)
                .ok()
                .and_then(|url| url.host_str().map(str::to_owned))
                .unwrap_or_else(|| "mcp".to_owned()),
        }
    }

    /// The toolset that takes its tools from this server.
    pub fn into_toolset(self) -> McpToolset {
        McpToolset::new(self)
    }

    /// [`into_toolset`](Self::into_toolset), shared, as agents and sessions take toolsets.
    pub fn into_shared(self) -> Arc<dyn Toolset> {
        Arc::new(self.into_toolset())
    }
}

/// `url` as it may be shown: without user information or query.
pub(crate) fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.to_string()
        }
        Err(_) => "<an invalid URL>".to_owned(),
    }
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("McpServer");
        debug.field("name", &self.server_name());
        match &self.transport {
            Transport::Stdio { command, args, env, cwd } => {
                let env: Vec<&String> = env.keys().collect();
                debug
                    .field("command", command)
                    .field("args", args)
                    .field("env", &env)
                    .field("cwd", cwd);
            }
            Transport::Http { url, headers } => {
                let headers: Vec<&String> = headers.iter().map(|(name, _)| name).collect();
                debug.field("url", &redacted_url(url)).field("headers", &headers);
            }
        }
        debug
            .field("timeout", &self.timeout)
            .field("allowed_tools", &self.allowed_tools)
            .field("tool_name_prefix", &self.prefix)
            .finish()
    }
}
