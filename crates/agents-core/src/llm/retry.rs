//! Retries of LLM requests: only while nothing has been received, so nothing is duplicated;
//! never sooner than the server asks; never past the reply's deadline.

use std::future::Future;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio::time::Instant;

use super::{ApiConnectOptions, ChatChunk, LlmError, LlmStream};

struct RetryState<F> {
    attempt: F,
    conn: ApiConnectOptions,
    retries: u32,
    emitted: bool,
    current: Option<BoxStream<'static, Result<ChatChunk, LlmError>>>,
    done: bool,
    /// When the reply must be over: `conn.reply_timeout` after the first poll, pushed back by
    /// the time the consumer took between chunks.
    deadline: Option<Instant>,
    /// When the last chunk was handed to the consumer.
    yielded_at: Option<Instant>,
}

impl<F> RetryState<F> {
    /// How long to wait before retrying after `error`, if it may be retried; counts the retry.
    ///
    /// The wait is `retry_interval`, or the server's `Retry-After` when that is longer. A
    /// server's wait is only honoured if it fits in what the remaining retries would have
    /// waited anyway (`retry_interval` × retries left) and ends before the reply's deadline;
    /// otherwise the error is returned at once.
    fn retry_wait(&mut self, error: &LlmError, deadline: Instant) -> Option<Duration> {
        if self.emitted || !error.retryable() || self.retries >= self.conn.max_retry {
            return None;
        }
        let retry_after = error.retry_after();
        // The message and its causes (the error's `source` chain), for the logs.
        let error = crate::api_error::error_chain(error);
        let interval = self.conn.retry_interval;
        let wait = match retry_after {
            Some(asked) if asked > interval => {
                let left = self.conn.max_retry - self.retries;
                let allowed = interval.saturating_mul(left);
                if asked > allowed {
                    tracing::warn!(
                        retry_after = ?asked,
                        allowed = ?allowed,
                        "not retrying the LLM request: the provider asks to wait longer than \
                         the connect options allow ({error})"
                    );
                    return None;
                }
                asked
            }
            _ => interval,
        };
        if Instant::now().checked_add(wait).is_none_or(|t| t >= deadline) {
            // Waiting would end past the reply's deadline: the error itself says more than a
            // reply timeout would.
            tracing::warn!(
                wait = ?wait,
                "not retrying the LLM request: the wait would pass the reply timeout ({error})"
            );
            return None;
        }
        self.retries += 1;
        tracing::warn!(
            attempt = self.retries,
            max_retry = self.conn.max_retry,
            "LLM request failed ({error}); retrying in {wait:?}"
        );
        Some(wait)
    }
}

/// A stream that runs `attempt` and, when it fails before yielding anything with a
/// [retryable](LlmError::retryable) error, waits and runs it again, up to `conn.max_retry` more
/// times. Once a chunk has been yielded, errors are passed on as they are.
///
/// * The wait is `conn.retry_interval`, or longer when the error carries the server's
///   [`retry_after`](LlmError::retry_after): a retry never comes sooner than the server asked.
///   A server wait longer than `retry_interval` × the retries left (or one that would pass the
///   reply's deadline) is not waited out: the
///   [`RateLimited`](crate::ApiErrorKind::RateLimited) error, which says how long the server
///   asked for, is returned at once.
/// * `conn.timeout` bounds the wait for the attempt to start streaming; the attempt's own
///   stream is expected to bound the waits between bytes (an HTTP read timeout).
/// * `conn.reply_timeout` bounds the time spent waiting for the reply, from the first poll to
///   the last chunk, waits and retries included; when it expires the stream ends with
///   [`ReplyTimeout`](crate::ApiErrorKind::ReplyTimeout). The time the consumer takes between
///   chunks does not count (a session reads a spoken reply only as fast as its audio plays
///   out), and neither a retry nor a server's wait that would end past the deadline is
///   started: the error is returned at once instead.
///
/// This is how LLM clients implement Python's `APIConnectOptions` semantics.
pub fn with_retries<F, Fut, S>(conn: ApiConnectOptions, attempt: F) -> LlmStream
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<S, LlmError>> + Send + 'static,
    S: Stream<Item = Result<ChatChunk, LlmError>> + Send + 'static,
{
    let state = RetryState {
        attempt,
        conn,
        retries: 0,
        emitted: false,
        current: None,
        done: false,
        deadline: None,
        yielded_at: None,
    };
    LlmStream::new(futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let now = Instant::now();
        let deadline = match (state.deadline, state.yielded_at.take()) {
            (None, _) => {
                now.checked_add(state.conn.reply_timeout).unwrap_or_else(|| now + FAR_FUTURE)
            }
            // The consumer's time since the last chunk is not the server's.
            (Some(deadline), Some(yielded)) => {
                deadline.checked_add(now.saturating_duration_since(yielded)).unwrap_or(deadline)
            }
            (Some(deadline), None) => deadline,
        };
        state.deadline = Some(deadline);
        let reply_timeout = state.conn.reply_timeout;
        match tokio::time::timeout_at(deadline, next_item(&mut state, deadline)).await {
            Ok(Some(item)) => {
                state.yielded_at = Some(Instant::now());
                Some((item, state))
            }
            Ok(None) => None,
            Err(_) => {
                state.current = None;
                state.done = true;
                Some((Err(LlmError::reply_timeout(reply_timeout)), state))
            }
        }
    }))
}

