//! [`Stt`]: LiveKit Inference speech-to-text over the gateway's `/v1/stt` WebSocket.
//!
//! A stream opens one connection, sends `session.create`, then the audio resampled to the
//! model's rate in 50 ms base64 `input_audio` messages; `session.finalize` at the end of the
//! input (and at every [`flush`](agents_core::stt::SttStream::flush)). Transcripts come back
//! as interim, preflight and final [`SpeechEvent`]s.
//!
//! **Reconnection.** The audio sent is kept until a final transcript covers it (its `start` +
//! `duration`), at most [`MAX_REPLAY`] of it. When the connection drops or the gateway reports
//! a retryable error, the stream reconnects (as its [`ApiConnectOptions`] allow) and sends the
//! kept audio again, then the audio that arrived meanwhile: nothing is lost and no final
//! transcript is delivered twice (a final ending before what was already delivered is
//! dropped). Past the bound, the oldest audio not yet covered by a final transcript is
//! dropped from the buffer: if the connection breaks after more than [`MAX_REPLAY`] of speech
//! without a final transcript, the words at its start are lost.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use agents_core::audio::{AudioFrame, Resampler};
use agents_core::llm::ApiConnectOptions;
use agents_core::stt::{
    SpeechData, SpeechEvent, SpeechEventKind, SttCapabilities, SttError, SttOptions, SttStream,
};
use agents_core::tts::TimedString;
use base64::Engine as _;
use futures::{SinkExt as _, Stream, StreamExt as _};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::gateway::{Gateway, GatewaySettings, Setters, WebSocket, gateway_setters};
use super::model_string::SttModelString;
use super::protocol::{
    ConnectionSettings, Fallback, FallbackModel, SttClientMessage, SttServerMessage,
    SttSessionSettings, SttUpdateSettings, Transcript, parse_stt_message,
};
use super::task_stream::{self, TaskStream};
use crate::ConfigError;

/// The most audio kept for resending after a reconnection.
pub const MAX_REPLAY: Duration = Duration::from_secs(10);

/// After the input ended: how long to wait for the transcripts.
pub const FINALIZATION_TIMEOUT: Duration = Duration::from_secs(30);

/// After the input ended and a final transcript (or the acknowledgment of the finalization)
/// came: how long a silence ends the stream.
pub const INACTIVITY_TIMEOUT: Duration = Duration::from_secs(3);

/// Events buffered between the connection and the reader.
const OUTPUT_BUFFER: usize = 256;

/// A LiveKit Inference streaming STT (Python's `inference.STT`), e.g. `deepgram/nova-3`.
///
/// It implements [`agents_core::stt::Stt`] as a streaming STT: the session gives it all the
/// audio and runs no VAD of its own for it. Options changed with
/// [`set_language`](Self::set_language), [`set_model`](Self::set_model) and
/// [`set_keyterms`](Self::set_keyterms) reach the streams already open (`session.update`) and
/// the next ones.
///
/// ```no_run
/// use agents_inference::inference;
///
/// // LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment:
/// let stt = inference::Stt::new("deepgram/nova-3:en")?;
/// let stt = inference::Stt::builder("deepgram/nova-3")
///     .language("fr")
///     .keyterms(["LiveKit"])
///     .extra("smart_format", true)
///     .fallback("assemblyai/universal-streaming")
///     .build()?;
/// stt.set_language("de");
/// # Ok::<(), agents_inference::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Stt {
    gateway: Gateway,
    conn_options: ApiConnectOptions,
    /// The model string as given, for [`model`](agents_core::stt::Stt::model).
    name: String,
    settings: Arc<watch::Sender<Settings>>,
}

/// What a session is created (or updated) with.
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    model: Option<String>,
    language: Option<String>,
    extra: Map<String, Value>,
    keyterms: Vec<String>,
    fallback: Vec<FallbackModel>,
}

impl Settings {
    /// The `extra` sent: the options, with the keyterms under the provider's key.
    fn extra(&self) -> Map<String, Value> {
        let mut extra = self.extra.clone();
        if !self.keyterms.is_empty() {
            match keyterm_entry(self.model.as_deref(), &self.keyterms) {
                Some((key, value)) => {
                    extra.insert(key.to_owned(), value);
                }
                None => tracing::warn!(
                    model = ?self.model,
                    "keyterms are not sent: the provider's keyterm option is unknown"
                ),
            }
        }
        extra
    }

    /// The input sample rate the model takes: 24 kHz for OpenAI's, else 16 kHz.
    fn sample_rate(&self) -> u32 {
        match &self.model {
            Some(model) if model.starts_with("openai/") => 24_000,
            _ => 16_000,
        }
    }
}

/// The keyterms as the provider of `model` takes them.
fn keyterm_entry(model: Option<&str>, keyterms: &[String]) -> Option<(&'static str, Value)> {
    let list = || Value::from(keyterms.to_vec());
    match model?.split('/').next()? {
        "deepgram" | "cartesia" => Some(("keyterm", list())),
        "assemblyai" => Some(("keyterms_prompt", list())),
        "openai" => Some(("keywords", list())),
        "speechmatics" => Some((
            "additional_vocab",
            Value::Array(
                keyterms.iter().map(|term| serde_json::json!({ "content": term })).collect(),
            ),
        )),
        _ => None,
    }
}

