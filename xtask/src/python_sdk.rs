//! LiveKit's Python SDK for the tests that check the test server against it
//! (tests/support/tests/rtc_python_sdk.rs and rtc_python_faults.rs): a virtual environment in
//! the per-user cache with `livekit` 1.2.1 and numpy, pinned, made once and reused.
//!
//! `LK_PYTHON`, when set, names a Python to use instead (it must import `livekit.rtc` and
//! numpy). Nothing here skips: without python3, its `venv` module or PyPI, it fails saying
//! what to run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The variable that names the Python the tests run (and that overrides the venv).
pub(crate) const LK_PYTHON: &str = "LK_PYTHON";

/// What the venv holds: LiveKit's Python SDK at the release whose `liblivekit_ffi.so` the
/// room client loads, numpy (the test client's PCM), and their dependencies, all pinned so
/// that every machine runs the same code. numpy 2.2.6 has wheels for Python 3.10 to 3.13.
pub(crate) const REQUIREMENTS: [&str; 5] = [
    "livekit==1.2.1",
    "numpy==2.2.6",
    "protobuf==7.36.2",
    "types-protobuf==7.35.1.20261122",
    "aiofiles==25.1.0",
];

/// The venv's folder in the cache.
const VENV_DIR: &str = "python-livekit-1.2.1";

/// Written into the venv once every requirement is installed: its content is the
/// requirements, so a venv made for other pins is made again.
const COMPLETE: &str = "xtask-complete";

/// What the Python must import.
const IMPORTS: &str = "import livekit.rtc, numpy";

/// Why the Python SDK cannot be had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PythonSdkError {
    /// No per-user cache folder.
    #[error(
        "no per-user cache folder for the Python SDK's venv: set HOME, XDG_CACHE_HOME or \
         LIVEKIT_AGENTS_CACHE_DIR, or set {LK_PYTHON} to a Python with {requirements}",
        requirements = REQUIREMENTS[..2].join(" and ")
    )]
    NoCache,
    /// `python3` does not run.
    #[error(
        "the room tests against LiveKit's Python SDK need python3, which does not run here \
         ({reason}); install it with `sudo apt-get install -y python3 python3-venv`, then run \
         `cargo xtask test` again"
    )]
    NoPython {
        /// Why it did not run.
        reason: String,
    },
    /// `python3 -m venv` failed (Debian and Ubuntu ship `venv`'s pip in python3-venv).
    #[error(
        "`python3 -m venv {venv}` failed: {output}; install Python's venv module with `sudo \
         apt-get install -y python3-venv`, then run `cargo xtask test` again"
    )]
    Venv {
        /// The venv's folder.
        venv: PathBuf,
        /// What Python printed.
        output: String,
    },
    /// pip failed.
    #[error(
        "`{python} -m pip install {requirements}` failed: {output}; is PyPI reachable (pip's \
         index settings apply)? The pins need Python 3.10 to 3.13. Run `cargo xtask test` \
         again once it can, or set {LK_PYTHON} to a Python with these packages",
        requirements = REQUIREMENTS.join(" ")
    )]
    Pip {
        /// The venv's interpreter.
        python: String,
        /// What pip printed (its last lines).
        output: String,
    },
    /// The Python named by `LK_PYTHON`, or the venv once made, does not import the SDK.
    #[error(
        "{python} cannot `{IMPORTS}`: {output}; install {requirements} into it (`{python} -m \
         pip install {requirements}`), or unset {LK_PYTHON} to let `cargo xtask test` make \
         its own venv",
        requirements = REQUIREMENTS[..2].join(" ")
    )]
    Broken {
        /// The interpreter.
        python: String,
        /// What it printed.
        output: String,
    },
    /// The venv's folder could not be written.
    #[error("cannot write {path}: {source}; check the cache folder's permissions")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// The Python to run the SDK tests with: `LK_PYTHON` if set (checked), else the cache's venv,
/// made (or made again, when incomplete or for other pins) when needed.
pub(crate) fn ensure(cache: Option<PathBuf>) -> Result<PathBuf, PythonSdkError> {
    if let Some(python) = std::env::var_os(LK_PYTHON).filter(|value| !value.is_empty()) {
        let python = PathBuf::from(python);
        check_imports(&python)?;
        eprintln!("xtask: LiveKit's Python SDK: {LK_PYTHON}={}", python.display());
        return Ok(python);
    }
    let venv = cache.ok_or(PythonSdkError::NoCache)?.join(VENV_DIR);
    let python = venv.join("bin").join("python");
    if is_complete(&venv) && check_imports(&python).is_ok() {
        eprintln!("xtask: LiveKit's Python SDK is in {}", venv.display());
        return Ok(python);
    }
    make(&venv)?;
    check_imports(&python)?;
    Ok(python)
}

