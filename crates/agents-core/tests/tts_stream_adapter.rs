//! `tts::StreamAdapter`: a non-streaming TTS made to stream, sentence by sentence.
//!
//! The TTS is a test double defined here: it "speaks" a text as two frames of one sample per
//! character, with one timed word per frame.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake};

use agents_core::ApiErrorKind;
use agents_core::audio::AudioFrame;
use agents_core::tokenize::SentenceTokenizer;
use agents_core::tts::{
    ChunkedStream, StreamAdapter, SynthesizedAudio, TimedString, Tts, TtsCapabilities, TtsError,
    TtsOptions,
};
use futures::StreamExt;

#[derive(Default)]
struct LengthTts {
    texts: Mutex<Vec<String>>,
}

impl Tts for LengthTts {
    fn capabilities(&self) -> TtsCapabilities {
        TtsCapabilities::new(false, true)
    }

    fn sample_rate(&self) -> u32 {
        1_000
    }

    fn num_channels(&self) -> u16 {
        1
    }

    fn synthesize(&self, text: &str, _: &TtsOptions) -> ChunkedStream {
        self.texts.lock().unwrap().push(text.to_owned());
        if text.contains("fail") {
            return ChunkedStream::failed(text, TtsError::connection("reset"));
        }
        let n = text.chars().count();
        let frames = (0..2).map(move |i| {
            let start = (i * n) as f64 / 1_000.0;
            let mut audio = SynthesizedAudio::new(AudioFrame::silence(1_000, 1, n).unwrap())
                .with_request_id(format!("req-{n}"));
            audio.timed_transcript = vec![TimedString::new("w", start, start + n as f64 / 1_000.0)];
            Ok(audio)
        });
        ChunkedStream::new(text, futures::stream::iter(frames.collect::<Vec<_>>()))
    }
}

#[tokio::test]
async fn speaks_sentence_by_sentence_in_segments() {
    let tts = Arc::new(LengthTts::default());
    let adapter = StreamAdapter::new(tts.clone(), SentenceTokenizer::new());
    assert!(adapter.capabilities().streaming && adapter.capabilities().aligned_transcript);
    assert_eq!(adapter.sample_rate(), 1_000);

    let mut stream = adapter.stream(&TtsOptions::default());
    for piece in
        ["Hello there, this is the first", " sentence. And here is the ", "second one! Bye"]
    {
        stream.push_text(piece);
    }
    stream.flush();
    stream.push_text("Another segment here.");
    stream.end_input();
    let audio: Vec<SynthesizedAudio> = stream.map(Result::unwrap).collect().await;

    assert_eq!(
        *tts.texts.lock().unwrap(),
        [
            "Hello there, this is the first sentence.",
            "And here is the second one!",
            "Bye",
            "Another segment here."
        ]
    );
    assert_eq!(audio.len(), 8);
    let deltas: Vec<&str> = audio.iter().map(|a| a.delta_text.as_str()).collect();
    assert_eq!(
        deltas,
        [
            "Hello there, this is the first sentence.",
            "",
            "And here is the second one!",
            "",
            "Bye",
            "",
            "Another segment here.",
            ""
        ]
    );
    let finals: Vec<bool> = audio.iter().map(|a| a.is_final).collect();
    assert_eq!(finals, [false, false, false, false, false, true, false, true]);
    assert!(audio[..6].iter().all(|a| a.segment_id == audio[0].segment_id));
    assert_ne!(audio[6].segment_id, audio[0].segment_id);
    assert_eq!(audio[6].segment_id, audio[7].segment_id);
    assert_eq!(audio[2].request_id, "req-27");

    // Word timings count from the start of the segment: the second sentence starts after the
    // 2 × 40 samples (80 ms) of the first; the next segment starts again at zero.
    assert!((audio[2].timed_transcript[0].start_time - 0.080).abs() < 1e-9);
    assert!((audio[3].timed_transcript[0].start_time - 0.107).abs() < 1e-9);
    assert!(audio[6].timed_transcript[0].start_time.abs() < 1e-9);
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn waits_for_text_and_wakes_when_it_arrives() {
    let adapter = StreamAdapter::new(Arc::new(LengthTts::default()), SentenceTokenizer::new());
    let mut stream = adapter.stream(&TtsOptions::default());
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Arc::clone(&flag).into();
    let mut cx = Context::from_waker(&waker);
    assert!(stream.poll_next_unpin(&mut cx).is_pending());
    stream.push_text("Not a whole sentence yet");
    assert!(!flag.0.load(Ordering::SeqCst));
    stream.flush();
    assert!(flag.0.load(Ordering::SeqCst));
    let Poll::Ready(Some(Ok(audio))) = stream.poll_next_unpin(&mut cx) else { panic!("no audio") };
    assert_eq!(audio.delta_text, "Not a whole sentence yet");
}

#[tokio::test]
async fn a_failed_synthesis_ends_the_stream_with_its_error() {
    let tts = Arc::new(LengthTts::default());
    let adapter = StreamAdapter::new(tts.clone(), SentenceTokenizer::new());
    let mut stream = adapter.stream(&TtsOptions::default());
    stream.push_text("This sentence will fail to speak. This one is never spoken at all.");
    stream.end_input();
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 1);
    assert!(matches!(&items[0], Err(error) if error.retryable()));
    assert_eq!(tts.texts.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_plain_tts_says_to_use_the_adapter() {
    let mut stream = LengthTts::default().stream(&TtsOptions::default());
    let error = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(error.kind(), ApiErrorKind::Configuration { .. }));
    assert!(error.to_string().contains("StreamAdapter"), "{error}");
    assert!(stream.next().await.is_none());
}
