//! `VadStream`: frames in, events out.
//!
//! `push_frame`, `flush` and `end_input` queue commands, processed in order: frames are
//! down-mixed, resampled to the model's rate and cut into windows; whole windows go to the
//! engine as one job (the stream's model state travels with it); the results go through the
//! [`Segmenter`]. A stream has at most one job in flight, so its windows run in order.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use agents_core::audio::{AudioFrame, Resampler};
use agents_core::vad::VadEvent;
use futures::Stream;
use futures::channel::oneshot;

use crate::engine::{Engine, Job, JobDone};
use crate::error::OptionsError;
use crate::model::{Geometry, ModelState};
use crate::options::VadOptions;
use crate::segmenter::Segmenter;
use crate::vad::Shared;

/// At most this many windows (about 1 s at 16 kHz) go into one job, so that one stream
/// pushing a long recording does not hold the engine from the others.
const MAX_WINDOWS_PER_JOB: usize = 32;

/// Python's int16 → float conversion divides by `iinfo(int16).max`.
const I16_SCALE: f32 = 32767.0;

#[derive(Debug)]
enum Command {
    Audio(AudioFrame),
    Flush,
    End,
}

/// A stream of audio through a [`Vad`](crate::Vad): push frames, read [`VadEvent`]s.
///
/// Frames may have any sample rate (the first frame fixes it; a frame at another rate is
/// dropped with an error log) and any number of channels (they are averaged). Events carry
/// audio at the input rate, mono; `samples_index` counts samples at the model's rate.
///
/// ```no_run
/// use agents_core::audio::AudioFrame;
/// use futures::StreamExt;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let vad = agents_plugins_silero::Vad::load()?;
/// let mut stream = vad.stream();
/// stream.push_frame(&AudioFrame::silence(48_000, 2, 4_800)?);
/// stream.end_input();
/// while let Some(event) = stream.next().await {
///     println!("{:?} at {:.3} s", event.kind, event.timestamp);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct VadStream {
    engine: Arc<Engine>,
    shared: Arc<Shared>,
    seen_generation: u64,
    options: VadOptions,
    geometry: Geometry,

    commands: VecDeque<Command>,
    input_ended: bool,
    /// The end command was processed: no more windows will come.
    ended: bool,
    failed: bool,

    input_rate: Option<u32>,
    resampler: Option<Resampler>,
    resampled: Vec<f32>,
    /// Model-rate samples (scaled to ±1) not yet sent.
    model_samples: Vec<f32>,
    segmenter: Option<Segmenter>,

    /// The model state, `None` while a job is in flight.
    state: Option<Box<ModelState>>,
    spare: Vec<f32>,
    in_flight: Option<oneshot::Receiver<JobDone>>,

    events: VecDeque<VadEvent>,
    waker: Option<Waker>,
}

impl VadStream {
    pub(crate) fn new(engine: Arc<Engine>, shared: Arc<Shared>) -> Self {
        let geometry = engine.geometry();
        let (options, seen_generation) = shared.snapshot();
        Self {
            engine,
            shared,
            seen_generation,
            options,
            geometry,
            commands: VecDeque::new(),
            input_ended: false,
            ended: false,
            failed: false,
            input_rate: None,
            resampler: None,
            resampled: Vec::new(),
            model_samples: Vec::new(),
            segmenter: None,
            state: Some(Box::new(ModelState::new(geometry.context))),
            spare: Vec::new(),
            in_flight: None,
            events: VecDeque::new(),
            waker: None,
        }
    }

    /// The options in force for this stream.
    pub fn options(&self) -> &VadOptions {
        &self.options
    }

    /// Changes this stream's options, live (Python's `VADStream.update_options`): the prefix
    /// padding and the speech buffer are resized, keeping the audio already buffered.
    ///
    /// [`Vad::update_options`](crate::Vad::update_options) later overrides them again.
    pub fn update_options(&mut self, options: VadOptions) -> Result<(), OptionsError> {
        options.validate()?;
        if options.sample_rate != self.geometry.sample_rate {
            return Err(OptionsError::SampleRateChange {
                from: self.geometry.sample_rate,
                to: options.sample_rate,
            });
        }
        self.set_options(options);
        Ok(())
    }

