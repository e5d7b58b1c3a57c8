//! `dev`, `start` and `connect`: the worker's command line (clap), signals and exit status.
//!
//! * `dev`: a worker with development defaults (debug logs, no load threshold, health on a
//!   random port); the first Ctrl+C or SIGTERM closes it at once (its jobs ended gracefully).
//! * `start`: production defaults (JSON logs, load threshold 0.7, health on port 8081); the
//!   first SIGTERM or Ctrl+C drains (no new jobs, waits for the running ones up to
//!   `--drain-timeout`), then exits 0; a second signal exits 1 at once.
//! * `connect --room NAME`: no registration; one job for the room, with a token minted here.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::{USAGE_ERROR, logging, print_error};
use crate::worker::{AgentServer, Worker, WorkerError, WorkerOptions};

/// The commands this module runs.
pub(crate) const COMMANDS: [&str; 3] = ["dev", "start", "connect"];

#[derive(Debug, Parser)]
#[command(
    about = "Run a LiveKit agent as a worker of a LiveKit server",
    disable_version_flag = true
)]
struct Cli {
    #[command(subcommand)]
    command: WorkerCommand,
}

#[derive(Debug, Subcommand)]
enum WorkerCommand {
    /// Run as a worker of a LiveKit server, for development: debug logs, no load threshold,
    /// health check on a random port.
    Dev(Serve),
    /// Run as a worker of a LiveKit server, for production: JSON logs, load threshold 0.7,
    /// health check on port 8081, drain on SIGTERM.
    Start(Serve),
    /// Join one LiveKit room directly, with a token minted from the API key and secret.
    Connect(Connect),
}

/// Where the server is, and the credentials.
#[derive(Debug, Args)]
struct Server {
    /// The LiveKit server's URL (ws, wss, http or https).
    #[arg(long, env = "LIVEKIT_URL")]
    url: Option<String>,
    /// The API key.
    #[arg(long, env = "LIVEKIT_API_KEY")]
    api_key: Option<String>,
    /// The API secret.
    #[arg(long, env = "LIVEKIT_API_SECRET", hide_env_values = true)]
    api_secret: Option<String>,
    /// trace, debug, info, warn, error or off, or a tracing filter.
    #[arg(long, env = "LIVEKIT_LOG_LEVEL")]
    log_level: Option<String>,
}

#[derive(Debug, Args)]
struct Serve {
    #[command(flatten)]
    server: Server,
    /// The agent name: set it for explicit dispatch only (LIVEKIT_AGENT_NAME_OVERRIDE wins).
    #[arg(long, env = "LIVEKIT_AGENT_NAME")]
    agent_name: Option<String>,
    /// The health check's port (start: 8081; dev: random).
    #[arg(long)]
    port: Option<u16>,
    /// At most this many jobs at once.
    #[arg(long)]
    max_jobs: Option<usize>,
    /// No new jobs at or above this CPU load (start: 0.7; dev: off).
    #[arg(long)]
    load_threshold: Option<f32>,
    /// How long a drain waits for running jobs, in seconds (start only).
    #[arg(long, default_value_t = 3600)]
    drain_timeout: u64,
    /// Accepted for Python's CLI; hot reload is not done here.
    #[arg(long, overrides_with = "no_reload")]
    reload: bool,
    /// Accepted for Python's CLI.
    #[arg(long)]
    no_reload: bool,
}

#[derive(Debug, Args)]
struct Connect {
    #[command(flatten)]
    server: Server,
    /// The room to join.
    #[arg(long)]
    room: String,
    /// The agent's identity in the room (default: agent-<random>).
    #[arg(long)]
    participant_identity: Option<String>,
}

