//! What [`FakeOpenAi`](crate::FakeOpenAi) answers: [`FakeResponse`] and the [`StreamPart`]s of a
//! streamed completion.

use std::time::Duration;

use serde_json::{Value, json};

/// One piece of a streamed completion, in the order the server sends them.
///
/// Every part but [`Comment`](Self::Comment) and [`Pause`](Self::Pause) is one SSE event
/// (`data: …`), except [`ToolCall`](Self::ToolCall), which is one event per fragment. The
/// server always opens the stream with OpenAI's role chunk (`{"delta": {"role":
/// "assistant", "content": ""}}`), which counts as the first event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamPart {
    /// A text delta: `{"delta": {"content": …}}`.
    Text(String),
    /// A tool call streamed in fragments: the first carries `id`, `type` and
    /// `function.name` (with empty arguments), each next one a piece of `function.arguments`.
    /// Its `index` is its position among the response's tool calls.
    ToolCall {
        /// The call id, e.g. `call_1`.
        id: String,
        /// The tool's name.
        name: String,
        /// The pieces of the arguments' JSON text, each sent as its own event.
        fragments: Vec<String>,
    },
    /// The usage chunk: `{"choices": [], "usage": {…}}`.
    Usage {
        /// `usage.prompt_tokens`.
        prompt_tokens: u64,
        /// `usage.prompt_tokens_details.cached_tokens`.
        cached_tokens: u64,
        /// `usage.completion_tokens`.
        completion_tokens: u64,
    },
    /// The choice's end: `{"delta": {}, "finish_reason": …}` (`stop`, `tool_calls`, `length`…).
    Finish(String),
    /// `data: [DONE]`, the end of the stream.
    Done,
    /// A chunk given as JSON, sent as is (e.g. interleaved tool-call fragments).
    Chunk(Value),
    /// The data of one event, sent as is (e.g. malformed JSON).
    Raw(String),
    /// An SSE comment line (`: …`), as servers send to keep connections alive.
    Comment(String),
    /// A pause before the next part.
    Pause(Duration),
    /// An event with a name: `event: …`, `data: …` and a blank line (e.g. `event: error`).
    /// Written as raw bytes: like [`StreamPart::Bytes`], not counted as an event by
    /// [`FakeResponse::cut_after`].
    Named {
        /// The event's name.
        event: String,
        /// The event's data (one `data:` line).
        data: String,
    },
    /// Bytes written to the body as they are, with no SSE framing added (a line that never
    /// ends, a stream cut inside an event…). Not counted as an event by
    /// [`FakeResponse::cut_after`].
    Bytes(Vec<u8>),
    /// `bytes` written `times` times, without holding the whole (a line of hundreds of
    /// megabytes).
    Repeat {
        /// The bytes written each time.
        bytes: Vec<u8>,
        /// How many times.
        times: usize,
    },
    /// Bytes written one at a time, `interval` apart (a server that trickles).
    Trickle {
        /// The bytes, framing included.
        bytes: Vec<u8>,
        /// The pause before each byte after the first.
        interval: Duration,
    },
}

impl StreamPart {
    /// A text delta.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// A tool call whose arguments are sent in three fragments (fewer for short arguments).
    pub fn tool_call(id: impl Into<String>, name: impl Into<String>, arguments: &str) -> Self {
        Self::ToolCall { id: id.into(), name: name.into(), fragments: split3(arguments) }
    }

    /// A tool call whose arguments are sent in the given fragments.
    pub fn tool_call_fragments<S: Into<String>>(
        id: impl Into<String>,
        name: impl Into<String>,
        fragments: impl IntoIterator<Item = S>,
    ) -> Self {
        Self::ToolCall {
            id: id.into(),
            name: name.into(),
            fragments: fragments.into_iter().map(Into::into).collect(),
        }
    }

    /// A usage chunk without cached tokens.
    pub fn usage(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Self::Usage { prompt_tokens, cached_tokens: 0, completion_tokens }
    }

