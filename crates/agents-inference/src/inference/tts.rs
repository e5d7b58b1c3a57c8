//! [`Tts`]: LiveKit Inference text-to-speech over the gateway's `/v1/tts` WebSocket.
//!
//! Each segment of a stream (the text between two flushes) is one synthesis on one pooled
//! connection: its sentences go out as `input_transcript` messages as the text completes them,
//! `session.flush` ends it, and the gateway answers with base64 audio, word or character
//! timings, then `done`, after which the connection goes back to the pool.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use agents_core::ApiErrorKind;
use agents_core::audio::AudioFrame;
use agents_core::llm::ApiConnectOptions;
use agents_core::tokenize::SentenceTokenizer;
use agents_core::tts::{
    ChunkedStream, SynthesizeStream, SynthesizedAudio, TimedString, TtsCapabilities, TtsError,
    TtsOptions,
};
use base64::Engine as _;
use futures::{SinkExt as _, Stream, StreamExt as _};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::gateway::{Gateway, GatewaySettings, Setters, WebSocket, gateway_setters, short_id};
use super::model_string::TtsModelString;
use super::protocol::{
    AlignedChar, AlignedWord, ConnectionSettings, Fallback, FallbackModel, GenerationConfig,
    TtsClientMessage, TtsServerMessage, parse_tts_message,
};
use super::task_stream::{self, TaskStream};
use crate::ConfigError;
use crate::http::error_chain;

/// The sample rate the gateway synthesizes at.
pub const TTS_SAMPLE_RATE: u32 = 24_000;

/// How long an idle connection stays in the pool.
const MAX_IDLE: Duration = Duration::from_secs(300);

/// Audio frames handed out: 20 ms.
const FRAME_MS: u32 = 20;

/// Frames buffered between the connection and the reader.
const OUTPUT_BUFFER: usize = 64;

/// A LiveKit Inference TTS (Python's `inference.TTS`), e.g. `cartesia/sonic-3` with a voice.
///
/// It implements [`agents_core::tts::Tts`], streaming: text pushed into
/// [`stream`](agents_core::tts::Tts::stream) is spoken sentence by sentence as it completes.
/// Audio is 24 kHz mono; word timings come when the provider gives them (e.g. Cartesia with
/// `.extra("add_timestamps", true)`).
///
/// Connections are pooled: one serves one synthesis at a time and is reused for up to 300 s
/// after its last use; one that failed is never reused. A failure before the first audio of a
/// segment retries it (on a new connection) as the [`ApiConnectOptions`] say; after audio was
/// given, the stream ends with the error.
///
/// ```no_run
/// use agents_inference::inference;
///
/// // LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment:
/// let tts = inference::Tts::new("cartesia/sonic-3")?.voice("9626c31c-bec5-4cca-baa8-f8ba9e84c8bc");
/// // or the voice in the model string, and everything explicit:
/// let tts = inference::Tts::builder("cartesia/sonic-3:9626c31c-bec5-4cca-baa8-f8ba9e84c8bc")
///     .api_key("APIxxxx")
///     .api_secret("secret")
///     .extra("speed", "fast")
///     .fallback("inworld/inworld-tts-1:Ashley")
///     .build()?;
/// # Ok::<(), agents_inference::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Tts {
    config: Arc<TtsConfig>,
    pool: Arc<Pool>,
}

/// What a synthesis is made with.
#[derive(Debug, Clone)]
struct TtsConfig {
    gateway: Gateway,
    model: String,
    voice: Option<String>,
    language: Option<String>,
    extra: Map<String, Value>,
    fallback: Vec<FallbackModel>,
    conn_options: ApiConnectOptions,
    tokenizer: SentenceTokenizer,
}

impl Tts {
    /// A TTS for `model` (`provider/model[:voice]`), configured from the environment.
    pub fn new(model: &str) -> Result<Self, ConfigError> {
        TtsBuilder::new(model).build()
    }

    /// A builder for `model` (`provider/model[:voice]`).
    pub fn builder(model: &str) -> TtsBuilder {
        TtsBuilder::new(model)
    }

    /// The same TTS with `voice` (connections are not shared with the original).
    pub fn voice(self, voice: impl Into<String>) -> Self {
        self.reconfigured(|config| config.voice = Some(voice.into()))
    }

