//! `cargo xtask docs`: each published crate's documentation as docs.rs builds it: every
//! feature on (`[package.metadata.docs.rs] all-features = true`), `--cfg docsrs` (which turns
//! on `#![feature(doc_cfg)]`, so each feature-gated item shows the feature it needs), warnings
//! as errors (broken intra-doc links, missing docs).
//!
//! docs.rs builds with nightly; `feature(doc_cfg)` is a nightly feature. Here the stable
//! toolchain documents that same path with `RUSTC_BOOTSTRAP=1` given to rustdoc only: cargo
//! runs this program as its `RUSTDOC` ([`WRAPPER_VAR`]), which runs the real rustdoc with it.
//! The dependencies are compiled as in any stable build (their build scripts never see the
//! variable), so the check needs no nightly and reuses the workspace's builds. The crates'
//! README examples are doc tests and run with `cargo xtask test`.

use std::ffi::{OsStr, OsString};
use std::process::{Command, ExitCode};

use crate::metadata::Workspace;

/// Set when this program runs as cargo's `RUSTDOC`: the rustdoc to run.
pub(crate) const WRAPPER_VAR: &str = "XTASK_REAL_RUSTDOC";

/// As cargo's `RUSTDOC`: runs the real rustdoc with `args` and `RUSTC_BOOTSTRAP=1`.
pub(crate) fn run_as_rustdoc(real: OsString, args: impl Iterator<Item = OsString>) -> ExitCode {
    match Command::new(&real).args(args).env("RUSTC_BOOTSTRAP", "1").status() {
        Ok(status) => {
            ExitCode::from(status.code().and_then(|code| u8::try_from(code).ok()).unwrap_or(1))
        }
        Err(error) => {
            eprintln!("error: cannot run {}: {error}", real.to_string_lossy());
            ExitCode::FAILURE
        }
    }
}

/// Documents every published crate; fails on the first warning.
pub(crate) fn run(cargo: &OsStr) -> Result<(), String> {
    let workspace = Workspace::load(cargo).map_err(|error| error.to_string())?;
    let this = std::env::current_exe()
        .map_err(|error| format!("cannot find this program to run as rustdoc: {error}"))?;
    let real = std::env::var_os("RUSTDOC").unwrap_or_else(|| "rustdoc".into());
    let mut command = Command::new(cargo);
    command
        .args(["doc", "--no-deps", "--all-features", "--locked"])
        .env("RUSTDOCFLAGS", "-D warnings --cfg docsrs")
        .env("RUSTDOC", this)
        .env(WRAPPER_VAR, real);
    let mut names = Vec::new();
    for krate in workspace.published() {
        command.args(["-p", &krate.name]);
        names.push(krate.name.as_str());
    }
    eprintln!(
        "xtask: RUSTDOCFLAGS=\"-D warnings --cfg docsrs\" cargo doc --no-deps --all-features \
         --locked -p {} (rustdoc with RUSTC_BOOTSTRAP=1)",
        names.join(" -p ")
    );
    let status = command.status().map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("the documentation has warnings or does not build (above)".to_owned())
    }
}
