//! `Vad`: the loaded model and its engine; makes streams.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::engine::Engine;
use crate::error::{LoadError, OptionsError};
use crate::model::{self, Geometry, ModelSource, SequenceModel, SileroModel};
use crate::options::VadOptions;
use crate::stream::VadStream;

/// Options set on the `Vad`, seen by all its streams.
#[derive(Debug)]
pub(crate) struct Shared {
    options: Mutex<VadOptions>,
    /// Bumped on every `Vad::update_options`.
    pub(crate) generation: AtomicU64,
}

impl Shared {
    /// The options and their generation.
    pub(crate) fn snapshot(&self) -> (VadOptions, u64) {
        let options = self.options.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        (options.clone(), self.generation.load(Ordering::Acquire))
    }
}

/// Silero voice activity detection (Python's `silero.VAD`).
///
/// Loading starts one inference thread, which owns the ONNX session; every stream of this
/// `Vad` (and of its clones) feeds it, each with its own model state. The thread stops when
/// the `Vad` and all its streams are dropped.
///
/// ONNX Runtime is loaded at run time: see the crate documentation for where it is found.
///
/// ```no_run
/// use std::time::Duration;
/// use agents_plugins_silero::{Vad, VadOptions};
///
/// let vad = Vad::load_with(VadOptions {
///     min_silence_duration: Duration::from_millis(300),
///     ..Default::default()
/// })?;
/// let stream = vad.stream();
/// # Ok::<(), agents_plugins_silero::LoadError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Vad {
    engine: Arc<Engine>,
    shared: Arc<Shared>,
}

impl Vad {
    /// Loads the bundled model with the default options (Python's `silero.VAD.load()`).
    pub fn load() -> Result<Self, LoadError> {
        Self::load_with(VadOptions::default())
    }

    /// Loads the bundled model with `options`.
    pub fn load_with(options: VadOptions) -> Result<Self, LoadError> {
        Self::load_source(&ModelSource::Bundled, options)
    }

    /// Loads a Silero VAD ONNX file (v5/v6 interface) instead of the bundled model.
    pub fn load_from_file(path: impl AsRef<Path>, options: VadOptions) -> Result<Self, LoadError> {
        Self::load_source(&ModelSource::File(path.as_ref().to_path_buf()), options)
    }

    fn load_source(source: &ModelSource, options: VadOptions) -> Result<Self, LoadError> {
        options.validate()?;
        let geometry = Geometry::for_rate(options.sample_rate)
            .ok_or(OptionsError::UnsupportedSampleRate { rate: options.sample_rate })?;
        let model = SileroModel::load(source, geometry)?;
        // The sequence export has the bundled model's weights, at 16 kHz.
        let sequence = match source {
            ModelSource::Bundled if geometry.sample_rate == 16_000 => Some(SequenceModel::load()?),
            _ => None,
        };
        let engine = Engine::start(model, sequence)?;
        Ok(Self {
            engine: Arc::new(engine),
            shared: Arc::new(Shared {
                options: Mutex::new(options),
                generation: AtomicU64::new(0),
            }),
        })
    }

    /// A new stream with its own state.
    pub fn stream(&self) -> VadStream {
        VadStream::new(self.engine.clone(), self.shared.clone())
    }

    /// The options new streams start with.
    pub fn options(&self) -> VadOptions {
        self.shared.snapshot().0
    }

    /// Changes the options of this VAD and of all its streams, live (Python's
    /// `VAD.update_options`). The sample rate cannot change.
    ///
    /// ```no_run
    /// # let vad = agents_plugins_silero::Vad::load()?;
    /// let mut options = vad.options();
    /// options.activation_threshold = 0.6;
    /// vad.update_options(options)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update_options(&self, options: VadOptions) -> Result<(), OptionsError> {
        options.validate()?;
        let rate = self.engine.geometry().sample_rate;
        if options.sample_rate != rate {
            return Err(OptionsError::SampleRateChange { from: rate, to: options.sample_rate });
        }
        let mut current =
            self.shared.options.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *current = options;
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Seconds of audio per inference: 0.032 (512 samples at 16 kHz, 256 at 8 kHz).
    pub fn update_interval(&self) -> f64 {
        let g = self.engine.geometry();
        g.window as f64 / f64::from(g.sample_rate)
    }

    /// `"silero"`.
    pub fn model(&self) -> &'static str {
        "silero"
    }

    /// `"ONNX"`.
    pub fn provider(&self) -> &'static str {
        "ONNX"
    }

    /// The ONNX Runtime library this process loaded, once a `Vad` was loaded.
    pub fn runtime_library() -> Option<PathBuf> {
        model::loaded_library()
    }
}

impl agents_core::vad::Vad for Vad {
    fn stream(&self) -> Box<dyn agents_core::vad::VadStream> {
        Box::new(Vad::stream(self))
    }

    fn update_interval(&self) -> f64 {
        Vad::update_interval(self)
    }
}