    /// The same TTS speaking `language`.
    pub fn language(self, language: impl Into<String>) -> Self {
        self.reconfigured(|config| config.language = Some(language.into()))
    }

    /// The same TTS with one more provider option.
    pub fn extra(self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.reconfigured(|config| {
            config.extra.insert(key.into(), value.into());
        })
    }

    /// The voice, if one is set.
    pub fn voice_id(&self) -> Option<&str> {
        self.config.voice.as_deref()
    }

    /// The `http(s)` base URL of the gateway.
    pub fn base_url(&self) -> &str {
        self.config.gateway.base_url()
    }

    /// Opens a connection into the pool ahead of the first synthesis (Python's `prewarm`), so
    /// that the first reply does not wait for the TCP, TLS and WebSocket handshakes.
    pub async fn prewarm(&self) -> Result<(), TtsError> {
        let socket = open(&self.config, &self.config.conn_options).await?;
        self.pool.put(socket);
        Ok(())
    }

    /// Connections waiting in the pool.
    pub fn pooled_connections(&self) -> usize {
        self.pool.len()
    }

    fn reconfigured(self, change: impl FnOnce(&mut TtsConfig)) -> Self {
        let mut config = (*self.config).clone();
        change(&mut config);
        Self { config: Arc::new(config), pool: Arc::new(Pool::default()) }
    }

    fn new_stream(&self, options: &TtsOptions) -> TtsStream {
        let conn = options.conn_options.unwrap_or(self.config.conn_options);
        let config = self.config.clone();
        let pool = self.pool.clone();
        let no_runtime =
            || Err(TtsError::configuration("inference::Tts streams run on a tokio runtime"));
        TtsStream {
            inner: TaskStream::new(OUTPUT_BUFFER, no_runtime, move |input, output| {
                Synthesis::new(config, pool, conn, output).run(input)
            }),
        }
    }
}

impl fmt::Debug for Tts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("inference::Tts")
            .field("model", &self.config.model)
            .field("voice", &self.config.voice)
            .field("language", &self.config.language)
            .field("gateway", &self.config.gateway)
            .finish_non_exhaustive()
    }
}

impl agents_core::tts::Tts for Tts {
    fn model(&self) -> &str {
        &self.config.model
    }

    fn provider(&self) -> &str {
        "livekit"
    }

    fn capabilities(&self) -> TtsCapabilities {
        TtsCapabilities::new(true, true)
    }

    fn sample_rate(&self) -> u32 {
        TTS_SAMPLE_RATE
    }

    fn num_channels(&self) -> u16 {
        1
    }

    fn synthesize(&self, text: &str, options: &TtsOptions) -> ChunkedStream {
        let mut stream = self.new_stream(options);
        stream.push_text(text);
        stream.end_input();
        ChunkedStream::new(text, stream)
    }

    fn stream(&self, options: &TtsOptions) -> Box<dyn SynthesizeStream> {
        Box::new(self.new_stream(options))
    }
}

/// Options of an inference [`Tts`]; what is not set is read from the environment by
/// [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct TtsBuilder {
    model: String,
    voice: Option<String>,
    language: Option<String>,
    extra: Map<String, Value>,
    fallback: Vec<FallbackModel>,
    conn_options: ApiConnectOptions,
    gateway: GatewaySettings,
}

impl TtsBuilder {
    /// A builder for `model` (`provider/model[:voice]`).
    pub fn new(model: &str) -> Self {
        let parsed = TtsModelString::parse(model);
        Self {
            model: parsed.model,
            voice: parsed.voice,
            language: None,
            extra: Map::new(),
            fallback: Vec::new(),
            conn_options: ApiConnectOptions::default(),
            gateway: GatewaySettings::default(),
        }
    }