impl Stt {
    /// An STT for `model` (`provider/model[:language]` or `auto`), configured from the
    /// environment.
    pub fn new(model: &str) -> Result<Self, ConfigError> {
        SttBuilder::new(model).build()
    }

    /// A builder for `model` (`provider/model[:language]` or `auto`).
    pub fn builder(model: &str) -> SttBuilder {
        SttBuilder::new(model)
    }

    /// Changes the language, for the open streams too.
    pub fn set_language(&self, language: impl Into<String>) {
        let language = language.into();
        self.settings.send_modify(|settings| settings.language = Some(language));
    }

    /// Changes the model, for the open streams too (their sample rate stays).
    pub fn set_model(&self, model: &str) {
        let parsed = SttModelString::parse(model);
        self.settings.send_modify(|settings| {
            settings.model = parsed.model;
            if parsed.language.is_some() {
                settings.language = parsed.language;
            }
        });
    }

    /// Changes the keyterms (words to recognize better), for the open streams too.
    pub fn set_keyterms(&self, keyterms: impl IntoIterator<Item = impl Into<String>>) {
        let keyterms: Vec<String> = keyterms.into_iter().map(Into::into).collect();
        self.settings.send_modify(|settings| settings.keyterms = keyterms);
    }

    /// The language, if one is set.
    pub fn language(&self) -> Option<String> {
        self.settings.borrow().language.clone()
    }

    /// The sample rate audio is sent at (16 kHz; 24 kHz for `openai/` models).
    pub fn sample_rate(&self) -> u32 {
        self.settings.borrow().sample_rate()
    }

    /// The `http(s)` base URL of the gateway.
    pub fn base_url(&self) -> &str {
        self.gateway.base_url()
    }

    /// A stream with the inference-specific type (the same as
    /// [`Stt::stream`](agents_core::stt::Stt::stream) gives boxed).
    pub fn open(&self, options: &SttOptions) -> InferenceSttStream {
        let conn = options.conn_options.unwrap_or(self.conn_options);
        let gateway = self.gateway.clone();
        let settings = self.settings.subscribe();
        let language = options.language.clone();
        let no_runtime =
            || Err(SttError::configuration("inference::Stt streams run on a tokio runtime"));
        InferenceSttStream {
            inner: TaskStream::new(OUTPUT_BUFFER, no_runtime, move |input, output| {
                Recognizer::new(gateway, settings, language, conn, output).run(input)
            }),
        }
    }
}

impl fmt::Debug for Stt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = self.settings.borrow();
        f.debug_struct("inference::Stt")
            .field("model", &settings.model)
            .field("language", &settings.language)
            .field("gateway", &self.gateway)
            .finish_non_exhaustive()
    }
}

#[agents_core::async_trait]
impl agents_core::stt::Stt for Stt {
    fn model(&self) -> &str {
        &self.name
    }

    fn provider(&self) -> &str {
        "livekit"
    }

    fn capabilities(&self) -> SttCapabilities {
        let mut capabilities = SttCapabilities::new(true, true);
        capabilities.aligned_transcript = true;
        capabilities.diarization = true;
        capabilities
    }

    fn stream(&self, options: &SttOptions) -> Box<dyn SttStream> {
        Box::new(self.open(options))
    }
}

/// Options of an inference [`Stt`]; what is not set is read from the environment by
/// [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct SttBuilder {
    name: String,
    settings: Settings,
    conn_options: ApiConnectOptions,
    gateway: GatewaySettings,
}

impl SttBuilder {
    /// A builder for `model` (`provider/model[:language]` or `auto`).
    pub fn new(model: &str) -> Self {
        let parsed = SttModelString::parse(model);
        Self {
            name: parsed.model.clone().unwrap_or_else(|| "auto".into()),
            settings: Settings {
                model: parsed.model,
                language: parsed.language,
                extra: Map::new(),
                keyterms: Vec::new(),
                fallback: Vec::new(),
            },
            conn_options: ApiConnectOptions::default(),
            gateway: GatewaySettings::default(),
        }
    }

    /// The language to recognize (replaces one given in the model string).
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.settings.language = Some(language.into());
        self
    }

    /// Words to recognize better, sent under the provider's option (`keyterm` for Deepgram
    /// and Cartesia, `keyterms_prompt` for AssemblyAI, `additional_vocab` for Speechmatics,
    /// `keywords` for OpenAI).
    pub fn keyterms(mut self, keyterms: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.settings.keyterms = keyterms.into_iter().map(Into::into).collect();
        self
    }

    /// One provider option (e.g. Deepgram's `smart_format`), sent in `extra`.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.settings.extra.insert(key.into(), value.into());
        self
    }

    /// A fallback model the gateway switches to when this one fails; a `:language` suffix is
    /// dropped.
    pub fn fallback(mut self, model: &str) -> Self {
        if let Some(model) = SttModelString::parse(model).model {
            self.settings.fallback.push(FallbackModel::new(model));
        }
        self
    }

    /// A fallback model with its own options.
    pub fn fallback_model(mut self, model: FallbackModel) -> Self {
        self.settings.fallback.push(model);
        self
    }

    /// Retries and timeouts of streams whose options set none.
    pub fn conn_options(mut self, conn_options: ApiConnectOptions) -> Self {
        self.conn_options = conn_options;
        self
    }

    gateway_setters!();

    /// Builds the STT, reading from the environment what was not set.
    pub fn build(self) -> Result<Stt, ConfigError> {
        let setters = Setters {
            api_key: "inference::SttBuilder::api_key",
            api_secret: "inference::SttBuilder::api_secret",
        };
        let gateway = self.gateway.resolve(crate::env::var, &setters)?;
        Ok(Stt {
            gateway,
            conn_options: self.conn_options,
            name: self.name,
            settings: Arc::new(watch::Sender::new(self.settings)),
        })
    }
}

