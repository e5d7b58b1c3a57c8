//! The Silero model in ONNX Runtime: every `ort` call of the crate is in this module.
//!
//! - [`environment`] loads the ONNX Runtime library (once per process) and creates the one
//!   ONNX Runtime environment that every session shares.
//! - [`SileroModel`] is a session plus its reusable input tensors. It holds no stream state:
//!   [`SileroModel::infer_batch`] takes the [`ModelState`]s (LSTM state and context) of one or
//!   more streams and runs one window of each as one batch, so one model serves any number of
//!   streams.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::{Session, SessionInputValue, SessionOutputs};
use ort::value::Tensor;

use crate::error::LoadError;
use crate::runtime;

/// The bundled model: Silero VAD v6.2 (`silero_vad.onnx`, MIT licence, see `models/LICENSE`).
pub const BUNDLED_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/silero_vad.onnx"));

/// The sha256 of [`BUNDLED_MODEL`], as published with Silero VAD v6.2.
pub const BUNDLED_MODEL_SHA256: &str =
    "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3";

/// The same model (same weights) exported to take the windows of one stream as a sequence:
/// `input [L, 576]`, `h`/`c [1, 1, 128]` → `speech_probs [L]`, `hn`/`cn` (16 kHz only). It runs
/// the convolutions of all L windows at once and only the LSTM step by step, so a stream with
/// several windows waiting costs about 40 µs per window instead of 60–75; its probabilities
/// equal the main model's, window for window. From the `silero-vad` 6.2 Python package
/// (`silero_vad/data/silero_vad_16k_sequence.onnx`, MIT licence, see `models/LICENSE`).
pub(crate) const SEQUENCE_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/silero_vad_16k_sequence.onnx"));

/// Size of the LSTM state, `[2, 1, 128]`.
pub(crate) const STATE_LEN: usize = 2 * 128;

const INPUT: &str = "input";
const STATE: &str = "state";
const SAMPLE_RATE: &str = "sr";
const OUTPUT: &str = "output";
const STATE_OUT: &str = "stateN";

/// The process's ONNX Runtime environment and the library it was loaded from.
static ENVIRONMENT: Mutex<Option<(Environment, PathBuf)>> = Mutex::new(None);

/// The ONNX Runtime environment, loading the library on first use.
///
/// ONNX Runtime allows one environment per process, so it is created once and kept.
pub(crate) fn environment() -> Result<Environment, LoadError> {
    let mut slot = ENVIRONMENT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((env, _)) = slot.as_ref() {
        return Ok(env.clone());
    }
    let path = runtime::locate()?;
    // `init_from` returns the loader's error instead of panicking like lazy loading does.
    let builder = ort::init_from(&path)
        .map_err(|e| LoadError::RuntimeLoad { path: path.clone(), reason: e.to_string() })?;
    let env = builder
        .with_name("agents-plugins-silero")
        .build()
        .map_err(|e| LoadError::Environment { reason: e.to_string() })?;
    tracing::debug!(library = %path.display(), "ONNX Runtime loaded");
    *slot = Some((env.clone(), path));
    Ok(env)
}

/// The ONNX Runtime library the process loaded, if it has loaded one.
pub(crate) fn loaded_library() -> Option<PathBuf> {
    let slot = ENVIRONMENT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    slot.as_ref().map(|(_, path)| path.clone())
}

/// Where the model comes from.
#[derive(Debug, Clone)]
pub(crate) enum ModelSource {
    /// [`BUNDLED_MODEL`].
    Bundled,
    /// An ONNX file with the same interface.
    File(PathBuf),
}

/// One stream's model state: the LSTM state and the last samples of the previous window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelState {
    pub(crate) lstm: [f32; STATE_LEN],
    pub(crate) context: Vec<f32>,
}

impl ModelState {
    /// Zero state for a model with `context` samples of context.
    pub(crate) fn new(context: usize) -> Self {
        Self { lstm: [0.0; STATE_LEN], context: vec![0.0; context] }
    }
}

