//! Errors of the agent server and its jobs.

use std::sync::Arc;
use std::time::Duration;

/// An error from user code (a setup function or an entrypoint), shared so that
/// [`JobError`] can be cloned.
pub type SharedError = Arc<dyn std::error::Error + Send + Sync>;

/// Why a job could not run, or how it failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The server has no entrypoint to run.
    #[error(
        "the AgentServer has no entrypoint: register one with \
         `AgentServer::new().rtc_session(entrypoint)`"
    )]
    NoEntrypoint,
    /// The setup function (Python's `setup_fnc` / prewarm) returned an error.
    #[error("the setup function (`setup_fnc`) failed: {}", crate::api_error::error_chain(&**.0))]
    SetupFailed(SharedError),
    /// The setup function panicked.
    #[error("the setup function (`setup_fnc`) panicked: {message}")]
    SetupPanicked {
        /// The panic message, when it was a string.
        message: String,
    },
    /// The setup function did not return in time.
    #[error(
        "the setup function (`setup_fnc`) did not finish within {timeout:?}: make it faster, \
         or allow more time with `AgentServer::initialize_process_timeout`"
    )]
    SetupTimedOut {
        /// The time it was given.
        timeout: Duration,
    },
    /// `JobContext::connect` could not join the job's LiveKit room.
    #[error(
        "joining the job's room failed: {}; check LIVEKIT_URL and that the server is reachable",
        crate::api_error::error_chain(&**.0)
    )]
    RoomConnectFailed(SharedError),
    /// The job has no LiveKit room to act on: it is local (the console's), or
    /// `JobContext::connect` was not called yet.
    #[error(
        "{operation} needs the job's LiveKit room: call `ctx.connect().await?` first (a local \
         job, such as the console's, has none)"
    )]
    NoLiveKitRoom {
        /// What needed the room.
        operation: &'static str,
    },
    /// The job's LiveKit room was disconnected before the operation could complete.
    #[error("{operation}: the job's room was disconnected first")]
    RoomDisconnected {
        /// What was waiting.
        operation: &'static str,
    },
    /// The LiveKit server refused the job's room token (HTTP 401/403).
    #[error(
        "the LiveKit server refused the job's room token: {}; check that LIVEKIT_API_KEY and \
         LIVEKIT_API_SECRET are the server's (`connect` mints the token from them)",
        crate::api_error::error_chain(&**.0)
    )]
    RoomTokenRefused(SharedError),
    /// The LiveKit client library failed for good in the job's room (it panicked): the room
    /// is gone, and the library cannot be used again in this process.
    #[error(
        "the LiveKit client library failed in the job's room: {message}; the job's process \
         cannot join rooms any more (run jobs in host processes: `--job-hosts`)"
    )]
    RoomFailed {
        /// The library's panic text.
        message: String,
    },
    /// The job's entrypoint returned an error.
    #[error("the job's entrypoint failed: {}", crate::api_error::error_chain(&**.0))]
    EntrypointFailed(SharedError),
    /// The job's entrypoint panicked.
    #[error("the job's entrypoint panicked: {message}")]
    EntrypointPanicked {
        /// The panic message, when it was a string.
        message: String,
    },
    /// The entrypoint was cancelled before it returned.
    #[error("the job's entrypoint was cancelled")]
    EntrypointCancelled,
    /// The entrypoint returned without starting an agent session in the job's room, so there
    /// is nothing to talk to.
    #[error(
        "the entrypoint returned without starting an AgentSession in the job's room: start one \
         with `session.start(agent).room(ctx.room()).await?` before returning"
    )]
    NoAgentSession,
}

/// A missing or mistyped value in [`Userdata`](super::Userdata).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserdataError {
    /// Nothing is stored under the key.
    #[error(
        "no process userdata under {key:?}: store it in the setup function registered with \
         `AgentServer::setup_fnc`, e.g. `proc.userdata.insert({key:?}, value)`"
    )]
    Missing {
        /// The key asked for.
        key: String,
    },
    /// The value stored under the key has another type.
    #[error("the process userdata {key:?} is a `{actual}`, not a `{expected}`")]
    WrongType {
        /// The key asked for.
        key: String,
        /// The type asked for.
        expected: &'static str,
        /// The type stored.
        actual: &'static str,
    },
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a non-string panic payload".to_owned()
    }
}

/// Why a worker could not start, could not stay connected, or did not drain.
#[cfg(feature = "worker")]
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// A credential or the URL is missing.
    #[error(
        "{what} is not set: set the {env} environment variable, or pass {flag} (see \
         docs/src/troubleshooting.md#credentials)"
    )]
    MissingCredential {
        /// What is missing, e.g. "the LiveKit URL".
        what: &'static str,
        /// The environment variable that gives it.
        env: &'static str,
        /// The command-line flag that gives it.
        flag: &'static str,
    },
    /// The URL cannot be used.
    #[error(
        "the LiveKit URL {url:?} is not valid: {reason} (set LIVEKIT_URL to e.g. wss://my-project.livekit.cloud)"
    )]
    InvalidUrl {
        /// The URL, without credentials or query.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server refused the credentials.
    #[error(
        "the LiveKit server at {url} refused the worker's credentials (HTTP {status}): check \
         LIVEKIT_API_KEY and LIVEKIT_API_SECRET (see docs/src/troubleshooting.md#credentials)"
    )]
    Unauthorized {
        /// The server, without credentials or query.
        url: String,
        /// The HTTP status (401 or 403).
        status: u16,
    },
    /// The worker could not connect after every attempt.
    #[error(
        "could not connect to the LiveKit server at {url} after {attempts} attempts: {last_error} \
         (is the server running, and is LIVEKIT_URL right?)"
    )]
    Unreachable {
        /// The server, without credentials or query.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last attempt's error.
        last_error: String,
    },
    /// No token could be minted.
    #[error("cannot mint the worker's token: {0} (check LIVEKIT_API_KEY and LIVEKIT_API_SECRET)")]
    Token(String),
    /// The health server could not listen.
    #[error(
        "cannot listen on {address} for the health check: {reason} (choose another port with --port)"
    )]
    Health {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// The process could not be prepared for jobs.
    #[error(transparent)]
    Job(#[from] JobError),
    /// Jobs were still running when the drain timed out.
    #[error("{jobs} jobs were still running after the drain timeout of {timeout:?}")]
    DrainTimedOut {
        /// The jobs still running.
        jobs: usize,
        /// The timeout.
        timeout: Duration,
    },
    /// A job host process could not be started.
    #[error("{0}")]
    Host(String),
    /// The worker was closed before it registered.
    #[error("the worker was closed")]
    Closed,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_failed_entrypoint_says_the_whole_cause() {
        // Errors keep their causes as `source` (an `ApiError`, a WAV or model-file error):
        // the job's message carries them, so the console's exit message loses nothing.
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let error = crate::ApiError::connection("cannot reach the gateway").with_source(io);
        let message = JobError::EntrypointFailed(Arc::new(error)).to_string();
        assert_eq!(
            message,
            "the job's entrypoint failed: connection failed: cannot reach the gateway: \
             connection refused"
        );
    }
}