type Input = task_stream::Input<AudioFrame>;

type Output = Result<SpeechEvent, SttError>;

/// A stream of an inference [`Stt`]; its task starts when it is first polled and stops when
/// it is dropped.
pub struct InferenceSttStream {
    inner: TaskStream<AudioFrame, Output>,
}

impl fmt::Debug for InferenceSttStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("inference::InferenceSttStream")
            .field("started", &self.inner.started())
            .field("input_ended", &self.inner.input_ended())
            .finish_non_exhaustive()
    }
}

impl Stream for InferenceSttStream {
    type Item = Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Output>> {
        self.inner.poll_next(cx)
    }
}

impl SttStream for InferenceSttStream {
    fn push_frame(&mut self, frame: &AudioFrame) {
        if self.inner.input_ended() {
            tracing::warn!("audio pushed to an STT stream after `end_input` is ignored");
            return;
        }
        self.inner.push(frame.clone());
    }

    fn flush(&mut self) {
        self.inner.flush();
    }

    fn end_input(&mut self) {
        self.inner.end_input();
    }
}

/// The task behind one [`InferenceSttStream`].
struct Recognizer {
    gateway: Gateway,
    settings: watch::Receiver<Settings>,
    /// The stream's own language, over the STT's.
    language: Option<String>,
    conn_options: ApiConnectOptions,
    output: mpsc::Sender<Output>,
    /// The rate audio is sent at, fixed for the stream.
    rate: u32,
    /// Samples per 50 ms message.
    chunk_samples: usize,
    resampler: Option<Resampler>,
    /// The resampler's output, reused.
    scratch: Vec<f32>,
    /// Samples waiting to fill a message.
    partial: Vec<i16>,
    /// Audio sent (or to send) not yet covered by a final transcript, from stream sample
    /// `replay_start`.
    replay: VecDeque<i16>,
    replay_start: u64,
    /// Stream sample at which the current connection's audio starts.
    connection_start: u64,
    /// Samples since the last usage report.
    unreported: u64,
    speaking: bool,
    /// Failed attempts in a row.
    attempts: u32,
    ended_at: Option<Instant>,
    /// Since the input ended: when the last final transcript or `session.finalized` came.
    settled_at: Option<Instant>,
    /// `session.finalize`s the current connection owes (one per flush and one at the end),
    /// cleared once a final transcript covers all the audio sent.
    finalizes: u32,
    /// Whether the stream already warned that its audio cannot be resampled.
    resample_warned: bool,
}

/// Why the recognition task stops.
enum Stop {
    /// The reader is gone, or the stream ended (with its error given).
    Done,
}

impl Recognizer {
    fn new(
        gateway: Gateway,
        settings: watch::Receiver<Settings>,
        language: Option<String>,
        conn_options: ApiConnectOptions,
        output: mpsc::Sender<Output>,
    ) -> Self {
        let rate = settings.borrow().sample_rate();
        Self {
            gateway,
            settings,
            language,
            conn_options,
            output,
            rate,
            chunk_samples: (rate / 20) as usize,
            resampler: None,
            scratch: Vec::new(),
            partial: Vec::new(),
            replay: VecDeque::new(),
            replay_start: 0,
            connection_start: 0,
            unreported: 0,
            speaking: false,
            attempts: 0,
            ended_at: None,
            settled_at: None,
            finalizes: 0,
            resample_warned: false,
        }
    }

    async fn run(mut self, mut input: mpsc::UnboundedReceiver<Input>) {
        let _ = self.recognize(&mut input).await;
    }

    async fn recognize(&mut self, input: &mut mpsc::UnboundedReceiver<Input>) -> Result<(), Stop> {
        let mut socket: Option<WebSocket> = None;
        let mut settings_open = true;
        loop {
            if socket.is_none() {
                match self.connect().await {
                    Ok(connected) => socket = Some(connected),
                    Err(error) => {
                        self.failed(error).await?;
                        continue;
                    }
                }
            }
            let Some(open) = socket.as_mut() else { continue };
            let deadline = self.deadline();
            let result = tokio::select! {
                message = input.recv(), if self.ended_at.is_none() => {
                    self.on_input(open, message).await
                }
                changed = self.settings.changed(), if settings_open => match changed {
                    Ok(()) => self.send_update(open).await,
                    // The STT was dropped: nothing more will change.
                    Err(_) => {
                        settings_open = false;
                        Ok(Flow::Continue)
                    }
                },
                received = open.next() => self.on_received(open, received).await,
                () = sleep_until(deadline) => {
                    // The transcripts are in (or will not come): a normal end.
                    let _ = send(open, &SttClientMessage::Close).await;
                    let _ = open.close(None).await;
                    return Ok(());
                }
            };
            match result {
                Ok(Flow::Continue) => {}
                Ok(Flow::End) => return Ok(()),
                Err(error) => {
                    socket = None;
                    self.failed(error).await?;
                }
            }
        }
    }

