//! The fake server: accepting connections, recording requests, answering from the script.

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::io::{AsyncWrite, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

use crate::http::{self, RawRequest};
use crate::response::{FakeResponse, Kind, StreamPart};

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// Its position among the requests the server received, from 0.
    pub index: usize,
    /// `POST`, `GET`, …
    pub method: String,
    /// The request target, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The headers, names in lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; `Value::Null` when it is empty or not JSON.
    pub body: Value,
    /// The body as text (lossy UTF-8).
    pub raw_body: String,
}

impl RecordedRequest {
    /// The value of header `name` (any case); the first if repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The token of an `Authorization: Bearer <token>` header.
    pub fn bearer_token(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("Bearer ")
    }

    /// The body's `model`.
    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(Value::as_str)
    }

    /// The body's `messages` (empty if absent).
    pub fn messages(&self) -> &[Value] {
        self.body.get("messages").and_then(Value::as_array).map_or(&[], Vec::as_slice)
    }

    /// The names of the body's `tools`, in order.
    pub fn tool_names(&self) -> Vec<&str> {
        let tools = self.body.get("tools").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        tools.iter().filter_map(|tool| tool.pointer("/function/name")?.as_str()).collect()
    }

    /// Whether this is a chat completion request (`POST …/chat/completions`).
    pub fn is_chat_completion(&self) -> bool {
        self.method == "POST"
            && self.path.split('?').next().is_some_and(|p| p.ends_with("/chat/completions"))
    }

    fn from_raw(index: usize, raw: RawRequest) -> Self {
        let body = serde_json::from_slice(&raw.body).unwrap_or(Value::Null);
        Self {
            index,
            method: raw.method,
            path: raw.path,
            headers: raw.headers,
            body,
            raw_body: String::from_utf8_lossy(&raw.body).into_owned(),
        }
    }
}

/// Computes the response to a request.
type Handler = dyn Fn(&RecordedRequest) -> FakeResponse + Send + Sync;

/// What the server shares with its connections.
struct Shared {
    queue: Mutex<VecDeque<FakeResponse>>,
    handler: Option<Box<Handler>>,
    requests: Mutex<Vec<RecordedRequest>>,
    arrived: Notify,
    streams: AtomicUsize,
    connections: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn record(&self, raw: RawRequest) -> RecordedRequest {
        let mut requests = lock(&self.requests);
        let request = RecordedRequest::from_raw(requests.len(), raw);
        requests.push(request.clone());
        drop(requests);
        self.arrived.notify_waiters();
        request
    }

    /// The scripted answer to `request`.
    fn respond_to(&self, request: &RecordedRequest) -> FakeResponse {
        if request.is_chat_completion()
            && let Some(response) = lock(&self.queue).pop_front()
        {
            return response;
        }
        if let Some(handler) = &self.handler {
            return handler(request);
        }
        if !request.is_chat_completion() {
            return FakeResponse::status(404);
        }
        FakeResponse::error(
            400,
            json!({"error": {
                "message": format!(
                    "FakeOpenAi has no scripted response left for request #{} ({} {})",
                    request.index, request.method, request.path
                ),
                "type": "fake_openai_script_exhausted",
                "param": null,
                "code": null,
            }}),
        )
    }
}

