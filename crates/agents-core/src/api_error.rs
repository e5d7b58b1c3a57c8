//! One error for every request to a remote model — LLM, STT or TTS (Python's `APIError`,
//! `APIStatusError`, `APIConnectionError` and `APITimeoutError`, as one type).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A failed request to a remote model: an LLM, an STT or a TTS (Python's `APIError` family).
///
/// [`LlmError`](crate::llm::LlmError), [`SttError`](crate::stt::SttError) and
/// [`TtsError`](crate::tts::TtsError) are this type. What went wrong is its
/// [`kind`](Self::kind), which carries the details (the HTTP status and body, the timeout that
/// expired, the server's wait); [`retryable`](Self::retryable) says whether a new attempt may
/// succeed. The underlying cause (an I/O, TLS, HTTP or JSON error) is kept as
/// [`source`](StdError::source), not copied into the message: print the chain to see it all.
///
/// Cloning is cheap (the cause is shared), so one error can be reported to several listeners.
///
/// ```
/// use agents_core::{ApiError, ApiErrorKind};
///
/// let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
/// let error = ApiError::connection("the response broke off").with_source(io);
/// assert!(matches!(error.kind(), ApiErrorKind::Connection { .. }));
/// assert!(error.retryable());
/// assert_eq!(error.to_string(), "connection failed: the response broke off");
/// assert_eq!(std::error::Error::source(&error).unwrap().to_string(), "reset by peer");
///
/// let error = ApiError::status(401, "invalid API key");
/// assert_eq!(error.status_code(), Some(401));
/// assert!(!error.retryable());
/// ```
#[derive(Clone)]
pub struct ApiError {
    kind: ApiErrorKind,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

/// What went wrong with a request to a remote model, with its details.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// The request could not be sent, or the connection broke off (Python's
    /// `APIConnectionError`).
    Connection {
        /// What happened (the cause, when there is one, is the error's `source`).
        message: String,
    },
    /// No response, or no next piece of it, within the timeout (Python's `APITimeoutError`).
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// The provider answered with an HTTP (or WebSocket close) error status (Python's
    /// `APIStatusError`).
    Status {
        /// The status code.
        status: u16,
        /// The response body (truncated), usually the provider's error message.
        body: String,
    },
    /// The provider is rate-limiting requests or is unavailable (HTTP 429 or 503) and asked
    /// to be retried no sooner than `retry_after` (its `Retry-After` header).
    RateLimited {
        /// The status code.
        status: u16,
        /// How long the server asked to wait.
        retry_after: Duration,
        /// The response body (truncated), usually the provider's error message.
        body: String,
    },
    /// The whole reply took longer than
    /// [`ApiConnectOptions::reply_timeout`](crate::llm::ApiConnectOptions::reply_timeout),
    /// retries included.
    ReplyTimeout {
        /// The reply timeout that expired.
        after: Duration,
    },
    /// The provider reported an error inside the stream (an `error` event or object), e.g.
    /// an overloaded model or an exceeded quota.
    Provider {
        /// The provider's message.
        message: String,
    },
    /// The response did not follow the protocol.
    BadResponse {
        /// What was wrong.
        message: String,
    },
    /// The model is misconfigured (credentials, URL) or used in a way it does not support;
    /// retrying won't help.
    Configuration {
        /// What to fix.
        message: String,
    },
}

impl ApiError {
    /// An error of the given kind, without a cause.
    pub fn new(kind: ApiErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// A [`Connection`](ApiErrorKind::Connection) error; add the cause with
    /// [`with_source`](Self::with_source) rather than in `message`.
    pub fn connection(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Connection { message: message.into() })
    }

    /// A [`Timeout`](ApiErrorKind::Timeout) error.
    pub fn timeout(after: Duration) -> Self {
        Self::new(ApiErrorKind::Timeout { after })
    }

    /// A [`Status`](ApiErrorKind::Status) error.
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Status { status, body: body.into() })
    }

    /// A [`RateLimited`](ApiErrorKind::RateLimited) error.
    pub fn rate_limited(status: u16, retry_after: Duration, body: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::RateLimited { status, retry_after, body: body.into() })
    }

    /// A [`ReplyTimeout`](ApiErrorKind::ReplyTimeout) error.
    pub fn reply_timeout(after: Duration) -> Self {
        Self::new(ApiErrorKind::ReplyTimeout { after })
    }

    /// A [`Provider`](ApiErrorKind::Provider) error.
    pub fn provider(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Provider { message: message.into() })
    }

    /// A [`BadResponse`](ApiErrorKind::BadResponse) error; add the cause (e.g. a JSON error)
    /// with [`with_source`](Self::with_source) rather than in `message`.
    pub fn bad_response(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::BadResponse { message: message.into() })
    }

    /// A [`Configuration`](ApiErrorKind::Configuration) error.
    pub fn configuration(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Configuration { message: message.into() })
    }

    /// Keeps `source` as the cause, returned by [`source`](StdError::source).
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(Arc::from(source.into()));
        self
    }

    /// What went wrong, with its details.
    pub fn kind(&self) -> &ApiErrorKind {
        &self.kind
    }

    /// The HTTP (or WebSocket close) status, for [`Status`](ApiErrorKind::Status) and
    /// [`RateLimited`](ApiErrorKind::RateLimited) errors.
    pub fn status_code(&self) -> Option<u16> {
        match self.kind {
            ApiErrorKind::Status { status, .. } | ApiErrorKind::RateLimited { status, .. } => {
                Some(status)
            }
            _ => None,
        }
    }

    /// The response body of a [`Status`](ApiErrorKind::Status) or
    /// [`RateLimited`](ApiErrorKind::RateLimited) error.
    pub fn body(&self) -> Option<&str> {
        match &self.kind {
            ApiErrorKind::Status { body, .. } | ApiErrorKind::RateLimited { body, .. } => {
                Some(body)
            }
            _ => None,
        }
    }

    /// Whether a new attempt may succeed: connection failures, timeouts, HTTP 408, 409, 429
    /// and 5xx, rate limits (after their wait). An expired reply timeout, an error the
    /// provider reported in the stream, a response that broke the protocol and a
    /// misconfiguration are not.
    pub fn retryable(&self) -> bool {
        match &self.kind {
            ApiErrorKind::Connection { .. }
            | ApiErrorKind::Timeout { .. }
            | ApiErrorKind::RateLimited { .. } => true,
            ApiErrorKind::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
            ApiErrorKind::ReplyTimeout { .. }
            | ApiErrorKind::Provider { .. }
            | ApiErrorKind::BadResponse { .. }
            | ApiErrorKind::Configuration { .. } => false,
        }
    }

    /// How long the server asked to wait before the next attempt, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            ApiErrorKind::RateLimited { retry_after, .. } => Some(retry_after),
            _ => None,
        }
    }
}