    /// When the stream gives up waiting for transcripts, once the input ended.
    fn deadline(&self) -> Option<Instant> {
        let ended = self.ended_at?;
        Some(match self.settled_at {
            Some(last) => last + INACTIVITY_TIMEOUT,
            None => ended + FINALIZATION_TIMEOUT,
        })
    }

    /// Opens a connection: `session.create`, then the audio kept, then a finalize if one is
    /// owed (one stands for them all: it asks for the transcripts of all the audio sent).
    ///
    /// Past the end of the input, the new connection owes the transcripts of the audio
    /// resent: it gets a finalize and a fresh finalization timeout, whatever the old
    /// connection had settled.
    async fn connect(&mut self) -> Result<WebSocket, SttError> {
        let settings = self.settings.borrow_and_update().clone();
        let mut socket = self
            .gateway
            .connect("stt", settings.model.as_deref(), self.conn_options.timeout)
            .await
            .map_err(SttError::from)?;
        let create = SttClientMessage::SessionCreate {
            settings: SttSessionSettings {
                sample_rate: self.rate.to_string(),
                encoding: "pcm_s16le".into(),
                extra: settings.extra(),
                language: self.language.clone().or(settings.language.clone()),
            },
            model: settings.model.clone(),
            fallback: (!settings.fallback.is_empty())
                .then(|| Fallback { models: settings.fallback.clone() }),
            connection: ConnectionSettings::new(
                self.conn_options.timeout,
                self.conn_options.max_retry,
            ),
        };
        send(&mut socket, &create).await?;
        self.connection_start = self.replay_start;
        if !self.replay.is_empty() {
            tracing::debug!(
                seconds = self.replay.len() as f64 / f64::from(self.rate),
                "resending the audio not yet transcribed"
            );
            let kept: Vec<i16> = self.replay.iter().copied().collect();
            for chunk in kept.chunks(self.chunk_samples) {
                send_audio(&mut socket, chunk).await?;
            }
        }
        if self.ended_at.is_some() {
            self.ended_at = Some(Instant::now());
            self.settled_at = None;
            self.finalizes = 1;
        }
        self.finalizes = self.finalizes.min(1);
        if self.finalizes > 0 {
            send(&mut socket, &SttClientMessage::Finalize).await?;
        }
        Ok(socket)
    }

    async fn on_input(
        &mut self,
        socket: &mut WebSocket,
        message: Option<Input>,
    ) -> Result<Flow, SttError> {
        match message {
            Some(Input::Item(frame)) => {
                self.resample(&frame);
                while self.partial.len() >= self.chunk_samples {
                    let rest = self.partial.split_off(self.chunk_samples);
                    let chunk = std::mem::replace(&mut self.partial, rest);
                    self.keep(&chunk);
                    send_audio(socket, &chunk).await?;
                }
            }
            Some(Input::Flush) => {
                // Owed before any await: if a send fails, the reconnection resends the audio
                // (kept in the replay buffer first) and the finalize.
                self.finalizes += 1;
                self.send_partial(socket).await?;
                send(socket, &SttClientMessage::Finalize).await?;
            }
            Some(Input::End) | None => {
                if let Some(resampler) = self.resampler.as_mut() {
                    let mut tail = Vec::new();
                    resampler.flush(&mut tail);
                    self.partial.extend(tail.iter().map(|&sample| to_i16(sample)));
                }
                // The end is recorded before any await: the input is consumed, so a failed
                // send must still leave the stream finalizing (after a reconnection) and
                // under its deadline.
                self.ended_at = Some(Instant::now());
                self.finalizes += 1;
                self.send_partial(socket).await?;
                send(socket, &SttClientMessage::Finalize).await?;
            }
        }
        Ok(Flow::Continue)
    }

