//! The repository's tasks, run as `cargo xtask <task>` (the alias is in `.cargo/config.toml`).
//!
//! - `cargo xtask test [ARGS]`: the README's test command. It sets the machine up, then runs
//!   `cargo test --workspace [ARGS]`, then the test server's tests against LiveKit's Python
//!   SDK (`cargo test --workspace --test rtc_python_sdk --test rtc_python_faults [ARGS] --
//!   --ignored`, with `LK_PYTHON` set to the venv of step 3):
//!   1. on Linux, ALSA's development files, its configuration and pkg-config (the audio
//!      console's tests build against ALSA), and cmake (libopus, for the LiveKit test
//!      server's Opus): installed with apt-get when running as root;
//!      otherwise it stops at once and prints the exact command to run;
//!   2. the runtime libraries the tests load (ONNX Runtime, for the Silero VAD; livekit-ffi,
//!      for the room client), found or
//!      installed into the per-user cache by the same code as `<agent> download-files`; when
//!      that cannot work (offline, no pip), it stops and says what to download and where to
//!      put it;
//!   3. a venv in the per-user cache with LiveKit's Python SDK (`livekit` 1.2.1, numpy;
//!      pinned), made once and reused (`LK_PYTHON` names another Python instead); without
//!      python3 or its venv module it stops and says what to install (see `python_sdk`).
//! - `cargo xtask setup`: steps 1 to 3 only, so that plain `cargo test` works afterwards
//!   (which leaves the Python SDK's tests out: they are `#[ignore]`d without `LK_PYTHON`).
//! - `cargo xtask fuzz-check [RUNS]`: the fuzz targets on stable (see `fuzz_check`).
//!
//! The release checks of the published crates (`.ci/run` runs them all):
//!
//! - `cargo xtask package [ARGS]`: each packages, ships what it needs (README, LICENSE, the
//!   Silero models and their licence) and no tests or test data, stays under crates.io's
//!   10 MiB, and builds from its package (`ARGS` go to `cargo package`: `--no-verify`,
//!   `--allow-dirty`);
//! - `cargo xtask docs`: the docs as docs.rs builds them (all features, `--cfg docsrs`),
//!   warnings as errors;
//! - `cargo xtask features`: the feature matrix (none, defaults, each alone, all);
//! - `cargo xtask msrv`: each declared `rust-version` against the edition and the dependency
//!   tree (and a build with that toolchain when rustup has it).

mod docs;
mod features;
mod fuzz_check;
mod metadata;
mod msrv;
mod package;
mod python_sdk;
mod system;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use agents_runtime_libs::{Installer, LIVEKIT_FFI, ONNX_RUNTIME, RuntimeLibrary};

/// The runtime libraries the workspace's tests load.
const TEST_LIBRARIES: &[&RuntimeLibrary] = &[&ONNX_RUNTIME, &LIVEKIT_FFI];

const USAGE: &str = "\
Usage: cargo xtask <TASK>

Tasks:
  test [ARGS]  Set the machine up, then run `cargo test --workspace [ARGS]` and the test
               server's tests against LiveKit's Python SDK (the ignored ones of
               agents-test-support's rtc_python_sdk and rtc_python_faults)
  fuzz-check [RUNS]  Build the cargo-fuzz targets on stable and run each over its seeds and
               RUNS (default 5000) random and mutated inputs
  setup        Set the machine up only: ALSA's development files, pkg-config, cmake (apt-get, as
               root), the tests' runtime libraries (ONNX Runtime, livekit-ffi) and a venv with
               LiveKit's Python SDK (livekit 1.2.1, numpy) in the per-user cache

Release checks of the published crates (voice-agents-*):
  package [ARGS]  `cargo package` each (ARGS: --no-verify, --allow-dirty), check its files
                  and size, and build it from its package
  docs            `cargo doc` as docs.rs does (all features, --cfg docsrs), warnings as errors
  features        `cargo check` each with no default features, its defaults, each feature
                  alone, and all features
  msrv            each `rust-version` against its edition and its dependencies' rust-versions
                  (and `cargo +<msrv> check` when that toolchain is installed)
";

fn main() -> ExitCode {
    // `cargo xtask docs` runs this program as cargo's rustdoc.
    if let Some(real) = std::env::var_os(docs::WRAPPER_VAR) {
        return docs::run_as_rustdoc(real, std::env::args_os().skip(1));
    }
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("test") => match setup() {
            Ok(python) => run_tests(&args.collect::<Vec<_>>(), &python),
            Err(code) => code,
        },
        Some("setup") => setup().err().unwrap_or(ExitCode::SUCCESS),
        Some("fuzz-check") => fuzz_check::run(&args.collect::<Vec<_>>()),
        Some("package") => report(package::run(&cargo(), &args.collect::<Vec<_>>())),
        Some("docs") => report(docs::run(&cargo())),
        Some("features") => report(features::run(&cargo())),
        Some("msrv") => report(msrv::run(&cargo())),
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

/// The system packages, the runtime libraries, then the Python SDK's venv (its interpreter
/// returned); the error printed on failure.
fn setup() -> Result<PathBuf, ExitCode> {
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
    python_sdk::ensure(agents_runtime_libs::cache_dir()).map_err(fail)
}

/// The cargo that runs this task (`CARGO`), else `cargo` from `PATH`.
fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// A check's outcome as the exit status, its error printed.
fn report(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(error),
    }
}