/// A fake OpenAI Chat Completions server on `127.0.0.1`, for tests.
///
/// It speaks the real protocol — HTTP/1.1 with keep-alive, JSON requests (`Content-Length` or
/// chunked), streamed answers as chunked `text/event-stream` of `chat.completion.chunk`s
/// ending with `data: [DONE]` — so a client under test runs its real code path. It **records
/// every request** ([`requests`](Self::requests)) and **answers from a script**:
///
/// 1. chat completion requests (`POST …/chat/completions`) take the next response of the
///    queue ([`with_responses`](Self::with_responses), [`push`](Self::push));
/// 2. otherwise (queue empty, or another path) the handler answers, if there is one
///    ([`with_handler`](Self::with_handler));
/// 3. otherwise: `404` for other paths, and `400` with the error type
///    `fake_openai_script_exhausted` for a chat completion nobody scripted (not retryable,
///    so a test that runs out of responses fails fast, with a message saying so).
///
/// What a response can be is [`FakeResponse`]'s documentation: text, tool calls split into
/// fragments, usage, HTTP errors, a malformed chunk, a connection cut after N events, a delay
/// before the first byte, pauses between parts.
///
/// Point a client at [`base_url`](Self::base_url) (`http://127.0.0.1:PORT/v1`). The server
/// runs on the Tokio runtime it was started on and stops when dropped (its connections too).
///
/// ```
/// use agents_test_support::{FakeOpenAi, FakeResponse};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let fake = FakeOpenAi::with_responses([
///     FakeResponse::status(429),
///     FakeResponse::tool_call("call_1", "lookup_weather", r#"{"location":"Paris"}"#),
///     FakeResponse::text("It is sunny in Paris.").with_usage(42, 0, 7),
/// ])
/// .await?;
/// let base_url = fake.base_url(); // give this to the client under test
/// assert!(base_url.starts_with("http://127.0.0.1:") && base_url.ends_with("/v1"));
/// // ... run the client, then check what it sent:
/// for request in fake.requests() {
///     assert_eq!(request.path, "/v1/chat/completions");
///     assert_eq!(request.body["stream"], true);
/// }
/// # Ok(())
/// # }
/// ```
pub struct FakeOpenAi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeOpenAi {
    /// A server with an empty queue and no handler; add responses with [`push`](Self::push).
    pub async fn start() -> io::Result<Self> {
        Self::launch(VecDeque::new(), None).await
    }

    /// A server that answers chat completions with `responses`, in order.
    pub async fn with_responses(
        responses: impl IntoIterator<Item = FakeResponse>,
    ) -> io::Result<Self> {
        Self::launch(responses.into_iter().collect(), None).await
    }

    /// A server that answers every request with `handler(&request)` (after the queue, if
    /// responses are [pushed](Self::push)).
    ///
    /// ```
    /// use agents_test_support::{FakeOpenAi, FakeResponse};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// // Call the tool first, then answer once its output is in the conversation.
    /// let fake = FakeOpenAi::with_handler(|request| {
    ///     let answered = request.messages().iter().any(|m| m["role"] == "tool");
    ///     if answered {
    ///         FakeResponse::text("Done.")
    ///     } else {
    ///         FakeResponse::tool_call("call_1", "turn_on_lights", "{}")
    ///     }
    /// })
    /// .await?;
    /// # drop(fake);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn with_handler(
        handler: impl Fn(&RecordedRequest) -> FakeResponse + Send + Sync + 'static,
    ) -> io::Result<Self> {
        Self::launch(VecDeque::new(), Some(Box::new(handler))).await
    }

    async fn launch(
        queue: VecDeque<FakeResponse>,
        handler: Option<Box<Handler>>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(queue),
            handler,
            requests: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            streams: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Self { addr, shared, task })
    }

    /// The base URL of the OpenAI-compatible API: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Appends `response` to the queue.
    pub fn push(&self, response: FakeResponse) {
        lock(&self.shared.queue).push_back(response);
    }

    /// How many queued responses are left.
    pub fn remaining(&self) -> usize {
        lock(&self.shared.queue).len()
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// How many TCP connections were accepted so far (a client that reuses its connections
    /// makes fewer than it makes requests).
    pub fn connection_count(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// The last request received, if any.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.shared.requests).last().cloned()
    }

    /// Waits until at least `count` requests have arrived; returns them.
    ///
    /// Wrap it in `tokio::time::timeout` if the requests may never come.
    pub async fn wait_for_requests(&self, count: usize) -> Vec<RecordedRequest> {
        loop {
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let requests = self.requests();
            if requests.len() >= count {
                return requests;
            }
            arrived.await;
        }
    }
}