    /// The voice (replaces one given in the model string).
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Some(voice.into());
        self
    }

    /// The language to speak.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// One provider option (e.g. Cartesia's `speed`, `add_timestamps`), sent as `extra`.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// A fallback model the gateway switches to when this one fails, as a model string
    /// (`provider/model[:voice]`).
    pub fn fallback(mut self, model: &str) -> Self {
        let parsed = TtsModelString::parse(model);
        let mut fallback = FallbackModel::new(parsed.model);
        fallback.voice = parsed.voice;
        self.fallback.push(fallback);
        self
    }

    /// A fallback model with its own options.
    pub fn fallback_model(mut self, model: FallbackModel) -> Self {
        self.fallback.push(model);
        self
    }

    /// Retries and timeouts of streams whose options set none (a per-message receive timeout
    /// of `timeout`).
    pub fn conn_options(mut self, conn_options: ApiConnectOptions) -> Self {
        self.conn_options = conn_options;
        self
    }

    gateway_setters!();

    /// Builds the TTS, reading from the environment what was not set.
    pub fn build(self) -> Result<Tts, ConfigError> {
        let setters = Setters {
            api_key: "inference::TtsBuilder::api_key",
            api_secret: "inference::TtsBuilder::api_secret",
        };
        let gateway = self.gateway.resolve(crate::env::var, &setters)?;
        Ok(Tts {
            config: Arc::new(TtsConfig {
                gateway,
                model: self.model,
                voice: self.voice,
                language: self.language,
                extra: self.extra,
                fallback: self.fallback,
                conn_options: self.conn_options,
                tokenizer: SentenceTokenizer::default(),
            }),
            pool: Arc::new(Pool::default()),
        })
    }
}

/// Idle connections, each with when it was last used.
#[derive(Default)]
struct Pool {
    idle: Mutex<Vec<(WebSocket, Instant)>>,
}

impl Pool {
    fn take(&self) -> Option<WebSocket> {
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some((socket, last_used)) = idle.pop() {
            if last_used.elapsed() < MAX_IDLE {
                return Some(socket);
            }
        }
        None
    }

    fn put(&self, socket: WebSocket) {
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        idle.retain(|(_, last_used)| last_used.elapsed() < MAX_IDLE);
        idle.push((socket, Instant::now()));
    }

    fn len(&self) -> usize {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }
}

type Input = task_stream::Input<String>;

type Output = Result<SynthesizedAudio, TtsError>;

/// A stream of an inference [`Tts`]; its task starts when it is first polled and stops when
/// it is dropped.
pub struct TtsStream {
    inner: TaskStream<String, Output>,
}

impl fmt::Debug for TtsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("inference::TtsStream")
            .field("started", &self.inner.started())
            .field("input_ended", &self.inner.input_ended())
            .finish_non_exhaustive()
    }
}

impl Stream for TtsStream {
    type Item = Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Output>> {
        self.inner.poll_next(cx)
    }
}

impl SynthesizeStream for TtsStream {
    fn push_text(&mut self, text: &str) {
        if self.inner.input_ended() {
            tracing::warn!("text pushed to a TTS stream after `end_input` is ignored");
            return;
        }
        if !text.is_empty() {
            self.inner.push(text.to_owned());
        }
    }

    fn flush(&mut self) {
        self.inner.flush();
    }

    fn end_input(&mut self) {
        self.inner.end_input();
    }
}

/// A connection in use by a synthesis.
struct Conn {
    socket: WebSocket,
    /// Taken from the pool (the gateway may have dropped it meanwhile).
    reused: bool,
    /// Something was received on it during this synthesis.
    heard: bool,
    /// Sentences of the segment sent on it.
    sent: usize,
    flush_sent: bool,
}

/// The segment being synthesized.
#[derive(Default)]
struct Segment {
    id: String,
    sentences: Vec<String>,
    flushed: bool,
    /// Audio was handed out: a failure can no longer be retried.
    audio_out: bool,
    /// The gateway's session id, when it gave one.
    request_id: String,
    /// Samples not yet cut into a frame, and a byte left over from an odd-length chunk.
    samples: Vec<i16>,
    odd_byte: Option<u8>,
    /// The last frame, held until it is known whether it is final.
    held: Option<SynthesizedAudio>,
    /// Word timings and text not yet attached to a frame.
    words: Vec<TimedString>,
    delta_text: String,
}

impl Segment {
    /// Forgets what a failed attempt received (no audio of it was handed out): its word
    /// timings, its odd byte and its session id would shift or repeat the retry's. The text
    /// to speak and its `delta_text` stay.
    fn restart(&mut self) {
        self.request_id.clear();
        self.samples.clear();
        self.odd_byte = None;
        self.words.clear();
    }

    /// Adds sentences to speak.
    fn add(&mut self, sentences: Vec<String>) {
        for sentence in sentences {
            self.delta_text.push_str(&sentence);
            self.delta_text.push(' ');
            self.sentences.push(sentence);
        }
    }
}

