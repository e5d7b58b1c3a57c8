//! The inference engine: one thread owning the ONNX session, fed by every stream of a `Vad`.
//!
//! A stream sends a [`Job`]: its [`ModelState`] (LSTM state and context, owned by the stream
//! and lent for the job) and one or more consecutive windows. The engine runs them and sends
//! the state back with a probability per window. Inference never runs on the async executor,
//! and the session is never shared between threads.
//!
//! The engine collects every job already waiting before it runs any (up to [`MAX_BATCH`]
//! jobs): that is where jobs of different streams can become one batched run
//! (`input [N, 576]`, `state [2, N, 128]`). Today each job runs at batch 1.
//!
//! The thread stops when the last handle (the `Vad` and its streams) is dropped: the drop
//! closes the channel and joins the thread, which finishes the job it is running first.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use crate::error::LoadError;
use crate::model::{Geometry, InferenceError, ModelState, SileroModel};

/// At most this many waiting jobs are collected into one round.
pub(crate) const MAX_BATCH: usize = 32;

/// Windows to run for one stream, with its state.
#[derive(Debug)]
pub(crate) struct Job {
    /// The stream's model state, returned in [`JobDone`].
    pub(crate) state: Box<ModelState>,
    /// Whole windows, back to back.
    pub(crate) samples: Vec<f32>,
    /// Where the result goes.
    pub(crate) reply: oneshot::Sender<JobDone>,
}

/// The result of a [`Job`].
#[derive(Debug)]
pub(crate) struct JobDone {
    /// The state, advanced past the windows run.
    pub(crate) state: Box<ModelState>,
    /// The samples buffer, returned for reuse.
    pub(crate) samples: Vec<f32>,
    /// Raw probability and run time of each window run, in order.
    pub(crate) results: Vec<(f32, Duration)>,
    /// Set when a window failed; the windows after it were not run.
    pub(crate) error: Option<InferenceError>,
}

/// The engine thread and the channel into it.
#[derive(Debug)]
pub(crate) struct Engine {
    sender: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    geometry: Geometry,
}

impl Engine {
    /// Starts the thread, which takes ownership of `model`.
    pub(crate) fn start(model: SileroModel) -> Result<Self, LoadError> {
        let geometry = model.geometry();
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("silero-vad".into())
            .spawn(move || run(model, receiver))
            .map_err(|source| LoadError::Thread { source })?;
        Ok(Self { sender: Some(sender), thread: Some(thread), geometry })
    }

    /// The model's window and context sizes.
    pub(crate) fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Queues a job; gives it back if the engine has stopped.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Job> {
        match &self.sender {
            Some(sender) => sender.send(job).map_err(|mpsc::SendError(job)| job),
            None => Err(job),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop.
        self.sender = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the Silero VAD inference thread panicked");
        }
    }
}

/// The thread's loop: until the channel closes, take every waiting job and run them.
fn run(mut model: SileroModel, receiver: mpsc::Receiver<Job>) {
    let mut round = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = receiver.recv() {
        round.push(first);
        while round.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => round.push(job),
                Err(_) => break,
            }
        }
        for job in round.drain(..) {
            let done = run_job(&mut model, job.state, job.samples);
            // The stream may be gone (dropped or flushed): its result is not needed.
            let _ = job.reply.send(done);
        }
    }
}

/// Runs a job's windows one after the other.
fn run_job(model: &mut SileroModel, mut state: Box<ModelState>, samples: Vec<f32>) -> JobDone {
    let window = model.geometry().window;
    let mut results = Vec::with_capacity(samples.len() / window);
    let mut error = None;
    for chunk in samples.chunks_exact(window) {
        let started = Instant::now();
        match model.infer(&mut state, chunk) {
            Ok(p) => results.push((p, started.elapsed())),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    JobDone { state, samples, results, error }
}
