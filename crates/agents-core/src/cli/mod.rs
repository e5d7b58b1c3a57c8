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
//! | `console` (audio), `dev`, `start`, `connect` | not available yet: they exit with an error saying so |
//!
//! Options: `--log-level <LEVEL>` (or `LIVEKIT_LOG_LEVEL`; default `info`), `--help`. Logs go
//! to standard error. A `.env` file in the working directory, or a parent, is loaded first.

mod args;
mod console;
mod logging;
mod printer;
mod wav_io;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use tokio::sync::oneshot;

pub use console::{
    CONSOLE_ROOM, ConsoleError, run_console_files, run_console_text, run_console_text_until,
};

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
    let dotenv = dotenvy::dotenv();
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
        Command::Unavailable { command } => {
            print_error(&format!(
                "`{command}` is not available yet (it needs a LiveKit server connection, which \
                 is not implemented): run `{program} console --text` to talk to the agent locally"
            ));
            ExitCode::FAILURE
        }
        Command::Console { text, log_level, files } => {
            if text && files.input.is_some() {
                print_error("choose `--text` or `--input-file`, not both");
                return ExitCode::from(USAGE_ERROR);
            }
            if !text && files.input.is_none() {
                print_error(&format!(
                    "the microphone console is not available yet: run `{program} console --text` \
                     to talk to the agent by text, or `{program} console --input-file in.wav \
                     --output-file out.wav` to talk with audio files"
                ));
                return ExitCode::FAILURE;
            }
            let filter = match logging::filter(log_level.as_deref(), "info") {
                Ok(filter) => filter,
                Err(error) => {
                    print_error(&error.to_string());
                    return ExitCode::from(USAGE_ERROR);
                }
            };
            logging::init(filter);
            if let Err(error) = dotenv
                && !error.not_found()
            {
                tracing::warn!("the .env file was not loaded: {error}");
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

/// Runs the console on audio files, the conversation on standard output.
fn file_console(
    server: &AgentServer,
    input: &std::path::Path,
    output: Option<&std::path::Path>,
    fast: bool,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            print_error(&format!("cannot start the tokio runtime: {error}"));
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("starting the console with {}", input.display());
    let result =
        runtime.block_on(run_console_files(server, input, output, fast, std::io::stdout()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            print_error(&error.to_string());
            ExitCode::FAILURE
        }
    }
}

/// Runs the text console on standard input and output.
fn text_console(server: &AgentServer) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            print_error(&format!("cannot start the tokio runtime: {error}"));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let (interrupted, on_interrupt) = oneshot::channel();
        let ctrl_c = tokio::spawn(watch_ctrl_c(interrupted));
        tracing::info!(
            "starting the text console: type a message and press Enter; end with Ctrl+D, or Ctrl+C"
        );
        let stdin = tokio::io::BufReader::new(tokio::io::stdin());
        let interrupt = async move {
            if on_interrupt.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let result = run_console_text_until(server, stdin, std::io::stdout(), interrupt).await;
        ctrl_c.abort();
        result
    });
    // A read of standard input blocked in the background must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            print_error(&error.to_string());
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

fn print_error(message: &str) {
    let _ = writeln!(std::io::stderr(), "error: {message}");
}
