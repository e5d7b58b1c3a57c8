//! [`FakeGateway`]: a fake LiveKit Inference gateway on `127.0.0.1` speaking the STT
//! (`/v1/stt`) and TTS (`/v1/tts`) WebSocket protocols.
//!
//! Every upgrade must carry `Authorization: Bearer <JWT>`, signed (HS256) with the secret the
//! fake was started with, for the identity `agent` and the inference grant; a bad token is
//! refused with 401. Every client message is checked against the protocol; what does not
//! follow it is listed by [`FakeGateway::violations`].
//!
//! * STT connections follow an [`SttPlan`] each (in order; an empty plan when none is left):
//!   scripted [`Utterance`]s are transcribed once enough audio was received, or at
//!   `session.finalize`.
//! * TTS syntheses (the sentences up to a `session.flush`) follow a [`TtsPlan`] each: a tone
//!   per word (100 ms at 440 Hz), word alignments, then `done`.
//! * Faults: [`refuse_next`](FakeGateway::refuse_next) (401, 429, 500, …), [`SttFault`]s and
//!   [`TtsFault`]s (closing mid-stream, an `error` message, silence, malformed JSON), and a
//!   slow first byte ([`TtsPlan::first_byte_after`]).

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

/// The TTS sample rate.
const TTS_RATE: u32 = 24_000;
/// Audio per word of a synthesized tone.
const WORD_MS: u32 = 100;

/// What an STT connection does wrong.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SttFault {
    /// Drops the connection once this much audio was received (100 ms later, so that the
    /// transcripts sent before reach the client).
    CloseAfter(Duration),
    /// Sends an `error` with this code and message once this much audio was received.
    ErrorAfter(Duration, Value, String),
    /// Sends a frame that is not JSON once this much audio was received.
    MalformedAfter(Duration),
    /// Sends `session.closed` once this much audio was received, and closes.
    SessionClosedAfter(Duration),
    /// Answers the first `session.finalize` with a clean WebSocket close (a Close frame, no
    /// transcript, no `session.finalized`, no `session.closed`).
    CloseCleanlyAtFinalize,
    /// Answers nothing from the first `session.finalize` on (no transcript, no
    /// `session.finalized`) and ignores the audio after it; a `session.close` still gets
    /// `session.closed`.
    SilentAfterFinalize,
}

/// One scripted transcript of an STT connection.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Utterance {
    /// The final transcript.
    pub text: String,
    /// Sent once this much audio was received on the connection; `None`: at
    /// `session.finalize`.
    pub after: Option<Duration>,
    /// Sends `start_of_speech` and an interim transcript (the first half of the words) first.
    pub interim: bool,
    /// Sends a preflight transcript (all the words) before the final.
    pub preflight: bool,
    /// The language reported.
    pub language: String,
    /// The speaker reported.
    pub speaker_id: Option<String>,
    /// With `after: None`: the final is sent after `session.finalized`, not before it (the
    /// protocol allows finals to follow the acknowledgment).
    pub after_finalized: bool,
}

impl Utterance {
    /// `text`, final once `after` of audio was received, with an interim first.
    pub fn after(after: Duration, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            after: Some(after),
            interim: true,
            preflight: false,
            language: "en".into(),
            speaker_id: None,
            after_finalized: false,
        }
    }

    /// `text`, final when the client sends `session.finalize`.
    pub fn on_finalize(text: impl Into<String>) -> Self {
        Self { after: None, ..Self::after(Duration::ZERO, text) }
    }

    /// `text`, final right after the `session.finalized` that answers the client's
    /// `session.finalize`.
    pub fn after_finalized(text: impl Into<String>) -> Self {
        Self { after_finalized: true, ..Self::on_finalize(text) }
    }

    /// Also sends a preflight transcript.
    pub fn with_preflight(mut self) -> Self {
        self.preflight = true;
        self
    }

    /// Reports `speaker_id`.
    pub fn with_speaker(mut self, speaker_id: impl Into<String>) -> Self {
        self.speaker_id = Some(speaker_id.into());
        self
    }
}

/// The script of one STT connection.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct SttPlan {
    /// The transcripts, in order.
    pub utterances: Vec<Utterance>,
    /// What goes wrong, if anything.
    pub fault: Option<SttFault>,
}