    /// The choice's end with `reason`.
    pub fn finish(reason: impl Into<String>) -> Self {
        Self::Finish(reason.into())
    }

    /// A chunk sent as is.
    pub fn chunk(chunk: Value) -> Self {
        Self::Chunk(chunk)
    }

    /// An event's data sent as is.
    pub fn raw(data: impl Into<String>) -> Self {
        Self::Raw(data.into())
    }

    /// An event named `event` with `data`.
    pub fn named(event: impl Into<String>, data: impl Into<String>) -> Self {
        Self::Named { event: event.into(), data: data.into() }
    }

    /// Bytes written as they are.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self::Bytes(bytes.into())
    }

    /// `bytes` written `times` times.
    pub fn repeat(bytes: impl Into<Vec<u8>>, times: usize) -> Self {
        Self::Repeat { bytes: bytes.into(), times }
    }

    /// Bytes written one at a time, `interval` apart.
    pub fn trickle(bytes: impl Into<Vec<u8>>, interval: Duration) -> Self {
        Self::Trickle { bytes: bytes.into(), interval }
    }
}

/// `text` in three pieces of about the same number of characters (fewer when it is short).
fn split3(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 3 {
        return vec![text.to_owned()];
    }
    let step = chars.len().div_ceil(3);
    chars.chunks(step).map(|piece| piece.iter().collect()).collect()
}

/// What the server does with one request.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeResponse {
    pub(crate) kind: Kind,
    /// How long to wait before the first byte of the response.
    pub(crate) delay: Duration,
    /// Extra response headers.
    pub(crate) headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `200`, `text/event-stream`, chunked; cut after `cut_after` events if set.
    Stream { parts: Vec<StreamPart>, cut_after: Option<usize> },
    /// A JSON body with a status.
    Json { status: u16, body: Value },
    /// Any body with a status and a content type (none if `None`).
    Body { status: u16, content_type: Option<String>, body: Vec<u8> },
}

impl FakeResponse {
    fn new(kind: Kind) -> Self {
        Self { kind, delay: Duration::ZERO, headers: Vec::new() }
    }

    /// A streamed completion made of `parts`, sent as they are (add [`StreamPart::finish`] and
    /// [`StreamPart::Done`] yourself).
    pub fn stream(parts: impl IntoIterator<Item = StreamPart>) -> Self {
        Self::new(Kind::Stream { parts: parts.into_iter().collect(), cut_after: None })
    }

    /// A streamed answer `text` (one delta), finish reason `stop`, `[DONE]`.
    pub fn text(text: impl Into<String>) -> Self {
        Self::stream([StreamPart::text(text), StreamPart::finish("stop"), StreamPart::Done])
    }

    /// A streamed answer made of the text deltas `deltas`, finish reason `stop`, `[DONE]`.
    pub fn text_deltas<S: Into<String>>(deltas: impl IntoIterator<Item = S>) -> Self {
        let parts = deltas.into_iter().map(|delta| StreamPart::Text(delta.into()));
        Self::stream(parts.chain([StreamPart::finish("stop"), StreamPart::Done]))
    }

    /// One tool call (arguments in three fragments), finish reason `tool_calls`, `[DONE]`.
    pub fn tool_call(id: impl Into<String>, name: impl Into<String>, arguments: &str) -> Self {
        Self::tool_calls([(id.into(), name.into(), arguments.to_owned())])
    }

    /// Parallel tool calls `(id, name, arguments)`, each streamed in fragments one after the
    /// other (indexes 0, 1, …), finish reason `tool_calls`, `[DONE]`.
    pub fn tool_calls<I, N, A>(calls: impl IntoIterator<Item = (I, N, A)>) -> Self
    where
        I: Into<String>,
        N: Into<String>,
        A: AsRef<str>,
    {
        let parts = calls
            .into_iter()
            .map(|(id, name, arguments)| StreamPart::tool_call(id, name, arguments.as_ref()));
        Self::stream(parts.chain([StreamPart::finish("tool_calls"), StreamPart::Done]))
    }

