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

use clap::{Arg, ArgAction, ArgMatches, value_parser};

use super::{USAGE_ERROR, logging, print_error};
use crate::worker::{AgentServer, Worker, WorkerError, WorkerOptions};

/// The commands this module runs.
pub(crate) const COMMANDS: [&str; 3] = ["dev", "start", "connect"];

// clap's builder API: its derive macros emit `allow(clippy::restriction)`, which the
// workspace's `forbid` lints reject.

/// `--url`, `--api-key`, `--api-secret`, `--log-level`.
fn server_args() -> [Arg; 4] {
    [
        Arg::new("url")
            .long("url")
            .env("LIVEKIT_URL")
            .help("The LiveKit server's URL (ws, wss, http or https)"),
        Arg::new("api_key").long("api-key").env("LIVEKIT_API_KEY").help("The API key"),
        Arg::new("api_secret")
            .long("api-secret")
            .env("LIVEKIT_API_SECRET")
            .hide_env_values(true)
            .help("The API secret"),
        Arg::new("log_level")
            .long("log-level")
            .env("LIVEKIT_LOG_LEVEL")
            .help("trace, debug, info, warn, error or off, or a tracing filter"),
    ]
}

/// `dev`'s and `start`'s options.
fn serve_command(name: &'static str, about: &'static str) -> clap::Command {
    clap::Command::new(name).about(about).args(server_args()).args([
        Arg::new("agent_name").long("agent-name").env("LIVEKIT_AGENT_NAME").help(
            "The agent name: set it for explicit dispatch only (LIVEKIT_AGENT_NAME_OVERRIDE wins)",
        ),
        Arg::new("port")
            .long("port")
            .value_parser(value_parser!(u16))
            .help("The health check's port (start: 8081; dev: random)"),
        Arg::new("max_jobs")
            .long("max-jobs")
            .value_parser(value_parser!(usize))
            .help("At most this many jobs at once"),
        Arg::new("load_threshold")
            .long("load-threshold")
            .value_parser(value_parser!(f32))
            .help("No new jobs at or above this CPU load (start: 0.7; dev: off)"),
        Arg::new("drain_timeout")
            .long("drain-timeout")
            .value_parser(value_parser!(u64))
            .default_value("3600")
            .help("How long a drain waits for running jobs, in seconds (start)"),
        Arg::new("job_hosts")
            .long("job-hosts")
            .value_parser(value_parser!(usize))
            .help("Run jobs in this many host processes instead of as tasks of this one"),
        Arg::new("reload")
            .long("reload")
            .action(ArgAction::SetTrue)
            .help("Accepted for Python's CLI; the worker does not reload"),
        Arg::new("no_reload")
            .long("no-reload")
            .action(ArgAction::SetTrue)
            .help("Accepted for Python's CLI"),
    ])
}

fn cli(program: &str) -> clap::Command {
    clap::Command::new("agent")
        .bin_name(program.to_owned())
        .about("Run a LiveKit agent as a worker of a LiveKit server")
        .subcommand_required(true)
        .subcommand(serve_command(
            "dev",
            "Run as a worker of a LiveKit server, for development: debug logs, no load \
             threshold, health check on a random port",
        ))
        .subcommand(serve_command(
            "start",
            "Run as a worker of a LiveKit server, for production: JSON logs, load threshold \
             0.7, health check on port 8081, drain on SIGTERM",
        ))
        .subcommand(
            clap::Command::new("connect")
                .about("Join one LiveKit room directly, with a token minted from the API key and secret")
                .args(server_args())
                .args([
                    Arg::new("room").long("room").required(true).help("The room to join"),
                    Arg::new("participant_identity")
                        .long("participant-identity")
                        .help("The agent's identity in the room (default: agent-<random>)"),
                ]),
        )
}

/// Where the server is, and the credentials.
struct Server {
    url: Option<String>,
    api_key: Option<String>,
    api_secret: Option<String>,
    log_level: Option<String>,
}

impl Server {
    fn from(matches: &ArgMatches) -> Self {
        Self {
            url: matches.get_one::<String>("url").cloned(),
            api_key: matches.get_one::<String>("api_key").cloned(),
            api_secret: matches.get_one::<String>("api_secret").cloned(),
            log_level: matches.get_one::<String>("log_level").cloned(),
        }
    }
}

struct Serve {
    server: Server,
    agent_name: Option<String>,
    port: Option<u16>,
    max_jobs: Option<usize>,
    load_threshold: Option<f32>,
    drain_timeout: u64,
    reload: bool,
    job_hosts: Option<usize>,
}

impl Serve {
    fn from(matches: &ArgMatches) -> Self {
        Self {
            server: Server::from(matches),
            agent_name: matches.get_one::<String>("agent_name").cloned(),
            port: matches.get_one::<u16>("port").copied(),
            max_jobs: matches.get_one::<usize>("max_jobs").copied(),
            load_threshold: matches.get_one::<f32>("load_threshold").copied(),
            drain_timeout: matches.get_one::<u64>("drain_timeout").copied().unwrap_or(3600),
            reload: matches.get_flag("reload") && !matches.get_flag("no_reload"),
            job_hosts: matches.get_one::<usize>("job_hosts").copied(),
        }
    }
}

struct Connect {
    server: Server,
    room: String,
    participant_identity: Option<String>,
}

enum WorkerCommand {
    Dev(Serve),
    Start(Serve),
    Connect(Connect),
}

/// Runs `dev`, `start` or `connect` with `args` (the command first).
pub(crate) fn run(server: AgentServer, program: &str, args: Vec<OsString>) -> ExitCode {
    let matches = match cli(program)
        .try_get_matches_from(std::iter::once(OsString::from(program)).chain(args))
    {
        Ok(matches) => matches,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(USAGE_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let command = match matches.subcommand() {
        Some(("dev", matches)) => WorkerCommand::Dev(Serve::from(matches)),
        Some(("start", matches)) => WorkerCommand::Start(Serve::from(matches)),
        Some((_, matches)) => WorkerCommand::Connect(Connect {
            server: Server::from(matches),
            room: matches.get_one::<String>("room").cloned().unwrap_or_default(),
            participant_identity: matches.get_one::<String>("participant_identity").cloned(),
        }),
        None => {
            print_error("no command given: see `--help`");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let (dev, level) = match &command {
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
    let result = match command {
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
    if let Some(hosts) = serve.job_hosts {
        options.isolation = crate::worker::Isolation::Processes { hosts };
    }
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
    // A signal ends the job gracefully (its session closed, its shutdown callbacks run).
    let interrupted = async move {
        signals.next().await;
        "interrupted".to_owned()
    };
    crate::worker::connect_job_until(&server, &options, &connect.room, &identity, interrupted).await
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
