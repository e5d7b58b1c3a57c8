//! Retries of LLM requests: only while nothing has been received, so nothing is duplicated.

use std::future::Future;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

use super::{ApiConnectOptions, ChatChunk, LlmError, LlmStream};

struct RetryState<F> {
    attempt: F,
    conn: ApiConnectOptions,
    retries: u32,
    emitted: bool,
    current: Option<BoxStream<'static, Result<ChatChunk, LlmError>>>,
    done: bool,
}

impl<F> RetryState<F> {
    /// Whether `error` may be retried now; counts the retry.
    fn may_retry(&mut self, error: &LlmError) -> bool {
        if self.emitted || !error.retryable() || self.retries >= self.conn.max_retry {
            return false;
        }
        self.retries += 1;
        tracing::warn!(
            attempt = self.retries,
            max_retry = self.conn.max_retry,
            "LLM request failed ({error}); retrying in {:?}",
            self.conn.retry_interval
        );
        true
    }
}

/// A stream that runs `attempt` and, when it fails before yielding anything with a
/// [retryable](LlmError::retryable) error, waits `conn.retry_interval` and runs it again, up to
/// `conn.max_retry` more times. Once a chunk has been yielded, errors are passed on as they are.
/// `conn.timeout` bounds the wait for the attempt to start streaming; the attempt's own stream
/// is expected to bound the waits between bytes (an HTTP read timeout).
///
/// This is how LLM clients implement Python's `APIConnectOptions` semantics.
pub fn with_retries<F, Fut, S>(conn: ApiConnectOptions, attempt: F) -> LlmStream
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<S, LlmError>> + Send + 'static,
    S: Stream<Item = Result<ChatChunk, LlmError>> + Send + 'static,
{
    let state =
        RetryState { attempt, conn, retries: 0, emitted: false, current: None, done: false };
    LlmStream::new(futures::stream::unfold(state, |mut state| async move {
        loop {
            if state.done {
                return None;
            }
            let timeout = state.conn.timeout;
            let current = match state.current.as_mut() {
                Some(current) => current,
                None => {
                    let started = (state.attempt)();
                    let result = match tokio::time::timeout(timeout, started).await {
                        Ok(result) => result,
                        Err(_) => Err(LlmError::Timeout { after: timeout }),
                    };
                    match result {
                        Ok(stream) => state.current.insert(stream.boxed()),
                        Err(error) => {
                            if state.may_retry(&error) {
                                tokio::time::sleep(state.conn.retry_interval).await;
                                continue;
                            }
                            state.done = true;
                            return Some((Err(error), state));
                        }
                    }
                }
            };
            // No timeout per chunk here: a chunk (a whole tool call) may take long while bytes
            // keep arriving; the attempt's stream bounds the waits between bytes itself.
            let next = current.next().await;
            match next {
                Some(Ok(chunk)) => {
                    state.emitted = true;
                    return Some((Ok(chunk), state));
                }
                Some(Err(error)) => {
                    state.current = None;
                    if state.may_retry(&error) {
                        tokio::time::sleep(state.conn.retry_interval).await;
                        continue;
                    }
                    state.done = true;
                    return Some((Err(error), state));
                }
                None => return None,
            }
        }
    }))
}