impl From<ApiErrorKind> for ApiError {
    fn from(kind: ApiErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("ApiError");
        debug.field("kind", &self.kind);
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl fmt::Display for ApiErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connection { message } => write!(f, "connection failed: {message}"),
            Self::Timeout { after } => write!(f, "no answer within {}", seconds(*after)),
            Self::Status { status, body } => write!(f, "the server answered HTTP {status}: {body}"),
            Self::RateLimited { status, retry_after, body } => write!(
                f,
                "the provider is rate-limited (HTTP {status}) and asks to wait {} before \
                 retrying: {body}",
                seconds(*retry_after)
            ),
            Self::ReplyTimeout { after } => write!(
                f,
                "the reply did not finish within {} (`ApiConnectOptions::reply_timeout`)",
                seconds(*after)
            ),
            Self::Provider { message } => write!(f, "the provider reported an error: {message}"),
            Self::BadResponse { message } => {
                write!(f, "the response could not be understood: {message}")
            }
            Self::Configuration { message } => f.write_str(message),
        }
    }
}

impl StdError for ApiError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn StdError + 'static))
    }
}

/// `error` and its causes, for a log line or a text that must carry them all:
/// `connection failed: cannot reach …: TLS handshake failed: connection reset`.
pub(crate) fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A duration for messages: `20 s`, `1.5 s`, `40 ms`.
fn seconds(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        format!("{millis} ms")
    } else if millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn io(message: &str) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::ConnectionReset, message.to_owned())
    }

    #[test]
    fn retryable_per_kind() {
        assert!(ApiError::connection("reset").retryable());
        assert!(ApiError::timeout(MS * 10).retryable());
        assert!(ApiError::rate_limited(429, MS * 10, "slow down").retryable());
        for status in [408, 409, 429, 500, 502, 503, 599] {
            assert!(ApiError::status(status, "").retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 422, 600] {
            assert!(!ApiError::status(status, "").retryable(), "{status}");
        }
        assert!(!ApiError::reply_timeout(MS * 10).retryable());
        assert!(!ApiError::provider("overloaded").retryable());
        assert!(!ApiError::bad_response("not JSON").retryable());
        assert!(!ApiError::configuration("set OPENAI_API_KEY").retryable());
    }

    #[test]
    fn the_cause_is_kept_as_the_source_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("TLS handshake failed")]
        struct Tls(#[source] std::io::Error);

        let error = ApiError::connection("cannot reach the gateway")
            .with_source(Tls(io("connection reset by peer")));
        let source = error.source().unwrap();
        assert_eq!(source.to_string(), "TLS handshake failed");
        assert_eq!(source.source().unwrap().to_string(), "connection reset by peer");
        assert!(ApiError::status(500, "boom").source().is_none());
    }

    #[test]
    fn the_message_does_not_repeat_the_source() {
        let error = ApiError::bad_response("a chunk is not valid JSON")
            .with_source(io("expected value at line 1 column 1"));
        let message = error.to_string();
        assert_eq!(message, "the response could not be understood: a chunk is not valid JSON");
        assert!(!message.contains("expected value"), "{message}");
    }

    #[test]
    fn clones_share_the_source() {
        let error = ApiError::connection("the response broke off").with_source(io("reset"));
        let copy = error.clone();
        assert_eq!(copy.kind(), error.kind());
        assert_eq!(copy.to_string(), error.to_string());
        let (a, b) = (error.source().unwrap(), copy.source().unwrap());
        assert!(std::ptr::addr_eq(a, b), "the cause is shared, not copied");
    }

    #[test]
    fn status_body_and_wait_are_read_from_the_kind() {
        let error = ApiError::rate_limited(503, MS * 1_500, "overloaded");
        assert_eq!(error.status_code(), Some(503));
        assert_eq!(error.body(), Some("overloaded"));
        assert_eq!(error.retry_after(), Some(MS * 1_500));
        assert!(error.to_string().contains("asks to wait 1.5 s"), "{error}");
        let error = ApiError::timeout(MS * 40);
        assert_eq!((error.status_code(), error.body(), error.retry_after()), (None, None, None));
        assert_eq!(error.to_string(), "no answer within 40 ms");
    }

    #[test]
    fn the_chain_joins_the_message_and_its_causes() {
        let error = ApiError::connection("the response broke off").with_source(io("reset"));
        assert_eq!(error_chain(&error), "connection failed: the response broke off: reset");
    }

    #[test]
    fn debug_shows_the_kind_and_the_source() {
        let error = ApiError::connection("cut").with_source(io("reset"));
        let debug = format!("{error:?}");
        assert!(debug.contains("Connection") && debug.contains("reset"), "{debug}");
    }
}
