//! `<program> download-files`: installs the runtime libraries the agent declared
//! ([`AgentServer::runtime_libraries`]) into the per-user cache.

use std::io::Write;
use std::process::ExitCode;

use crate::worker::AgentServer;

/// Installs every declared library that is not found yet; says what was done for each, and
/// what went wrong, on standard error.
pub(crate) fn run(server: &AgentServer, program: &str) -> ExitCode {
    let libraries = server.declared_runtime_libraries();
    let mut err = std::io::stderr();
    if libraries.is_empty() {
        let _ = writeln!(
            err,
            "{program} declares no runtime libraries (`AgentServer::runtime_libraries`): nothing \
             to download"
        );
        return ExitCode::SUCCESS;
    }
    install(libraries, &mut err)
}

/// Before a console runs: installs the declared libraries that are nowhere to be found, as
/// `download-files` would, so that the first `console` on a fresh machine works. A library
/// the environment variable points at, or one found but unusable, is left to the agent's own
/// loading to report. Fails with the installer's error, which says what to download by hand.
#[cfg(feature = "download-files")]
pub(crate) fn install_missing(server: &AgentServer) -> Result<(), ExitCode> {
    use crate::runtime_libs::{Installer, LocateError, locate};

    let mut err = std::io::stderr();
    let mut installer = None;
    for library in server.declared_runtime_libraries() {
        let variable_set = std::env::var_os(library.env_var).is_some_and(|v| !v.is_empty());
        let missing = matches!(
            locate(library),
            Err(LocateError::NotFound { .. } | LocateError::DamagedCache { .. })
        );
        if variable_set || !missing {
            continue;
        }
        let _ = writeln!(
            err,
            "{library} is not installed: installing it into the per-user cache first (what \
             `download-files` does)"
        );
        let installer = installer.get_or_insert_with(Installer::new);
        if let Err(error) = installer.ensure(library, &mut err) {
            let _ = writeln!(err, "error: {error}");
            return Err(ExitCode::FAILURE);
        }
    }
    Ok(())
}

/// Without the `download-files` feature nothing is installed; the agent's own loading says
/// what is missing.
#[cfg(not(feature = "download-files"))]
pub(crate) fn install_missing(_server: &AgentServer) -> Result<(), ExitCode> {
    Ok(())
}

#[cfg(feature = "download-files")]
fn install(
    libraries: &[&'static crate::runtime_libs::RuntimeLibrary],
    err: &mut std::io::Stderr,
) -> ExitCode {
    use crate::runtime_libs::Installer;

    let installer = Installer::new();
    let mut failed = false;
    for library in libraries {
        if let Err(error) = installer.ensure(library, err) {
            let _ = writeln!(err, "error: {error}");
            failed = true;
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

#[cfg(not(feature = "download-files"))]
fn install(
    libraries: &[&'static crate::runtime_libs::RuntimeLibrary],
    err: &mut std::io::Stderr,
) -> ExitCode {
    let names: Vec<String> = libraries.iter().map(|l| l.to_string()).collect();
    let variables: Vec<&str> = libraries.iter().map(|l| l.env_var).collect();
    let _ = writeln!(
        err,
        "error: `download-files` is not built in: rebuild with the `download-files` feature of \
         voice-agents-core (on by default) to install {}, or install them yourself and set {}",
        names.join(", "),
        variables.join(", ")
    );
    ExitCode::FAILURE
}
