//! The command line of an agent application (Python's `cli.run_app(server)`), and the text
//! console.
//!
//! ```text
//! cargo run --example update_tools -- console --text
//! ```
//!
//! | command | what it does |
//! |---|---|
//! | `console --text` | runs one local job (room `console-room`) and talks to its agent by text: lines from standard input, replies on standard output |
//! | `console --input-file in.wav [--output-file out.wav] [--fast]` | the same job, its user speaking the WAV file, the agent's speech written to a WAV file ([`run_console_files`]) |
//! | `console` | the same job on the machine's microphone and speakers, with a level meter; Ctrl+T (or a line `/text`) to type instead; `--input-device NAME`, `--output-device NAME`, `--list-devices` (needs the `audio-devices` feature: `run_console_devices`) |
//! | `download-files` | installs the native libraries the agent declared ([`AgentServer::runtime_libraries`]: ONNX Runtime for Silero) from their PyPI wheels into the per-user cache; again, it does nothing |
//! | `dev [--agent-name NAME] [--port N] [--max-jobs N] [--load-threshold X]` | registers with the LiveKit server of `LIVEKIT_URL` as an agent worker and runs every job it dispatches, each as a task of this process; debug logs, no load threshold, health check on a random port; Ctrl+C closes it (running jobs ended gracefully) |
//! | `start [same options] [--drain-timeout SECONDS]` | the same with production defaults: JSON logs, load threshold 0.7, health check (`GET /`, `GET /worker`) on port 8081; SIGTERM or Ctrl+C drains (no new jobs, waits for the running ones), a second signal exits at once |
//! | `connect --room NAME [--participant-identity ID]` | no registration: one job for the room, with a token minted from the API key and secret (the job's [`RoomCredentials`](crate::worker::RoomCredentials)) |
//!
//! Options: `--log-level <LEVEL>` (or `LIVEKIT_LOG_LEVEL`; default `info`), `--help`. Logs go
//! to standard error. The worker's commands read `--url`, `--api-key`, `--api-secret` from
//! `LIVEKIT_URL`, `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`, and the agent name from
//! `LIVEKIT_AGENT_NAME` (`LIVEKIT_AGENT_NAME_OVERRIDE` wins); `LIVEKIT_WORKER_TOKEN` and
//! `LIVEKIT_AGENT_DEPLOYMENT` as LiveKit Cloud sets them. They need agents-core's `worker`
//! feature (on by default). A `.env` file in the working directory, or a parent, is loaded first.
//!
//! The audio console is behind agents-core's `audio-devices` feature (cpal; on Linux it
//! builds against ALSA: `apt-get install libasound2-dev`). Without it, `console` with neither
//! `--text` nor `--input-file` says which feature to enable. Both devices run in their own
//! format; the console converts to and from the session's 10 ms mono 24 kHz frames. The level
//! meter is drawn only when standard error is a terminal, and Ctrl+T is read as pressed only
//! when standard input is one (it is then in key-at-a-time mode, without echo, until text
//! mode or the end of the console); a line `/text` works on any standard input. In text mode
//! the microphone is muted, each line is a user turn, `/audio` goes back to the microphone and
//! Ctrl+D ends the console.
//!
//! The console exits with status 1 when the session reported an error (an LLM request that
//! failed after its retries, a failed text-to-speech or speech-to-text, a panicking hook):
//! it goes on to the end of its input all the same, then says how many errors there were.
//! Lines of a `.env` file that cannot be loaded are skipped with a warning that gives their
//! number and what is wrong, never their text.
#![cfg_attr(
    feature = "audio-devices",
    doc = "\nThe microphone console is [`run_console_devices`]; [`list_devices`] lists the \
           devices."
)]

#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;
mod args;
mod console;
#[cfg(any(feature = "audio-devices", test))]
mod device_audio;
#[cfg(feature = "audio-devices")]
mod device_console;
#[cfg(feature = "audio-devices")]
mod devices;
mod download;
mod env_file;
mod keys;
mod lines;
mod logging;
mod printer;
mod wav_io;
#[cfg(feature = "worker")]
mod worker;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use tokio::sync::oneshot;

pub use console::{
    CONSOLE_ROOM, ConsoleError, run_console_files, run_console_text, run_console_text_until,
};
#[cfg(feature = "audio-devices")]
pub use device_console::{DeviceOptions, run_console_devices};
#[cfg(feature = "audio-devices")]
pub use devices::{DeviceError, DeviceKind, list_devices};

use crate::worker::AgentServer;
use args::Command;

/// The exit status of a command line that could not be understood.
const USAGE_ERROR: u8 = 2;
/// The exit status of a second Ctrl+C, as a shell reports an interrupted program.
const INTERRUPTED: i32 = 130;

