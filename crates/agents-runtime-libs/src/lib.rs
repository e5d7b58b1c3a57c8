//! The native libraries LiveKit Agents for Rust loads at run time, in one place: each one's
//! pinned version and sha256, where to look for it, and how to install it.
//!
//! | library | variable | PyPI wheel | file |
//! |---|---|---|---|
//! | [`ONNX_RUNTIME`] (Silero VAD) | `ORT_DYLIB_PATH` | `onnxruntime` 1.32.0 (any from 1.17 is accepted) | `onnxruntime/capi/libonnxruntime.so.1.32.0` |
//! | [`LIVEKIT_FFI`] (LiveKit rooms) | `LIVEKIT_LIB_PATH` | `livekit` 1.2.1 (FFI server v0.13.2, exactly) | `livekit/rtc/resources/liblivekit_ffi.so` |
//!
//! [`locate`] looks, in order, at the library's variable, the per-user cache
//! ([`cache_dir`]: `$LIVEKIT_AGENTS_CACHE_DIR`, else `$XDG_CACHE_HOME/livekit-agents`, else
//! `~/.cache/livekit-agents`), and the Python package that ships it. Every "not found" error
//! names the variable, the version wanted and the command that installs it:
//! `<agent> download-files` (`cli::run_app` of agents-core), which runs [`Installer`] (with
//! the `download` feature, on by default): the pinned wheel through `python3 -m pip download`
//! (so pip's index settings apply), both sha256 checked, the library written to a temporary
//! file and renamed into the cache. Running it again downloads nothing.
//!
//! Pinned builds exist for Linux x86_64; elsewhere, install the Python package or set the
//! variable ([`DownloadError::UnsupportedPlatform`] says so).

#![forbid(unsafe_code)]

mod binary;
mod cache;
#[cfg(feature = "download")]
mod download;
mod library;
mod locate;
#[cfg(feature = "download")]
mod staging;
#[cfg(feature = "download")]
mod wheel;

pub use cache::{CACHE_DIR_VAR, cache_dir, cached_path};
#[cfg(feature = "download")]
pub use download::{DownloadError, Installed, Installer, Manual, PipOutput};
pub use library::{ALL, Artifact, LIVEKIT_FFI, ONNX_RUNTIME, RuntimeLibrary, VersionRule};
pub use locate::{LocateError, locate};

/// The Python interpreter asked for its packages and for pip.
pub(crate) const PYTHON: &str = if cfg!(windows) { "python" } else { "python3" };
