//! The inference engine: one thread owning the ONNX session, fed by every stream of a `Vad`.
//!
//! A stream sends a [`Job`]: its [`ModelState`] (LSTM state and context, owned by the stream
//! and lent for the job) and one or more consecutive windows. The engine runs them and sends
//! the state back with a probability per window. Inference never runs on the async executor,
//! and the session is never shared between threads.
//!
//! Jobs of different streams run together: each step of the engine runs the next window of
//! every job it holds as one batch (`input [N, 576]`, `state [2, N, 128]`), which costs far
//! less per window than N runs of one (about 40 µs per stream-window at batch 8 and more,
//! against 60–75 µs alone). Batching is continuous: before each step the engine takes in every
//! job that has arrived meanwhile (up to [`MAX_BATCH`] at once), and answers each job as soon
//! as its last window has run. Nothing waits to fill a batch: under light load each window runs
//! as soon as it arrives, and batches grow by themselves with the load, which is where they
//! are needed. A stream's own windows stay in order (one job per stream in flight, its windows
//! in consecutive steps), so its results are those it would get alone.
//!
//! A job that is alone in the engine with several windows (one stream pushing faster than
//! real time: a file, a backlog) runs them in one call of the sequence export of the model
//! instead (16 kHz, the bundled model only: see [`SequenceModel`]), with the same results.
//!
//! If a model fails to run a batch (a custom model with a fixed batch size of 1), the engine
//! runs that step's windows one by one and keeps to batch 1 from then on.
//!
//! The thread stops when the last handle (the `Vad` and its streams) is dropped: the drop
//! closes the channel and joins the thread, which finishes the job it is running first.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use crate::error::LoadError;
use crate::model::{Geometry, InferenceError, ModelState, SequenceModel, SileroModel};

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
    /// Starts the thread, which takes ownership of `model` and, if given, of its sequence
    /// export.
    pub(crate) fn start(
        model: SileroModel,
        sequence: Option<SequenceModel>,
    ) -> Result<Self, LoadError> {
        let geometry = model.geometry();
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("silero-vad".into())
            .spawn(move || run(model, sequence, receiver))
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

/// A job being run: the windows before `next` have run.
struct Running {
    job: Job,
    next: usize,
    results: Vec<(f32, Duration)>,
    error: Option<InferenceError>,
}

impl Running {
    fn new(job: Job, window: usize) -> Self {
        let results = Vec::with_capacity(job.samples.len() / window);
        Self { job, next: 0, results, error: None }
    }

    /// Whole windows not run yet.
    fn remaining(&self, window: usize) -> usize {
        (self.job.samples.len() / window).saturating_sub(self.next)
    }

    fn finished(&self, window: usize) -> bool {
        self.error.is_some() || self.remaining(window) == 0
    }

    /// Sends the result; the stream may be gone (dropped or flushed), then it is not needed.
    fn reply(self) {
        let Self { job, results, error, .. } = self;
        let done = JobDone { state: job.state, samples: job.samples, results, error };
        let _ = job.reply.send(done);
    }
}

/// The thread's loop: until the channel closes and every job has run, take in the jobs that
/// arrived and run one window of each job held as one batch.
fn run(mut model: SileroModel, mut sequence: Option<SequenceModel>, receiver: mpsc::Receiver<Job>) {
    let window = model.geometry().window;
    let mut running: Vec<Running> = Vec::with_capacity(MAX_BATCH);
    let mut probabilities = Vec::with_capacity(MAX_BATCH);
    let mut batching = true;
    loop {
        if running.is_empty() {
            match receiver.recv() {
                Ok(job) => running.push(Running::new(job, window)),
                Err(mpsc::RecvError) => return,
            }
        }
        while running.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => running.push(Running::new(job, window)),
                Err(_) => break,
            }
        }
        // Jobs without a whole window are answered at once.
        answer_finished(&mut running, window);
        if running.is_empty() {
            continue;
        }
        if let [one] = running.as_mut_slice()
            && one.remaining(window) >= 2
            && let Some(model) = sequence.as_mut()
        {
            match run_sequence(model, one, &mut probabilities, window) {
                Ok(()) => {
                    answer_finished(&mut running, window);
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%error, "the Silero sequence model failed; no longer used");
                    sequence = None;
                }
            }
        }
        if batching && let Err(error) = step(&mut model, &mut running, &mut probabilities, window) {
            if running.len() == 1 {
                running[0].error = Some(error);
            } else {
                tracing::warn!(
                    %error,
                    "the Silero model cannot run batches; running streams one by one"
                );
                batching = false;
            }
        }
        if !batching {
            for one in &mut running {
                if let Err(error) =
                    step(&mut model, std::slice::from_mut(one), &mut probabilities, window)
                {
                    one.error = Some(error);
                }
            }
        }
        answer_finished(&mut running, window);
    }
}

/// Runs the next window of every job in `running` as one batch.
fn step(
    model: &mut SileroModel,
    running: &mut [Running],
    probabilities: &mut Vec<f32>,
    window: usize,
) -> Result<(), InferenceError> {
    let n = running.len();
    let mut states = Vec::with_capacity(n);
    let mut windows = Vec::with_capacity(n);
    for one in running.iter_mut() {
        let start = one.next * window;
        windows.push(&one.job.samples[start..start + window]);
        states.push(&mut *one.job.state);
    }
    probabilities.clear();
    probabilities.resize(n, 0.0);
    let started = Instant::now();
    model.infer_batch(&mut states, &windows, probabilities)?;
    // Every window of the batch waited for the whole run.
    let took = started.elapsed();
    for (one, &p) in running.iter_mut().zip(probabilities.iter()) {
        one.results.push((p, took));
        one.next += 1;
    }
    Ok(())
}

