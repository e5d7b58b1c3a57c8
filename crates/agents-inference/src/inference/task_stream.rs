//! The pushing/reading ends of a WebSocket stream whose task starts when it is first polled
//! (on the reader's runtime) and stops when the ends are dropped: shared by the STT and TTS
//! streams.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the pushing side sends to the task.
pub(crate) enum Input<T> {
    /// Something to process (audio, text).
    Item(T),
    /// `flush()`: end the current segment.
    Flush,
    /// `end_input()`: nothing more comes.
    End,
}

/// The ends of one task: input in, `O` out.
pub(crate) struct TaskStream<T, O> {
    input: mpsc::UnboundedSender<Input<T>>,
    output: mpsc::Receiver<O>,
    start: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    task: Option<JoinHandle<()>>,
    input_ended: bool,
    /// The item a stream polled outside a tokio runtime gives.
    no_runtime: fn() -> O,
}

impl<T, O> TaskStream<T, O> {
    /// Ends for the task `run` makes of the input's receiver; the task writes to the sender
    /// given to `run`, which keeps `buffer` outputs.
    pub(crate) fn new<F>(
        buffer: usize,
        no_runtime: fn() -> O,
        run: impl FnOnce(mpsc::UnboundedReceiver<Input<T>>, mpsc::Sender<O>) -> F,
    ) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (input, input_rx) = mpsc::unbounded_channel();
        let (output_tx, output) = mpsc::channel(buffer);
        Self {
            input,
            output,
            start: Some(Box::pin(run(input_rx, output_tx))),
            task: None,
            input_ended: false,
            no_runtime,
        }
    }

    /// Whether the task was spawned.
    pub(crate) fn started(&self) -> bool {
        self.task.is_some()
    }

    /// Whether `end_input` was called.
    pub(crate) fn input_ended(&self) -> bool {
        self.input_ended
    }

    /// Sends an item; `false` (and nothing sent) once the input ended.
    pub(crate) fn push(&mut self, item: T) -> bool {
        if self.input_ended {
            return false;
        }
        let _ = self.input.send(Input::Item(item));
        true
    }

    /// Asks for a flush, unless the input ended.
    pub(crate) fn flush(&mut self) {
        if !self.input_ended {
            let _ = self.input.send(Input::Flush);
        }
    }

    /// Ends the input (once).
    pub(crate) fn end_input(&mut self) {
        if !self.input_ended {
            self.input_ended = true;
            let _ = self.input.send(Input::End);
        }
    }

    /// Spawns the task on the first poll, then reads its output.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<O>> {
        if let Some(start) = self.start.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => self.task = Some(runtime.spawn(start)),
                Err(_) => return Poll::Ready(Some((self.no_runtime)())),
            }
        }
        self.output.poll_recv(cx)
    }
}

impl<T, O> Drop for TaskStream<T, O> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