/// The task behind one [`TtsStream`].
struct Synthesis {
    config: Arc<TtsConfig>,
    pool: Arc<Pool>,
    conn_options: ApiConnectOptions,
    output: mpsc::Sender<Output>,
    frame_samples: usize,
    /// Failed attempts of the current segment.
    attempts: u32,
    /// When the receive timeout runs from (the last message sent or received).
    last_activity: Instant,
}

/// Why the synthesis task stops early.
enum Stop {
    /// The reader is gone.
    Closed,
}

impl Synthesis {
    fn new(
        config: Arc<TtsConfig>,
        pool: Arc<Pool>,
        conn_options: ApiConnectOptions,
        output: mpsc::Sender<Output>,
    ) -> Self {
        Self {
            config,
            pool,
            conn_options,
            output,
            frame_samples: (TTS_SAMPLE_RATE * FRAME_MS / 1000) as usize,
            attempts: 0,
            last_activity: Instant::now(),
        }
    }

    async fn run(mut self, mut input: mpsc::UnboundedReceiver<Input>) {
        let _ = self.segments(&mut input).await;
    }

    async fn segments(&mut self, input: &mut mpsc::UnboundedReceiver<Input>) -> Result<(), Stop> {
        let mut sentences = self.config.tokenizer.stream();
        let mut ended = false;
        let mut conn: Option<Conn> = None;
        let mut segment = Segment { id: short_id("SEG_"), ..Segment::default() };
        loop {
            if segment.flushed && segment.sentences.is_empty() {
                // Nothing to say in this segment: no synthesis.
                if ended {
                    return Ok(());
                }
                segment = Segment { id: short_id("SEG_"), ..Segment::default() };
            }
            if conn.is_none() && !segment.sentences.is_empty() {
                match self.acquire().await {
                    Ok(new) => conn = Some(new),
                    Err(error) => {
                        self.failed(&mut segment, error, false).await?;
                        continue;
                    }
                }
            }
            if let Some(open) = conn.as_mut()
                && let Err(error) = self.send_pending(open, &segment).await
            {
                let reused = open.reused && !open.heard;
                conn = None;
                self.failed(&mut segment, error, reused).await?;
                continue;
            }
            let waiting = conn
                .as_ref()
                .is_some_and(|open| open.flush_sent || (open.sent > 0 && !segment.audio_out));
            let timeout = self.conn_options.timeout;
            let deadline = (self.last_activity + timeout, timeout);
            tokio::select! {
                message = input.recv(), if !segment.flushed => match message {
                    Some(Input::Item(text)) => segment.add(sentences.push(&text)),
                    Some(Input::Flush) => {
                        segment.add(sentences.flush());
                        segment.flushed = true;
                    }
                    Some(Input::End) | None => {
                        segment.add(sentences.flush());
                        segment.flushed = true;
                        ended = true;
                    }
                },
                received = receive(conn.as_mut(), waiting.then_some(deadline)) => {
                    let Some(open) = conn.as_mut() else { continue };
                    self.last_activity = Instant::now();
                    let message = match received {
                        Ok(message) => message,
                        Err(error) => {
                            let reused = open.reused && !open.heard;
                            conn = None;
                            self.failed(&mut segment, error, reused).await?;
                            continue;
                        }
                    };
                    open.heard = true;
                    match self.on_message(&mut segment, message).await? {
                        Step::Continue => {}
                        Step::Failed(error) => {
                            conn = None;
                            self.failed(&mut segment, error, false).await?;
                        }
                        Step::Done => {
                            self.finish_segment(&mut segment).await?;
                            if let Some(open) = conn.take() {
                                self.pool.put(open.socket);
                            }
                            self.attempts = 0;
                            if ended {
                                return Ok(());
                            }
                            segment = Segment { id: short_id("SEG_"), ..Segment::default() };
                        }
                    }
                }
            }
        }
    }

    /// A pooled connection, else a new one with its `session.create` sent.
    async fn acquire(&mut self) -> Result<Conn, TtsError> {
        self.last_activity = Instant::now();
        if let Some(socket) = self.pool.take() {
            return Ok(Conn { socket, reused: true, heard: false, sent: 0, flush_sent: false });
        }
        let socket = open(&self.config, &self.conn_options).await?;
        self.last_activity = Instant::now();
        Ok(Conn { socket, reused: false, heard: false, sent: 0, flush_sent: false })
    }