    /// Sends the samples waiting to fill a message.
    async fn send_partial(&mut self, socket: &mut WebSocket) -> Result<(), SttError> {
        if self.partial.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.partial);
        self.keep(&chunk);
        send_audio(socket, &chunk).await
    }

    /// Keeps sent audio for a reconnection, within [`MAX_REPLAY`].
    fn keep(&mut self, chunk: &[i16]) {
        self.unreported += chunk.len() as u64;
        self.replay.extend(chunk);
        let max = (MAX_REPLAY.as_secs_f64() * f64::from(self.rate)) as usize;
        if self.replay.len() > max {
            let excess = self.replay.len() - max;
            self.replay.drain(..excess);
            self.replay_start += excess as u64;
        }
    }

    /// Appends the frame, mono, at the stream's rate, to the samples waiting to be sent.
    fn resample(&mut self, frame: &AudioFrame) {
        let mono = frame.to_mono();
        let input_rate = mono.sample_rate();
        if input_rate == self.rate && self.resampler.is_none() {
            self.partial.extend_from_slice(mono.data());
            return;
        }
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        if self.resampler.as_ref().is_some_and(|r| r.input_rate() != input_rate) {
            // The input rate changed: end the old resampler's output first.
            if let Some(mut old) = self.resampler.take() {
                old.flush(&mut out);
            }
        }
        if input_rate != self.rate && self.resampler.is_none() {
            match Resampler::new(input_rate, self.rate) {
                Ok(resampler) => self.resampler = Some(resampler),
                Err(error) => {
                    // Sent at the wrong rate it would be transcribed as noise: dropped.
                    if !self.resample_warned {
                        self.resample_warned = true;
                        tracing::warn!(%error, "audio at this sample rate is dropped");
                    }
                    self.partial.extend(out.iter().map(|&sample| to_i16(sample)));
                    self.scratch = out;
                    return;
                }
            }
        }
        match self.resampler.as_mut() {
            Some(resampler) => resampler.process_i16(mono.data(), &mut out),
            None => out.extend(mono.data().iter().map(|&sample| f32::from(sample))),
        }
        self.partial.extend(out.iter().map(|&sample| to_i16(sample)));
        self.scratch = out;
    }

    async fn send_update(&mut self, socket: &mut WebSocket) -> Result<Flow, SttError> {
        let settings = self.settings.borrow_and_update().clone();
        let update = SttClientMessage::Update {
            settings: SttUpdateSettings {
                model: settings.model.clone(),
                language: self.language.clone().or(settings.language.clone()),
                extra: Some(settings.extra()),
            },
        };
        send(socket, &update).await?;
        Ok(Flow::Continue)
    }

    async fn on_received(
        &mut self,
        socket: &mut WebSocket,
        received: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Result<Flow, SttError> {
        let text = match received {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                if self.ended_at.is_some() {
                    return Ok(Flow::End);
                }
                let reason =
                    frame.map(|f| format!(" ({} {})", f.code, f.reason)).unwrap_or_default();
                return Err(SttError::connection(format!(
                    "the gateway closed the connection{reason}"
                )));
            }
            Some(Ok(Message::Binary(_))) => {
                return Err(SttError::bad_response("a binary frame where JSON text was expected"));
            }
            Some(Ok(_)) => return Ok(Flow::Continue),
            Some(Err(error)) => {
                return Err(SttError::connection("the connection broke").with_source(error));
            }
            None => return Err(SttError::connection("the connection closed")),
        };
        let message = parse_stt_message(&text).map_err(|error| {
            SttError::bad_response("the gateway sent a message this client cannot read")
                .with_source(error)
        })?;
        if matches!(
            message,
            SttServerMessage::InterimTranscript(_)
                | SttServerMessage::PreflightTranscript(_)
                | SttServerMessage::FinalTranscript(_)
                | SttServerMessage::StartOfSpeech
                | SttServerMessage::SessionFinalized
        ) {
            // The connection works: a later failure gets the full retries again.
            self.attempts = 0;
        }
        match message {
            SttServerMessage::StartOfSpeech => gone!(self.start_of_speech()),
            SttServerMessage::InterimTranscript(transcript) => {
                if !transcript.transcript.trim().is_empty() {
                    gone!(self.start_of_speech());
                    let event = self.event(SpeechEventKind::InterimTranscript, &transcript);
                    gone!(self.emit(event));
                }
            }
            SttServerMessage::PreflightTranscript(transcript) => {
                if !transcript.transcript.trim().is_empty() {
                    gone!(self.start_of_speech());
                    let event = self.event(SpeechEventKind::PreflightTranscript, &transcript);
                    gone!(self.emit(event));
                }
            }
            SttServerMessage::FinalTranscript(transcript) => gone!(self.on_final(&transcript)),
            SttServerMessage::SessionFinalized => {
                self.finalizes = self.finalizes.saturating_sub(1);
                // Past the end of the input, the acknowledgment starts the inactivity timeout:
                // finals may still follow it, but a silent provider does not hold the stream
                // for the whole finalization timeout.
                if self.ended_at.is_some() && self.finalizes == 0 {
                    self.settled_at = Some(Instant::now());
                }
            }
            SttServerMessage::SessionClosed => {
                if self.ended_at.is_some() {
                    let _ = socket.close(None).await;
                    return Ok(Flow::End);
                }
                return Err(SttError::connection(
                    "the gateway closed the session before the end of the input",
                ));
            }
            SttServerMessage::Error(error) => {
                return Err(match error.status() {
                    Some(status) => SttError::status(status, error.describe()),
                    None => SttError::connection(format!(
                        "the gateway reported an error: {}",
                        error.describe()
                    )),
                });
            }
            SttServerMessage::SessionCreated | SttServerMessage::Unknown => {}
        }
        Ok(Flow::Continue)
    }

    async fn on_final(&mut self, transcript: &Transcript) -> Result<(), Stop> {
        let rate = f64::from(self.rate);
        let sent = self.replay_start + self.replay.len() as u64;
        // The stream samples the transcript covers up to (never past the audio sent, whatever
        // the provider says); all sent so far if it does not say. No final is dropped as a
        // repeat: a reconnection resends only the audio no final covered, so a provider's
        // finals never cover the same audio twice.
        let end = match (transcript.start, transcript.duration) {
            (Some(start), Some(duration)) => {
                // A float-to-integer cast saturates (and NaN gives 0): no overflow here.
                let samples = ((start + duration).max(0.0) * rate).round() as u64;
                self.connection_start.saturating_add(samples).min(sent)
            }
            _ => sent,
        };
        // The audio it covers needs no resending.
        let covered = end.saturating_sub(self.replay_start).min(self.replay.len() as u64);
        self.replay.drain(..covered as usize);
        self.replay_start += covered;
        if self.replay.is_empty() {
            // All the audio sent is transcribed: no finalize is owed any more.
            self.finalizes = 0;
        }

        let audio = Duration::from_secs_f64(self.unreported as f64 / rate);
        self.unreported = 0;
        let usage = SpeechEvent::recognition_usage(audio)
            .with_request_id(transcript.request_id.clone().unwrap_or_default());
        self.emit(usage).await?;
        if !transcript.transcript.trim().is_empty() {
            self.start_of_speech().await?;
            let event = self.event(SpeechEventKind::FinalTranscript, transcript);
            self.emit(event).await?;
        }
        if self.ended_at.is_some() {
            self.settled_at = Some(Instant::now());
        }
        if self.speaking {
            self.speaking = false;
            self.emit(SpeechEvent::new(SpeechEventKind::EndOfSpeech)).await?;
        }
        Ok(())
    }

    async fn start_of_speech(&mut self) -> Result<(), Stop> {
        if !self.speaking {
            self.speaking = true;
            self.emit(SpeechEvent::new(SpeechEventKind::StartOfSpeech)).await?;
        }
        Ok(())
    }

    /// A transcript event, its times counted from the start of the stream.
    fn event(&self, kind: SpeechEventKind, transcript: &Transcript) -> SpeechEvent {
        let offset = self.connection_start as f64 / f64::from(self.rate);
        let start = transcript.start.unwrap_or(0.0);
        let end = start + transcript.duration.unwrap_or(0.0);
        let language = transcript
            .language
            .clone()
            .or_else(|| self.language.clone())
            .or_else(|| self.settings.borrow().language.clone())
            .unwrap_or_default();
        let mut data = SpeechData::new(transcript.transcript.trim())
            .with_language(language)
            .with_confidence(transcript.confidence.unwrap_or(0.0) as f32)
            .with_times(offset + start, offset + end);
        data.speaker_id = transcript.speaker_id.clone();
        data.words = transcript
            .words
            .iter()
            .map(|word| {
                let mut timed =
                    TimedString::new(word.word.clone(), offset + word.start, offset + word.end);
                timed.confidence = word.confidence.map(|c| c as f32);
                timed
            })
            .collect();
        SpeechEvent::new(kind)
            .with_alternative(data)
            .with_request_id(transcript.request_id.clone().unwrap_or_default())
    }

    async fn emit(&mut self, event: SpeechEvent) -> Result<(), Stop> {
        self.output.send(Ok(event)).await.map_err(|_| Stop::Done)
    }

    /// A failed connection: reconnects after the retry interval while retries are left and
    /// the error is retryable, else ends the stream with it.
    async fn failed(&mut self, error: SttError) -> Result<(), Stop> {
        if error.retryable() && self.attempts < self.conn_options.max_retry {
            self.attempts += 1;
            tracing::warn!(
                error = %crate::http::error_chain(&error),
                attempt = self.attempts,
                "the STT connection failed; reconnecting"
            );
            tokio::time::sleep(self.conn_options.retry_interval).await;
            return Ok(());
        }
        let _ = self.output.send(Err(error)).await;
        Err(Stop::Done)
    }
}

