//! One attempt of a streamed Chat Completions request: send it, check the answer, and turn the
//! event stream into [`ChatChunk`]s. Retries and timeouts are `with_retries`' job.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use std::time::SystemTime;

use agents_core::llm::{ChatChunk, LlmError};
use futures::Stream;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use super::assemble::{ChunkAssembler, Emitted};
use crate::http::{error_chain, redact_url, truncate};
use crate::retry_after;
use crate::sse::SseParser;

/// The longest wait for the end of the body after `[DONE]`.
const MAX_END_GRACE: Duration = Duration::from_millis(200);

/// The longest wait for the usage chunk after the choice's `finish_reason`.
pub(crate) const MAX_USAGE_WAIT: Duration = Duration::from_millis(500);

/// How much of an error response's body is kept, in bytes.
const MAX_ERROR_BODY: usize = 2048;

/// Mints a fresh bearer token for each request (LiveKit Inference's short-lived JWTs).
pub(crate) type TokenSource = Arc<dyn Fn() -> Result<String, LlmError> + Send + Sync>;

/// How requests are authorized.
#[derive(Clone)]
pub(crate) enum Auth {
    /// No `Authorization` header (local servers).
    None,
    /// `Authorization: Bearer <api key>`.
    Bearer(HeaderValue),
    /// `Authorization: Bearer <token>`, with a token minted per request.
    Minted(TokenSource),
}

impl Auth {
    /// A bearer header for `token`, marked sensitive so it is never logged.
    pub(crate) fn bearer_header(token: &str) -> Result<HeaderValue, String> {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|error| error.to_string())?;
        value.set_sensitive(true);
        Ok(value)
    }

    fn header(&self) -> Result<Option<HeaderValue>, LlmError> {
        match self {
            Self::None => Ok(None),
            Self::Bearer(value) => Ok(Some(value.clone())),
            Self::Minted(source) => {
                let token = source()?;
                let value = Self::bearer_header(&token).map_err(|reason| {
                    LlmError::configuration(format!("invalid access token: {reason}"))
                })?;
                Ok(Some(value))
            }
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Bearer(_) => "Bearer(<redacted>)",
            Self::Minted(_) => "Minted",
        })
    }
}

/// Where and how requests are sent.
pub(crate) struct Endpoint {
    /// The HTTP client (its connection pool is shared by the requests).
    pub(crate) http: reqwest::Client,
    /// The full `…/chat/completions` URL.
    pub(crate) url: reqwest::Url,
    /// How requests are authorized.
    pub(crate) auth: Auth,
    /// Extra headers of every request.
    pub(crate) headers: HeaderMap,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &redact_url(&self.url))
            .field("auth", &self.auth)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Sends `body` to `endpoint` and returns the stream of the answer's chunks.
///
/// `timeout` bounds each wait for the next bytes of the body (as the Python client's read
/// timeout does); after `[DONE]`, the end of the body is awaited for a fraction of it at most.
pub(crate) async fn start(
    endpoint: Arc<Endpoint>,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<impl Stream<Item = Result<ChatChunk, LlmError>> + Send + 'static, LlmError> {
    let mut request = endpoint
        .http
        .post(endpoint.url.clone())
        .headers(endpoint.headers.clone())
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "text/event-stream")
        .body(body);
    if let Some(authorization) = endpoint.auth.header()? {
        request = request.header(AUTHORIZATION, authorization);
    }
    let response = request.send().await.map_err(|error| {
        LlmError::connection(format!("cannot reach {}", redact_url(&endpoint.url)))
            .with_source(error.without_url())
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(status_error(response).await);
    }
    let content_type = response.headers().get(CONTENT_TYPE).map(|value| {
        let text = String::from_utf8_lossy(value.as_bytes());
        text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
    });
    match content_type.as_deref() {
        Some("text/event-stream") => Ok(chunks(response, timeout)),
        Some(json) if json == "application/json" || json.ends_with("+json") => {
            let body = read_error_body(response).await;
            Err(LlmError::bad_response(format!(
                "expected an event stream (`text/event-stream`), got `{json}`: {body}"
            )))
        }
        Some(other) => Err(LlmError::bad_response(format!(
            "the answer is `{}`, neither an event stream (`text/event-stream`) nor JSON; \
                 is the base URL that of an OpenAI-compatible API?",
            excerpt(other, 100)
        ))),
        None => Err(LlmError::bad_response(
            "the answer has no content type: expected an event stream \
                      (`text/event-stream`); is the base URL that of an OpenAI-compatible API?"
                .to_owned(),
        )),
    }
}