/// Window and context sizes at a model rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) sample_rate: u32,
    pub(crate) window: usize,
    pub(crate) context: usize,
}

impl Geometry {
    /// 512 + 64 samples at 16 kHz, 256 + 32 at 8 kHz; `None` for other rates.
    pub(crate) fn for_rate(sample_rate: u32) -> Option<Self> {
        match sample_rate {
            16_000 => Some(Self { sample_rate, window: 512, context: 64 }),
            8_000 => Some(Self { sample_rate, window: 256, context: 32 }),
            _ => None,
        }
    }
}

/// An inference failed (ONNX Runtime reported an error or the output was malformed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Silero VAD inference failed: {0}")]
pub(crate) struct InferenceError(pub(crate) String);

/// A Silero session with its input tensors, reused from one inference to the next.
pub(crate) struct SileroModel {
    session: Session,
    geometry: Geometry,
    /// Input tensors for a batch of `n` streams at index `n - 1`, made on first use.
    batches: Vec<Option<BatchTensors>>,
    /// A scalar.
    sample_rate: Tensor<i64>,
    /// Where each of `input`, `state` and `sr` goes in the session's input order.
    order: [usize; 3],
}

/// The input tensors of a batch of `n` streams.
struct BatchTensors {
    /// `[n, context + window]`: one row per stream.
    input: Tensor<f32>,
    /// `[2, n, 128]`: the LSTM's `h` rows of every stream, then their `c` rows.
    state: Tensor<f32>,
}

impl std::fmt::Debug for SileroModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroModel").field("geometry", &self.geometry).finish_non_exhaustive()
    }
}

impl BatchTensors {
    /// Zeroed tensors for `n` streams of `row` input samples each.
    fn new(n: usize, row: usize) -> Result<Self, InferenceError> {
        let input = Tensor::from_array(([n, row], vec![0.0f32; n * row])).map_err(runtime_error)?;
        let state = Tensor::from_array(([2usize, n, HALF_STATE], vec![0.0f32; n * STATE_LEN]))
            .map_err(runtime_error)?;
        Ok(Self { input, state })
    }
}

/// Half the LSTM state: `h` or `c` of one stream.
const HALF_STATE: usize = STATE_LEN / 2;

impl SileroModel {
    /// Loads the model into a new session with the Python plugin's settings: one intra-op and
    /// one inter-op thread, sequential execution, no spinning, all graph optimizations.
    pub(crate) fn load(source: &ModelSource, geometry: Geometry) -> Result<Self, LoadError> {
        if let ModelSource::File(path) = source {
            check_model_file(path)?;
        }
        let env = environment()?;
        let session_error = |e: &dyn std::fmt::Display| LoadError::Session {
            model: source_name(source),
            reason: e.to_string(),
        };
        let mut builder = session_builder(&env)
            .map_err(|reason| LoadError::Session { model: source_name(source), reason })?;
        let session = match source {
            ModelSource::Bundled => builder.commit_from_memory(BUNDLED_MODEL),
            ModelSource::File(path) => builder.commit_from_file(path),
        }
        .map_err(|e| session_error(&e))?;

        let order = input_order(&session)
            .map_err(|reason| LoadError::ModelInterface { model: source_name(source), reason })?;
        if !session.outputs().iter().any(|o| o.name() == OUTPUT)
            || !session.outputs().iter().any(|o| o.name() == STATE_OUT)
        {
            return Err(LoadError::ModelInterface {
                model: source_name(source),
                reason: format!("it has no `{OUTPUT}` and `{STATE_OUT}` outputs"),
            });
        }
        let sample_rate =
            Tensor::from_array((Vec::<usize>::new(), vec![i64::from(geometry.sample_rate)]))
                .map_err(|e| session_error(&e))?;
        let mut model = Self { session, geometry, batches: Vec::new(), sample_rate, order };
        // The batch-1 tensors are made now, so that a model that cannot have them fails here.
        let row = geometry.context + geometry.window;
        sized(&mut model.batches, 1, || BatchTensors::new(1, row))
            .map_err(|e| session_error(&e))?;
        Ok(model)
    }