/// Awaits an output; the reader is gone when it fails: the stream ends.
macro_rules! gone {
    ($output:expr) => {
        if $output.await.is_err() {
            return Ok(Flow::End);
        }
    };
}
use gone;

/// What the loop does next.
enum Flow {
    Continue,
    End,
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn to_i16(sample: f32) -> i16 {
    sample.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

/// Sends an `input_audio` message. Written by hand: base64 needs no JSON escaping, and this
/// runs 20 times a second per stream.
async fn send_audio(socket: &mut WebSocket, samples: &[i16]) -> Result<(), SttError> {
    const HEAD: &str = r#"{"type":"input_audio","audio":""#;
    let mut bytes = Vec::with_capacity(samples.len() * 2);
    for sample in samples {
        bytes.extend_from_slice(&sample.to_le_bytes());
    }
    let mut text = String::with_capacity(HEAD.len() + bytes.len() * 4 / 3 + 8);
    text.push_str(HEAD);
    base64::engine::general_purpose::STANDARD.encode_string(&bytes, &mut text);
    text.push_str("\"}");
    socket
        .send(Message::text(text))
        .await
        .map_err(|error| SttError::connection("cannot send").with_source(error))
}

async fn send(socket: &mut WebSocket, message: &SttClientMessage) -> Result<(), SttError> {
    let text = serde_json::to_string(message)
        .map_err(|error| SttError::configuration("cannot encode a message").with_source(error))?;
    socket
        .send(Message::text(text))
        .await
        .map_err(|error| SttError::connection("cannot send").with_source(error))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keyterms_go_under_the_providers_key() {
        let terms = vec!["LiveKit".to_owned()];
        assert_eq!(keyterm_entry(Some("deepgram/nova-3"), &terms).map(|e| e.0), Some("keyterm"));
        assert_eq!(
            keyterm_entry(Some("assemblyai/universal-streaming"), &terms).map(|e| e.0),
            Some("keyterms_prompt")
        );
        assert_eq!(
            keyterm_entry(Some("speechmatics/enhanced"), &terms).map(|e| e.1),
            Some(serde_json::json!([{"content": "LiveKit"}]))
        );
        assert_eq!(
            keyterm_entry(Some("openai/gpt-live-transcribe"), &terms).map(|e| e.0),
            Some("keywords")
        );
        assert_eq!(keyterm_entry(None, &terms), None);
    }

    #[test]
    fn openai_models_take_24_khz() {
        let settings = |model: &str| Settings {
            model: SttModelString::parse(model).model,
            language: None,
            extra: Map::new(),
            keyterms: Vec::new(),
            fallback: Vec::new(),
        };
        assert_eq!(settings("openai/gpt-live-transcribe").sample_rate(), 24_000);
        assert_eq!(settings("deepgram/nova-3").sample_rate(), 16_000);
        assert_eq!(settings("auto").sample_rate(), 16_000);
    }

    fn recognizer() -> (Recognizer, mpsc::Receiver<Output>) {
        recognizer_with(None)
    }

    /// A recognizer whose gateway is at `base_url` (the default gateway when `None`).
    fn recognizer_with(base_url: Option<String>) -> (Recognizer, mpsc::Receiver<Output>) {
        let gateway = GatewaySettings {
            base_url,
            api_key: Some("key".into()),
            api_secret: Some("secret".into()),
            ..GatewaySettings::default()
        }
        .resolve(|_| None, &Setters { api_key: "k", api_secret: "s" })
        .expect("a gateway");
        let settings = watch::Sender::new(SttBuilder::new("deepgram/nova-3").settings);
        let (tx, rx) = mpsc::channel(16);
        (Recognizer::new(gateway, settings.subscribe(), None, ApiConnectOptions::default(), tx), rx)
    }

    #[test]
    fn the_timeouts_run_once_the_input_ended() {
        let (mut recognizer, _rx) = recognizer();
        assert_eq!(recognizer.deadline(), None);
        let ended = Instant::now();
        recognizer.ended_at = Some(ended);
        assert_eq!(recognizer.deadline(), Some(ended + FINALIZATION_TIMEOUT));
        let settled = ended + Duration::from_secs(1);
        recognizer.settled_at = Some(settled);
        assert_eq!(recognizer.deadline(), Some(settled + INACTIVITY_TIMEOUT));
    }

    #[test]
    fn the_replay_buffer_keeps_the_last_ten_seconds() {
        let (mut recognizer, _rx) = recognizer();
        let second = vec![1i16; 16_000];
        for _ in 0..12 {
            recognizer.keep(&second);
        }
        assert_eq!(recognizer.replay.len(), 160_000);
        assert_eq!(recognizer.replay_start, 32_000);
        assert_eq!(recognizer.unreported, 192_000);
    }

    /// Drains the events of a dropped recognizer: its final transcripts' texts.
    async fn finals(mut rx: mpsc::Receiver<Output>) -> Vec<String> {
        let mut finals = Vec::new();
        while let Some(event) = rx.recv().await {
            let event = event.unwrap();
            if event.kind == SpeechEventKind::FinalTranscript {
                finals.push(event.alternatives[0].text.clone());
            }
        }
        finals
    }

    fn timed(text: &str, start: f64, duration: f64) -> Transcript {
        Transcript {
            transcript: text.into(),
            start: Some(start),
            duration: Some(duration),
            ..Transcript::default()
        }
    }

    #[tokio::test]
    async fn a_final_acknowledges_the_audio_it_covers() {
        let (mut recognizer, rx) = recognizer();
        recognizer.keep(&vec![0i16; 32_000]);
        assert!(recognizer.on_final(&timed("hello", 0.0, 1.5)).await.is_ok());
        assert_eq!(recognizer.replay_start, 24_000);
        assert_eq!(recognizer.replay.len(), 8_000);
        drop(recognizer);
        assert_eq!(finals(rx).await, ["hello"]);
    }

    #[tokio::test]
    async fn a_huge_provider_time_neither_overflows_nor_hides_later_finals() {
        let (mut recognizer, rx) = recognizer();
        recognizer.keep(&vec![0i16; 32_000]);
        // After a reconnection from 1 s, a bogus end past everything.
        recognizer.replay.drain(..16_000);
        recognizer.replay_start = 16_000;
        recognizer.connection_start = 16_000;
        assert!(recognizer.on_final(&timed("bogus", 1e300, 1e300)).await.is_ok());
        // Clamped to the audio sent.
        assert_eq!(recognizer.replay_start, 32_000);
        assert!(recognizer.replay.is_empty());
        recognizer.keep(&vec![0i16; 16_000]);
        assert!(recognizer.on_final(&timed("later", 1.0, 0.5)).await.is_ok());
        assert!(recognizer.on_final(&timed("nan", f64::NAN, 1.0)).await.is_ok());
        drop(recognizer);
        assert_eq!(finals(rx).await, ["bogus", "later", "nan"]);
    }

    #[tokio::test]
    async fn an_untimed_final_does_not_hide_the_timed_ones_after_it() {
        let (mut recognizer, rx) = recognizer();
        recognizer.keep(&vec![0i16; 16_000]);
        let untimed = Transcript { transcript: "one".into(), ..Transcript::default() };
        assert!(recognizer.on_final(&untimed).await.is_ok());
        recognizer.keep(&vec![0i16; 16_000]);
        // Timed from the connection's start, ending before the untimed one's end.
        assert!(recognizer.on_final(&timed("two", 0.2, 0.5)).await.is_ok());
        // A provider restarting its timestamps (after `session.update`).
        assert!(recognizer.on_final(&timed("three", 0.0, 0.4)).await.is_ok());
        drop(recognizer);
        assert_eq!(finals(rx).await, ["one", "two", "three"]);
    }

    #[tokio::test]
    async fn finalizes_owed_are_cleared_once_a_final_covers_all_audio_sent() {
        let (mut recognizer, _rx) = recognizer();
        recognizer.keep(&vec![0i16; 16_000]);
        recognizer.finalizes = 3;
        assert!(recognizer.on_final(&timed("part", 0.0, 0.5)).await.is_ok());
        assert_eq!(recognizer.finalizes, 3, "audio is left untranscribed");
        assert!(recognizer.on_final(&timed("all", 0.5, 0.5)).await.is_ok());
        assert_eq!(recognizer.finalizes, 0);
    }

    /// A client WebSocket to a loopback server, closed by the client: every send fails.
    async fn broken_socket() -> WebSocket {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
            while socket.next().await.is_some_and(|m| m.is_ok()) {}
        });
        let tcp: Box<dyn super::super::gateway::Io> =
            Box::new(tokio::net::TcpStream::connect(address).await.unwrap());
        let (mut socket, _) =
            tokio_tungstenite::client_async(format!("ws://{address}/"), tcp).await.unwrap();
        socket.close(None).await.unwrap();
        server.abort();
        socket
    }

