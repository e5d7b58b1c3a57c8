//! The event queue behind the fakes' streams: pushed to synchronously, read as a `Stream`.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

/// Events waiting to be read, and whether more can come.
#[derive(Debug)]
pub(super) struct Events<T> {
    items: VecDeque<T>,
    ended: bool,
    waker: Option<Waker>,
}

impl<T> Default for Events<T> {
    fn default() -> Self {
        Self { items: VecDeque::new(), ended: false, waker: None }
    }
}

impl<T> Events<T> {
    /// Queues `item` and wakes the reader.
    pub(super) fn push(&mut self, item: T) {
        self.items.push_back(item);
        self.wake();
    }

    /// No more events after those queued.
    pub(super) fn end(&mut self) {
        self.ended = true;
        self.wake();
    }

    /// Whether [`end`](Self::end) was called.
    pub(super) fn is_ended(&self) -> bool {
        self.ended
    }

    /// The next event, the end, or pending (the reader is woken by the next push or end).
    pub(super) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(item) = self.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}