    /// Sends the segment's sentences not yet sent on `conn`, and its flush once it ended.
    async fn send_pending(&mut self, conn: &mut Conn, segment: &Segment) -> Result<(), TtsError> {
        let config = &self.config;
        while conn.sent < segment.sentences.len() {
            let message = TtsClientMessage::InputTranscript {
                transcript: format!("{} ", segment.sentences[conn.sent]),
                generation_config: GenerationConfig {
                    voice: config.voice.clone(),
                    model: Some(config.model.clone()),
                    language: config.language.clone(),
                },
                extra: config.extra.clone(),
            };
            send(&mut conn.socket, &message).await?;
            conn.sent += 1;
            self.last_activity = Instant::now();
        }
        if segment.flushed && !conn.flush_sent {
            send(&mut conn.socket, &TtsClientMessage::Flush).await?;
            conn.flush_sent = true;
            self.last_activity = Instant::now();
        }
        Ok(())
    }

    /// Handles one message of the gateway.
    async fn on_message(
        &mut self,
        segment: &mut Segment,
        message: TtsServerMessage,
    ) -> Result<Step, Stop> {
        if segment.request_id.is_empty()
            && let Some(id) = message.session_id()
        {
            segment.request_id = id.to_owned();
        }
        match message {
            TtsServerMessage::OutputAudio { audio, .. } => {
                let bytes = match base64::engine::general_purpose::STANDARD.decode(audio.trim()) {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        return Ok(Step::Failed(
                            TtsError::bad_response("audio that is not base64").with_source(error),
                        ));
                    }
                };
                push_bytes(segment, &bytes);
                while segment.samples.len() >= self.frame_samples {
                    let rest = segment.samples.split_off(self.frame_samples);
                    let samples = std::mem::replace(&mut segment.samples, rest);
                    self.emit(segment, samples).await?;
                }
            }
            TtsServerMessage::OutputAlignment { words, chars, .. } => {
                let cartesia = self.config.model.starts_with("cartesia");
                let mut timed = words_of(&words, cartesia);
                timed.extend(words_of_chars(&chars));
                match segment.held.as_mut() {
                    Some(held) => held.timed_transcript.extend(timed),
                    None => segment.words.extend(timed),
                }
            }
            TtsServerMessage::Done { .. } => return Ok(Step::Done),
            TtsServerMessage::Error { error, .. } => {
                let message = format!("the gateway reported an error: {}", error.describe());
                let error = match error.status() {
                    Some(status) => TtsError::status(status, error.describe()),
                    None => TtsError::connection(message),
                };
                return Ok(Step::Failed(error));
            }
            TtsServerMessage::SessionCreated { .. } | TtsServerMessage::Unknown => {}
        }
        Ok(Step::Continue)
    }

    /// Hands out the held frame and holds `samples` as the next one.
    async fn emit(&mut self, segment: &mut Segment, samples: Vec<i16>) -> Result<(), Stop> {
        let Ok(frame) = AudioFrame::new(samples, TTS_SAMPLE_RATE, 1) else { return Ok(()) };
        let audio = SynthesizedAudio::new(frame)
            .with_segment_id(segment.id.clone())
            .with_request_id(segment.request_id.clone())
            .with_delta_text(std::mem::take(&mut segment.delta_text))
            .with_timed_transcript(std::mem::take(&mut segment.words));
        if let Some(previous) = segment.held.replace(audio) {
            segment.audio_out = true;
            self.output.send(Ok(previous)).await.map_err(|_| Stop::Closed)?;
        }
        Ok(())
    }

    /// The synthesis is done: hands out the rest of the audio, the last frame final.
    async fn finish_segment(&mut self, segment: &mut Segment) -> Result<(), Stop> {
        if !segment.samples.is_empty() {
            let samples = std::mem::take(&mut segment.samples);
            self.emit(segment, samples).await?;
        }
        if let Some(mut last) = segment.held.take() {
            last.is_final = true;
            last.timed_transcript.append(&mut segment.words);
            self.output.send(Ok(last)).await.map_err(|_| Stop::Closed)?;
        }
        Ok(())
    }

    /// A failed attempt: retried (after the retry interval) while no audio was handed out
    /// and retries are left, else the stream ends with `error`. A reused connection that
    /// failed before answering anything is retried at once, not counted.
    async fn failed(
        &mut self,
        segment: &mut Segment,
        error: TtsError,
        stale_pooled: bool,
    ) -> Result<(), Stop> {
        let audio_out = segment.audio_out || segment.held.is_some() || !segment.samples.is_empty();
        if !audio_out && stale_pooled && matches!(error.kind(), ApiErrorKind::Connection { .. }) {
            tracing::debug!(
                error = %error_chain(&error),
                "a pooled TTS connection had closed; opening a new one"
            );
            segment.restart();
            return Ok(());
        }
        if !audio_out && error.retryable() && self.attempts < self.conn_options.max_retry {
            self.attempts += 1;
            tracing::warn!(
                error = %error_chain(&error),
                attempt = self.attempts,
                "TTS synthesis failed; retrying"
            );
            tokio::time::sleep(self.conn_options.retry_interval).await;
            segment.restart();
            return Ok(());
        }
        // The audio received so far is handed out before the error.
        if !segment.samples.is_empty() {
            let samples = std::mem::take(&mut segment.samples);
            self.emit(segment, samples).await?;
        }
        if let Some(mut last) = segment.held.take() {
            last.timed_transcript.append(&mut segment.words);
            self.output.send(Ok(last)).await.map_err(|_| Stop::Closed)?;
        }
        let _ = self.output.send(Err(error)).await;
        Err(Stop::Closed)
    }
}

