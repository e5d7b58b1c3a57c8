//! `WorkerOptions`: how a worker connects to LiveKit and how much work it takes (Python's
//! `ServerOptions` / `WorkerOptions`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

/// Python's `load_threshold` in production (`start`).
pub const DEFAULT_LOAD_THRESHOLD: f32 = 0.7;
/// Python's `drain_timeout`.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(3600);
/// Python's health/HTTP port in production.
pub const DEFAULT_HTTP_PORT: u16 = 8081;
/// Python's `max_retry`: consecutive failed connection attempts before the worker gives up.
pub const DEFAULT_MAX_RETRY: u32 = 16;
/// How long an accepted job waits for the server's assignment (Python's `ASSIGNMENT_TIMEOUT`).
pub const ASSIGNMENT_TIMEOUT: Duration = Duration::from_millis(7500);

/// Which jobs the worker is registered for (Python's `ServerType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerType {
    /// One job per new room (`JT_ROOM`, the default).
    #[default]
    Room,
    /// One job per new publisher in a room (`JT_PUBLISHER`).
    Publisher,
}

impl ServerType {
    /// The protocol's name: `JT_ROOM` or `JT_PUBLISHER`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Room => "JT_ROOM",
            Self::Publisher => "JT_PUBLISHER",
        }
    }
}

/// Where a worker runs its jobs.
///
/// The default is [`Tasks`](Self::Tasks): every job a task of the worker's process, sharing
/// what the setup function prepared — the lightest (about 150 KB per idle text job) and the
/// fastest to start. A panic, an error or a hang in a job ends that job only. What a task
/// cannot contain — a native library aborting the process, an out-of-memory kill — ends
/// every job of the process; [`Processes`](Self::Processes) bounds that to one host's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Isolation {
    /// Jobs are tasks of the worker's process (the default).
    #[default]
    Tasks,
    /// Jobs run in `hosts` child processes (this program again, through
    /// [`cli::run_app`](crate::cli::run_app)), each running the setup function once and many
    /// jobs as tasks, new jobs going to the host with the fewest. A host that dies takes only
    /// its jobs, reported failed; a new host replaces it.
    Processes {
        /// How many host processes.
        hosts: usize,
    },
}

/// What the agent's participant may do in the rooms it joins (Python's
/// `WorkerPermissions`): every permission but `hidden` by default.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerPermissions {
    /// Publish tracks.
    pub can_publish: bool,
    /// Subscribe to tracks.
    pub can_subscribe: bool,
    /// Publish data.
    pub can_publish_data: bool,
    /// Update its own metadata and attributes.
    pub can_update_metadata: bool,
    /// Hidden from other participants.
    pub hidden: bool,
}

impl Default for WorkerPermissions {
    fn default() -> Self {
        Self {
            can_publish: true,
            can_subscribe: true,
            can_publish_data: true,
            can_update_metadata: true,
            hidden: false,
        }
    }
}

/// A load function: the worker's load between 0 and 1 (Python's `load_fnc`). The default
/// measures the CPU the process may use (cgroup-aware).
pub type LoadFn = Arc<dyn Fn() -> f32 + Send + Sync>;