/// Runs `server` as the command line asks (Python's `cli.run_app(server)`); returns the exit
/// status for `main`.
///
/// `<program> console --text` talks to the agent in the terminal: see
/// [`run_console_text`]. `--help` lists the commands. Before anything else, variables from a
/// `.env` file are loaded into the environment (a missing file is fine), and logging to
/// standard error is set up with the level of `--log-level` or `LIVEKIT_LOG_LEVEL`.
///
/// In the console, Ctrl+C closes the session cleanly; a second Ctrl+C quits at once.
///
/// ```no_run
/// use std::process::ExitCode;
///
/// use agents_core::prelude::*;
///
/// async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
///     let session = AgentSession::builder().build();
///     session.start(Agent::new("You are a helpful assistant.")).room(ctx.room()).await?;
///     ctx.connect().await?;
///     Ok(())
/// }
///
/// fn main() -> ExitCode {
///     cli::run_app(AgentServer::new().rtc_session(entrypoint))
/// }
/// ```
pub fn run_app(server: AgentServer) -> ExitCode {
    let mut args = std::env::args_os();
    let program = program_name(args.next());
    // Before any thread starts: loading sets environment variables.
    #[cfg(feature = "worker")]
    if std::env::var_os(crate::worker::HOST_ENV).is_some() {
        // A job host process started by the worker (`Isolation::Processes`).
        let _ = logging::filter(None, "info").map(logging::init);
        return crate::worker::host::run(&server);
    }
    let dotenv = env_file::load();
    let args: Vec<OsString> = args.collect();
    #[cfg(feature = "worker")]
    if args.first().and_then(|first| first.to_str()).is_some_and(|c| worker::COMMANDS.contains(&c))
    {
        warn_env_file_later(dotenv);
        return worker::run(server, &program, args);
    }
    let command = match args::parse(args) {
        Ok(command) => command,
        Err(error) => {
            print_error(&format!("{error}"));
            return ExitCode::from(USAGE_ERROR);
        }
    };
    match command {
        Command::Help => {
            let _ = write!(std::io::stdout(), "{}", args::USAGE.replace("<program>", &program));
            ExitCode::SUCCESS
        }
        Command::DownloadFiles { log_level } => {
            if let Err(code) = init_logging(log_level.as_deref()) {
                return code;
            }
            warn_env_file(dotenv);
            download::run(&server, &program)
        }
        Command::Unavailable { command } => {
            if cfg!(feature = "worker") {
                print_error(&format!(
                    "put `{command}` first, its options after it: `{program} {command} --help`"
                ));
                return ExitCode::from(USAGE_ERROR);
            }
            print_error(&format!(
                "`{command}` is not built in: rebuild with voice-agents-core's `worker` feature (on by \
                 default), or run `{program} console --text` to talk to the agent locally"
            ));
            ExitCode::FAILURE
        }
        Command::Console { text, log_level, files, devices } => {
            if text && files.input.is_some() {
                print_error("choose `--text` or `--input-file`, not both");
                return ExitCode::from(USAGE_ERROR);
            }
            let microphone = !text && files.input.is_none();
            if !microphone && (devices.input.is_some() || devices.output.is_some()) {
                print_error(
                    "`--input-device` and `--output-device` are for the microphone console: \
                     drop `--text` and `--input-file`",
                );
                return ExitCode::from(USAGE_ERROR);
            }
            if (microphone || devices.list) && !cfg!(feature = "audio-devices") {
                print_error(&format!(
                    "the microphone console is not built in: rebuild with the `audio-devices` \
                     feature of voice-agents-core (`voice-agents-core = {{ version = \"0.1\", \
                     features = [\"audio-devices\"] }}`; on Linux it needs `apt-get install \
                     libasound2-dev`), or run `{program} console --text` to talk to the agent \
                     by text, or `{program} console --input-file in.wav --output-file out.wav` \
                     to talk with audio files (see docs/src/troubleshooting.md#audio-devices)"
                ));
                return ExitCode::FAILURE;
            }
            if let Err(code) = init_logging(log_level.as_deref()) {
                return code;
            }
            warn_env_file(dotenv);
            #[cfg(feature = "audio-devices")]
            if devices.list {
                return match list_devices(std::io::stdout()) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(error) => {
                        print_error(&error.to_string());
                        ExitCode::FAILURE
                    }
                };
            }
            if let Err(code) = download::install_missing(&server) {
                return code;
            }
            #[cfg(feature = "audio-devices")]
            if microphone {
                return device_console(&server, devices);
            }
            match files.input {
                Some(input) if !text => {
                    file_console(&server, &input, files.output.as_deref(), files.fast)
                }
                _ => text_console(&server),
            }
        }
    }
}

