//! Errors: loading the runtime and the model, and invalid options.

use std::path::PathBuf;

use agents_core::runtime_libs::{LocateError, ONNX_RUNTIME};

/// Invalid [`VadOptions`](crate::VadOptions).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// Silero runs at 8 kHz or 16 kHz only.
    #[error(
        "Silero VAD runs at 8000 or 16000 Hz, not {rate} Hz; set `sample_rate` to one of them \
         (input audio of any rate is resampled to it)"
    )]
    UnsupportedSampleRate {
        /// The rate asked for.
        rate: u32,
    },
    /// A threshold outside `(0, 1]`.
    #[error("`{name}` must be above 0 and at most 1, not {value}")]
    Threshold {
        /// `activation_threshold` or `deactivation_threshold`.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// `update_options` cannot change the model's rate.
    #[error(
        "the model's sample rate cannot change after loading ({from} Hz to {to} Hz); load \
         another `Vad` with the new rate"
    )]
    SampleRateChange {
        /// The rate the VAD was loaded with.
        from: u32,
        /// The rate asked for.
        to: u32,
    },
}

/// The VAD could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The options are invalid.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// No usable ONNX Runtime library was found: the error says where it looked, which
    /// version it wants, and how to install it (`<agent> download-files`, `ORT_DYLIB_PATH`).
    #[error(transparent)]
    Runtime(#[from] LocateError),
    /// The ONNX Runtime library was found but could not be loaded.
    #[error(
        "cannot load ONNX Runtime from `{}`: {reason}. It must be {} for this machine: set \
         ORT_DYLIB_PATH to another copy, or unset it and run `<your agent> download-files` to \
         install the pinned build (see docs/src/troubleshooting.md#onnx-runtime)",
        path.display(),
        ONNX_RUNTIME.wanted()
    )]
    RuntimeLoad {
        /// The library file.
        path: PathBuf,
        /// What the loader said.
        reason: String,
    },
    /// ONNX Runtime could not create its environment.
    #[error("ONNX Runtime could not start: {reason}")]
    Environment {
        /// What ONNX Runtime said.
        reason: String,
    },
    /// The model file given could not be read.
    #[error("cannot read the Silero model file `{}` (check the path)", path.display())]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// ONNX Runtime rejected the model.
    #[error("ONNX Runtime cannot load {model}: {reason}; use a Silero VAD v5 or v6 ONNX file")]
    Session {
        /// The bundled model or the file's path.
        model: String,
        /// What ONNX Runtime said.
        reason: String,
    },
    /// The model is not a Silero VAD model (v5/v6 interface).
    #[error(
        "{model} is not a Silero VAD v5/v6 model: {reason} (expected inputs `input`, `state`, \
         `sr` and outputs `output`, `stateN`)"
    )]
    ModelInterface {
        /// The bundled model or the file's path.
        model: String,
        /// What is missing.
        reason: String,
    },
    /// The inference thread could not be started.
    #[error("cannot start the VAD inference thread")]
    Thread {
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::error::Error as _;

    use super::*;

    #[test]
    fn messages_leave_the_cause_to_the_source() {
        let cause = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file (os 2)");
        let error = LoadError::ModelFile { path: "/models/vad.onnx".into(), source: cause() };
        let message = error.to_string();
        assert!(message.contains("/models/vad.onnx") && !message.contains("os 2"), "{message}");
        assert_eq!(error.source().unwrap().to_string(), "no such file (os 2)");

        let error = LoadError::Thread { source: cause() };
        assert!(!error.to_string().contains("os 2"), "{error}");
        assert_eq!(error.source().unwrap().to_string(), "no such file (os 2)");
    }
}