impl std::fmt::Debug for FakeOpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOpenAi")
            .field("base_url", &self.base_url())
            .field("requests", &self.request_count())
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        // The accept loop owns the connections' tasks: aborting it drops them all.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.connections.fetch_add(1, Ordering::Relaxed);
                    connections.spawn(serve(stream, shared.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Serves the requests of one connection until it closes.
async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let raw = match http::read_request(&mut reader).await {
            Ok(Some(raw)) => raw,
            Ok(None) => return,
            Err(error) => {
                let body = json!({"error": {"message": format!("FakeOpenAi cannot read the request: {error}"), "type": "invalid_request_error"}});
                let _ = write_json(&mut write, 400, &body, &[]).await;
                return;
            }
        };
        let close = raw.wants_close();
        let request = shared.record(raw);
        let response = shared.respond_to(&request);
        match write_response(&mut write, &shared, &request, response).await {
            Ok(true) if !close => {}
            _ => return,
        }
    }
}

/// Writes `response`; `Ok(false)` when the connection must close.
async fn write_response<W: AsyncWrite + Unpin>(
    writer: &mut W,
    shared: &Shared,
    request: &RecordedRequest,
    response: FakeResponse,
) -> io::Result<bool> {
    if !response.delay.is_zero() {
        tokio::time::sleep(response.delay).await;
    }
    match response.kind {
        Kind::Json { status, body } => {
            write_json(writer, status, &body, &response.headers).await?;
            Ok(true)
        }
        Kind::Body { status, content_type, body } => {
            let mut headers = vec![("content-length".to_owned(), body.len().to_string())];
            if let Some(content_type) = content_type {
                headers.push(("content-type".to_owned(), content_type));
            }
            headers.extend_from_slice(&response.headers);
            http::write_head(writer, status, &headers).await?;
            tokio::io::AsyncWriteExt::write_all(writer, &body).await?;
            tokio::io::AsyncWriteExt::flush(writer).await?;
            Ok(true)
        }
        Kind::Stream { parts, cut_after } => {
            let number = shared.streams.fetch_add(1, Ordering::Relaxed);
            let chunks = ChunkWriter::new(number, request);
            write_stream(writer, &chunks, &parts, cut_after, &response.headers).await
        }
    }
}

async fn write_json<W: AsyncWrite + Unpin>(
    writer: &mut W,
    status: u16,
    body: &Value,
    extra: &[(String, String)],
) -> io::Result<()> {
    let body = body.to_string();
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("content-length".to_owned(), body.len().to_string()),
    ];
    headers.extend_from_slice(extra);
    http::write_head(writer, status, &headers).await?;
    tokio::io::AsyncWriteExt::write_all(writer, body.as_bytes()).await?;
    tokio::io::AsyncWriteExt::flush(writer).await
}

/// Builds the chunk objects of one streamed completion.
struct ChunkWriter {
    id: String,
    created: u64,
    model: String,
    /// The request asked for `stream_options.include_usage`: chunks carry `"usage": null`.
    usage_null: bool,
}

impl ChunkWriter {
    fn new(number: usize, request: &RecordedRequest) -> Self {
        Self {
            id: format!("chatcmpl-fake{number}"),
            created: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            model: request.model().unwrap_or("fake-model").to_owned(),
            usage_null: request.body.pointer("/stream_options/include_usage") == Some(&json!(true)),
        }
    }

