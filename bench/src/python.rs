//! The Python side of the side-by-side benchmarks: a virtual environment with LiveKit's
//! Python agents (livekit-agents from PyPI, which brings the `mcp` SDK), made on first use,
//! and the scripts in `bench/python/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The livekit-agents release the side-by-side benchmarks run.
pub const PYTHON_AGENTS: &str = "livekit-agents==1.8.9";

/// The interpreter of the benchmarks' virtual environment with livekit-agents installed:
/// `AGENTS_BENCH_VENV` if set, else `target/bench-venv`, made with `python3 -m venv` and
/// `pip install` when missing. An error says why the Python side cannot run (it is then
/// skipped); `AGENTS_BENCH_NO_PYTHON` set skips it on purpose.
pub fn python_venv() -> Result<PathBuf, String> {
    if std::env::var_os("AGENTS_BENCH_NO_PYTHON").is_some() {
        return Err("AGENTS_BENCH_NO_PYTHON is set".into());
    }
    let venv = std::env::var_os("AGENTS_BENCH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-venv"));
    let python = venv.join("bin/python");
    if has_agents(&python) {
        return Ok(python);
    }
    println!("(making {}: python3 -m venv; pip install {PYTHON_AGENTS})", venv.display());
    let made = Command::new("python3").arg("-m").arg("venv").arg(&venv).status();
    if !made.is_ok_and(|status| status.success()) {
        return Err(format!(
            "`python3 -m venv {}` failed: install python3 and python3-venv, or set \
             AGENTS_BENCH_VENV to a venv with {PYTHON_AGENTS}",
            venv.display()
        ));
    }
    let pip = venv.join("bin/pip");
    let installed = Command::new(&pip).args(["install", "-q", PYTHON_AGENTS]).status();
    if !installed.is_ok_and(|status| status.success()) || !has_agents(&python) {
        return Err(format!(
            "`{} install {PYTHON_AGENTS}` failed: is PyPI reachable? (or set AGENTS_BENCH_VENV)",
            pip.display()
        ));
    }
    Ok(python)
}

/// The path of `bench/python/<name>`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python").join(name)
}

fn has_agents(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import livekit.agents"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benches_python_scripts_are_where_they_are_looked_for() {
        for name in ["worker_idle.py", "mcp_calls.py"] {
            assert!(script(name).is_file(), "{} is missing", script(name).display());
        }
    }
}