    /// The model's window and context sizes.
    pub(crate) fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Runs one window of each of `states.len()` streams as one batch (`input [n, 576]`,
    /// `state [2, n, 128]`): `windows[i]` from `states[i]`, which it then advances, its raw
    /// speech probability in `probabilities[i]`.
    ///
    /// The streams' results are those each would get alone (the rows of a batch do not mix);
    /// on an error no state is advanced.
    pub(crate) fn infer_batch(
        &mut self,
        states: &mut [&mut ModelState],
        windows: &[&[f32]],
        probabilities: &mut [f32],
    ) -> Result<(), InferenceError> {
        let Geometry { window: len, context, .. } = self.geometry;
        let n = states.len();
        if n == 0 || windows.len() != n || probabilities.len() != n {
            return Err(InferenceError(format!(
                "a batch needs as many windows and results as states, got {n}, {} and {}",
                windows.len(),
                probabilities.len()
            )));
        }
        for (state, window) in states.iter().zip(windows) {
            if window.len() != len || state.context.len() != context {
                return Err(InferenceError(format!(
                    "expected a window of {len} samples and {context} samples of context, got {} and {}",
                    window.len(),
                    state.context.len()
                )));
            }
        }
        let Self { session, batches, sample_rate, order, .. } = self;
        let tensors = sized(batches, n, || BatchTensors::new(n, context + len))?;
        {
            let (_, input) = tensors.input.extract_tensor_mut();
            for ((row, state), window) in
                input.chunks_exact_mut(context + len).zip(&*states).zip(windows)
            {
                row[..context].copy_from_slice(&state.context);
                row[context..].copy_from_slice(window);
            }
            let (_, lstm) = tensors.state.extract_tensor_mut();
            let (h, c) = lstm.split_at_mut(n * HALF_STATE);
            for (i, state) in states.iter().enumerate() {
                let rows = i * HALF_STATE..(i + 1) * HALF_STATE;
                h[rows.clone()].copy_from_slice(&state.lstm[..HALF_STATE]);
                c[rows].copy_from_slice(&state.lstm[HALF_STATE..]);
            }
        }
        let mut values: [Option<SessionInputValue<'_>>; 3] = [None, None, None];
        values[order[0]] = Some((&tensors.input).into());
        values[order[1]] = Some((&tensors.state).into());
        values[order[2]] = Some((&*sample_rate).into());
        let [Some(a), Some(b), Some(c)] = values else {
            return Err(InferenceError("the model's input order is inconsistent".into()));
        };
        let outputs = session.run([a, b, c]).map_err(runtime_error)?;

        probabilities.copy_from_slice(output(&outputs, OUTPUT, &[n, 1])?);
        let next = output(&outputs, STATE_OUT, &[2, n, HALF_STATE])?;
        let (h, c) = next.split_at(n * HALF_STATE);
        for (i, state) in states.iter_mut().enumerate() {
            let rows = i * HALF_STATE..(i + 1) * HALF_STATE;
            state.lstm[..HALF_STATE].copy_from_slice(&h[rows.clone()]);
            state.lstm[HALF_STATE..].copy_from_slice(&c[rows]);
        }
        // The next context is the end of this input: the last `context` samples of the window
        // (the window is always longer than the context).
        for (state, window) in states.iter_mut().zip(windows) {
            state.context.copy_from_slice(&window[len - context..]);
        }
        Ok(())
    }
}

/// The sequence export of the bundled model (see [`SEQUENCE_MODEL`]): one stream's windows
/// in one run.
pub(crate) struct SequenceModel {
    session: Session,
    /// `[l, 576]` at index `l - 1`, made on first use.
    inputs: Vec<Option<Tensor<f32>>>,
    /// `[1, 1, 128]` each.
    h: Tensor<f32>,
    c: Tensor<f32>,
}

impl std::fmt::Debug for SequenceModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceModel").finish_non_exhaustive()
    }
}

