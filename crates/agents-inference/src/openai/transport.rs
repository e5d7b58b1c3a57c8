//! One attempt of a streamed Chat Completions request: send it, check the answer, and turn the
//! event stream into [`ChatChunk`]s. Retries and timeouts are `with_retries`' job.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use agents_core::llm::{ChatChunk, LlmError};
use futures::Stream;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};

use super::assemble::ChunkAssembler;
use crate::http::error_chain;
use crate::sse::SseParser;

/// The longest wait for the end of the body after `[DONE]`.
const MAX_END_GRACE: Duration = Duration::from_millis(200);

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
                    LlmError::Configuration { message: format!("invalid access token: {reason}") }
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
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// The HTTP client (its connection pool is shared by the requests).
    pub(crate) http: reqwest::Client,
    /// The full `…/chat/completions` URL.
    pub(crate) url: String,
    /// How requests are authorized.
    pub(crate) auth: Auth,
    /// Extra headers of every request.
    pub(crate) headers: HeaderMap,
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
        .post(&endpoint.url)
        .headers(endpoint.headers.clone())
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "text/event-stream")
        .body(body);
    if let Some(authorization) = endpoint.auth.header()? {
        request = request.header(AUTHORIZATION, authorization);
    }
    let response = request.send().await.map_err(|error| LlmError::Connection {
        message: format!("cannot reach {}: {}", endpoint.url, error_chain(&error.without_url())),
    })?;
    let status = response.status();
    if !status.is_success() {
        if status.as_u16() == 429 {
            log_rate_limits(response.headers());
        }
        let body = read_error_body(response).await;
        return Err(LlmError::Status { status: status.as_u16(), body });
    }
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if let Some(content_type) = content_type.filter(|ct| ct.starts_with("application/json")) {
        let content_type = content_type.to_owned();
        let body = read_error_body(response).await;
        return Err(LlmError::BadResponse {
            message: format!(
                "expected an event stream (`text/event-stream`), got `{content_type}`: {body}"
            ),
        });
    }
    Ok(chunks(response, timeout))
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
            self.push(|assembler| assembler.on_end());
            return;
        };
        for event in self.parser.push(bytes) {
            self.push(|assembler| assembler.on_data(&event.data));
            if self.response.is_none() {
                return;
            }
        }
    }

    /// Queues the chunks `step` gives; an error ends the reading.
    fn push(&mut self, step: impl FnOnce(&mut ChunkAssembler) -> Result<Vec<ChatChunk>, LlmError>) {
        match step(&mut self.assembler) {
            Ok(chunks) => self.ready.extend(chunks.into_iter().map(Ok)),
            Err(error) => {
                self.response = None;
                self.ready.push_back(Err(error));
            }
        }
    }
}

/// The chunks of a successful response's event stream; no bytes for `idle_timeout` is a
/// [`Timeout`](LlmError::Timeout).
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
            if reading.assembler.is_done() {
                // `[DONE]` arrived. Read the end of the body so the connection goes back to
                // the pool (servers end it right away), but never wait long for it.
                let rest = async { while let Ok(Some(_)) = response.chunk().await {} };
                let grace = (reading.idle_timeout / 4).min(MAX_END_GRACE);
                let _ = tokio::time::timeout(grace, rest).await;
                reading.response = None;
                continue;
            }
            let next = tokio::time::timeout(reading.idle_timeout, response.chunk()).await;
            match next {
                Ok(Ok(bytes)) => reading.on_bytes(bytes.as_deref()),
                Err(_) => {
                    reading.response = None;
                    reading.ready.push_back(Err(LlmError::Timeout { after: reading.idle_timeout }));
                }
                Ok(Err(error)) => {
                    reading.response = None;
                    reading.ready.push_back(Err(LlmError::Connection {
                        message: format!(
                            "the response broke off: {}",
                            error_chain(&error.without_url())
                        ),
                    }));
                }
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
                body.extend_from_slice(format!(" (body cut: {})", error_chain(&error)).as_bytes());
                break;
            }
        }
    }
    truncate(String::from_utf8_lossy(&body).into_owned(), MAX_ERROR_BODY)
}

/// `text` cut to at most `max` bytes at a character boundary, marked with `…` when cut.
fn truncate(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    text
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
    fn auth_is_redacted_in_debug_output() {
        let auth =
            Auth::Bearer(Auth::bearer_header("sk-secret").unwrap_or(HeaderValue::from_static("x")));
        assert!(!format!("{auth:?}").contains("sk-secret"));
    }
}