/// The error of a response with an error status. A 429 or 503 with a `Retry-After` the
/// server means is [`RateLimited`](agents_core::ApiErrorKind::RateLimited), so retries wait as
/// long as asked.
async fn status_error(response: reqwest::Response) -> LlmError {
    let status = response.status().as_u16();
    if status == 429 {
        log_rate_limits(response.headers());
    }
    let retry_after = match status {
        429 | 503 => server_wait(response.headers(), SystemTime::now()),
        _ => None,
    };
    let body = read_error_body(response).await;
    match retry_after {
        Some(retry_after) => LlmError::rate_limited(status, retry_after, body),
        None => LlmError::status(status, body),
    }
}

/// How long the server asks to wait: OpenAI's `retry-after-ms` (milliseconds) if it is there
/// and valid, else `Retry-After` (seconds or an HTTP date).
fn server_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let millis = text("retry-after-ms")
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|millis| millis.is_finite() && *millis >= 0.0)
        .and_then(|millis| Duration::try_from_secs_f64(millis / 1000.0).ok());
    millis.or_else(|| text(RETRY_AFTER.as_str()).and_then(|value| retry_after::parse(value, now)))
}

/// What reading a response needs between two chunks.
struct Reading {
    response: Option<reqwest::Response>,
    /// How long to wait for the next bytes of the body.
    idle_timeout: Duration,
    parser: SseParser,
    assembler: ChunkAssembler,
    ready: VecDeque<Result<ChatChunk, LlmError>>,
}

impl Reading {
    /// Handles the next piece of the body: `None` at its end.
    fn on_bytes(&mut self, bytes: Option<&[u8]>) {
        let Some(bytes) = bytes else {
            self.response = None;
            let out = self.assembler.on_end();
            self.queue(out);
            return;
        };
        let events = match self.parser.push(bytes) {
            Ok(events) => events,
            Err(error) => {
                self.fail(LlmError::bad_response(error.to_string()));
                return;
            }
        };
        for event in events {
            let out = self.assembler.on_event(event.event.as_deref(), &event.data);
            self.queue(out);
            if self.response.is_none() || self.assembler.is_complete() {
                return;
            }
        }
    }

    /// Queues what the assembler gave; an error ends the reading.
    fn queue(&mut self, out: Emitted) {
        self.ready.extend(out.chunks.into_iter().map(Ok));
        if let Some(error) = out.error {
            self.fail(error);
        }
    }

    /// Ends the reading with `error`.
    fn fail(&mut self, error: LlmError) {
        self.response = None;
        self.ready.push_back(Err(error));
    }
}

