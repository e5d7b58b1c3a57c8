//! A running job: its entrypoint as an owned task, and its shutdown sequence.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use super::context::JobContext;
use super::entrypoint::EntrypointFn;
use super::error::{JobError, SharedError, panic_message};

/// How long the shutdown callbacks may take together (Python's default
/// `shutdown_process_timeout`).
const SHUTDOWN_CALLBACKS_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the agent session may take to close (its `on_session_end`, its tasks).
const SESSION_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long leaving the LiveKit room may take.
#[cfg(feature = "rtc")]
const ROOM_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a cancelled entrypoint may take to stop.
const ENTRYPOINT_CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

/// A job whose entrypoint runs as a task of its own; a panic in it is caught and reported as
/// [`JobError::EntrypointPanicked`].
pub(crate) struct RunningJob {
    ctx: JobContext,
    task: Option<JoinHandle<Result<(), SharedError>>>,
}

impl Drop for RunningJob {
    /// A job dropped without [`shutdown`](Self::shutdown) (its owner was aborted) takes its
    /// entrypoint with it.
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl RunningJob {
    /// Starts `entrypoint` for `ctx`, in the job's span.
    pub(crate) fn spawn(entrypoint: &Arc<EntrypointFn>, ctx: JobContext) -> Self {
        let span = ctx.span().clone();
        let task = tokio::spawn(entrypoint(ctx.clone()).instrument(span));
        Self { ctx, task: Some(task) }
    }

    /// The job's context.
    pub(crate) fn context(&self) -> &JobContext {
        &self.ctx
    }

    /// Waits for the entrypoint to return. Resolves once; pending forever afterwards. Cancel
    /// safe.
    pub(crate) async fn finished(&mut self) -> Result<(), JobError> {
        let Some(task) = self.task.as_mut() else {
            return std::future::pending().await;
        };
        let joined = task.await;
        self.task = None;
        match joined {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(JobError::EntrypointFailed(error)),
            Err(error) if error.is_panic() => {
                Err(JobError::EntrypointPanicked { message: panic_message(&*error.into_panic()) })
            }
            Err(_) => Err(JobError::EntrypointCancelled),
        }
    }

    /// Ends the job: cancels the entrypoint if it still runs, closes the agent session in the
    /// room (if any, and not closed yet), leaves the LiveKit room (if it was joined), then runs the shutdown callbacks with `reason`,
    /// concurrently.
    pub(crate) async fn shutdown(mut self, reason: &str) {
        if let Some(task) = self.task.take() {
            task.abort();
            // Cancelled at its next await: a session it was starting is in the room after this.
            match tokio::time::timeout(ENTRYPOINT_CANCEL_TIMEOUT, task).await {
                Err(_) => tracing::warn!(
                    parent: self.ctx.span(),
                    "the entrypoint did not stop within {ENTRYPOINT_CANCEL_TIMEOUT:?} of the job's \
                     end: it blocks its thread (use `spawn_blocking` for blocking work)"
                ),
                Ok(Err(error)) if error.is_panic() => {
                    let message = panic_message(&*error.into_panic());
                    tracing::error!(parent: self.ctx.span(), "the job's entrypoint panicked: {message}");
                }
                Ok(_) => {}
            }
        }
        // A reply waiting for a room that was never joined (no `connect`, or it failed) must
        // not hold the session's close.
        #[cfg(feature = "rtc")]
        self.ctx.room().release_room_io();
        if let Some(session) = self.ctx.room().agent_session()
            && tokio::time::timeout(
                SESSION_CLOSE_TIMEOUT,
                session.close_with(crate::voice::CloseReason::JobShutdown),
            )
            .await
            .is_err()
        {
            tracing::warn!(
                parent: self.ctx.span(),
                "the agent session did not close within {SESSION_CLOSE_TIMEOUT:?}"
            );
        }
        #[cfg(feature = "rtc")]
        if let Some(rtc) = self.ctx.rtc_room() {
            match tokio::time::timeout(ROOM_DISCONNECT_TIMEOUT, rtc.disconnect()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(
                    parent: self.ctx.span(),
                    "leaving the LiveKit room failed: {error}"
                ),
                Err(_) => tracing::warn!(
                    parent: self.ctx.span(),
                    "the LiveKit room was not left within {ROOM_DISCONNECT_TIMEOUT:?}"
                ),
            }
        }
        let span = self.ctx.span().clone();
        let mut callbacks: JoinSet<()> = JoinSet::new();
        for callback in self.ctx.take_shutdown_callbacks() {
            callbacks.spawn(callback(reason.to_owned()).instrument(span.clone()));
        }
        let all_done = async {
            while let Some(done) = callbacks.join_next().await {
                if let Err(error) = done
                    && error.is_panic()
                {
                    let message = panic_message(&*error.into_panic());
                    tracing::error!(parent: &span, "a shutdown callback panicked: {message}");
                }
            }
        };
        if tokio::time::timeout(SHUTDOWN_CALLBACKS_TIMEOUT, all_done).await.is_err() {
            tracing::warn!(
                parent: &span,
                "the shutdown callbacks did not finish within {SHUTDOWN_CALLBACKS_TIMEOUT:?}; \
                 they were cancelled"
            );
        }
    }
}