impl SttPlan {
    /// A connection transcribing `utterances`.
    pub fn new(utterances: impl IntoIterator<Item = Utterance>) -> Self {
        Self { utterances: utterances.into_iter().collect(), fault: None }
    }

    /// Adds a fault.
    pub fn with_fault(mut self, fault: SttFault) -> Self {
        self.fault = Some(fault);
        self
    }
}

/// What a TTS synthesis does wrong.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TtsFault {
    /// Sends an `error` with this code and message instead of audio.
    Error(Value, String),
    /// Drops the connection after this many audio messages (one per word).
    CloseAfterAudio(usize),
    /// Never answers.
    Silence,
    /// Sends a frame that is not JSON instead of audio.
    Malformed,
}

/// The script of one TTS synthesis.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TtsPlan {
    /// What goes wrong, if anything.
    pub fault: Option<TtsFault>,
    /// Sends word alignments.
    pub alignment: bool,
    /// Waits this long before the first audio.
    pub first_byte_after: Duration,
}

impl Default for TtsPlan {
    fn default() -> Self {
        Self { fault: None, alignment: true, first_byte_after: Duration::ZERO }
    }
}

impl TtsPlan {
    /// Tones and alignments, no fault.
    pub fn tones() -> Self {
        Self::default()
    }

    /// A synthesis with `fault`.
    pub fn fault(fault: TtsFault) -> Self {
        Self { fault: Some(fault), ..Self::default() }
    }

    /// Waits `delay` before the first audio.
    pub fn first_byte_after(mut self, delay: Duration) -> Self {
        self.first_byte_after = delay;
        self
    }

    /// Sends no alignments.
    pub fn without_alignment(mut self) -> Self {
        self.alignment = false;
        self
    }
}

/// A WebSocket connection the gateway accepted or refused.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedConnection {
    /// `/v1/stt` or `/v1/tts`.
    pub path: String,
    /// The `model` query parameter, decoded.
    pub model: Option<String>,
    /// The upgrade's headers, names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The HTTP status it was refused with, if it was.
    pub refused: Option<u16>,
    /// The client's messages, parsed (`input_audio` ones included).
    pub messages: Vec<Value>,
    /// Bytes of audio received.
    pub audio_bytes: usize,
}

impl RecordedConnection {
    /// The value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The messages of `kind` (their `type`).
    pub fn messages_of(&self, kind: &str) -> Vec<&Value> {
        self.messages.iter().filter(|m| m["type"] == kind).collect()
    }
}

#[derive(Default)]
struct State {
    refusals: VecDeque<u16>,
    stt_plans: VecDeque<SttPlan>,
    tts_plans: VecDeque<TtsPlan>,
    connections: Vec<RecordedConnection>,
    violations: Vec<String>,
    syntheses: usize,
    /// Where plain HTTP requests (not STT/TTS upgrades) are forwarded.
    forward_http: Option<SocketAddr>,
}

