//! [`StreamAdapter`]: streaming with an STT that only transcribes whole utterances.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::{FutureExt, Stream};

use super::{
    RecognitionUsage, SpeechEvent, SpeechEventKind, Stt, SttCapabilities, SttError, SttOptions,
    SttStream,
};
use crate::audio::AudioFrame;
use crate::vad::{Vad, VadEventKind, VadStream};

/// A streaming [`Stt`] made of a non-streaming one and a [`Vad`] (Python's
/// `stt.StreamAdapter`).
///
/// Its streams push the audio through a VAD stream. When the VAD detects speech they send
/// [`SpeechEventKind::StartOfSpeech`]; when the speech ends they transcribe the utterance
/// with [`Stt::recognize`] and send [`SpeechEventKind::FinalTranscript`] (unless nothing was
/// recognized), a [`SpeechEventKind::RecognitionUsage`] with the utterance's duration and the
/// request's ([`RecognitionUsage::request`]), then [`SpeechEventKind::EndOfSpeech`].
/// Utterances are transcribed one at a time, in order; a failed recognition ends the stream
/// with its error.
///
/// ```no_run
/// # fn example(whisper: std::sync::Arc<dyn agents_core::stt::Stt>, silero: std::sync::Arc<dyn agents_core::vad::Vad>) {
/// use agents_core::stt::{StreamAdapter, Stt, SttOptions};
///
/// let stt = StreamAdapter::new(whisper, silero);
/// assert!(stt.capabilities().streaming);
/// let mut stream = stt.stream(&SttOptions::default());
/// # }
/// ```
#[derive(Clone)]
pub struct StreamAdapter {
    stt: Arc<dyn Stt>,
    vad: Arc<dyn Vad>,
}

impl std::fmt::Debug for StreamAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamAdapter")
            .field("model", &self.stt.model())
            .field("provider", &self.stt.provider())
            .finish_non_exhaustive()
    }
}

impl StreamAdapter {
    /// Streams with `stt`, cutting the audio into utterances with `vad`.
    pub fn new(stt: Arc<dyn Stt>, vad: Arc<dyn Vad>) -> Self {
        Self { stt, vad }
    }

    /// The wrapped STT.
    pub fn wrapped(&self) -> &Arc<dyn Stt> {
        &self.stt
    }
}

#[async_trait::async_trait]
impl Stt for StreamAdapter {
    fn model(&self) -> &str {
        self.stt.model()
    }

    fn provider(&self) -> &str {
        self.stt.provider()
    }

    fn capabilities(&self) -> SttCapabilities {
        SttCapabilities { streaming: true, interim_results: false, ..self.stt.capabilities() }
    }

    async fn recognize(
        &self,
        frames: &[AudioFrame],
        options: &SttOptions,
    ) -> Result<SpeechEvent, SttError> {
        self.stt.recognize(frames, options).await
    }

    fn stream(&self, options: &SttOptions) -> Box<dyn SttStream> {
        Box::new(StreamAdapterStream {
            stt: self.stt.clone(),
            options: options.clone(),
            vad: self.vad.stream(),
            recognizing: None,
            queued: VecDeque::new(),
            done: false,
        })
    }
}

/// A stream of a [`StreamAdapter`] (Python's `StreamAdapterWrapper`).
pub struct StreamAdapterStream {
    stt: Arc<dyn Stt>,
    options: SttOptions,
    vad: Box<dyn VadStream>,
    /// The recognition of the last utterance, while it runs: its result and its usage.
    recognizing: Option<BoxFuture<'static, (Result<SpeechEvent, SttError>, RecognitionUsage)>>,
    /// Events ready to be returned.
    queued: VecDeque<SpeechEvent>,
    /// The VAD stream ended, or a recognition failed.
    done: bool,
}

impl std::fmt::Debug for StreamAdapterStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamAdapterStream")
            .field("recognizing", &self.recognizing.is_some())
            .field("queued", &self.queued)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl StreamAdapterStream {
    /// Starts transcribing an utterance.
    fn recognize(&mut self, frames: Vec<AudioFrame>) {
        let stt = self.stt.clone();
        let options = self.options.clone();
        let audio: Duration = frames.iter().map(AudioFrame::duration).sum();
        let request = async move {
            let started = Instant::now();
            let result = stt.recognize(&frames, &options).await;
            (result, RecognitionUsage::request(audio, started.elapsed()))
        };
        self.recognizing = Some(request.boxed());
    }

    /// Queues the events of a finished recognition: its transcript, its usage (the
    /// utterance's duration and the request's), and the end of speech.
    fn recognized(&mut self, result: SpeechEvent, usage: RecognitionUsage) {
        let request_id = result.request_id;
        if let Some(best) = result.alternatives.into_iter().next()
            && !best.text.is_empty()
        {
            self.queued.push_back(
                SpeechEvent::new(SpeechEventKind::FinalTranscript)
                    .with_alternative(best)
                    .with_request_id(request_id.clone()),
            );
        }
        self.queued.push_back(SpeechEvent::usage(usage).with_request_id(request_id));
        self.queued.push_back(SpeechEvent::new(SpeechEventKind::EndOfSpeech));
    }
}

impl Stream for StreamAdapterStream {
    type Item = Result<SpeechEvent, SttError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(event) = this.queued.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            if let Some(recognizing) = this.recognizing.as_mut() {
                let (result, usage) = match recognizing.poll_unpin(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(done) => done,
                };
                this.recognizing = None;
                match result {
                    Ok(event) => this.recognized(event, usage),
                    Err(error) => {
                        this.done = true;
                        return Poll::Ready(Some(Err(error)));
                    }
                }
                continue;
            }
            if this.done {
                return Poll::Ready(None);
            }
            let event = match Pin::new(&mut this.vad).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.done = true;
                    continue;
                }
                Poll::Ready(Some(event)) => event,
            };
            match event.kind {
                VadEventKind::StartOfSpeech => {
                    this.queued.push_back(SpeechEvent::new(SpeechEventKind::StartOfSpeech));
                }
                VadEventKind::EndOfSpeech if event.frames.is_empty() => {
                    this.queued.push_back(SpeechEvent::new(SpeechEventKind::EndOfSpeech));
                }
                VadEventKind::EndOfSpeech => this.recognize(event.frames),
                _ => {}
            }
        }
    }
}

impl SttStream for StreamAdapterStream {
    fn push_frame(&mut self, frame: &AudioFrame) {
        self.vad.push_frame(frame);
    }

    fn flush(&mut self) {
        self.vad.flush();
    }

    fn end_input(&mut self) {
        self.vad.end_input();
    }
}
