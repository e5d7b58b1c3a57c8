//! Finding the ONNX Runtime shared library (no `ort` calls here: see `model.rs`).
//!
//! In order:
//! 1. `ORT_DYLIB_PATH`: a library file, or a folder holding one;
//! 2. a project cache `.cache/onnxruntime/` in the current folder or one of its parents, or
//!    beside the running program or one of its parents (what `.ci/run` fills);
//! 3. the `onnxruntime` Python package: in `$VIRTUAL_ENV`, then in every `sys.path` folder of
//!    `python3` (asked with `python3 -c 'import sys; ...'`, which does not import onnxruntime).
//!
//! In a folder, the newest versioned library wins (`libonnxruntime.so.1.22.0` over
//! `libonnxruntime.so.1.17.3`); versions before 1.17 are skipped.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::LoadError;

/// The variable naming the library (or a folder holding it).
pub const ORT_DYLIB_PATH: &str = "ORT_DYLIB_PATH";

/// The oldest ONNX Runtime the crate accepts (C API 17).
const MIN_MINOR: u32 = 17;

/// The library to load, or why there is none.
pub(crate) fn locate() -> Result<PathBuf, LoadError> {
    if let Some(value) = std::env::var_os(ORT_DYLIB_PATH).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        if path.is_dir() {
            return newest_in(&path).ok_or(LoadError::RuntimeNotFound { searched: vec![path] });
        }
        if !path.exists() {
            return Err(LoadError::RuntimeMissing { path });
        }
        return Ok(path);
    }
    let mut searched = Vec::new();
    for dir in cache_dirs().into_iter().chain(python_dirs()) {
        if searched.contains(&dir) {
            continue;
        }
        if let Some(found) = newest_in(&dir) {
            return Ok(found);
        }
        searched.push(dir);
    }
    Err(LoadError::RuntimeNotFound { searched })
}

/// `.cache/onnxruntime` in the current folder, beside the program, and in their parents.
fn cache_dirs() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(dir) = std::env::current_dir() {
        roots.push(dir);
    }
    if let Some(dir) =
        std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        roots.push(dir);
    }
    let mut dirs = Vec::new();
    for root in &roots {
        for ancestor in root.ancestors() {
            let candidate = ancestor.join(".cache").join("onnxruntime");
            if candidate.is_dir() && !dirs.contains(&candidate) {
                dirs.push(candidate);
            }
        }
    }
    dirs
}

/// `<site-packages>/onnxruntime/capi` for the active virtual environment and `python3`'s path.
fn python_dirs() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        let lib = PathBuf::from(venv).join("lib");
        if let Ok(entries) = std::fs::read_dir(&lib) {
            let mut pythons: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(OsStr::to_str).is_some_and(|n| n.starts_with("python"))
                })
                .collect();
            pythons.sort();
            roots.extend(pythons.into_iter().map(|p| p.join("site-packages")));
        }
    }
    roots.extend(python_sys_path());
    roots.into_iter().map(|root| root.join("onnxruntime").join("capi")).collect()
}

/// The folders of `python3`'s `sys.path`; none if there is no `python3`.
fn python_sys_path() -> Vec<PathBuf> {
    let output = Command::new("python3")
        .args(["-c", "import sys\nfor p in sys.path:\n    print(p)"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match output {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .collect(),
        _ => Vec::new(),
    }
}

/// The newest ONNX Runtime library (≥ 1.17) in `dir`.
pub(crate) fn newest_in(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let version = library_version(name.to_str()?)?;
            (version.first().copied().unwrap_or(0) > 1
                || version.get(1).copied().unwrap_or(u32::MAX) >= MIN_MINOR)
                .then(|| (version, e.path()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, path)| path)
}

/// The version in a library file name (`libonnxruntime.so.1.22.0` → `[1, 22, 0]`); an empty
/// version for an unversioned name; `None` for other files.
pub(crate) fn library_version(name: &str) -> Option<Vec<u32>> {
    let version = if cfg!(target_os = "macos") {
        let rest = name.strip_prefix("libonnxruntime")?.strip_suffix(".dylib")?;
        if rest.is_empty() { "" } else { rest.strip_prefix('.')? }
    } else if cfg!(windows) {
        return (name.eq_ignore_ascii_case("onnxruntime.dll")).then(Vec::new);
    } else {
        let rest = name.strip_prefix("libonnxruntime.so")?;
        if rest.is_empty() { "" } else { rest.strip_prefix('.')? }
    };
    if version.is_empty() {
        return Some(Vec::new());
    }
    version.split('.').map(|part| part.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn versions_are_read_from_file_names() {
        assert_eq!(library_version("libonnxruntime.so.1.22.0"), Some(vec![1, 22, 0]));
        assert_eq!(library_version("libonnxruntime.so"), Some(vec![]));
        assert_eq!(library_version("libonnxruntime.so.1.x"), None);
        assert_eq!(library_version("libonnxruntime_providers_shared.so"), None);
        assert_eq!(library_version("libonnxruntime.dylib"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_newest_supported_library_wins() {
        let dir = std::env::temp_dir().join(format!("silero-newest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "libonnxruntime.so.1.16.3",
            "libonnxruntime.so.1.17.3",
            "libonnxruntime.so.1.9.0",
            "libonnxruntime_providers_shared.so",
        ] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        assert_eq!(newest_in(&dir), Some(dir.join("libonnxruntime.so.1.17.3")));
        std::fs::write(dir.join("libonnxruntime.so.1.22.0"), b"").unwrap();
        assert_eq!(newest_in(&dir), Some(dir.join("libonnxruntime.so.1.22.0")));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(newest_in(&dir), None);
    }
}