    /// A streamed completion that stops with a malformed chunk: the role chunk, then an
    /// event whose data is cut-off JSON.
    pub fn malformed() -> Self {
        Self::stream([StreamPart::raw(
            r#"{"id":"chatcmpl-fake","object":"chat.completion.chunk","choices":[{"#,
        )])
    }

    /// An HTTP error `status` with an OpenAI-style JSON error body.
    pub fn status(status: u16) -> Self {
        let (message, kind, code) = match status {
            401 => {
                ("Incorrect API key provided.", "invalid_request_error", json!("invalid_api_key"))
            }
            404 => ("The requested resource does not exist.", "invalid_request_error", Value::Null),
            429 => ("Rate limit reached for requests.", "requests", json!("rate_limit_exceeded")),
            500..=599 => (
                "The server had an error while processing your request.",
                "server_error",
                Value::Null,
            ),
            _ => ("The request failed.", "invalid_request_error", Value::Null),
        };
        Self::error(
            status,
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
        )
    }

    /// An HTTP error `status` with `body` as its JSON body.
    pub fn error(status: u16, body: Value) -> Self {
        Self::json(status, body)
    }

    /// A JSON answer (e.g. `200` for `GET /v1/models`).
    pub fn json(status: u16, body: Value) -> Self {
        Self::new(Kind::Json { status, body })
    }

    /// An answer with any `body` and content type (no `Content-Type` header if `None`), e.g.
    /// the HTML page of a proxy.
    pub fn body(status: u16, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Self {
        Self::new(Kind::Body {
            status,
            content_type: content_type.map(str::to_owned),
            body: body.into(),
        })
    }

    /// Adds a usage chunk before `[DONE]` (at the end if there is none). Streams only.
    pub fn with_usage(
        self,
        prompt_tokens: u64,
        cached_tokens: u64,
        completion_tokens: u64,
    ) -> Self {
        let usage = StreamPart::Usage { prompt_tokens, cached_tokens, completion_tokens };
        self.map_parts(|parts| {
            let at = parts.iter().position(|p| *p == StreamPart::Done).unwrap_or(parts.len());
            parts.insert(at, usage);
        })
    }

    /// Closes the connection after `events` SSE events (the role chunk counts), without ending
    /// the chunked body, as a dropped connection would. Streams only.
    pub fn cut_after(mut self, events: usize) -> Self {
        if let Kind::Stream { cut_after, .. } = &mut self.kind {
            *cut_after = Some(events);
        }
        self
    }

    /// Waits `delay` before sending anything (status line included).
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Pauses `interval` before each part after the first. Streams only.
    pub fn paced(self, interval: Duration) -> Self {
        self.map_parts(|parts| {
            let paced = std::mem::take(parts).into_iter().enumerate().flat_map(|(i, part)| {
                let pause = (i > 0).then_some(StreamPart::Pause(interval));
                pause.into_iter().chain([part])
            });
            *parts = paced.collect();
        })
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn map_parts(mut self, f: impl FnOnce(&mut Vec<StreamPart>)) -> Self {
        if let Kind::Stream { parts, .. } = &mut self.kind {
            f(parts);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]

    use super::*;

    #[test]
    fn arguments_are_split_in_three() {
        assert_eq!(split3("{\"a\":1}"), ["{\"a", "\":1", "}"]);
        assert_eq!(split3("{}"), ["{}"]);
        assert_eq!(split3("\u{e9}\u{e9}\u{e9}\u{e9}").concat(), "\u{e9}\u{e9}\u{e9}\u{e9}");
    }

    #[test]
    fn usage_goes_before_done() {
        let response = FakeResponse::text("hi").with_usage(3, 1, 2);
        let Kind::Stream { parts, .. } = response.kind else { panic!("not a stream") };
        assert_eq!(
            parts[2],
            StreamPart::Usage { prompt_tokens: 3, cached_tokens: 1, completion_tokens: 2 }
        );
        assert_eq!(parts[3], StreamPart::Done);
    }
}
