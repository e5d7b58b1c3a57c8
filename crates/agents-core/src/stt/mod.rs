//! Speech-to-text: the [`Stt`] and [`SttStream`] traits, their events and errors, and the
//! [`StreamAdapter`] that streams with a non-streaming STT (Python's `stt` module).
//!
//! * A streaming STT (e.g. LiveKit Inference) implements [`Stt::stream`]: audio frames in,
//!   [`SpeechEvent`]s out.
//! * A non-streaming STT (e.g. Whisper over HTTP) implements [`Stt::recognize`] on a whole
//!   utterance; [`StreamAdapter`] turns it into a streaming one with a VAD cutting the audio
//!   into utterances.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

use crate::audio::AudioFrame;
use crate::types::ApiConnectOptions;

mod adapter;
mod error;
mod event;

pub use crate::types::TimedString;
pub use adapter::{StreamAdapter, StreamAdapterStream};
pub use error::SttError;
pub use event::{RecognitionUsage, SpeechData, SpeechEvent, SpeechEventKind};

/// What an [`Stt`] can do (Python's `STTCapabilities`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SttCapabilities {
    /// [`Stt::stream`] works; otherwise use [`StreamAdapter`].
    pub streaming: bool,
    /// Streams send [`SpeechEventKind::InterimTranscript`]s.
    pub interim_results: bool,
    /// Transcripts carry word timings ([`SpeechData::words`]).
    pub aligned_transcript: bool,
    /// Transcripts tell speakers apart ([`SpeechData::speaker_id`]).
    pub diarization: bool,
}

impl SttCapabilities {
    /// Capabilities with `streaming` and `interim_results` set, the rest off.
    pub fn new(streaming: bool, interim_results: bool) -> Self {
        Self { streaming, interim_results, ..Self::default() }
    }
}

/// Options of one recognition or stream.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct SttOptions {
    /// The language to recognize (e.g. `en`); `None` leaves it to the STT's own setting.
    pub language: Option<String>,
    /// Retries and timeouts; `None` leaves them to the STT (its own setting, else
    /// [`ApiConnectOptions::default`]). As for LLMs, a request is retried only while nothing
    /// has been received from it.
    pub conn_options: Option<ApiConnectOptions>,
}

impl SttOptions {
    /// Sets the language.
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Sets the connection options.
    pub fn with_conn_options(mut self, conn_options: ApiConnectOptions) -> Self {
        self.conn_options = Some(conn_options);
        self
    }
}

/// A speech-to-text model (Python's `stt.STT`).
///
/// Object-safe: sessions hold an `Arc<dyn Stt>`. Implement [`recognize`](Self::recognize)
/// for an STT that transcribes whole utterances, [`stream`](Self::stream) for one that
/// transcribes as audio arrives, or both; the one not implemented fails with
/// a [`Configuration`](crate::ApiErrorKind::Configuration) error.
#[async_trait::async_trait]
pub trait Stt: Send + Sync + 'static {
    /// The model name, e.g. `deepgram/nova-3`.
    fn model(&self) -> &str {
        "unknown"
    }

    /// The provider, e.g. `livekit` or `openai`.
    fn provider(&self) -> &str {
        "unknown"
    }

    /// What the STT can do.
    fn capabilities(&self) -> SttCapabilities;

    /// Transcribes `frames`, one utterance, into a [`SpeechEventKind::FinalTranscript`] event.
    async fn recognize(
        &self,
        frames: &[AudioFrame],
        options: &SttOptions,
    ) -> Result<SpeechEvent, SttError> {
        let _ = (frames, options);
        Err(SttError::configuration(format!(
            "the STT `{}` of `{}` only streams; use `Stt::stream` instead of `recognize`",
            self.model(),
            self.provider()
        )))
    }

    /// A new stream: push audio in, read [`SpeechEvent`]s out.
    fn stream(&self, options: &SttOptions) -> Box<dyn SttStream> {
        let _ = options;
        Box::new(FailedSttStream(Some(SttError::configuration(format!(
            "the STT `{}` of `{}` does not stream; wrap it in `stt::StreamAdapter` with a VAD",
            self.model(),
            self.provider()
        )))))
    }
}

/// One stream of audio through an [`Stt`] (Python's `RecognizeStream`): push frames in, read
/// events out. The stream ends after [`end_input`](Self::end_input) once the pushed audio is
/// transcribed, or after an error.
pub trait SttStream: Stream<Item = Result<SpeechEvent, SttError>> + Send + Unpin {
    /// Adds audio (mono, at the rate the STT expects or one it resamples from).
    fn push_frame(&mut self, frame: &AudioFrame);

    /// Marks the end of a segment: the STT should finalize what it has heard so far.
    fn flush(&mut self);

    /// No more audio: the stream ends once the pushed audio is transcribed.
    fn end_input(&mut self);
}

/// A stream that yields one error and ends.
#[derive(Debug)]
struct FailedSttStream(Option<SttError>);

impl Stream for FailedSttStream {
    type Item = Result<SpeechEvent, SttError>;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.take().map(Err))
    }
}

impl SttStream for FailedSttStream {
    fn push_frame(&mut self, _: &AudioFrame) {}
    fn flush(&mut self) {}
    fn end_input(&mut self) {}
}