/// A fake LiveKit Inference gateway (STT and TTS WebSockets) on `127.0.0.1`; it stops when
/// dropped.
pub struct FakeGateway {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FakeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGateway").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Drop for FakeGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGateway {
    /// Starts a gateway accepting tokens of `api_key` signed with `api_secret`.
    pub async fn start(api_key: &str, api_secret: &str) -> io::Result<Self> {
        Self::start_on(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).to_string(), api_key, api_secret)
            .await
    }

    /// Starts a gateway on `address` (e.g. `[::1]:0`, for an IPv6 base URL), accepting tokens
    /// of `api_key` signed with `api_secret`.
    pub async fn start_on(address: &str, api_key: &str, api_secret: &str) -> io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let credentials = Arc::new((api_key.to_owned(), api_secret.to_owned()));
        let task = tokio::spawn(accept_loop(listener, state.clone(), credentials));
        Ok(Self { addr, state, task })
    }

    /// The base URL to give the clients: `http://127.0.0.1:<port>/v1` (`http://[::1]:<port>/v1`
    /// on IPv6).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Forwards every request that is not an STT or TTS upgrade to `to` (e.g. a
    /// `FakeOpenAi`'s address), so that one base URL serves the LLM too.
    pub fn forward_http(&self, to: SocketAddr) {
        self.lock().forward_http = Some(to);
    }

    /// Refuses the next upgrade with `status`.
    pub fn refuse_next(&self, status: u16) {
        self.lock().refusals.push_back(status);
    }

    /// Scripts the next STT connection.
    pub fn script_stt(&self, plan: SttPlan) {
        self.lock().stt_plans.push_back(plan);
    }

    /// Scripts the next TTS synthesis.
    pub fn script_tts(&self, plan: TtsPlan) {
        self.lock().tts_plans.push_back(plan);
    }

    /// The connections so far, refused ones included.
    pub fn connections(&self) -> Vec<RecordedConnection> {
        self.lock().connections.clone()
    }

    /// The accepted connections to `path` (`/v1/stt` or `/v1/tts`).
    pub fn accepted(&self, path: &str) -> Vec<RecordedConnection> {
        self.lock()
            .connections
            .iter()
            .filter(|c| c.refused.is_none() && c.path == path)
            .cloned()
            .collect()
    }

    /// TTS syntheses started so far.
    pub fn syntheses(&self) -> usize {
        self.lock().syntheses
    }

    /// What the clients did against the protocol (empty when all was well).
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<Mutex<State>>,
    credentials: Arc<(String, String)>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // E.g. out of file descriptors: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                // Small messages go out at once, as from a real gateway.
                let _ = stream.set_nodelay(true);
                connections.spawn(serve(stream, state.clone(), credentials.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Checks the upgrade (path, token), records it, and runs the endpoint's protocol.
#[allow(clippy::result_large_err)] // tungstenite's callback signature
async fn serve(stream: TcpStream, state: Arc<Mutex<State>>, credentials: Arc<(String, String)>) {
    let forward = lock(&state).forward_http;
    if let Some(to) = forward
        && !is_speech_upgrade(&stream).await
    {
        if let Ok(mut upstream) = TcpStream::connect(to).await {
            let mut stream = stream;
            let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
        }
        return;
    }
    let mut index = None;
    let callback = |request: &Request, response: Response| {
        let uri = request.uri();
        let path = uri.path().to_owned();
        let model = uri.query().and_then(|query| {
            query.split('&').find_map(|pair| pair.strip_prefix("model=")).map(percent_decode)
        });
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect();
        let mut state = lock(&state);
        let mut refused = state.refusals.pop_front();
        let token = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .and_then(|(_, v)| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        if let Err(problem) = check_token(token.as_deref(), &credentials) {
            state.violations.push(format!("{path}: {problem}"));
            refused.get_or_insert(401);
        }
        if path != "/v1/stt" && path != "/v1/tts" {
            state.violations.push(format!("upgrade to an unknown path {path}"));
            refused.get_or_insert(404);
        }
        if !headers.iter().any(|(n, v)| n == "user-agent" && v.starts_with("LiveKit Agents")) {
            state.violations.push(format!("{path}: no LiveKit Agents User-Agent"));
        }
        state.connections.push(RecordedConnection {
            path,
            model,
            headers,
            refused,
            messages: Vec::new(),
            audio_bytes: 0,
        });
        let at = state.connections.len() - 1;
        match refused {
            Some(status) => {
                let mut error =
                    ErrorResponse::new(Some(format!("{{\"error\":\"refused {status}\"}}")));
                *error.status_mut() =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Err(error)
            }
            None => {
                index = Some(at);
                Ok(response)
            }
        }
    };
    let Ok(socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else { return };
    let Some(index) = index else { return };
    let path = lock(&state).connections[index].path.clone();
    let mut connection = Connection { socket, state, index };
    if path == "/v1/stt" {
        connection.stt().await;
    } else {
        connection.tts().await;
    }
}

/// Whether the request on `stream` (peeked, not consumed) goes to `/v1/stt` or `/v1/tts`.
async fn is_speech_upgrade(stream: &TcpStream) -> bool {
    let mut buffer = [0u8; 256];
    for _ in 0..100 {
        let Ok(read) = stream.peek(&mut buffer).await else { return false };
        let head = String::from_utf8_lossy(&buffer[..read]);
        if let Some(line) =
            head.split("\r\n").next().filter(|_| head.contains("\r\n") || read == buffer.len())
        {
            return line.contains(" /v1/stt") || line.contains(" /v1/tts");
        }
        if read == 0 {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

fn check_token(token: Option<&str>, credentials: &(String, String)) -> Result<(), String> {
    let token = token.ok_or("no bearer token")?;
    let claims =
        livekit_api::access_token::TokenVerifier::with_api_key(&credentials.0, &credentials.1)
            .verify(token)
            .map_err(|error| format!("the token does not verify: {error}"))?;
    if claims.sub != "agent" {
        return Err(format!("the token's identity is `{}`, not `agent`", claims.sub));
    }
    if !claims.inference.perform {
        return Err("the token lacks the inference grant".into());
    }
    Ok(())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, byte) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One accepted WebSocket.
struct Connection {
    socket: WebSocketStream<TcpStream>,
    state: Arc<Mutex<State>>,
    index: usize,
}

/// What the client sent next.
enum Incoming {
    Message(Value),
    Closed,
}

impl Connection {
    fn violation(&self, problem: impl Into<String>) {
        let mut state = lock(&self.state);
        let path = state.connections[self.index].path.clone();
        state.violations.push(format!("{path}: {}", problem.into()));
    }

    /// The next JSON message, recorded; a frame that is not a JSON object is a violation.
    async fn next(&mut self) -> Incoming {
        loop {
            match self.socket.next().await {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<Value>(&text) {
                    Ok(value) if value.get("type").and_then(Value::as_str).is_some() => {
                        lock(&self.state).connections[self.index].messages.push(value.clone());
                        return Incoming::Message(value);
                    }
                    _ => self.violation(format!("not a JSON message with a type: {text}")),
                },
                Some(Ok(Message::Binary(_))) => self.violation("a binary frame"),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Incoming::Closed,
                Some(Ok(_)) => {}
            }
        }
    }

    async fn send(&mut self, value: Value) -> bool {
        self.socket.send(Message::text(value.to_string())).await.is_ok()
    }

    async fn send_raw(&mut self, text: &str) -> bool {
        self.socket.send(Message::text(text.to_owned())).await.is_ok()
    }

    /// Decodes an `input_audio`; checks it is base64 of whole 16-bit samples, at most 50 ms.
    fn audio_of(&self, message: &Value, rate: u32) -> Option<usize> {
        let Some(audio) = message.get("audio").and_then(Value::as_str) else {
            self.violation("input_audio without an `audio` string");
            return None;
        };
        let Ok(bytes) = STANDARD.decode(audio) else {
            self.violation("input_audio whose audio is not base64");
            return None;
        };
        if bytes.len() % 2 != 0 {
            self.violation(format!("input_audio of {} bytes: not whole samples", bytes.len()));
        }
        let max = (rate / 20 * 2) as usize;
        if bytes.len() > max || bytes.is_empty() {
            self.violation(format!("input_audio of {} bytes; 50 ms is {max}", bytes.len()));
        }
        lock(&self.state).connections[self.index].audio_bytes += bytes.len();
        Some(bytes.len())
    }

    /// The STT endpoint.
    async fn stt(&mut self) {
        let plan = lock(&self.state).stt_plans.pop_front().unwrap_or_default();
        let Incoming::Message(create) = self.next().await else { return };
        let Some(rate) = self.check_stt_create(&create) else { return };
        if !self.send(json!({"type": "session.created", "session_id": "fake_stt"})).await {
            return;
        }
        let mut pending: VecDeque<Utterance> = plan.utterances.into_iter().collect();
        let mut fault = plan.fault;
        let mut received_samples = 0usize;
        let mut last_end = 0.0f64;
        let mut finalize_requested = false;
        loop {
            let Incoming::Message(message) = self.next().await else { return };
            match message["type"].as_str().unwrap_or_default() {
                "input_audio" => {
                    if finalize_requested && fault == Some(SttFault::SilentAfterFinalize) {
                        continue;
                    }
                    let Some(bytes) = self.audio_of(&message, rate) else { continue };
                    received_samples += bytes / 2;
                    let heard = Duration::from_secs_f64(received_samples as f64 / f64::from(rate));
                    match fault.clone() {
                        Some(SttFault::CloseAfter(at)) if heard >= at => {
                            // The transcripts already sent reach the client first.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            return;
                        }
                        Some(SttFault::ErrorAfter(at, code, text)) if heard >= at => {
                            fault = None;
                            let error = json!({"type": "error", "code": code, "message": text});
                            if !self.send(error).await {
                                return;
                            }
                        }
                        Some(SttFault::MalformedAfter(at)) if heard >= at => {
                            fault = None;
                            if !self.send_raw("{\"type\": \"final_transcript\", oops").await {
                                return;
                            }
                        }
                        Some(SttFault::SessionClosedAfter(at)) if heard >= at => {
                            let _ = self.send(json!({"type": "session.closed"})).await;
                            let _ = self.socket.close(None).await;
                            return;
                        }
                        _ => {}
                    }
                    while let Some(next) = pending.front() {
                        match next.after {
                            Some(after) if heard >= after => {}
                            _ => break,
                        }
                        let Some(utterance) = pending.pop_front() else { break };
                        let end = heard.as_secs_f64();
                        if !self.transcribe(&utterance, last_end, end).await {
                            return;
                        }
                        last_end = end;
                    }
                }
                "session.finalize" => {
                    finalize_requested = true;
                    if fault == Some(SttFault::CloseCleanlyAtFinalize) {
                        let _ = self.socket.close(None).await;
                        return;
                    }
                    if fault == Some(SttFault::SilentAfterFinalize) {
                        continue;
                    }
                    let end = received_samples as f64 / f64::from(rate);
                    let mut late = Vec::new();
                    while pending.front().is_some_and(|u| u.after.is_none()) {
                        let Some(utterance) = pending.pop_front() else { break };
                        if utterance.after_finalized {
                            late.push(utterance);
                            continue;
                        }
                        if !self.transcribe(&utterance, last_end, end).await {
                            return;
                        }
                        last_end = end;
                    }
                    if !self.send(json!({"type": "session.finalized"})).await {
                        return;
                    }
                    for utterance in late {
                        // Late, as a slow provider's final is.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        if !self.transcribe(&utterance, last_end, end).await {
                            return;
                        }
                        last_end = end;
                    }
                }
                "session.update" => {
                    let settings = message.get("settings").and_then(Value::as_object);
                    let ok = settings.is_some_and(|settings| {
                        settings
                            .keys()
                            .all(|k| ["model", "language", "extra"].contains(&k.as_str()))
                    });
                    if !ok {
                        self.violation(format!("a malformed session.update: {message}"));
                    }
                }
                "session.close" => {
                    let _ = self.send(json!({"type": "session.closed"})).await;
                    let _ = self.socket.close(None).await;
                    return;
                }
                other => self.violation(format!("an unknown STT message type `{other}`")),
            }
        }
    }

    fn check_stt_create(&self, create: &Value) -> Option<u32> {
        if create["type"] != "session.create" {
            self.violation(format!("the first message is not session.create: {create}"));
            return None;
        }
        let settings = &create["settings"];
        let rate = settings["sample_rate"].as_str().and_then(|rate| rate.parse::<u32>().ok());
        if rate.is_none() {
            self.violation(format!("settings.sample_rate is not a string of digits: {create}"));
        }
        if settings["encoding"] != "pcm_s16le" {
            self.violation(format!("settings.encoding is not pcm_s16le: {create}"));
        }
        if !settings["extra"].is_object() {
            self.violation(format!("settings.extra is not an object: {create}"));
        }
        if !create["connection"]["timeout"].is_number() || !create["connection"]["retries"].is_u64()
        {
            self.violation(format!("connection is not {{timeout, retries}}: {create}"));
        }
        if create.get("model").is_some_and(|model| !model.is_string()) {
            self.violation(format!("model is not a string: {create}"));
        }
        rate
    }

    /// Sends an utterance's transcripts, covering `start..end` seconds of the connection.
    async fn transcribe(&mut self, utterance: &Utterance, start: f64, end: f64) -> bool {
        let words: Vec<&str> = utterance.text.split_whitespace().collect();
        let step = (end - start) / words.len().max(1) as f64;
        let timed: Vec<Value> = words
            .iter()
            .enumerate()
            .map(|(i, word)| {
                json!({"word": word, "start": start + step * i as f64,
                       "end": start + step * (i + 1) as f64, "confidence": 0.9,
                       "speaker_id": utterance.speaker_id})
            })
            .collect();
        let transcript = |kind: &str, text: String, words: &[Value]| {
            json!({"type": kind, "transcript": text, "language": utterance.language,
                   "start": start, "duration": end - start, "confidence": 0.9,
                   "speaker_id": utterance.speaker_id, "request_id": "fake_request",
                   "words": words})
        };
        if utterance.interim {
            let half = words.len().div_ceil(2);
            let messages = [
                json!({"type": "start_of_speech"}),
                transcript("interim_transcript", words[..half].join(" "), &timed[..half]),
            ];
            for message in messages {
                if !self.send(message).await {
                    return false;
                }
            }
        }
        if utterance.preflight
            && !self.send(transcript("preflight_transcript", words.join(" "), &timed)).await
        {
            return false;
        }
        self.send(transcript("final_transcript", words.join(" "), &timed)).await
    }

    /// The TTS endpoint.
    async fn tts(&mut self) {
        let Incoming::Message(create) = self.next().await else { return };
        if !self.check_tts_create(&create) {
            return;
        }
        if !self.send(json!({"type": "session.created", "session_id": "fake_tts"})).await {
            return;
        }
        // The synthesis under way: its plan, audio messages sent, seconds of audio so far.
        let mut synthesis: Option<(TtsPlan, usize, f64)> = None;
        loop {
            let Incoming::Message(message) = self.next().await else { return };
            match message["type"].as_str().unwrap_or_default() {
                "input_transcript" => {
                    self.check_input_transcript(&message);
                    let first = synthesis.is_none();
                    let (plan, sent, elapsed) = synthesis.get_or_insert_with(|| {
                        let mut state = lock(&self.state);
                        state.syntheses += 1;
                        (state.tts_plans.pop_front().unwrap_or_default(), 0, 0.0)
                    });
                    let plan = plan.clone();
                    if first && !plan.first_byte_after.is_zero() {
                        tokio::time::sleep(plan.first_byte_after).await;
                    }
                    match &plan.fault {
                        Some(TtsFault::Silence) => continue,
                        Some(TtsFault::Error(code, text)) => {
                            let error = json!({"type": "error", "code": code, "message": text,
                                               "session_id": "fake_tts"});
                            if !self.send(error).await {
                                return;
                            }
                            continue;
                        }
                        Some(TtsFault::Malformed) => {
                            if !self.send_raw("{\"type\":\"output_audio\",\"audio\":").await {
                                return;
                            }
                            continue;
                        }
                        _ => {}
                    }
                    let text = message["transcript"].as_str().unwrap_or_default().to_owned();
                    let mut words = Vec::new();
                    for word in text.split_whitespace() {
                        if let Some(TtsFault::CloseAfterAudio(limit)) = plan.fault
                            && *sent >= limit
                        {
                            return;
                        }
                        let audio = STANDARD.encode(tone(*sent));
                        let message = json!({"type": "output_audio", "audio": audio,
                                             "session_id": "fake_tts"});
                        if !self.send(message).await {
                            return;
                        }
                        *sent += 1;
                        let start = *elapsed;
                        *elapsed += f64::from(WORD_MS) / 1000.0;
                        words.push(json!({"word": word, "start": start, "end": *elapsed}));
                    }
                    if plan.alignment && !words.is_empty() {
                        let alignment = json!({"type": "output_alignment", "words": words,
                                               "session_id": "fake_tts"});
                        if !self.send(alignment).await {
                            return;
                        }
                    }
                }
                "session.flush" => {
                    let plan = match synthesis.take() {
                        Some((plan, _, _)) => plan,
                        None => {
                            // A synthesis with no text: it counts, and takes its plan as one
                            // with text does.
                            let mut state = lock(&self.state);
                            state.syntheses += 1;
                            state.tts_plans.pop_front().unwrap_or_default()
                        }
                    };
                    let silent = plan.fault == Some(TtsFault::Silence);
                    if !silent
                        && !self.send(json!({"type": "done", "session_id": "fake_tts"})).await
                    {
                        return;
                    }
                }
                "session.close" => {
                    let _ = self.socket.close(None).await;
                    return;
                }
                other => self.violation(format!("an unknown TTS message type `{other}`")),
            }
        }
    }

    fn check_tts_create(&self, create: &Value) -> bool {
        if create["type"] != "session.create" {
            self.violation(format!("the first message is not session.create: {create}"));
            return false;
        }
        if create["sample_rate"] != "24000" {
            self.violation(format!("sample_rate is not \"24000\": {create}"));
        }
        if create["encoding"] != "pcm_s16le" {
            self.violation(format!("encoding is not pcm_s16le: {create}"));
        }
        if !create["extra"].is_object() || !create["model"].is_string() {
            self.violation(format!("extra or model missing: {create}"));
        }
        if create.get("settings").is_some() {
            self.violation("TTS settings go at the top level, not in `settings`");
        }
        if !create["connection"]["timeout"].is_number() || !create["connection"]["retries"].is_u64()
        {
            self.violation(format!("connection is not {{timeout, retries}}: {create}"));
        }
        true
    }

    fn check_input_transcript(&self, message: &Value) {
        let transcript = message["transcript"].as_str().unwrap_or_default();
        if transcript.trim().is_empty() || !transcript.ends_with(' ') {
            self.violation(format!(
                "a transcript that is empty or has no trailing space: {message}"
            ));
        }
        if !message["generation_config"].is_object() || !message["extra"].is_object() {
            self.violation(format!(
                "input_transcript without generation_config or extra: {message}"
            ));
        }
    }
}

/// 100 ms of a 440 Hz tone at 24 kHz, as little-endian bytes; `index` varies the phase.
fn tone(index: usize) -> Vec<u8> {
    let samples = (TTS_RATE * WORD_MS / 1000) as usize;
    let offset = index * samples;
    (0..samples)
        .flat_map(|i| {
            let t = (offset + i) as f64 / f64::from(TTS_RATE);
            let value = (t * 440.0 * std::f64::consts::TAU).sin() * 8000.0;
            (value as i16).to_le_bytes()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use livekit_api::access_token::{AccessToken, InferenceGrants};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

    /// A TTS WebSocket to `fake`, past `session.create` and `session.created`.
    async fn tts_socket(fake: &FakeGateway) -> WebSocketStream<TcpStream> {
        let token = AccessToken::with_api_key("key", "secret")
            .with_identity("agent")
            .with_inference_grants(InferenceGrants::default().with_perform())
            .to_jwt()
            .unwrap();
        let url = format!("ws://{}/v1/tts?model=cartesia%2Fsonic-3", fake.addr);
        let mut request = url.into_client_request().unwrap();
        let headers = request.headers_mut();
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        headers.insert("user-agent", "LiveKit Agents test".parse().unwrap());
        let tcp = TcpStream::connect(fake.addr).await.unwrap();
        let (mut socket, _) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
        let create = json!({"type": "session.create", "sample_rate": "24000",
            "encoding": "pcm_s16le", "model": "cartesia/sonic-3", "extra": {},
            "connection": {"timeout": 5.0, "retries": 0}});
        socket.send(Message::text(create.to_string())).await.unwrap();
        let created = socket.next().await.unwrap().unwrap();
        assert!(created.to_text().unwrap().contains("session.created"), "{created:?}");
        socket
    }

    #[tokio::test]
    async fn a_synthesis_without_text_takes_its_plan() {
        let fake = FakeGateway::start("key", "secret").await.unwrap();
        fake.script_tts(TtsPlan::fault(TtsFault::Silence));
        let mut socket = tts_socket(&fake).await;
        socket.send(Message::text(json!({"type": "session.flush"}).to_string())).await.unwrap();
        // The silent plan was this synthesis's: no `done` comes for it.
        let answer = tokio::time::timeout(Duration::from_millis(300), socket.next()).await;
        assert!(answer.is_err(), "{answer:?}");
        assert_eq!(fake.syntheses(), 1);
        assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("deepgram%2Fnova-3"), "deepgram/nova-3");
        assert_eq!(percent_decode("a+b%"), "a b%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