/// A deadline that never comes, for a reply timeout too large to add to the clock.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The next item of the reply: from the current attempt, or from a new one.
async fn next_item<F, Fut, S>(
    state: &mut RetryState<F>,
    deadline: Instant,
) -> Option<Result<ChatChunk, LlmError>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, LlmError>>,
    S: Stream<Item = Result<ChatChunk, LlmError>> + Send + 'static,
{
    loop {
        let timeout = state.conn.timeout;
        let current = match state.current.as_mut() {
            Some(current) => current,
            None => {
                let started = (state.attempt)();
                let result = match tokio::time::timeout(timeout, started).await {
                    Ok(result) => result,
                    Err(_) => Err(LlmError::timeout(timeout)),
                };
                match result {
                    Ok(stream) => state.current.insert(stream.boxed()),
                    Err(error) => {
                        if let Some(wait) = state.retry_wait(&error, deadline) {
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        state.done = true;
                        return Some(Err(error));
                    }
                }
            }
        };
        // No timeout per chunk here: a chunk (a whole tool call) may take long while bytes
        // keep arriving; the attempt's stream bounds the waits between bytes itself.
        match current.next().await {
            Some(Ok(chunk)) => {
                state.emitted = true;
                return Some(Ok(chunk));
            }
            Some(Err(error)) => {
                state.current = None;
                if let Some(wait) = state.retry_wait(&error, deadline) {
                    tokio::time::sleep(wait).await;
                    continue;
                }
                state.done = true;
                return Some(Err(error));
            }
            None => {
                state.done = true;
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::ApiErrorKind;

    const MS: Duration = Duration::from_millis(1);

    fn rate_limited(millis: u32) -> LlmError {
        LlmError::rate_limited(429, MS * millis, "slow down")
    }

    /// A stream whose attempts fail with `errors` in turn, then answer "ok"; counts attempts.
    fn failing(conn: ApiConnectOptions, errors: Vec<LlmError>) -> (LlmStream, Arc<AtomicU32>) {
        let attempts = Arc::new(AtomicU32::new(0));
        let counter = attempts.clone();
        let stream = with_retries(conn, move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) as usize;
            let result = match errors.get(n) {
                Some(error) => Err(error.clone()),
                None => Ok(futures::stream::iter([Ok(ChatChunk::Text("ok".to_owned()))])),
            };
            async move { result }
        });
        (stream, attempts)
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_longer_than_the_interval_is_waited_out() {
        let conn = ApiConnectOptions::new(3, MS * 20, Duration::from_secs(10));
        let (mut stream, attempts) = failing(conn, vec![rate_limited(50)]);
        let started = Instant::now();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first, ChatChunk::Text("ok".to_owned()));
        assert_eq!(attempts.load(Ordering::SeqCst), 2);
        assert!(started.elapsed() >= MS * 50, "{:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_that_does_not_fit_fails_at_once() {
        // Three retries 20 ms apart allow 60 ms of waiting; the server asks for 20 s.
        let conn = ApiConnectOptions::new(3, MS * 20, Duration::from_secs(10));
        let (mut stream, attempts) = failing(conn, vec![rate_limited(20_000)]);
        let started = Instant::now();
        let error = stream.next().await.unwrap().unwrap_err();
        assert!(started.elapsed() < MS * 20, "{:?}", started.elapsed());
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
        let message = error.to_string();
        assert!(message.contains("rate-limited") && message.contains("20 s"), "{message}");
        assert!(stream.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_past_the_reply_timeout_fails_at_once() {
        let conn = ApiConnectOptions::new(3, MS * 200, Duration::from_secs(10))
            .with_reply_timeout(MS * 300);
        let (mut stream, attempts) = failing(conn, vec![rate_limited(400)]);
        let error = stream.next().await.unwrap().unwrap_err();
        assert_eq!(error.retry_after(), Some(MS * 400));
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_retry_after_still_waits_the_interval() {
        let conn = ApiConnectOptions::new(1, MS * 60, Duration::from_secs(10));
        let (mut stream, _) = failing(conn, vec![rate_limited(1)]);
        let started = Instant::now();
        assert!(stream.next().await.unwrap().is_ok());
        assert!(started.elapsed() >= MS * 60);
    }

    #[tokio::test(start_paused = true)]
    async fn the_reply_timeout_bounds_the_whole_reply() {
        let conn = ApiConnectOptions::new(0, Duration::ZERO, Duration::from_secs(10))
            .with_reply_timeout(MS * 250);
        // An attempt whose stream yields a chunk every 100 ms, forever.
        let mut stream = with_retries(conn, || async {
            Ok(futures::stream::unfold((), |()| async {
                tokio::time::sleep(MS * 100).await;
                Some((Ok(ChatChunk::Text(".".to_owned())), ()))
            }))
        });
        let started = Instant::now();
        let mut texts = 0;
        let error = loop {
            match stream.next().await.unwrap() {
                Ok(_) => texts += 1,
                Err(error) => break error,
            }
        };
        assert!(matches!(error.kind(), ApiErrorKind::ReplyTimeout { after } if *after == MS * 250));
        assert!(!error.retryable());
        assert_eq!(texts, 2);
        assert_eq!(started.elapsed(), MS * 250);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_consumers_time_between_chunks_does_not_count() {
        let conn = ApiConnectOptions::new(0, Duration::ZERO, Duration::from_secs(10))
            .with_reply_timeout(MS * 250);
        // The server answers ten chunks 20 ms apart: 200 ms of its own time, within the
        // reply timeout.
        let mut stream = with_retries(conn, || async {
            Ok(futures::stream::iter(0..10).then(|_| async {
                tokio::time::sleep(MS * 20).await;
                Ok(ChatChunk::Text(".".to_owned()))
            }))
        });
        // The consumer plays each chunk out for 100 ms: a second in all.
        let mut texts = 0;
        while let Some(item) = stream.next().await {
            assert!(item.is_ok(), "{item:?}");
            texts += 1;
            tokio::time::sleep(MS * 100).await;
        }
        assert_eq!(texts, 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_that_would_end_past_the_deadline_returns_the_error() {
        let conn = ApiConnectOptions::new(3, MS * 200, Duration::from_secs(10))
            .with_reply_timeout(MS * 300);
        let unavailable = LlmError::status(503, "overloaded");
        let (mut stream, attempts) = failing(conn, vec![unavailable.clone(), unavailable]);
        // The first retry (200 ms) fits; the second would end at 400 ms.
        let error = stream.next().await.unwrap().unwrap_err();
        assert!(matches!(error.kind(), ApiErrorKind::Status { status: 503, .. }), "{error:?}");
        assert_eq!(attempts.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn short_waits_are_said_in_milliseconds() {
        assert!(
            rate_limited(40).to_string().contains("asks to wait 40 ms"),
            "{}",
            rate_limited(40)
        );
        assert!(rate_limited(1_500).to_string().contains("asks to wait 1.5 s"));
    }

    #[test]
    fn usage_totals_saturate() {
        let usage = super::super::CompletionUsage::new(u64::MAX, 0, 5);
        assert_eq!(usage.total_tokens, u64::MAX);
        assert_eq!(usage.prompt_tokens, u64::MAX);
    }
}
