//! Text-to-speech: the [`Tts`] and [`SynthesizeStream`] traits, their audio and errors, and
//! the [`StreamAdapter`] that streams with a non-streaming TTS (Python's `tts` module).
//!
//! * [`Tts::synthesize`] speaks one text, returning a [`ChunkedStream`] of audio.
//! * [`Tts::stream`] speaks text pushed piece by piece as an LLM produces it (streaming TTSs,
//!   e.g. LiveKit Inference); [`StreamAdapter`] gives any TTS such a stream by synthesizing
//!   sentence by sentence.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

use crate::types::ApiConnectOptions;

mod adapter;
mod audio;
mod error;

pub use crate::types::TimedString;
pub use adapter::{StreamAdapter, StreamAdapterStream};
pub use audio::{ChunkedStream, SynthesizedAudio};
pub use error::TtsError;

/// What a [`Tts`] can do (Python's `TTSCapabilities`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TtsCapabilities {
    /// [`Tts::stream`] works; otherwise use [`StreamAdapter`].
    pub streaming: bool,
    /// Audio carries word timings ([`SynthesizedAudio::timed_transcript`]).
    pub aligned_transcript: bool,
}

impl TtsCapabilities {
    /// Capabilities with the given flags.
    pub fn new(streaming: bool, aligned_transcript: bool) -> Self {
        Self { streaming, aligned_transcript }
    }
}

/// Options of one synthesis or stream.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct TtsOptions {
    /// Retries and timeouts; `None` leaves them to the TTS (its own setting, else
    /// [`ApiConnectOptions::default`]). As for LLMs, a request is retried only while no audio
    /// has been received from it.
    pub conn_options: Option<ApiConnectOptions>,
}

impl TtsOptions {
    /// Sets the connection options.
    pub fn with_conn_options(mut self, conn_options: ApiConnectOptions) -> Self {
        self.conn_options = Some(conn_options);
        self
    }
}

/// A text-to-speech model (Python's `tts.TTS`).
///
/// Object-safe: sessions hold an `Arc<dyn Tts>`. Every TTS implements
/// [`synthesize`](Self::synthesize); streaming ones implement [`stream`](Self::stream) too,
/// which otherwise fails with a [`Configuration`](crate::ApiErrorKind::Configuration) error.
pub trait Tts: Send + Sync + 'static {
    /// The model name, e.g. `cartesia/sonic-3`.
    fn model(&self) -> &str {
        "unknown"
    }

    /// The provider, e.g. `livekit` or `openai`.
    fn provider(&self) -> &str {
        "unknown"
    }

    /// What the TTS can do.
    fn capabilities(&self) -> TtsCapabilities;

    /// The sample rate of the audio it produces.
    fn sample_rate(&self) -> u32;

    /// The channel count of the audio it produces.
    fn num_channels(&self) -> u16;

    /// Speaks `text`; the request runs as the returned stream is polled.
    fn synthesize(&self, text: &str, options: &TtsOptions) -> ChunkedStream;

    /// A new stream: push text in, read audio out.
    fn stream(&self, options: &TtsOptions) -> Box<dyn SynthesizeStream> {
        let _ = options;
        Box::new(FailedSynthesizeStream(Some(TtsError::configuration(format!(
            "the TTS `{}` of `{}` does not stream; wrap it in `tts::StreamAdapter`",
            self.model(),
            self.provider()
        )))))
    }
}

/// One stream of text through a [`Tts`] (Python's `SynthesizeStream`): push text in, read
/// audio out. The stream ends after [`end_input`](Self::end_input) once the pushed text is
/// spoken, or after an error.
pub trait SynthesizeStream:
    Stream<Item = Result<SynthesizedAudio, TtsError>> + Send + Unpin
{
    /// Adds text (a delta: it continues the text pushed before).
    fn push_text(&mut self, text: &str);

    /// Ends the current segment: the text pushed so far is spoken in full, and the text
    /// pushed next starts a new segment.
    fn flush(&mut self);

    /// No more text: the stream ends once the pushed text is spoken.
    fn end_input(&mut self);
}

/// A stream that yields one error and ends.
#[derive(Debug)]
struct FailedSynthesizeStream(Option<TtsError>);

impl Stream for FailedSynthesizeStream {
    type Item = Result<SynthesizedAudio, TtsError>;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.take().map(Err))
    }
}

impl SynthesizeStream for FailedSynthesizeStream {
    fn push_text(&mut self, _: &str) {}
    fn flush(&mut self) {}
    fn end_input(&mut self) {}
}