    fn chunk(&self, choices: Value, usage: Option<Value>) -> String {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": choices,
        });
        let usage = usage.or_else(|| self.usage_null.then_some(Value::Null));
        if let (Some(object), Some(usage)) = (chunk.as_object_mut(), usage) {
            object.insert("usage".to_owned(), usage);
        }
        chunk.to_string()
    }

    fn delta(&self, delta: Value, finish_reason: Value) -> String {
        let choice =
            json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason});
        self.chunk(json!([choice]), None)
    }

    /// The events of a streamed completion made of `parts`, the role chunk first.
    fn events(&self, parts: &[StreamPart]) -> Vec<Event> {
        let role = json!({"role": "assistant", "content": "", "refusal": null});
        let mut events = vec![Event::Data(self.delta(role, Value::Null))];
        let mut tool_index = 0;
        for part in parts {
            match part {
                StreamPart::Text(text) => {
                    events.push(Event::Data(self.delta(json!({"content": text}), Value::Null)));
                }
                StreamPart::ToolCall { id, name, fragments } => {
                    let first = json!({"tool_calls": [{
                        "index": tool_index, "id": id, "type": "function",
                        "function": {"name": name, "arguments": ""},
                    }]});
                    let rest = fragments.iter().map(|fragment| {
                        json!({"tool_calls": [{"index": tool_index, "function": {"arguments": fragment}}]})
                    });
                    for delta in std::iter::once(first).chain(rest) {
                        events.push(Event::Data(self.delta(delta, Value::Null)));
                    }
                    tool_index += 1;
                }
                StreamPart::Usage { prompt_tokens, cached_tokens, completion_tokens } => {
                    let usage = json!({
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens.saturating_add(*completion_tokens),
                        "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
                        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
                    });
                    events.push(Event::Data(self.chunk(json!([]), Some(usage))));
                }
                StreamPart::Finish(reason) => {
                    events.push(Event::Data(self.delta(json!({}), json!(reason))));
                }
                StreamPart::Done => events.push(Event::Data("[DONE]".to_owned())),
                StreamPart::Chunk(chunk) => events.push(Event::Data(chunk.to_string())),
                StreamPart::Raw(data) => events.push(Event::Data(data.clone())),
                StreamPart::Comment(text) => events.push(Event::Comment(text.clone())),
                StreamPart::Pause(duration) => events.push(Event::Pause(*duration)),
                StreamPart::Named { event, data } => {
                    let bytes = format!("event: {event}\ndata: {data}\n\n").into_bytes();
                    events.push(Event::Bytes(bytes));
                }
                StreamPart::Bytes(bytes) => events.push(Event::Bytes(bytes.clone())),
                StreamPart::Repeat { bytes, times } => {
                    events.push(Event::Repeat(bytes.clone(), *times));
                }
                StreamPart::Trickle { bytes, interval } => {
                    for (i, byte) in bytes.iter().enumerate() {
                        if i > 0 {
                            events.push(Event::Pause(*interval));
                        }
                        events.push(Event::Bytes(vec![*byte]));
                    }
                }
            }
        }
        events
    }
}

/// What a streamed completion is made of on the wire.
enum Event {
    /// `data: …` and a blank line.
    Data(String),
    /// `: …` and a blank line.
    Comment(String),
    /// Nothing for a while.
    Pause(Duration),
    /// Bytes as they are.
    Bytes(Vec<u8>),
    /// Bytes as they are, so many times.
    Repeat(Vec<u8>, usize),
}

/// Writes a streamed completion; `Ok(false)` when it was cut (the connection must close).
async fn write_stream<W: AsyncWrite + Unpin>(
    writer: &mut W,
    chunks: &ChunkWriter,
    parts: &[StreamPart],
    cut_after: Option<usize>,
    extra: &[(String, String)],
) -> io::Result<bool> {
    let mut headers = vec![
        ("content-type".to_owned(), "text/event-stream; charset=utf-8".to_owned()),
        ("transfer-encoding".to_owned(), "chunked".to_owned()),
        ("cache-control".to_owned(), "no-cache".to_owned()),
        ("x-request-id".to_owned(), format!("req_{}", chunks.id)),
    ];
    headers.extend_from_slice(extra);
    http::write_head(writer, 200, &headers).await?;
    let mut sent = 0;
    for event in chunks.events(parts) {
        match event {
            Event::Data(data) => {
                if cut_after == Some(sent) {
                    return Ok(false);
                }
                http::write_chunk(writer, format!("data: {data}\n\n").as_bytes()).await?;
                sent += 1;
            }
            Event::Comment(text) => {
                http::write_chunk(writer, format!(": {text}\n\n").as_bytes()).await?;
            }
            Event::Pause(duration) => tokio::time::sleep(duration).await,
            Event::Bytes(bytes) => http::write_chunk(writer, &bytes).await?,
            Event::Repeat(bytes, times) => {
                for _ in 0..times {
                    http::write_chunk(writer, &bytes).await?;
                }
            }
        }
    }
    if cut_after.is_some() {
        return Ok(false);
    }
    http::end_chunks(writer).await?;
    Ok(true)
}