    #[tokio::test]
    async fn an_end_whose_send_fails_still_finalizes_after_the_reconnection() {
        let (mut recognizer, _rx) = recognizer();
        let mut socket = broken_socket().await;
        recognizer.partial = vec![0i16; 100];
        let result = recognizer.on_input(&mut socket, Some(Input::End)).await;
        assert!(result.is_err(), "the send fails");
        assert!(recognizer.ended_at.is_some(), "the end is recorded: the deadline runs");
        assert_eq!(recognizer.finalizes, 1, "the reconnection owes a finalize");
        assert_eq!(recognizer.replay.len(), 100, "the tail is kept for the reconnection");
    }

    #[tokio::test]
    async fn a_flush_whose_send_fails_still_owes_its_finalize() {
        let (mut recognizer, _rx) = recognizer();
        let mut socket = broken_socket().await;
        recognizer.partial = vec![0i16; 100];
        assert!(recognizer.on_input(&mut socket, Some(Input::Flush)).await.is_err());
        assert_eq!(recognizer.finalizes, 1);
        assert_eq!(recognizer.replay.len(), 100);
    }

    /// A recognizer whose gateway is `fake`.
    fn recognizer_at(
        fake: &agents_test_support::FakeGateway,
    ) -> (Recognizer, mpsc::Receiver<Output>) {
        recognizer_with(Some(fake.base_url()))
    }

