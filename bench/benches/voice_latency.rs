//! Latency the voice pipeline adds: from the STT's final transcript to the agent's first audio
//! frame out, with instant fakes (an STT that answers at once, an LLM whose answer is ready, a
//! TTS that returns one frame per sentence, and an output that records when frames arrive).
//! Everything else is the framework: end of turn, the reply queue, the request context, the
//! LLM step, the sentence tokenizer, the TTS adapter, the capture.
//!
//! `cargo bench -p agents-bench --bench voice_latency` prints p50/p99/max over 300 turns.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use agents_core::audio::AudioFrame;
use agents_core::llm::{ChatChunk, ChatContext, ChatOptions, FunctionTool, Llm, LlmStream};
use agents_core::prelude::*;
use agents_core::stt::{
    SpeechData, SpeechEvent, SpeechEventKind, Stt, SttCapabilities, SttError, SttOptions, SttStream,
};
use agents_core::tts::{ChunkedStream, SynthesizedAudio, Tts, TtsCapabilities, TtsOptions};
use agents_core::voice::{AudioOutput, PlaybackFinished};
use futures::Stream;
use tokio::sync::mpsc;
use tokio::time::Instant;

const TURNS: usize = 300;

/// When the STT emitted its last final transcript, and when the output got its first frame.
#[derive(Default)]
struct Clock {
    final_at: Option<Instant>,
    first_frame_at: Option<Instant>,
}

struct InstantLlm;

impl Llm for InstantLlm {
    fn model(&self) -> &str {
        "instant"
    }
    fn provider(&self) -> &str {
        "bench"
    }
    fn chat(&self, _: &ChatContext, _: &[FunctionTool], _: &ChatOptions) -> LlmStream {
        LlmStream::new(futures::stream::iter([Ok(ChatChunk::Text("Sure, here it is.".to_owned()))]))
    }
}

/// A streaming STT: a frame whose first sample is 1 starts speech; 2 gives the final
/// transcript and ends speech at once.
struct InstantStt {
    clock: Arc<Mutex<Clock>>,
}

struct InstantSttStream {
    clock: Arc<Mutex<Clock>>,
    pending: std::collections::VecDeque<SpeechEvent>,
    waker: Option<std::task::Waker>,
    ended: bool,
}

impl Stream for InstantSttStream {
    type Item = Result<SpeechEvent, SttError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(event) = self.pending.pop_front() {
            if event.kind == SpeechEventKind::FinalTranscript {
                self.clock.lock().unwrap().final_at = Some(Instant::now());
            }
            return Poll::Ready(Some(Ok(event)));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl SttStream for InstantSttStream {
    fn push_frame(&mut self, frame: &AudioFrame) {
        match frame.data().first() {
            Some(1) => self.pending.push_back(SpeechEvent::new(SpeechEventKind::StartOfSpeech)),
            Some(2) => {
                self.pending.push_back(
                    SpeechEvent::new(SpeechEventKind::FinalTranscript)
                        .with_alternative(SpeechData::new("What time is it?")),
                );
                self.pending.push_back(SpeechEvent::new(SpeechEventKind::EndOfSpeech));
            }
            _ => return,
        }
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
    fn flush(&mut self) {}
    fn end_input(&mut self) {
        self.ended = true;
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

#[async_trait]
impl Stt for InstantStt {
    fn model(&self) -> &str {
        "instant"
    }
    fn provider(&self) -> &str {
        "bench"
    }
    fn capabilities(&self) -> SttCapabilities {
        SttCapabilities::new(true, false)
    }
    async fn recognize(&self, _: &[AudioFrame], _: &SttOptions) -> Result<SpeechEvent, SttError> {
        Ok(SpeechEvent::new(SpeechEventKind::FinalTranscript))
    }
    fn stream(&self, _: &SttOptions) -> Box<dyn SttStream> {
        Box::new(InstantSttStream {
            clock: self.clock.clone(),
            pending: Default::default(),
            waker: None,
            ended: false,
        })
    }
}

/// A non-streaming TTS: one 10 ms frame per sentence.
struct InstantTts;

impl Tts for InstantTts {
    fn model(&self) -> &str {
        "instant"
    }
    fn provider(&self) -> &str {
        "bench"
    }
    fn capabilities(&self) -> TtsCapabilities {
        TtsCapabilities::new(false, false)
    }
    fn sample_rate(&self) -> u32 {
        24_000
    }
    fn num_channels(&self) -> u16 {
        1
    }
    fn synthesize(&self, text: &str, _: &TtsOptions) -> ChunkedStream {
        let frame = AudioFrame::new(vec![100; 240], 24_000, 1).unwrap();
        ChunkedStream::new(text, futures::stream::iter([Ok(SynthesizedAudio::new(frame))]))
    }
}

/// Records the first frame of each turn; plays instantly.
struct RecordingOutput {
    clock: Arc<Mutex<Clock>>,
}

#[async_trait]
impl AudioOutput for RecordingOutput {
    async fn capture_frame(&self, _frame: AudioFrame) {
        let mut clock = self.clock.lock().unwrap();
        clock.first_frame_at.get_or_insert_with(Instant::now);
    }
    fn flush(&self) {}
    fn clear_buffer(&self) {}
    async fn wait_for_playout(&self) -> PlaybackFinished {
        PlaybackFinished::new(Duration::from_millis(10), false)
    }
}

fn marker(value: i16) -> AudioFrame {
    AudioFrame::new(vec![value; 160], 16_000, 1).unwrap()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let clock = Arc::new(Mutex::new(Clock::default()));
        let session = AgentSession::builder()
            .llm(InstantLlm)
            .stt(Arc::new(InstantStt { clock: clock.clone() }))
            .tts(Arc::new(InstantTts))
            .min_endpointing_delay(Duration::ZERO)
            .build();
        let (frames, receiver) = mpsc::unbounded_channel::<AudioFrame>();
        let audio = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|frame| (frame, receiver))
        });
        let output = Arc::new(RecordingOutput { clock: clock.clone() });
        session.start(Agent::new("Be brief.")).audio_input(audio).audio_output(output).await.unwrap();
        session.wait_for_idle().await;

        let mut latencies = Vec::with_capacity(TURNS);
        for turn in 0..TURNS + 20 {
            *clock.lock().unwrap() = Clock::default();
            frames.send(marker(1)).unwrap();
            frames.send(marker(2)).unwrap();
            // Wait for the reply to be played out.
            loop {
                tokio::task::yield_now().await;
                let done = clock.lock().unwrap().first_frame_at.is_some();
                if done {
                    break;
                }
            }
            session.wait_for_idle().await;
            let clock = clock.lock().unwrap();
            if turn >= 20 {
                latencies.push(clock.first_frame_at.unwrap() - clock.final_at.unwrap());
            }
        }
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        println!("# voice_latency: final transcript → first TTS frame out, {TURNS} turns (after 20 warm-up)");
        println!();
        println!("| p50 | p90 | p99 | max |");
        println!("|---|---|---|---|");
        println!(
            "| {:.1} µs | {:.1} µs | {:.1} µs | {:.1} µs |",
            at(0.5).as_secs_f64() * 1e6,
            at(0.9).as_secs_f64() * 1e6,
            at(0.99).as_secs_f64() * 1e6,
            latencies[latencies.len() - 1].as_secs_f64() * 1e6
        );
        drop(frames);
        session.close().await;
    });
}
