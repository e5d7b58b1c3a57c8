//! `cargo xtask fuzz-check [RUNS]`: the fuzz targets on stable, without cargo-fuzz or nightly.
//!
//! 1. Compiles the cargo-fuzz binaries (`fuzz/`, its own workspace) with `cargo check`, with
//!    the main workspace's lock file and target directory, so that a target that no longer
//!    builds is seen here rather than by the next person fuzzing.
//! 2. Runs every target's body (`fuzz-targets/`) over its seeds and RUNS (default 5000) random
//!    and mutated inputs each, the same inputs every time (`FUZZ_CHECK_SEED` changes them).

use std::path::Path;
use std::process::{Command, ExitCode};

/// Inputs per target when RUNS is not given: the whole check stays under a minute on two
/// cores once built.
const DEFAULT_RUNS: &str = "5000";

/// Runs the check; `args` is `[RUNS]`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let runs = match args {
        [] => DEFAULT_RUNS.to_owned(),
        [runs] if runs.parse::<u64>().is_ok() => runs.clone(),
        _ => {
            eprintln!(
                "error: usage: cargo xtask fuzz-check [RUNS] (RUNS: inputs per target, a number)"
            );
            return ExitCode::from(2);
        }
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The fuzz workspace resolves as the main one: its lock file (ignored by git) starts as a
    // copy of the main lock file, and cargo adds libfuzzer-sys to it.
    let fuzz_lock = root.join("fuzz/Cargo.lock");
    if !fuzz_lock.exists()
        && let Err(error) = std::fs::copy(root.join("Cargo.lock"), &fuzz_lock)
    {
        eprintln!("error: cannot copy Cargo.lock to {}: {error}", fuzz_lock.display());
        return ExitCode::FAILURE;
    }
    let target_dir = root.join("target");
    eprintln!(
        "xtask: cargo check --manifest-path fuzz/Cargo.toml --bins (the cargo-fuzz binaries, on stable)"
    );
    let built = Command::new(&cargo)
        .current_dir(&root)
        .args(["check", "--manifest-path", "fuzz/Cargo.toml", "--bins", "--target-dir"])
        .arg(&target_dir)
        // The main workspace's dev profile (root Cargo.toml), so the dependencies clippy has
        // already checked in this target dir are reused instead of checked again (~10 min).
        .args(["--config", "profile.dev.debug=\"line-tables-only\""])
        .args(["--config", "profile.dev.package.\"*\".debug=false"])
        .status();
    if let Some(code) = failed(built) {
        return code;
    }
    eprintln!(
        "xtask: FUZZ_CHECK_RUNS={runs} cargo test -p agents-fuzz-targets (every target's seeds and {runs} inputs)"
    );
    let ran = Command::new(&cargo)
        .current_dir(&root)
        .env("FUZZ_CHECK_RUNS", &runs)
        .args(["test", "-p", "agents-fuzz-targets"])
        .status();
    failed(ran).unwrap_or(ExitCode::SUCCESS)
}

/// The exit code to stop with, if the command did not succeed.
fn failed(status: std::io::Result<std::process::ExitStatus>) -> Option<ExitCode> {
    match status {
        Ok(status) if status.success() => None,
        Ok(status) => {
            Some(ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)))
        }
        Err(error) => {
            eprintln!("error: cannot run cargo: {error}");
            Some(ExitCode::FAILURE)
        }
    }
}