/// How a worker connects to LiveKit and how much work it takes (Python's `ServerOptions`).
///
/// Start from [`WorkerOptions::production`] (`start`) or [`WorkerOptions::development`]
/// (`dev`), then change fields. The API secret never appears in `Debug` output.
///
/// ```
/// use agents_core::worker::WorkerOptions;
///
/// let mut options = WorkerOptions::production("wss://my.livekit.cloud", "APIkey", "secret");
/// options.agent_name = "my-agent".into(); // explicit dispatch only
/// options.max_jobs = Some(20);
/// assert_eq!(options.load_threshold, 0.7);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct WorkerOptions {
    /// The LiveKit server (`LIVEKIT_URL`): `http`, `https`, `ws` or `wss`.
    pub url: String,
    /// The API key (`LIVEKIT_API_KEY`).
    pub api_key: String,
    /// The API secret (`LIVEKIT_API_SECRET`).
    pub api_secret: String,
    /// The agent name: empty for automatic dispatch (a job for every new room), else explicit
    /// dispatch only (`LIVEKIT_AGENT_NAME`).
    pub agent_name: String,
    /// Room or publisher jobs.
    pub server_type: ServerType,
    /// The permissions of the agent's participant.
    pub permissions: WorkerPermissions,
    /// The namespace, if any.
    pub namespace: Option<String>,
    /// The deployment (`LIVEKIT_AGENT_DEPLOYMENT`).
    pub deployment: String,
    /// LiveKit Cloud's worker token (`LIVEKIT_WORKER_TOKEN`), sent as the `worker_token`
    /// query parameter.
    pub worker_token: Option<String>,
    /// No new jobs at or above this load (0.7 in production; infinite, i.e. off, in
    /// development).
    pub load_threshold: f32,
    /// The load function (default: the process's CPU use, cgroup-aware).
    pub load_fnc: Option<LoadFn>,
    /// At most this many jobs at once, reservations included (default: no limit). Taken
    /// atomically when a job is accepted: a burst of requests never overshoots it.
    pub max_jobs: Option<usize>,
    /// Consecutive failed connection attempts before the worker gives up (16).
    pub max_retry: u32,
    /// How long a drain waits for running jobs (3600 s).
    pub drain_timeout: Duration,
    /// How long an accepted job waits for its assignment (7.5 s).
    pub assignment_timeout: Duration,
    /// How often the worker's status is sent (2.5 s).
    pub status_interval: Duration,
    /// How often the load is sampled (0.5 s).
    pub load_interval: Duration,
    /// How often the control connection is pinged at the WebSocket level (30 s).
    pub ping_interval: Duration,
    /// How long the `request_fnc` may take to accept or reject (5 s); a request it leaves
    /// unanswered is rejected.
    pub request_timeout: Duration,
    /// The health server's address (all interfaces).
    pub host: IpAddr,
    /// The health server's port: 8081 in production, 0 (random) in development; `None` for
    /// no health server.
    pub port: Option<u16>,
    /// Warn when the process's memory per running job exceeds this many MB (1000; 0 for
    /// never).
    pub job_memory_warn_mb: u64,
    /// Where jobs run: tasks of this process (the default), or host processes.
    pub isolation: Isolation,
}

impl fmt::Debug for WorkerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerOptions")
            .field("url", &redact(&self.url))
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .field("agent_name", &self.agent_name)
            .field("server_type", &self.server_type)
            .field("worker_token", &self.worker_token.as_ref().map(|_| "<redacted>"))
            .field("load_threshold", &self.load_threshold)
            .field("max_jobs", &self.max_jobs)
            .field("drain_timeout", &self.drain_timeout)
            .field("port", &self.port)
            .field("isolation", &self.isolation)
            .finish_non_exhaustive()
    }
}

impl WorkerOptions {
    /// Production defaults (Python's `start`): load threshold 0.7, health on port 8081.
    pub fn production(
        url: impl Into<String>,
        api_key: impl Into<String>,
        api_secret: impl Into<String>,
    ) -> Self {
        Self {
            url: url.into(),
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            agent_name: String::new(),
            server_type: ServerType::Room,
            permissions: WorkerPermissions::default(),
            namespace: None,
            deployment: String::new(),
            worker_token: None,
            load_threshold: DEFAULT_LOAD_THRESHOLD,
            load_fnc: None,
            max_jobs: None,
            max_retry: DEFAULT_MAX_RETRY,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            assignment_timeout: ASSIGNMENT_TIMEOUT,
            status_interval: Duration::from_millis(2500),
            load_interval: Duration::from_millis(500),
            ping_interval: Duration::from_secs(30),
            request_timeout: Duration::from_secs(5),
            host: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: Some(DEFAULT_HTTP_PORT),
            job_memory_warn_mb: 1000,
            isolation: Isolation::Tasks,
        }
    }

    /// Development defaults (Python's `dev`): no load threshold, health on a random port.
    pub fn development(
        url: impl Into<String>,
        api_key: impl Into<String>,
        api_secret: impl Into<String>,
    ) -> Self {
        Self {
            load_threshold: f32::INFINITY,
            port: Some(0),
            ..Self::production(url, api_key, api_secret)
        }
    }
}

/// `url` without user info and query, to show: everything up to its last `@` is redacted (a
/// password may hold `@` or `/`), with or without a scheme.
pub(crate) fn redact(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let Some((userinfo, host)) = url.rsplit_once('@') else {
        return url.to_owned();
    };
    // The scheme, if the URL starts with one (letters, digits, `+-.`): never text before it.
    let scheme = userinfo.split_once("://").map(|(scheme, _)| scheme).filter(|scheme| {
        !scheme.is_empty()
            && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    match scheme {
        Some(scheme) => format!("{scheme}://<redacted>@{host}"),
        None => format!("<redacted>@{host}"),
    }
}
