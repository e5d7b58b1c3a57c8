#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
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