    /// Adds audio (see the type's documentation for the formats accepted).
    pub fn push_frame(&mut self, frame: &AudioFrame) {
        if self.input_ended {
            tracing::warn!("a frame was pushed to a VAD stream after end_input; it is ignored");
            return;
        }
        if frame.is_empty() || self.failed {
            return;
        }
        self.commands.push_back(Command::Audio(frame.clone()));
        self.pump();
    }

    /// Ends the current segment: the audio already pushed is processed, then the stream
    /// starts over (model, smoothing, speech buffer, counters, resampler), keeping its rate.
    pub fn flush(&mut self) {
        if self.input_ended {
            return;
        }
        self.commands.push_back(Command::Flush);
        self.pump();
    }

    /// No more audio: the stream ends once the audio pushed is processed (an incomplete last
    /// window is dropped, as in Python).
    pub fn end_input(&mut self) {
        if self.input_ended {
            return;
        }
        self.input_ended = true;
        self.commands.push_back(Command::End);
        self.pump();
    }

    /// Makes progress without waiting: collects a finished job, starts the next one.
    fn pump(&mut self) {
        if let Some(rx) = self.in_flight.as_mut() {
            match rx.try_recv() {
                Ok(Some(done)) => {
                    self.in_flight = None;
                    self.complete(done);
                }
                Ok(None) => {}
                Err(oneshot::Canceled) => {
                    self.in_flight = None;
                    self.fail("the inference thread stopped");
                }
            }
        }
        self.dispatch();
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn set_options(&mut self, options: VadOptions) {
        if let Some(segmenter) = self.segmenter.as_mut() {
            segmenter.update(options.settings());
        }
        self.options = options;
    }

    /// Takes the options set on the `Vad` since the last look.
    fn refresh_options(&mut self) {
        if self.shared.generation.load(Ordering::Acquire) != self.seen_generation {
            let (options, generation) = self.shared.snapshot();
            self.seen_generation = generation;
            self.set_options(options);
        }
    }

    /// Processes commands until a job can be sent, and sends it. True if a job was sent.
    fn dispatch(&mut self) -> bool {
        if self.in_flight.is_some() || self.failed {
            return false;
        }
        self.refresh_options();
        let window = self.geometry.window;
        loop {
            let windows = self.model_samples.len() / window;
            if windows >= MAX_WINDOWS_PER_JOB {
                break;
            }
            match self.commands.front() {
                None => break,
                Some(Command::Flush) if windows > 0 => break,
                Some(_) => {}
            }
            match self.commands.pop_front() {
                Some(Command::Audio(frame)) => self.intake(&frame),
                Some(Command::Flush) => self.reset(),
                Some(Command::End) => {
                    self.flush_resampler();
                    self.ended = true;
                }
                None => break,
            }
        }
        let windows = (self.model_samples.len() / window).min(MAX_WINDOWS_PER_JOB);
        if windows == 0 {
            return false;
        }
        let Some(state) = self.state.take() else {
            return false;
        };
        let mut samples = std::mem::take(&mut self.spare);
        samples.clear();
        samples.extend(self.model_samples.drain(..windows * window));
        let (reply, rx) = oneshot::channel();
        match self.engine.submit(Job { state, samples, reply }) {
            Ok(()) => {
                self.in_flight = Some(rx);
                true
            }
            Err(job) => {
                self.state = Some(job.state);
                self.fail("the inference thread stopped");
                false
            }
        }
    }

    /// Down-mixes, checks the rate, resamples and keeps a frame's audio.
    fn intake(&mut self, frame: &AudioFrame) {
        let rate = frame.sample_rate();
        match self.input_rate {
            None => self.start_input(rate),
            Some(r) if r != rate => {
                tracing::error!(
                    expected = r,
                    got = rate,
                    "a frame with another sample rate was already pushed; this one is dropped"
                );
                return;
            }
            Some(_) => {}
        }
        let mono = frame.to_mono();
        if let Some(segmenter) = self.segmenter.as_mut() {
            segmenter.push_input(mono.data());
        }
        match self.resampler.as_mut() {
            Some(resampler) => {
                self.resampled.clear();
                resampler.process_i16(mono.data(), &mut self.resampled);
                push_scaled(&self.resampled, &mut self.model_samples);
            }
            None => {
                self.model_samples.extend(mono.data().iter().map(|&s| f32::from(s) / I16_SCALE))
            }
        }
    }

    /// The first frame fixes the input rate.
    fn start_input(&mut self, rate: u32) {
        self.input_rate = Some(rate);
        self.segmenter = Some(Segmenter::new(self.options.settings(), self.geometry, rate));
        self.resampler = if rate == self.geometry.sample_rate {
            None
        } else {
            // Both rates are above zero (the frame's and the model's).
            Resampler::new(rate, self.geometry.sample_rate).ok()
        };
    }

    fn flush_resampler(&mut self) {
        if let Some(resampler) = self.resampler.as_mut() {
            self.resampled.clear();
            resampler.flush(&mut self.resampled);
            push_scaled(&self.resampled, &mut self.model_samples);
        }
    }

    /// Python's flush: everything but the input rate starts over.
    fn reset(&mut self) {
        if let Some(segmenter) = self.segmenter.as_mut() {
            segmenter.reset();
        }
        if let Some(resampler) = self.resampler.as_mut() {
            resampler.reset();
        }
        self.model_samples.clear();
        self.state = Some(Box::new(ModelState::new(self.geometry.context)));
    }

    /// A job came back: its windows go through the state machine.
    fn complete(&mut self, done: JobDone) {
        self.state = Some(done.state);
        self.spare = done.samples;
        self.refresh_options();
        if let Some(segmenter) = self.segmenter.as_mut() {
            for &(p, took) in &done.results {
                segmenter.on_window(p, took, &mut self.events);
            }
        }
        if let Some(error) = done.error {
            self.fail(&error.to_string());
        }
    }

    fn fail(&mut self, reason: &str) {
        tracing::error!(reason, "the VAD stream stops");
        self.failed = true;
    }

    fn finished(&self) -> bool {
        self.failed
            || (self.ended
                && self.commands.is_empty()
                && self.in_flight.is_none()
                && self.model_samples.len() < self.geometry.window)
    }
}

/// Rounds resampled audio (16-bit scale) to 16-bit samples, as Python's resampler returns
/// them, and scales it to ±1.
fn push_scaled(resampled: &[f32], out: &mut Vec<f32>) {
    out.extend(resampled.iter().map(|&x| x.round().clamp(-32768.0, 32767.0) / I16_SCALE));
}

impl Stream for VadStream {
    type Item = VadEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<VadEvent>> {
        let this = &mut *self;
        loop {
            if let Some(event) = this.events.pop_front() {
                return Poll::Ready(Some(event));
            }
            if let Some(rx) = this.in_flight.as_mut() {
                match Pin::new(rx).poll(cx) {
                    Poll::Ready(Ok(done)) => {
                        this.in_flight = None;
                        this.complete(done);
                        this.dispatch();
                        continue;
                    }
                    Poll::Ready(Err(oneshot::Canceled)) => {
                        this.in_flight = None;
                        this.fail("the inference thread stopped");
                        continue;
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
            if this.dispatch() {
                continue;
            }
            if this.finished() {
                return Poll::Ready(None);
            }
            this.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
    }
}

impl agents_core::vad::VadStream for VadStream {
    fn push_frame(&mut self, frame: &AudioFrame) {
        VadStream::push_frame(self, frame);
    }

    fn flush(&mut self) {
        VadStream::flush(self);
    }

    fn end_input(&mut self) {
        VadStream::end_input(self);
    }
}