/// The chunks of a successful response's event stream; no bytes for `idle_timeout` is a
/// [`Timeout`](agents_core::ApiErrorKind::Timeout).
///
/// The choice's `finish_reason` ends the reply: after it only the usage chunk is awaited (the
/// request asks for it with `stream_options.include_usage`, and OpenAI sends it after the
/// finish chunk), for [`MAX_USAGE_WAIT`] at most; a server that sends neither it nor
/// `[DONE]` does not hold the reply up, and its silence is not an error.
fn chunks(
    response: reqwest::Response,
    idle_timeout: Duration,
) -> impl Stream<Item = Result<ChatChunk, LlmError>> {
    let reading = Reading {
        response: Some(response),
        idle_timeout,
        parser: SseParser::new(),
        assembler: ChunkAssembler::default(),
        ready: VecDeque::new(),
    };
    futures::stream::unfold(reading, |mut reading| async move {
        loop {
            if let Some(next) = reading.ready.pop_front() {
                return Some((next, reading));
            }
            let response = reading.response.as_mut()?;
            if reading.assembler.is_complete() {
                if reading.assembler.is_done() {
                    // `[DONE]` arrived. Read the end of the body so the connection goes back
                    // to the pool (servers end it right away), but never wait long for it.
                    let rest = async { while let Ok(Some(_)) = response.chunk().await {} };
                    let grace = (reading.idle_timeout / 4).min(MAX_END_GRACE);
                    let _ = tokio::time::timeout(grace, rest).await;
                }
                // Else the finish reason and the usage arrived: nothing more is needed, and
                // the connection closes rather than wait for a `[DONE]` that may not come.
                reading.response = None;
                continue;
            }
            let finished = reading.assembler.is_finished();
            let wait = if finished {
                reading.idle_timeout.min(MAX_USAGE_WAIT)
            } else {
                reading.idle_timeout
            };
            let next = tokio::time::timeout(wait, response.chunk()).await;
            match next {
                Ok(Ok(bytes)) => reading.on_bytes(bytes.as_deref()),
                Err(_) if finished => {
                    tracing::debug!("no usage chunk within {wait:?} of the finish reason");
                    reading.response = None;
                    let out = reading.assembler.on_end();
                    reading.queue(out);
                }
                Err(_) => reading.fail(LlmError::timeout(reading.idle_timeout)),
                Ok(Err(_)) if finished => {
                    // The answer is whole; only the usage (or `[DONE]`) was lost.
                    reading.response = None;
                    let out = reading.assembler.on_end();
                    reading.queue(out);
                }
                Ok(Err(error)) => reading.fail(
                    LlmError::connection("the response broke off").with_source(error.without_url()),
                ),
            }
        }
    })
}

/// Logs the rate-limit headers of a 429 answer.
fn log_rate_limits(headers: &HeaderMap) {
    let limits: Vec<String> = headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            name.starts_with("x-livekit-inference-")
                || name.starts_with("x-ratelimit-")
                || name == "retry-after"
        })
        .map(|(name, value)| format!("{name}={}", value.to_str().unwrap_or("?")))
        .collect();
    tracing::warn!(limits = %limits.join(", "), "the LLM provider is rate limiting requests (HTTP 429)");
}

/// The start of an error response's body, as text.
async fn read_error_body(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() <= MAX_ERROR_BODY {
        match response.chunk().await {
            Ok(Some(bytes)) => body.extend_from_slice(&bytes),
            Ok(None) => break,
            Err(error) => {
                body.extend_from_slice(
                    format!(" (body cut: {})", error_chain(&error.without_url())).as_bytes(),
                );
                break;
            }
        }
    }
    truncate(String::from_utf8_lossy(&body).into_owned(), MAX_ERROR_BODY)
}

/// The first `max` characters of `text`, marked with `…` when cut.
fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("abc".to_owned(), 3), "abc");
        assert_eq!(truncate("abcd".to_owned(), 3), "abc…");
        assert_eq!(truncate("a\u{e9}".to_owned(), 2), "a…");
    }

    #[test]
    fn the_server_wait_prefers_milliseconds() {
        let now = SystemTime::UNIX_EPOCH;
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        let wait = |pairs: &[(&'static str, &'static str)]| server_wait(&headers(pairs), now);
        assert_eq!(wait(&[("retry-after", "3")]), Some(Duration::from_secs(3)));
        assert_eq!(
            wait(&[("retry-after", "3"), ("retry-after-ms", "1500.5")]),
            Some(Duration::from_micros(1_500_500))
        );
        assert_eq!(
            wait(&[("retry-after", "3"), ("retry-after-ms", "-1")]),
            Some(Duration::from_secs(3))
        );
        assert_eq!(wait(&[("retry-after-ms", "NaN")]), None);
        assert_eq!(wait(&[("retry-after-ms", "1e400")]), None);
        assert_eq!(wait(&[]), None);
    }

    #[test]
    fn auth_is_redacted_in_debug_output() {
        let auth =
            Auth::Bearer(Auth::bearer_header("sk-secret").unwrap_or(HeaderValue::from_static("x")));
        assert!(!format!("{auth:?}").contains("sk-secret"));
    }
}