/// Runs the audio console on the machine's devices, the conversation on standard output.
#[cfg(feature = "audio-devices")]
fn device_console(server: &AgentServer, devices: args::Devices) -> ExitCode {
    let mut options = DeviceOptions::new()
        .level_meter(device_console::meter_wanted())
        .terminal(device_console::keys_wanted());
    if let Some(input) = devices.input {
        options = options.input_device(input);
    }
    if let Some(output) = devices.output {
        options = options.output_device(output);
    }
    until_ctrl_c(|interrupt| async move {
        run_console_devices(server, &options, std::io::stdin(), std::io::stdout(), interrupt).await
    })
}

/// Runs the console on audio files, the conversation on standard output.
fn file_console(
    server: &AgentServer,
    input: &std::path::Path,
    output: Option<&std::path::Path>,
    fast: bool,
) -> ExitCode {
    let Some(runtime) = new_runtime() else { return ExitCode::FAILURE };
    tracing::info!("starting the console with {}", input.display());
    exit_code(runtime.block_on(run_console_files(server, input, output, fast, std::io::stdout())))
}

/// Runs the text console on standard input and output.
fn text_console(server: &AgentServer) -> ExitCode {
    until_ctrl_c(|interrupt| async move {
        tracing::info!(
            "starting the text console: type a message and press Enter; end with Ctrl+D, or Ctrl+C"
        );
        let stdin = tokio::io::BufReader::new(tokio::io::stdin());
        run_console_text_until(server, stdin, std::io::stdout(), interrupt).await
    })
}

/// Runs `console` on a new runtime, its `interrupt` the first Ctrl+C; the exit code says
/// whether it succeeded (its error printed).
fn until_ctrl_c<F, Fut>(console: F) -> ExitCode
where
    F: FnOnce(futures::future::BoxFuture<'static, ()>) -> Fut,
    Fut: std::future::Future<Output = Result<(), ConsoleError>>,
{
    let Some(runtime) = new_runtime() else { return ExitCode::FAILURE };
    let result = runtime.block_on(async {
        let (interrupted, on_interrupt) = oneshot::channel();
        let ctrl_c = tokio::spawn(watch_ctrl_c(interrupted));
        let interrupt = Box::pin(async move {
            if on_interrupt.await.is_err() {
                std::future::pending::<()>().await;
            }
        });
        let result = console(interrupt).await;
        ctrl_c.abort();
        result
    });
    // A read of standard input blocked in the background (the text console's reader, the
    // audio console's keyboard thread) must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(100));
    exit_code(result)
}

/// A multi-thread runtime; `None` (the error printed) if it cannot start.
fn new_runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            print_error(&format!("cannot start the tokio runtime: {error}"));
            None
        }
    }
}

/// Success, or the error printed and failure.
fn exit_code(result: Result<(), ConsoleError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The message and its causes: an I/O error under a WAV error, for one.
            print_error(&crate::api_error::error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

/// Sends on `interrupted` at the first Ctrl+C; quits at the second.
async fn watch_ctrl_c(interrupted: oneshot::Sender<()>) {
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::warn!("cannot listen for Ctrl+C: {error}");
        return;
    }
    tracing::info!("closing the session (press Ctrl+C again to quit at once)");
    let _ = interrupted.send(());
    if tokio::signal::ctrl_c().await.is_ok() {
        // The audio console's terminal mode does not outlive the process.
        #[cfg(feature = "audio-devices")]
        keys::restore_terminal();
        std::process::exit(INTERRUPTED);
    }
}

fn program_name(arg0: Option<OsString>) -> String {
    arg0.as_deref()
        .map(std::path::Path::new)
        .and_then(std::path::Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "agent".to_owned())
}

/// The `.env` file's warnings, once logging is set up by the worker's command.
#[cfg(feature = "worker")]
fn warn_env_file_later<E: std::fmt::Display>(loaded: Result<Vec<E>, impl std::fmt::Display>) {
    // Logging starts inside the worker's command; these are printed before it, plainly.
    match loaded {
        Ok(skipped) => {
            for line in skipped {
                let _ = writeln!(std::io::stderr(), "warning: {line}");
            }
        }
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "warning: the .env file was not loaded: {error}");
        }
    }
}

/// Says which lines of the `.env` file were skipped, or why it was not read (never their text).
fn warn_env_file<E: std::fmt::Display>(loaded: Result<Vec<E>, impl std::fmt::Display>) {
    match loaded {
        Ok(skipped) => {
            for line in skipped {
                tracing::warn!("{line}");
            }
        }
        Err(error) => tracing::warn!("the .env file was not loaded: {error}"),
    }
}

/// Starts logging at `level` (else `LIVEKIT_LOG_LEVEL`, else info); a bad level is a usage
/// error.
fn init_logging(level: Option<&str>) -> Result<(), ExitCode> {
    let filter = logging::filter(level, "info").map_err(|error| {
        print_error(&error.to_string());
        ExitCode::from(USAGE_ERROR)
    })?;
    logging::init(filter);
    Ok(())
}

fn print_error(message: &str) {
    let _ = writeln!(std::io::stderr(), "error: {message}");
}
