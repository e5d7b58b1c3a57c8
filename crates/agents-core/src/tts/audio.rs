//! What a text-to-speech stream produces: [`SynthesizedAudio`], with word timings as
//! [`TimedString`]s, and the [`ChunkedStream`] of one synthesis.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

use super::TtsError;
use crate::audio::AudioFrame;
use crate::types::TimedString;

/// A frame of synthesized speech (Python's `SynthesizedAudio`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SynthesizedAudio {
    /// The audio.
    pub frame: AudioFrame,
    /// The provider's request id; empty if none.
    pub request_id: String,
    /// The segment (the text between two flushes of a stream) this frame belongs to.
    pub segment_id: String,
    /// Whether this is the last frame of its segment.
    pub is_final: bool,
    /// Text this frame starts to speak (e.g. the sentence, on its first frame); empty if none.
    pub delta_text: String,
    /// Word timings, when the TTS gives them (aligned transcript): words of this frame's
    /// segment, each given once on any frame of it, with times counted from the start of the
    /// segment's audio. An interrupted reply keeps the words whose end played.
    pub timed_transcript: Vec<TimedString>,
}

impl SynthesizedAudio {
    /// `frame`, with empty ids and text, not final.
    pub fn new(frame: AudioFrame) -> Self {
        Self {
            frame,
            request_id: String::new(),
            segment_id: String::new(),
            is_final: false,
            delta_text: String::new(),
            timed_transcript: Vec::new(),
        }
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = request_id.into();
        self
    }

    /// Sets the segment id.
    pub fn with_segment_id(mut self, segment_id: impl Into<String>) -> Self {
        self.segment_id = segment_id.into();
        self
    }

    /// Marks the frame as the last of its segment.
    pub fn with_final(mut self, is_final: bool) -> Self {
        self.is_final = is_final;
        self
    }

    /// Sets the text this frame starts to speak.
    pub fn with_delta_text(mut self, delta_text: impl Into<String>) -> Self {
        self.delta_text = delta_text.into();
        self
    }

    /// Sets the word timings this frame carries.
    pub fn with_timed_transcript(mut self, words: impl IntoIterator<Item = TimedString>) -> Self {
        self.timed_transcript = words.into_iter().collect();
        self
    }
}

/// The audio of one [`Tts::synthesize`](super::Tts::synthesize) call (Python's
/// `ChunkedStream`): a `Stream` of [`SynthesizedAudio`].
///
/// ```
/// use agents_core::audio::AudioFrame;
/// use agents_core::tts::{ChunkedStream, SynthesizedAudio};
///
/// # futures::executor::block_on(async {
/// let frames = [AudioFrame::new(vec![1, 2], 24_000, 1)?, AudioFrame::new(vec![3], 24_000, 1)?];
/// let stream = ChunkedStream::new(
///     "Hi",
///     futures::stream::iter(frames.map(|frame| Ok(SynthesizedAudio::new(frame)))),
/// );
/// assert_eq!(stream.input_text(), "Hi");
/// let audio = stream.collect_frame().await?.map(|frame| frame.data().to_vec());
/// assert_eq!(audio, Some(vec![1, 2, 3]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct ChunkedStream {
    input_text: String,
    inner: BoxStream<'static, Result<SynthesizedAudio, TtsError>>,
}

impl ChunkedStream {
    /// The synthesis of `input_text`, producing `stream`.
    pub fn new(
        input_text: impl Into<String>,
        stream: impl Stream<Item = Result<SynthesizedAudio, TtsError>> + Send + 'static,
    ) -> Self {
        Self { input_text: input_text.into(), inner: Box::pin(stream) }
    }

    /// A synthesis that fails at once with `error`.
    pub fn failed(input_text: impl Into<String>, error: TtsError) -> Self {
        Self::new(input_text, futures::stream::once(async move { Err(error) }))
    }

    /// The text being synthesized.
    pub fn input_text(&self) -> &str {
        &self.input_text
    }

    /// All the audio joined in one frame (Python's `collect()`); `None` if there was none.
    pub async fn collect_frame(mut self) -> Result<Option<AudioFrame>, TtsError> {
        let mut frames = Vec::new();
        while let Some(audio) = self.inner.next().await {
            frames.push(audio?.frame);
        }
        AudioFrame::concat(&frames).map_err(|error| {
            TtsError::bad_response("the audio pieces cannot be joined").with_source(error)
        })
    }
}

impl fmt::Debug for ChunkedStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedStream")
            .field("input_text", &self.input_text)
            .finish_non_exhaustive()
    }
}

impl Stream for ChunkedStream {
    type Item = Result<SynthesizedAudio, TtsError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