    #[tokio::test]
    async fn a_reconnection_after_the_end_finalizes_the_replay_afresh() {
        let fake = agents_test_support::FakeGateway::start("key", "secret").await.unwrap();
        // (A) a final had settled the old connection, long ago; (B) its `session.finalized`
        // had cleared the finalizes owed: the replay still needs its transcript.
        for settled in [true, false] {
            let (mut recognizer, _rx) = recognizer_at(&fake);
            recognizer.keep(&vec![0i16; 8_000]);
            let ended = Instant::now() - Duration::from_secs(60);
            recognizer.ended_at = Some(ended);
            recognizer.settled_at = settled.then(|| ended + Duration::from_secs(1));
            recognizer.finalizes = 0;
            let _socket = recognizer.connect().await.unwrap();
            assert_eq!(recognizer.settled_at, None);
            assert_eq!(recognizer.finalizes, 1);
            let deadline = recognizer.deadline().unwrap();
            assert!(deadline > Instant::now() + FINALIZATION_TIMEOUT - Duration::from_secs(5));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let connections = fake.accepted("/v1/stt");
        assert_eq!(connections.len(), 2);
        for connection in connections {
            assert_eq!(connection.messages_of("session.finalize").len(), 1);
        }
    }

    #[tokio::test]
    async fn a_reconnection_resends_one_finalize_for_many_flushes() {
        let fake = agents_test_support::FakeGateway::start("key", "secret").await.unwrap();
        let (mut recognizer, _rx) = recognizer_at(&fake);
        recognizer.keep(&vec![0i16; 8_000]);
        recognizer.finalizes = 4;
        let _socket = recognizer.connect().await.unwrap();
        assert_eq!(recognizer.finalizes, 1);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let connections = fake.accepted("/v1/stt");
        assert_eq!(connections[0].messages_of("session.finalize").len(), 1);
    }

    #[test]
    fn float_samples_round_and_clamp() {
        assert_eq!(to_i16(1.6), 2);
        assert_eq!(to_i16(-40_000.0), i16::MIN);
        assert_eq!(to_i16(40_000.0), i16::MAX);
    }
}
