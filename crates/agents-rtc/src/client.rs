//! The process-wide library: found, loaded and initialised on first use; requests and
//! waiting for their callbacks.

use std::path::{Path, PathBuf};

use crate::dispatch::{self, Reply};
use crate::error::RtcError;
use crate::proto::{FfiRequest, ffi_event, ffi_request, ffi_response};
use crate::sys::{self, Library, LoadFailure, RequestFailure};

/// Loads liblivekit_ffi from `path` for this process, instead of finding it (see
/// [`library_path`]). Only the first load counts: later calls return the library already
/// loaded. Returns the loaded file.
pub fn load_library(path: impl AsRef<Path>) -> Result<PathBuf, RtcError> {
    open(path.as_ref()).map(|library| library.path().to_path_buf())
}

/// The loaded library's file, loading it first if needed: `LIVEKIT_LIB_PATH`, then the
/// per-user cache where `<agent> download-files` installs it, then an installed Python
/// `livekit` 1.2.1 (agents-runtime-libs' [`locate`](agents_runtime_libs::locate)).
pub fn library_path() -> Result<PathBuf, RtcError> {
    library().map(|library| library.path().to_path_buf())
}

fn open(path: &Path) -> Result<&'static Library, RtcError> {
    Library::load(path).map_err(|failure| RtcError::Load {
        path: path.to_path_buf(),
        reason: match failure {
            LoadFailure::Open(error) => error.to_string(),
            LoadFailure::Symbol(name, error) => {
                format!("it has no `{name}` ({error}): not a livekit-ffi library")
            }
        },
    })
}

/// The library, found and loaded on first use.
pub(crate) fn library() -> Result<&'static Library, RtcError> {
    if let Some(library) = Library::get() {
        return Ok(library);
    }
    let path = agents_runtime_libs::locate(&agents_runtime_libs::LIVEKIT_FFI)?;
    open(&path)
}

/// Loads the library (first use) on a blocking thread: finding it may run `python3` and
/// `dlopen` reads a large file, neither of which may block the async executor.
pub(crate) async fn load_off_executor() -> Result<(), RtcError> {
    if Library::get().is_some() {
        return Ok(());
    }
    match tokio::task::spawn_blocking(|| library().map(|_| ())).await {
        Ok(loaded) => loaded,
        Err(error) => Err(RtcError::Fatal {
            message: format!("loading the library on a blocking thread failed: {error}"),
        }),
    }
}

/// Sends a request that is answered at once.
pub(crate) fn request(
    name: &'static str,
    message: ffi_request::Message,
) -> Result<ffi_response::Message, RtcError> {
    if let Some(message) = dispatch::dispatcher().fatal() {
        return Err(RtcError::Fatal { message });
    }
    let library = library()?;
    answer(name, sys::request(library, &FfiRequest { message: Some(message) }))
}

/// The response's message, or the error that says why there is none.
pub(crate) fn answer(
    name: &'static str,
    response: Result<crate::proto::FfiResponse, RequestFailure>,
) -> Result<ffi_response::Message, RtcError> {
    match response {
        Ok(response) => response
            .message
            .ok_or(RtcError::Protocol { request: name, detail: Some("an empty response".into()) }),
        Err(RequestFailure::Refused) => Err(match dispatch::dispatcher().fatal() {
            Some(message) => RtcError::Fatal { message },
            None => RtcError::Protocol { request: name, detail: None },
        }),
        Err(RequestFailure::Decode(error)) => {
            Err(RtcError::Protocol { request: name, detail: Some(error.to_string()) })
        }
    }
}

/// The error for a response of the wrong kind.
pub(crate) fn unexpected(name: &'static str) -> RtcError {
    RtcError::Protocol { request: name, detail: Some("a response of another kind".into()) }
}

/// A registered waiter for one async id; forgotten when dropped (cancellation-safe).
pub(crate) struct Waiter {
    async_id: u64,
    name: &'static str,
    receiver: Option<tokio::sync::oneshot::Receiver<Reply>>,
}

impl Waiter {
    /// Registers a waiter for a fresh async id: register, then send the request with
    /// [`Waiter::async_id`] as its `request_async_id`.
    pub(crate) fn new(name: &'static str) -> Self {
        let async_id = dispatch::next_async_id();
        Self { async_id, name, receiver: Some(dispatch::dispatcher().register_waiter(async_id)) }
    }

    /// The async id to send.
    pub(crate) fn async_id(&self) -> u64 {
        self.async_id
    }

    /// Waits for the callback.
    pub(crate) async fn wait(mut self) -> Result<ffi_event::Message, RtcError> {
        let Some(receiver) = self.receiver.take() else {
            return Err(RtcError::Closed { operation: self.name });
        };
        match receiver.await {
            Ok(Ok(message)) => Ok(message),
            Ok(Err(message)) => Err(RtcError::Fatal { message }),
            Err(_) => Err(RtcError::Closed { operation: self.name }),
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        // Answered, failed or abandoned: the route goes (a no-op once answered).
        dispatch::dispatcher().cancel_waiter(self.async_id);
    }
}

/// Sends a request answered later by a callback, and waits for that callback.
pub(crate) async fn request_async(
    name: &'static str,
    build: impl FnOnce(u64) -> ffi_request::Message,
) -> Result<ffi_event::Message, RtcError> {
    let waiter = Waiter::new(name);
    request(name, build(waiter.async_id()))?;
    waiter.wait().await
}

/// A callback's optional error as a result.
pub(crate) fn check(operation: &'static str, error: Option<String>) -> Result<(), RtcError> {
    match error {
        Some(message) => Err(RtcError::Failed { operation, message }),
        None => Ok(()),
    }
}
