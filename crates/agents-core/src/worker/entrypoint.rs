//! What setup functions and entrypoints may return, and how they are stored.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::context::JobContext;
use super::error::SharedError;
use super::process::JobProcess;

/// The error type an entrypoint or setup function may fail with: any error that can be sent
/// between threads (`Box<dyn Error + Send + Sync>`, `anyhow::Error`, your own error types,
/// or a `String`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a setup function or an entrypoint returns: `()`, or `Result<(), E>` with `E` any
/// error that converts into a [`BoxError`].
pub trait IntoJobResult {
    /// The result, with the error boxed.
    fn into_job_result(self) -> Result<(), BoxError>;
}

impl IntoJobResult for () {
    fn into_job_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError>> IntoJobResult for Result<(), E> {
    fn into_job_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// A stored entrypoint: an async function of the job's context.
pub(crate) type EntrypointFn =
    dyn Fn(JobContext) -> BoxFuture<'static, Result<(), SharedError>> + Send + Sync;

/// A stored setup function.
pub(crate) type SetupFn = dyn Fn(&mut JobProcess) -> Result<(), SharedError> + Send + Sync;

pub(crate) fn entrypoint<F, Fut>(entrypoint: F) -> Arc<EntrypointFn>
where
    F: Fn(JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoJobResult,
{
    Arc::new(move |ctx| {
        let job = entrypoint(ctx);
        Box::pin(async move { job.await.into_job_result().map_err(SharedError::from) })
    })
}

pub(crate) fn setup<F, R>(setup: F) -> Arc<SetupFn>
where
    F: Fn(&mut JobProcess) -> R + Send + Sync + 'static,
    R: IntoJobResult,
{
    Arc::new(move |process| setup(process).into_job_result().map_err(SharedError::from))
}
