//! Errors: loading the runtime and the model, and invalid options.

use std::path::PathBuf;

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
    /// No ONNX Runtime library was found.
    #[error(
        "ONNX Runtime was not found. Install it with `pip install onnxruntime` (1.19 or later: \
         its wheel ships the library), or set ORT_DYLIB_PATH to the versioned library file, e.g. \
         ORT_DYLIB_PATH=/path/to/site-packages/onnxruntime/capi/libonnxruntime.so.1.22.0. \
         Looked in: {}",
        display_paths(searched)
    )]
    RuntimeNotFound {
        /// The places searched, in order.
        searched: Vec<PathBuf>,
    },
    /// `ORT_DYLIB_PATH` names a file that does not exist.
    #[error(
        "ORT_DYLIB_PATH is `{}`, which does not exist; set it to the versioned ONNX Runtime \
         library file (e.g. .../onnxruntime/capi/libonnxruntime.so.1.22.0 from \
         `pip install onnxruntime`), or unset it to search the usual places",
        path.display()
    )]
    RuntimeMissing {
        /// The value of `ORT_DYLIB_PATH`.
        path: PathBuf,
    },
    /// The ONNX Runtime library was found but could not be loaded.
    #[error(
        "cannot load ONNX Runtime from `{}`: {reason}. It must be ONNX Runtime 1.17 or later \
         for this platform (`pip install -U onnxruntime`); set ORT_DYLIB_PATH to another copy \
         to use that one",
        path.display()
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
    #[error("cannot read the Silero model file `{}`: {source}; check the path", path.display())]
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
    #[error("cannot start the VAD inference thread: {source}")]
    Thread {
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nowhere (no candidate locations)".to_owned();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