/// `cargo test --workspace --no-fail-fast ARGS` (every test binary runs even after one fails,
/// so a run reports all its failures at once), then the Python SDK's tests; the first
/// failure's exit status.
fn run_tests(args: &[String], python: &std::path::Path) -> ExitCode {
    let cargo = cargo();
    let mut workspace = Command::new(&cargo);
    workspace.args(["test", "--workspace"]);
    if !cargo_args(args).iter().any(|arg| arg == "--no-fail-fast") {
        workspace.arg("--no-fail-fast");
    }
    workspace.args(args);
    let workspace = run_cargo(workspace);
    let mut sdk = Command::new(&cargo);
    sdk.args(python_sdk_test_args(args)).env(python_sdk::LK_PYTHON, python);
    let sdk = run_cargo(sdk);
    match (workspace, sdk) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(code), _) | (Ok(()), Err(code)) => code,
    }
}

/// The test server's tests against LiveKit's Python SDK, `#[ignore]`d in plain `cargo test`
/// (they need its Python): the user's cargo arguments before `--`, theirs after `--ignored`.
fn python_sdk_test_args(args: &[String]) -> Vec<String> {
    let test_args =
        args.iter().position(|arg| arg == "--").map_or(&[][..], |split| &args[split + 1..]);
    // The user's choice of targets (`--lib`, `--test X`, ...) is for the first run: here it
    // would add every ignored test of those targets to the SDK's.
    let mut cargo_args = cargo_args(args).iter();
    let mut kept = Vec::new();
    while let Some(arg) = cargo_args.next() {
        let name = arg.split('=').next().unwrap_or(arg);
        match name {
            "--lib" | "--bins" | "--tests" | "--examples" | "--benches" | "--doc"
            | "--all-targets" => {}
            "--bin" | "--test" | "--example" | "--bench" => {
                if !arg.contains('=') {
                    cargo_args.next();
                }
            }
            _ => kept.push(arg.clone()),
        }
    }
    let cargo_args = kept;
    // `--workspace`, not `-p agents-test-support`: the features stay unified as in the first
    // run, so nothing is built again.
    let mut all: Vec<String> =
        ["test", "--workspace", "--test", "rtc_python_sdk", "--test", "rtc_python_faults"]
            .map(String::from)
            .into();
    all.extend(cargo_args.iter().cloned());
    all.extend(["--".into(), "--ignored".into()]);
    all.extend(test_args.iter().cloned());
    all
}

/// The arguments for cargo itself: those before a `--`.
fn cargo_args(args: &[String]) -> &[String] {
    args.iter().position(|arg| arg == "--").map_or(args, |split| &args[..split])
}

/// Runs a cargo command, shown first; its failure as the exit status to return.
fn run_cargo(mut command: Command) -> Result<(), ExitCode> {
    let shown: Vec<String> =
        command.get_args().map(|arg| arg.to_string_lossy().into_owned()).collect();
    let env: Vec<String> = command
        .get_envs()
        .filter_map(|(name, value)| {
            Some(format!("{}={} ", name.to_string_lossy(), value?.to_string_lossy()))
        })
        .collect();
    eprintln!("xtask: {}cargo {}", env.concat(), shown.join(" "));
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => {
            Err(ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)))
        }
        Err(error) => Err(fail(format!("cannot run cargo: {error}"))),
    }
}

fn fail(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn the_python_sdk_tests_run_ignored_with_the_users_arguments() {
        let base = "test --workspace --test rtc_python_sdk --test rtc_python_faults";
        let joined = |args: &[&str]| python_sdk_test_args(&strings(args)).join(" ");
        assert_eq!(joined(&[]), format!("{base} -- --ignored"));
        assert_eq!(joined(&["--locked"]), format!("{base} --locked -- --ignored"));
        assert_eq!(
            joined(&["--locked", "--", "--nocapture"]),
            format!("{base} --locked -- --ignored --nocapture")
        );
        // The user's targets are the first run's, not added to the SDK's.
        assert_eq!(
            joined(&["--lib", "--test", "session", "--locked", "--bin=x", "--no-fail-fast"]),
            format!("{base} --locked --no-fail-fast -- --ignored")
        );
    }
}
