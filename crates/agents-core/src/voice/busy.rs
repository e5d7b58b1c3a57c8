//! Counting work in flight with guards: a count that no early return, panic or cancellation
//! can leave too high.

use std::sync::Arc;

use tokio::sync::watch;

/// A count of work in flight that tasks can wait on to reach zero.
#[derive(Debug, Clone)]
pub(super) struct BusyCount(Arc<watch::Sender<usize>>);

impl Default for BusyCount {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(0)))
    }
}

impl BusyCount {
    /// Counts one more piece of work until the returned guard is dropped.
    pub(super) fn start(&self) -> Busy {
        self.0.send_modify(|count| *count += 1);
        Busy(Arc::clone(&self.0))
    }

    /// Subscribes to the count.
    pub(super) fn subscribe(&self) -> watch::Receiver<usize> {
        self.0.subscribe()
    }

    /// Waits until nothing is counted.
    pub(super) async fn wait_for_zero(&self) {
        let mut count = self.0.subscribe();
        // The sender lives in `self`, so this only ends at zero.
        let _ = count.wait_for(|count| *count == 0).await;
    }
}

/// One piece of work in flight, counted until dropped: finished, failed, panicked, or its
/// task cancelled.
#[derive(Debug)]
#[must_use = "the work is counted only while the guard lives"]
pub(super) struct Busy(Arc<watch::Sender<usize>>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|count| *count = count.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic, clippy::expect_used)]

    use super::BusyCount;

    #[test]
    fn guards_count_until_dropped_also_by_a_panic() {
        let count = BusyCount::default();
        let first = count.start();
        let second = count.start();
        assert_eq!(*count.subscribe().borrow(), 2);
        drop(first);
        assert_eq!(*count.subscribe().borrow(), 1);
        let panicked = std::panic::catch_unwind(move || {
            let _second = second;
            panic!("work failed");
        });
        assert!(panicked.is_err());
        assert_eq!(*count.subscribe().borrow(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_task_releases_its_guard() {
        let count = BusyCount::default();
        let busy = count.start();
        let task = tokio::spawn(async move {
            let _busy = busy;
            std::future::pending::<()>().await;
        });
        task.abort();
        let _ = task.await;
        tokio::time::timeout(std::time::Duration::from_secs(5), count.wait_for_zero())
            .await
            .expect("the aborted task's work is no longer counted");
    }
}
