//! The repository's tasks, run as `cargo xtask <task>` (the alias is in `.cargo/config.toml`).
//!
//! - `cargo xtask test [ARGS]`: the README's test command. It sets the machine up, then runs
//!   `cargo test --workspace [ARGS]`:
//!   1. on Linux, ALSA's development files, its configuration and pkg-config (the audio
//!      console's tests build against ALSA), and cmake (libopus, for the LiveKit test
//!      server's Opus): installed with apt-get when running as root;
//!      otherwise it stops at once and prints the exact command to run;
//!   2. the runtime libraries the tests load (ONNX Runtime, for the Silero VAD; livekit-ffi,
//!      for the room client), found or
//!      installed into the per-user cache by the same code as `<agent> download-files`; when
//!      that cannot work (offline, no pip), it stops and says what to download and where to
//!      put it.
//! - `cargo xtask setup`: steps 1 and 2 only, so that plain `cargo test` works afterwards.
//! - `cargo xtask fuzz-check [RUNS]`: the fuzz targets on stable (see `fuzz_check`).

mod fuzz_check;
mod system;

use std::process::{Command, ExitCode};

use agents_runtime_libs::{Installer, LIVEKIT_FFI, ONNX_RUNTIME, RuntimeLibrary};

/// The runtime libraries the workspace's tests load.
const TEST_LIBRARIES: &[&RuntimeLibrary] = &[&ONNX_RUNTIME, &LIVEKIT_FFI];

const USAGE: &str = "\
Usage: cargo xtask <TASK>

Tasks:
  test [ARGS]  Set the machine up, then run `cargo test --workspace [ARGS]`
  fuzz-check [RUNS]  Build the cargo-fuzz targets on stable and run each over its seeds and
               RUNS (default 5000) random and mutated inputs
  setup        Set the machine up only: ALSA's development files, pkg-config, cmake (apt-get, as
               root), and the tests' runtime libraries (ONNX Runtime, livekit-ffi) in the
               per-user cache
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("test") => match setup() {
            Ok(()) => run_tests(args.collect()),
            Err(code) => code,
        },
        Some("setup") => setup().err().unwrap_or(ExitCode::SUCCESS),
        Some("fuzz-check") => fuzz_check::run(&args.collect::<Vec<_>>()),
        Some("-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: unknown task `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The system packages, then the runtime libraries; the error printed on failure.
fn setup() -> Result<(), ExitCode> {
    if cfg!(target_os = "linux") {
        let plan = system::Machine::probe().plan().map_err(fail)?;
        if let system::Plan::Install(packages) = plan {
            system::install(&packages).map_err(fail)?;
        }
    }
    let installer = Installer::new();
    let mut progress = std::io::stderr();
    for library in TEST_LIBRARIES {
        let installed = installer.ensure(library, &mut progress).map_err(fail)?;
        eprintln!("xtask: {} is {}", library.name, installed.path().display());
    }
    Ok(())
}

/// `cargo test --workspace ARGS`, with the exit status of cargo.
fn run_tests(args: Vec<String>) -> ExitCode {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("xtask: cargo test --workspace {}", args.join(" "));
    match Command::new(cargo).args(["test", "--workspace"]).args(&args).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(error) => fail(format!("cannot run cargo: {error}")),
    }
}

fn fail(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}
