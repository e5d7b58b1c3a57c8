//! The ONNX Runtime library this plugin loads (no `ort` calls here: see `model.rs`).
//!
//! Where it is looked for, which versions are accepted and how it is installed is the
//! business of [`agents_core::runtime_libs`]: the variable `ORT_DYLIB_PATH` (a library file
//! or a folder holding one), then the per-user cache that `<agent> download-files` fills, then
//! the `onnxruntime` Python package.

use std::path::PathBuf;

use agents_core::runtime_libs::{self, ONNX_RUNTIME, RuntimeLibrary};

use crate::error::LoadError;

/// The variable naming the library (or a folder holding it).
pub const ORT_DYLIB_PATH: &str = ONNX_RUNTIME.env_var;

/// The native libraries this plugin loads at run time: ONNX Runtime. Give them to
/// [`AgentServer::runtime_libraries`](agents_core::worker::AgentServer::runtime_libraries) so
/// that `<agent> download-files` installs them.
pub const RUNTIME_LIBRARIES: &[&RuntimeLibrary] = &[&ONNX_RUNTIME];

/// The library to load, or why there is none.
pub(crate) fn locate() -> Result<PathBuf, LoadError> {
    Ok(runtime_libs::locate(&ONNX_RUNTIME)?)
}
