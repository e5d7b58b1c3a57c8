//! [`StreamAdapter`]: streaming with a TTS that only speaks whole texts, sentence by sentence.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::{Stream, StreamExt};

use super::{
    ChunkedStream, SynthesizeStream, SynthesizedAudio, Tts, TtsCapabilities, TtsError, TtsOptions,
};
use crate::tokenize::{SentenceStream, SentenceTokenizer};

/// A streaming [`Tts`] made of a non-streaming one and a [`SentenceTokenizer`] (Python's
/// `tts.StreamAdapter`).
///
/// Its streams cut the pushed text into sentences as they complete and speak them one after
/// the other with [`Tts::synthesize`], so speech starts after the first sentence rather than
/// the whole reply. Each frame carries the segment id of its segment (the text between two
/// flushes); the first frame of a sentence carries the sentence as
/// [`delta_text`](SynthesizedAudio::delta_text), and the last frame of a segment is
/// [`is_final`](SynthesizedAudio::is_final). Word timings are shifted to count from the start
/// of the segment. A failed synthesis ends the stream with its error.
///
/// ```no_run
/// # fn example(openai_tts: std::sync::Arc<dyn agents_core::tts::Tts>) {
/// use agents_core::tokenize::SentenceTokenizer;
/// use agents_core::tts::{StreamAdapter, SynthesizeStream, Tts, TtsOptions};
///
/// let tts = StreamAdapter::new(openai_tts, SentenceTokenizer::new());
/// let mut stream = tts.stream(&TtsOptions::default());
/// stream.push_text("Hello! How can I help you today?");
/// stream.end_input();
/// # }
/// ```
#[derive(Clone)]
pub struct StreamAdapter {
    tts: Arc<dyn Tts>,
    tokenizer: SentenceTokenizer,
}

impl std::fmt::Debug for StreamAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamAdapter")
            .field("model", &self.tts.model())
            .field("provider", &self.tts.provider())
            .field("tokenizer", &self.tokenizer)
            .finish()
    }
}

impl StreamAdapter {
    /// Streams with `tts`, cutting the text into sentences with `tokenizer`.
    pub fn new(tts: Arc<dyn Tts>, tokenizer: SentenceTokenizer) -> Self {
        Self { tts, tokenizer }
    }

    /// The wrapped TTS.
    pub fn wrapped(&self) -> &Arc<dyn Tts> {
        &self.tts
    }
}

impl Tts for StreamAdapter {
    fn model(&self) -> &str {
        self.tts.model()
    }

    fn provider(&self) -> &str {
        self.tts.provider()
    }

    fn capabilities(&self) -> TtsCapabilities {
        TtsCapabilities { streaming: true, ..self.tts.capabilities() }
    }

    fn sample_rate(&self) -> u32 {
        self.tts.sample_rate()
    }

    fn num_channels(&self) -> u16 {
        self.tts.num_channels()
    }

    fn synthesize(&self, text: &str, options: &TtsOptions) -> ChunkedStream {
        self.tts.synthesize(text, options)
    }

    fn stream(&self, options: &TtsOptions) -> Box<dyn SynthesizeStream> {
        Box::new(StreamAdapterStream {
            tts: self.tts.clone(),
            options: options.clone(),
            sentences: self.tokenizer.stream(),
            segment_id: crate::llm::new_id("SEG"),
            queue: VecDeque::new(),
            current: None,
            held: None,
            segment_elapsed: 0.0,
            ready: VecDeque::new(),
            input_ended: false,
            done: false,
            waker: None,
        })
    }
}

/// Work queued by the pushing side.
#[derive(Debug)]
enum Queued {
    /// A sentence to speak, in a segment.
    Sentence { text: String, segment_id: String },
    /// The end of a segment.
    SegmentEnd,
}

/// The synthesis of one sentence, while it runs.
struct Current {
    stream: ChunkedStream,
    segment_id: String,
    /// The sentence, until its first frame carries it.
    delta_text: String,
    /// Seconds of the segment spoken before this sentence.
    offset: f64,
}