/// The 16 kHz geometry, the only one of [`SequenceModel`].
const SEQUENCE_CONTEXT: usize = 64;
const SEQUENCE_WINDOW: usize = 512;

impl SequenceModel {
    /// Loads [`SEQUENCE_MODEL`] with the same session settings as the main model.
    pub(crate) fn load() -> Result<Self, LoadError> {
        let model = || "the bundled silero_vad_16k_sequence.onnx".to_owned();
        let env = environment()?;
        let session = session_builder(&env)
            .map_err(|reason| LoadError::Session { model: model(), reason })?
            .commit_from_memory(SEQUENCE_MODEL)
            .map_err(|e| LoadError::Session { model: model(), reason: e.to_string() })?;
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        if names != ["input", "h", "c"] {
            return Err(LoadError::ModelInterface {
                model: model(),
                reason: format!("its inputs are {names:?}, not input, h and c"),
            });
        }
        let state = || Tensor::from_array(([1usize, 1, HALF_STATE], vec![0.0f32; HALF_STATE]));
        let error = |e: ort::Error| LoadError::Session { model: model(), reason: e.to_string() };
        Ok(Self {
            session,
            inputs: Vec::new(),
            h: state().map_err(error)?,
            c: state().map_err(error)?,
        })
    }

    /// Runs the consecutive windows in `samples` (a multiple of 512 samples at 16 kHz) of one
    /// stream from `state`, which it then advances; the raw probabilities go to
    /// `probabilities`, one per window. On an error no state is advanced.
    pub(crate) fn infer(
        &mut self,
        state: &mut ModelState,
        samples: &[f32],
        probabilities: &mut Vec<f32>,
    ) -> Result<(), InferenceError> {
        let l = samples.len() / SEQUENCE_WINDOW;
        if l == 0
            || !samples.len().is_multiple_of(SEQUENCE_WINDOW)
            || state.context.len() != SEQUENCE_CONTEXT
        {
            return Err(InferenceError(format!(
                "expected whole windows of {SEQUENCE_WINDOW} samples and {SEQUENCE_CONTEXT} of \
                 context, got {} and {}",
                samples.len(),
                state.context.len()
            )));
        }
        let row = SEQUENCE_CONTEXT + SEQUENCE_WINDOW;
        let input = sized(&mut self.inputs, l, || {
            Tensor::from_array(([l, row], vec![0.0f32; l * row])).map_err(runtime_error)
        })?;
        {
            // Row k is the window k with the 64 samples before it: the stream's context for
            // the first, the end of the previous window for the others.
            let (_, data) = input.extract_tensor_mut();
            for (k, out) in data.chunks_exact_mut(row).enumerate() {
                let start = k * SEQUENCE_WINDOW;
                if k == 0 {
                    out[..SEQUENCE_CONTEXT].copy_from_slice(&state.context);
                } else {
                    out[..SEQUENCE_CONTEXT]
                        .copy_from_slice(&samples[start - SEQUENCE_CONTEXT..start]);
                }
                out[SEQUENCE_CONTEXT..].copy_from_slice(&samples[start..start + SEQUENCE_WINDOW]);
            }
        }
        self.h.extract_tensor_mut().1.copy_from_slice(&state.lstm[..HALF_STATE]);
        self.c.extract_tensor_mut().1.copy_from_slice(&state.lstm[HALF_STATE..]);
        let outputs = self
            .session
            .run(ort::inputs!["input" => &*input, "h" => &self.h, "c" => &self.c])
            .map_err(runtime_error)?;
        let probs = output(&outputs, "speech_probs", &[l])?;
        let hn = output(&outputs, "hn", &[1, 1, HALF_STATE])?;
        let cn = output(&outputs, "cn", &[1, 1, HALF_STATE])?;
        probabilities.clear();
        probabilities.extend_from_slice(probs);
        state.lstm[..HALF_STATE].copy_from_slice(hn);
        state.lstm[HALF_STATE..].copy_from_slice(cn);
        state.context.copy_from_slice(&samples[samples.len() - SEQUENCE_CONTEXT..]);
        Ok(())
    }
}