/// Whether `venv` holds a finished install of [`REQUIREMENTS`].
fn is_complete(venv: &Path) -> bool {
    std::fs::read_to_string(venv.join(COMPLETE)).is_ok_and(|pins| pins == pins_text())
}

fn pins_text() -> String {
    REQUIREMENTS.join("\n") + "\n"
}

/// Makes the venv from scratch (a partial one is removed first) and installs the pins.
fn make(venv: &Path) -> Result<(), PythonSdkError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PythonSdkError::Io { path, source }
    };
    if venv.exists() {
        std::fs::remove_dir_all(venv).map_err(io(venv))?;
    }
    if let Some(parent) = venv.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    eprintln!(
        "xtask: making {} for LiveKit's Python SDK (python3 -m venv; pip install {})",
        venv.display(),
        REQUIREMENTS.join(" ")
    );
    let made = run(Command::new("python3").arg("-m").arg("venv").arg(venv))
        .map_err(|reason| PythonSdkError::NoPython { reason })?;
    if !made.status.success() {
        // A venv without pip is no use: take it away, so that the next run starts afresh.
        let _ = std::fs::remove_dir_all(venv);
        return Err(PythonSdkError::Venv { venv: venv.to_path_buf(), output: printed(&made) });
    }
    let python = venv.join("bin").join("python");
    let pip = |output: String| PythonSdkError::Pip { python: python.display().to_string(), output };
    let installed = run(Command::new(&python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--quiet"])
        .args(REQUIREMENTS))
    .map_err(pip)?;
    if !installed.status.success() {
        return Err(pip(printed(&installed)));
    }
    std::fs::write(venv.join(COMPLETE), pins_text()).map_err(io(&venv.join(COMPLETE)))?;
    Ok(())
}

/// Whether `python` imports the SDK and numpy.
fn check_imports(python: &Path) -> Result<(), PythonSdkError> {
    let broken =
        |output: String| PythonSdkError::Broken { python: python.display().to_string(), output };
    let output = run(Command::new(python).arg("-c").arg(IMPORTS)).map_err(broken)?;
    if output.status.success() { Ok(()) } else { Err(broken(printed(&output))) }
}

/// Runs `command` (no input), capturing its output; the error says why it did not start.
fn run(command: &mut Command) -> Result<Output, String> {
    command.stdin(Stdio::null()).output().map_err(|error| error.to_string())
}

/// The last lines a command printed (stderr, else stdout), trimmed, for an error message.
fn printed(output: &Output) -> String {
    let text = if output.stderr.trim_ascii().is_empty() { &output.stdout } else { &output.stderr };
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text.trim().lines().collect();
    let tail = lines[lines.len().saturating_sub(5)..].join(" ");
    if tail.is_empty() { format!("exit status {}", output.status) } else { tail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_venv_is_complete_only_with_the_marker_of_these_pins() {
        let dir = std::env::temp_dir().join(format!("xtask-venv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        assert!(!is_complete(&dir), "no marker: a venv pip did not finish");
        std::fs::write(dir.join(COMPLETE), "livekit==1.2.0\n").unwrap_or_default();
        assert!(!is_complete(&dir), "other pins: made again");
        std::fs::write(dir.join(COMPLETE), pins_text()).unwrap_or_default();
        assert!(is_complete(&dir));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_pins_are_exact_and_include_the_sdk_of_the_client_library() {
        assert!(REQUIREMENTS.iter().all(|pin| pin.split_once("==").is_some()));
        // The same release as agents-runtime-libs' liblivekit_ffi.so.
        let sdk = format!("livekit=={}", agents_runtime_libs::LIVEKIT_FFI.version);
        assert_eq!(REQUIREMENTS[0], sdk);
    }

    #[test]
    fn errors_name_the_command_to_run() {
        let venv = PythonSdkError::Venv {
            venv: PathBuf::from("/cache/python-livekit-1.2.1"),
            output: "ensurepip is not available".into(),
        };
        assert!(venv.to_string().contains("`sudo apt-get install -y python3-venv`"), "{venv}");
        let none = PythonSdkError::NoPython { reason: "No such file or directory".into() };
        assert!(none.to_string().contains("apt-get install -y python3 python3-venv"), "{none}");
        let broken = PythonSdkError::Broken {
            python: "/usr/bin/python3".into(),
            output: "ModuleNotFoundError: No module named 'livekit'".into(),
        };
        assert!(
            broken
                .to_string()
                .contains("`/usr/bin/python3 -m pip install livekit==1.2.1 numpy==2.2.6`"),
            "{broken}"
        );
    }

    #[test]
    fn a_python_that_does_not_run_is_reported_not_skipped() {
        let missing = Path::new("/nonexistent/bin/python");
        let error = check_imports(missing).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.starts_with("/nonexistent/bin/python cannot `import livekit.rtc, numpy`"));
    }
}