/// What a message means for the synthesis.
enum Step {
    Continue,
    Done,
    Failed(TtsError),
}

/// The next message of `conn` (pending forever without one), failing after `deadline`.
async fn receive(
    conn: Option<&mut Conn>,
    deadline: Option<(Instant, Duration)>,
) -> Result<TtsServerMessage, TtsError> {
    let Some(conn) = conn else { return std::future::pending().await };
    loop {
        let next = match deadline {
            Some((deadline, after)) => {
                match tokio::time::timeout_at(deadline, conn.socket.next()).await {
                    Ok(next) => next,
                    Err(_) => return Err(TtsError::timeout(after)),
                }
            }
            None => conn.socket.next().await,
        };
        match next {
            Some(Ok(Message::Text(text))) => {
                return parse_tts_message(&text).map_err(|error| {
                    TtsError::bad_response("the gateway sent a message this client cannot read")
                        .with_source(error)
                });
            }
            Some(Ok(Message::Close(frame))) => {
                let reason = frame
                    .map(|frame| format!(" ({} {})", frame.code, frame.reason))
                    .unwrap_or_default();
                return Err(TtsError::connection(format!(
                    "the gateway closed the connection{reason}"
                )));
            }
            Some(Ok(Message::Binary(_))) => {
                return Err(TtsError::bad_response("a binary frame where JSON text was expected"));
            }
            Some(Ok(_)) => {} // ping, pong
            Some(Err(error)) => {
                return Err(TtsError::connection("the connection broke").with_source(error));
            }
            None => {
                return Err(TtsError::connection("the connection closed"));
            }
        }
    }
}

/// A new connection with its `session.create` sent.
async fn open(config: &TtsConfig, conn_options: &ApiConnectOptions) -> Result<WebSocket, TtsError> {
    let mut socket = config
        .gateway
        .connect("tts", Some(&config.model), conn_options.timeout)
        .await
        .map_err(TtsError::from)?;
    let create = TtsClientMessage::SessionCreate {
        sample_rate: TTS_SAMPLE_RATE.to_string(),
        encoding: "pcm_s16le".into(),
        extra: config.extra.clone(),
        voice: config.voice.clone(),
        model: Some(config.model.clone()),
        language: config.language.clone(),
        fallback: (!config.fallback.is_empty())
            .then(|| Fallback { models: config.fallback.clone() }),
        connection: ConnectionSettings::new(conn_options.timeout, conn_options.max_retry),
    };
    send(&mut socket, &create).await?;
    Ok(socket)
}

async fn send(socket: &mut WebSocket, message: &TtsClientMessage) -> Result<(), TtsError> {
    let text = serde_json::to_string(message)
        .map_err(|error| TtsError::configuration("cannot encode a message").with_source(error))?;
    socket
        .send(Message::text(text))
        .await
        .map_err(|error| TtsError::connection("cannot send").with_source(error))
}