/// Runs `dev`, `start` or `connect` with `args` (the command first).
pub(crate) fn run(server: AgentServer, program: &str, args: Vec<OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(std::iter::once(OsString::from(program)).chain(args)) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(USAGE_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let (dev, level) = match &cli.command {
        WorkerCommand::Dev(serve) => (true, serve.server.log_level.clone()),
        WorkerCommand::Start(serve) => (false, serve.server.log_level.clone()),
        WorkerCommand::Connect(connect) => (true, connect.server.log_level.clone()),
    };
    let filter = match logging::filter(level.as_deref(), if dev { "debug" } else { "info" }) {
        Ok(filter) => filter,
        Err(error) => {
            print_error(&error.to_string());
            return ExitCode::from(USAGE_ERROR);
        }
    };
    if dev {
        logging::init(filter);
    } else {
        logging::init_json(filter);
    }
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread().enable_all().build() else {
        print_error("cannot start the tokio runtime");
        return ExitCode::FAILURE;
    };
    let result = match cli.command {
        WorkerCommand::Dev(serve) => runtime.block_on(serve_jobs(server, serve, true)),
        WorkerCommand::Start(serve) => runtime.block_on(serve_jobs(server, serve, false)),
        WorkerCommand::Connect(connect) => runtime.block_on(connect_room(server, connect)),
    };
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            print_error(&error.to_string());
            ExitCode::FAILURE
        }
    }
}

fn options(server: Server, dev: bool) -> WorkerOptions {
    let url = server.url.unwrap_or_default();
    let key = server.api_key.unwrap_or_default();
    let secret = server.api_secret.unwrap_or_default();
    let mut options = if dev {
        WorkerOptions::development(url, key, secret)
    } else {
        WorkerOptions::production(url, key, secret)
    };
    options.worker_token = non_empty_env("LIVEKIT_WORKER_TOKEN");
    options.deployment = non_empty_env("LIVEKIT_AGENT_DEPLOYMENT").unwrap_or_default();
    options
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// `dev` and `start`: registers and serves jobs until a signal or a failure.
async fn serve_jobs(server: AgentServer, serve: Serve, dev: bool) -> Result<(), WorkerError> {
    if serve.reload {
        tracing::warn!("--reload is not supported: the worker runs without reloading");
    }
    let mut options = options(serve.server, dev);
    options.agent_name =
        non_empty_env("LIVEKIT_AGENT_NAME_OVERRIDE").or(serve.agent_name).unwrap_or_default();
    if let Some(port) = serve.port {
        options.port = Some(port);
    }
    options.max_jobs = serve.max_jobs;
    if let Some(threshold) = serve.load_threshold {
        if threshold > 1.0 && !dev {
            tracing::warn!(
                "a load threshold above 1 ({threshold}) never stops the worker taking jobs"
            );
        }
        options.load_threshold = threshold;
    }
    options.drain_timeout = Duration::from_secs(serve.drain_timeout);
    let worker = Worker::start(server, options).await?;
    let mut signals = Signals::new();
    tokio::select! {
        result = worker.registered() => {
            let worker_id = result?;
            tracing::info!(worker_id, "registered; waiting for jobs");
        }
        () = signals.next() => {
            worker.aclose().await;
            return Ok(());
        }
    }
    tokio::select! {
        closed = worker.closed() => return closed,
        () = signals.next() => {}
    }
    if !dev {
        tracing::info!("draining (a second signal exits at once)");
        tokio::select! {
            drained = worker.drain(None) => {
                if let Err(error) = drained {
                    tracing::warn!("{error}");
                }
            }
            () = signals.next() => std::process::exit(1),
        }
    }
    tokio::select! {
        () = worker.aclose() => Ok(()),
        () = signals.next() => std::process::exit(1),
    }
}

/// `connect`: one job in the room, with a locally minted token, until it ends or a signal.
async fn connect_room(server: AgentServer, connect: Connect) -> Result<(), WorkerError> {
    let options = options(connect.server, true);
    let identity =
        connect.participant_identity.unwrap_or_else(|| format!("agent-{:08x}", rand_suffix()));
    let mut signals = Signals::new();
    let job = crate::worker::connect_job(&server, &options, &connect.room, &identity);
    tokio::select! {
        ended = job => ended,
        () = signals.next() => Ok(()),
    }
}

/// A pseudo-random suffix for identities (time and process based; not a secret).
fn rand_suffix() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16)
}

/// SIGINT and SIGTERM.
struct Signals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            let terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            Self { terminate }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next SIGINT (Ctrl+C) or SIGTERM.
    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(terminate) = self.terminate.as_mut() {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
