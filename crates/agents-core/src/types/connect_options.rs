//! Retries and timeouts of requests to remote models, shared by LLMs, STTs and TTSs.

use std::time::Duration;

/// Retries and timeouts of requests to a remote model (Python's `APIConnectOptions`, plus a
/// deadline for the whole reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiConnectOptions {
    /// How many times a failed request is retried (only while nothing has been received).
    pub max_retry: u32,
    /// How long to wait between attempts (longer when the server asks for it with
    /// `Retry-After`; see [`with_retries`](crate::llm::with_retries)).
    pub retry_interval: Duration,
    /// How long to wait for the response to start, and (in clients) for each next piece of it.
    pub timeout: Duration,
    /// How long a whole reply may take, from the first attempt to the last byte, retries
    /// and waits included: a server that keeps trickling bytes cannot hold a reply longer.
    /// [`DEFAULT_REPLY_TIMEOUT`](Self::DEFAULT_REPLY_TIMEOUT) unless set with
    /// [`with_reply_timeout`](Self::with_reply_timeout).
    pub reply_timeout: Duration,
}

impl Default for ApiConnectOptions {
    fn default() -> Self {
        Self {
            max_retry: 3,
            retry_interval: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            reply_timeout: Self::DEFAULT_REPLY_TIMEOUT,
        }
    }
}

impl ApiConnectOptions {
    /// The default [`reply_timeout`](Self::reply_timeout): two minutes, far more than a
    /// spoken reply takes to generate.
    pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(120);

    /// Options with the given values (and the default
    /// [`reply_timeout`](Self::reply_timeout)).
    pub fn new(max_retry: u32, retry_interval: Duration, timeout: Duration) -> Self {
        Self { max_retry, retry_interval, timeout, reply_timeout: Self::DEFAULT_REPLY_TIMEOUT }
    }

    /// Sets how long a whole reply may take, retries included.
    pub fn with_reply_timeout(mut self, reply_timeout: Duration) -> Self {
        self.reply_timeout = reply_timeout;
        self
    }
}