/// Appends little-endian 16-bit samples, carrying an odd byte over to the next chunk.
fn push_bytes(segment: &mut Segment, bytes: &[u8]) {
    let mut bytes = bytes;
    if let Some(low) = segment.odd_byte.take() {
        let Some((&high, rest)) = bytes.split_first() else {
            segment.odd_byte = Some(low);
            return;
        };
        segment.samples.push(i16::from_le_bytes([low, high]));
        bytes = rest;
    }
    let pairs = bytes.chunks_exact(2);
    segment.odd_byte = pairs.remainder().first().copied();
    segment.samples.extend(pairs.map(|pair| i16::from_le_bytes([pair[0], pair[1]])));
}

/// Word timings; Cartesia's words get the trailing space the text has.
fn words_of(words: &[AlignedWord], cartesia: bool) -> Vec<TimedString> {
    words
        .iter()
        .map(|word| {
            let text = if cartesia { format!("{} ", word.word) } else { word.word.clone() };
            TimedString::new(text, word.start, word.end)
        })
        .collect()
}

/// Character timings grouped into words (split at whitespace).
fn words_of_chars(chars: &[AlignedChar]) -> Vec<TimedString> {
    let mut words = Vec::new();
    let mut current: Option<TimedString> = None;
    for aligned in chars {
        if aligned.character.trim().is_empty() {
            if let Some(mut word) = current.take() {
                word.text.push_str(&aligned.character);
                words.push(word);
            }
            continue;
        }
        match current.as_mut() {
            Some(word) => {
                word.text.push_str(&aligned.character);
                word.end_time = aligned.end;
            }
            None => {
                current =
                    Some(TimedString::new(aligned.character.clone(), aligned.start, aligned.end));
            }
        }
    }
    words.extend(current);
    words
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;

    #[test]
    fn odd_byte_chunks_join_into_samples() {
        let mut segment = Segment::default();
        let samples: Vec<u8> = [1000i16, -2, 300].iter().flat_map(|s| s.to_le_bytes()).collect();
        push_bytes(&mut segment, &samples[..3]);
        push_bytes(&mut segment, &samples[3..4]);
        push_bytes(&mut segment, &[]);
        push_bytes(&mut segment, &samples[4..]);
        assert_eq!(segment.samples, [1000, -2, 300]);
        assert_eq!(segment.odd_byte, None);
    }

    #[tokio::test]
    async fn a_retry_forgets_the_failed_attempts_alignment_odd_byte_and_id() {
        let tts = TtsBuilder::new("cartesia/sonic-2")
            .api_key("key")
            .api_secret("secret")
            .conn_options(ApiConnectOptions::new(2, Duration::ZERO, Duration::from_secs(1)))
            .build()
            .expect("the TTS builds");
        let (tx, _rx) = mpsc::channel(4);
        let mut synthesis =
            Synthesis::new(tts.config.clone(), tts.pool.clone(), tts.config.conn_options, tx);
        for stale_pooled in [false, true] {
            let mut segment = Segment::default();
            segment.add(vec!["Hello there.".into()]);
            segment.request_id = "failed_attempt".into();
            segment.odd_byte = Some(7);
            segment.words.push(TimedString::new("Hello ", 0.0, 0.2));
            let error = TtsError::connection("reset");
            assert!(synthesis.failed(&mut segment, error, stale_pooled).await.is_ok());
            assert_eq!(segment.request_id, "");
            assert_eq!(segment.odd_byte, None);
            assert!(segment.words.is_empty());
            assert_eq!(segment.delta_text, "Hello there. ", "the text to speak stays");
        }
    }

    #[test]
    fn characters_group_into_words() {
        let chars: Vec<AlignedChar> = "Hi yo"
            .chars()
            .enumerate()
            .map(|(i, c)| AlignedChar {
                character: c.to_string(),
                start: i as f64 * 0.1,
                end: i as f64 * 0.1 + 0.1,
            })
            .collect();
        let words = words_of_chars(&chars);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].text, "Hi ");
        assert!((words[0].end_time - 0.2).abs() < 1e-9);
        assert_eq!(words[1].text, "yo");
        assert!((words[1].start_time - 0.3).abs() < 1e-9);
        assert!((words[1].end_time - 0.5).abs() < 1e-9);
    }
}