/// An error of ONNX Runtime during an inference.
fn runtime_error(e: ort::Error) -> InferenceError {
    InferenceError(format!("ONNX Runtime: {e}"))
}

/// The entry of `cache` for size `n` (at least 1), made by `make` on first use.
fn sized<T>(
    cache: &mut Vec<Option<T>>,
    n: usize,
    make: impl FnOnce() -> Result<T, InferenceError>,
) -> Result<&mut T, InferenceError> {
    if cache.len() < n {
        cache.resize_with(n, || None);
    }
    let slot = &mut cache[n - 1];
    let value = match slot.take() {
        Some(value) => value,
        None => make()?,
    };
    Ok(slot.insert(value))
}

/// The output `name` of a run, which must have the values of `shape`.
fn output<'o>(
    outputs: &'o SessionOutputs<'_>,
    name: &str,
    shape: &[usize],
) -> Result<&'o [f32], InferenceError> {
    match outputs.get(name).map(|v| v.try_extract_tensor::<f32>()) {
        Some(Ok((_, data))) if data.len() == shape.iter().product::<usize>() => Ok(data),
        Some(Ok((got, _))) => {
            Err(InferenceError(format!("`{name}` has shape {got:?}, not {shape:?}")))
        }
        Some(Err(e)) => Err(InferenceError(format!("`{name}`: {e}"))),
        None => Err(InferenceError(format!("no `{name}` output"))),
    }
}

/// A session builder with the Python plugin's settings.
fn session_builder(env: &Environment) -> Result<SessionBuilder, String> {
    fn text<R>(e: ort::Error<R>) -> String {
        e.message().to_owned()
    }
    Session::builder(env)
        .map_err(text)?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(text)?
        .with_intra_threads(1)
        .map_err(text)?
        .with_inter_threads(1)
        .map_err(text)?
        .with_parallel_execution(false)
        .map_err(text)?
        .with_intra_op_spinning(false)
        .map_err(text)?
        .with_inter_op_spinning(false)
        .map_err(text)
}

/// Positions of `input`, `state` and `sr` among the session's inputs.
fn input_order(session: &Session) -> Result<[usize; 3], String> {
    let inputs = session.inputs();
    if inputs.len() != 3 {
        return Err(format!(
            "it has {} inputs ({}), not `{INPUT}`, `{STATE}` and `{SAMPLE_RATE}`",
            inputs.len(),
            inputs.iter().map(|i| i.name()).collect::<Vec<_>>().join(", ")
        ));
    }
    let position = |name: &str| {
        inputs
            .iter()
            .position(|i| i.name() == name)
            .ok_or_else(|| format!("it has no `{name}` input"))
    };
    Ok([position(INPUT)?, position(STATE)?, position(SAMPLE_RATE)?])
}

fn check_model_file(path: &Path) -> Result<(), LoadError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(LoadError::ModelFile {
            path: path.to_path_buf(),
            source: std::io::Error::other("not a file"),
        }),
        Err(source) => Err(LoadError::ModelFile { path: path.to_path_buf(), source }),
    }
}

fn source_name(source: &ModelSource) -> String {
    match source {
        ModelSource::Bundled => "the bundled silero_vad.onnx".to_owned(),
        ModelSource::File(path) => format!("`{}`", path.display()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use sha2::{Digest, Sha256};

    #[test]
    fn the_sequence_model_is_the_published_file() {
        let digest = Sha256::digest(super::SEQUENCE_MODEL);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        // silero-vad 6.2.3 (PyPI), silero_vad/data/silero_vad_16k_sequence.onnx.
        assert_eq!(hex, "9ccdacc4719d8aa7e45a77536bfabec45a03ba1f2fad5e241ab4060b24238a85");
    }
}