/// Runs every remaining window of one job in one call of the sequence model.
fn run_sequence(
    model: &mut SequenceModel,
    one: &mut Running,
    probabilities: &mut Vec<f32>,
    window: usize,
) -> Result<(), InferenceError> {
    let k = one.remaining(window);
    let start = one.next * window;
    let started = Instant::now();
    model.infer(&mut one.job.state, &one.job.samples[start..start + k * window], probabilities)?;
    // The windows were computed together: each is given its share of the run.
    let took = started.elapsed() / u32::try_from(k).unwrap_or(u32::MAX);
    one.results.extend(probabilities.iter().map(|&p| (p, took)));
    one.next += k;
    Ok(())
}

/// Answers the jobs whose windows have all run (or failed), keeping the others in order.
fn answer_finished(running: &mut Vec<Running>, window: usize) {
    let mut i = 0;
    while i < running.len() {
        if running[i].finished(window) {
            running.remove(i).reply();
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::model::ModelSource;

    fn speech() -> Vec<f32> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/speech_16k.wav");
        let mut reader = hound::WavReader::open(path).unwrap();
        reader.samples::<i16>().map(|s| f32::from(s.unwrap()) / 32767.0).collect()
    }

    fn model() -> SileroModel {
        let geometry = Geometry::for_rate(16_000).unwrap();
        SileroModel::load(&ModelSource::Bundled, geometry).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Each window run alone, one after the other.
    fn alone(model: &mut SileroModel, samples: &[f32]) -> Vec<f32> {
        let mut state = ModelState::new(64);
        samples
            .chunks_exact(512)
            .map(|window| {
                let mut p = [0.0];
                model.infer_batch(&mut [&mut state], &[window], &mut p).unwrap();
                p[0]
            })
            .collect()
    }

    /// Runs the jobs of `parts`, all waiting before the engine starts, and checks each gets
    /// the probabilities of its windows run alone by the main model at batch 1.
    fn check_jobs(parts: &[&[f32]], sequence: Option<SequenceModel>) {
        let mut model = model();
        let expected: Vec<Vec<f32>> = parts.iter().map(|p| alone(&mut model, p)).collect();

        let (sender, receiver) = mpsc::channel();
        let replies: Vec<_> = parts
            .iter()
            .map(|part| {
                let (reply, rx) = oneshot::channel();
                let state = Box::new(ModelState::new(64));
                sender.send(Job { state, samples: part.to_vec(), reply }).unwrap();
                rx
            })
            .collect();
        drop(sender);
        run(model, sequence, receiver);

        for ((rx, expected), part) in replies.into_iter().zip(expected).zip(parts) {
            let done = futures::executor::block_on(rx).unwrap();
            assert!(done.error.is_none());
            let got: Vec<f32> = done.results.iter().map(|&(p, _)| p).collect();
            assert_eq!(got, expected, "a job of {} samples", part.len());
            assert_eq!(done.samples.len(), part.len(), "the buffer comes back whole");
            // The state went on from the last window run.
            let windows = part.len() / 512;
            if windows > 0 {
                assert_eq!(done.state.context, part[windows * 512 - 64..windows * 512]);
            }
        }
    }

    #[test]
    fn jobs_run_together_get_the_results_they_get_alone() {
        let speech = speech();
        // Jobs of different lengths from different places in the audio (speech and silence),
        // one with no whole window, all waiting before the engine starts: they run as
        // batches of 5, then fewer as the shorter ones finish.
        let parts: Vec<&[f32]> = vec![
            &speech[..512 * 30],
            &speech[512 * 40..512 * 48],
            &speech[512 * 100..512 * 101],
            &speech[512 * 7..512 * 7 + 300],
            &speech[512 * 60..512 * 90 + 17],
        ];
        check_jobs(&parts, None);
    }

    #[test]
    fn a_job_alone_runs_as_one_sequence_with_the_same_results() {
        let speech = speech();
        // Alone: one sequence of 61 windows (the engine takes all remaining windows at once).
        check_jobs(&[&speech[..512 * 61 + 100]], Some(SequenceModel::load().unwrap()));
        // Batched while the others run, then the longest alone as a sequence.
        let parts: Vec<&[f32]> =
            vec![&speech[..512 * 30], &speech[512 * 40..512 * 43], &speech[512 * 90..512 * 91]];
        check_jobs(&parts, Some(SequenceModel::load().unwrap()));
    }

    #[test]
    fn a_malformed_batch_is_an_error_not_a_panic() {
        let mut model = model();
        let mut a = ModelState::new(64);
        let mut b = ModelState::new(64);
        let window = vec![0.0f32; 512];
        let mut p = [0.0; 2];
        let short = vec![0.0f32; 100];
        assert!(model.infer_batch(&mut [&mut a, &mut b], &[&window], &mut p).is_err());
        assert!(model.infer_batch(&mut [&mut a, &mut b], &[&window, &short], &mut p).is_err());
        assert!(model.infer_batch(&mut [], &[], &mut []).is_err());
        assert_eq!(a, ModelState::new(64), "no state advanced on an error");
    }
}