/// A stream of a [`StreamAdapter`] (Python's `StreamAdapterWrapper`).
pub struct StreamAdapterStream {
    tts: Arc<dyn Tts>,
    options: TtsOptions,
    sentences: SentenceStream,
    /// The segment the text pushed now belongs to.
    segment_id: String,
    queue: VecDeque<Queued>,
    current: Option<Current>,
    /// The last frame of the segment so far, held back until it is known whether it is final.
    held: Option<SynthesizedAudio>,
    /// Seconds of audio of the current segment so far.
    segment_elapsed: f64,
    /// Frames ready to be returned.
    ready: VecDeque<SynthesizedAudio>,
    input_ended: bool,
    /// The input ended and everything was spoken, or a synthesis failed.
    done: bool,
    /// The task waiting for text.
    waker: Option<Waker>,
}

impl std::fmt::Debug for StreamAdapterStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamAdapterStream")
            .field("segment_id", &self.segment_id)
            .field("queue", &self.queue)
            .field("input_ended", &self.input_ended)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl StreamAdapterStream {
    fn queue_sentences(&mut self, sentences: Vec<String>) {
        for text in sentences {
            self.queue.push_back(Queued::Sentence { text, segment_id: self.segment_id.clone() });
        }
    }

    fn end_segment(&mut self) {
        let rest = self.sentences.flush();
        self.queue_sentences(rest);
        self.queue.push_back(Queued::SegmentEnd);
        self.segment_id = crate::llm::new_id("SEG");
        self.wake();
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// Releases the held frame as the last of its segment.
    fn finish_segment(&mut self) {
        if let Some(mut last) = self.held.take() {
            last.is_final = true;
            self.ready.push_back(last);
        }
        self.segment_elapsed = 0.0;
    }
}

impl Stream for StreamAdapterStream {
    type Item = Result<SynthesizedAudio, TtsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(audio) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(audio)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(current) = this.current.as_mut() {
                match current.stream.poll_next_unpin(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(mut audio))) => {
                        audio.segment_id.clone_from(&current.segment_id);
                        audio.is_final = false;
                        if !current.delta_text.is_empty() {
                            audio.delta_text = std::mem::take(&mut current.delta_text);
                        }
                        for word in &mut audio.timed_transcript {
                            word.start_time += current.offset;
                            word.end_time += current.offset;
                        }
                        this.segment_elapsed += audio.frame.duration().as_secs_f64();
                        if let Some(previous) = this.held.replace(audio) {
                            this.ready.push_back(previous);
                        }
                    }
                    Poll::Ready(Some(Err(error))) => {
                        this.done = true;
                        this.current = None;
                        return Poll::Ready(Some(Err(error)));
                    }
                    Poll::Ready(None) => this.current = None,
                }
                continue;
            }
            match this.queue.pop_front() {
                Some(Queued::Sentence { text, segment_id }) => {
                    this.current = Some(Current {
                        stream: this.tts.synthesize(&text, &this.options),
                        segment_id,
                        delta_text: text,
                        offset: this.segment_elapsed,
                    });
                }
                Some(Queued::SegmentEnd) => this.finish_segment(),
                None if this.input_ended => {
                    this.finish_segment();
                    // `ready` is drained before `done` ends the stream.
                    this.done = true;
                }
                None => {
                    this.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }
}

impl SynthesizeStream for StreamAdapterStream {
    fn push_text(&mut self, text: &str) {
        if self.input_ended {
            tracing::warn!("text pushed to a TTS stream after `end_input` is ignored");
            return;
        }
        let sentences = self.sentences.push(text);
        if !sentences.is_empty() {
            self.queue_sentences(sentences);
            self.wake();
        }
    }

    fn flush(&mut self) {
        if !self.input_ended {
            self.end_segment();
        }
    }

    fn end_input(&mut self) {
        if !self.input_ended {
            self.end_segment();
            self.input_ended = true;
        }
    }
}
