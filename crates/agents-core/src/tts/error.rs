//! What can go wrong with speech synthesis.

use std::time::Duration;

/// A failed text-to-speech request or stream (Python's `APIError` family, for TTS).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TtsError {
    /// The request could not be sent or the connection broke off.
    #[error("connection to the TTS failed: {message}")]
    Connection {
        /// What happened.
        message: String,
    },
    /// No response, or no next piece of it, within the timeout.
    #[error("the TTS did not answer within {after:?}")]
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// The provider answered with an HTTP (or WebSocket close) error status.
    #[error("the TTS answered HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The response body (truncated), usually the provider's error message.
        body: String,
    },
    /// The response did not follow the protocol.
    #[error("the TTS sent a response that could not be understood: {message}")]
    BadResponse {
        /// What was wrong.
        message: String,
    },
    /// The TTS is misconfigured or used in a way it does not support; retrying won't help.
    #[error("{message}")]
    Configuration {
        /// What to fix.
        message: String,
    },
}

impl TtsError {
    /// Whether a new attempt may succeed: connection failures, timeouts, HTTP 408, 409, 429
    /// and 5xx.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Connection { .. } | Self::Timeout { .. } => true,
            Self::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
            Self::BadResponse { .. } | Self::Configuration { .. } => false,
        }
    }
}
