//! The per-user cache the libraries are installed into.

use std::path::{Path, PathBuf};

use crate::library::{Artifact, RuntimeLibrary};

/// The variable that overrides the cache folder.
pub const CACHE_DIR_VAR: &str = "LIVEKIT_AGENTS_CACHE_DIR";

/// The per-user cache folder, or `None` if the environment names none.
///
/// In order: `LIVEKIT_AGENTS_CACHE_DIR`; `$XDG_CACHE_HOME/livekit-agents`; on macOS
/// `~/Library/Caches/livekit-agents`, on Windows `%LOCALAPPDATA%\livekit-agents`, elsewhere
/// `~/.cache/livekit-agents`. Empty and relative values are ignored, as the XDG rules say.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name).map(PathBuf::from).filter(|p| !p.as_os_str().is_empty())
    };
    if let Some(dir) = var(CACHE_DIR_VAR) {
        return Some(dir);
    }
    if let Some(dir) = var("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Some(dir.join("livekit-agents"));
    }
    if cfg!(windows) {
        return var("LOCALAPPDATA").map(|dir| dir.join("livekit-agents"));
    }
    let home = var("HOME").filter(|p| p.is_absolute())?;
    if cfg!(target_os = "macos") {
        Some(home.join("Library").join("Caches").join("livekit-agents"))
    } else {
        Some(home.join(".cache").join("livekit-agents"))
    }
}

/// Where a library's pinned build goes in `cache`: `<cache>/<package>-<version>/<file>`.
pub fn cached_path(cache: &Path, library: &RuntimeLibrary, artifact: &Artifact) -> PathBuf {
    cache.join(format!("{}-{}", library.package, library.version)).join(artifact.file_name)
}
