//! LiveKit Inference STT and TTS clients against `FakeGateway` on loopback.
//!
//! The fake runs on a thread of its own; the client (its streams' tasks included) runs on a
//! current-thread runtime on the main thread, whose CPU time is the client's cost.
//!
//! * TTS: time from `synthesize` to the first audio frame (pooled connection, one sentence),
//!   and client CPU per second of audio received.
//! * STT: client CPU per second of audio pushed (48 kHz, resampled to 16 kHz; and 16 kHz,
//!   sent as it is: base64, JSON, WebSocket), and the time from pushing the audio that completes an utterance to its final
//!   transcript event.
//!
//! * The whole voice turn with all three fakes answering at once (`inference::Stt` and
//!   `inference::Tts` against `FakeGateway`, `openai::Llm` against `FakeOpenAi`, no VAD: the
//!   STT's end of speech ends the turn, `min_endpointing_delay` 0): from pushing the audio
//!   frame that completes the utterance to the first agent audio frame out.
//!
//! `cargo bench -p agents-bench --bench inference_speech`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use agents_bench::measure::{Summary, micros, thread_cpu};
use agents_core::audio::AudioFrame;
use agents_core::llm::ApiConnectOptions;
use agents_core::prelude::*;
use agents_core::stt::{SpeechEventKind, Stt as _, SttOptions};
use agents_core::tts::{Tts as _, TtsOptions};
use agents_core::voice::{AudioOutput, PlaybackFinished};
use agents_inference::inference;
use agents_inference::openai;
use agents_test_support::{FakeGateway, FakeOpenAi, FakeResponse, SttPlan, Utterance};
use futures::StreamExt;
use tokio::time::Instant;

const KEY: &str = "APIbench";
const SECRET: &str = "bench-secret-bench-secret";
const SYNTHESES: usize = 300;
const UTTERANCES: usize = 100;
const UTTERANCE: Duration = Duration::from_millis(500);
const CPU_SECONDS: usize = 60;

const TURNS: usize = 200;

/// Starts a fake gateway and a fake LLM on a thread of their own (they live until the process
/// ends).
fn fakes() -> (Arc<FakeGateway>, Arc<FakeOpenAi>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let fake = Arc::new(FakeGateway::start(KEY, SECRET).await.unwrap());
            let llm = Arc::new(
                FakeOpenAi::with_handler(|_| FakeResponse::text("Sure, here it is."))
                    .await
                    .unwrap(),
            );
            tx.send((fake.clone(), llm.clone())).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

/// Records when the first frame of a reply arrives; plays instantly.
struct RecordingOutput {
    first_frame_at: std::sync::Mutex<Option<Instant>>,
    arrived: tokio::sync::Notify,
}

#[async_trait]
impl AudioOutput for RecordingOutput {
    async fn capture_frame(&self, _frame: AudioFrame) {
        let mut first = self.first_frame_at.lock().unwrap();
        if first.is_none() {
            *first = Some(Instant::now());
            self.arrived.notify_one();
        }
    }
    fn flush(&self) {}
    fn clear_buffer(&self) {}
    async fn wait_for_playout(&self) -> PlaybackFinished {
        PlaybackFinished::new(Duration::from_millis(10), false)
    }
}

async fn voice_turn_bench(fake: &FakeGateway, llm: &FakeOpenAi) {
    let warmup = 20;
    fake.script_stt(SttPlan::new(
        (1..=TURNS + warmup).map(|i| Utterance::after(UTTERANCE * i as u32, "What time is it?")),
    ));
    let tts = inference::Tts::builder("cartesia/sonic-3:voice")
        .base_url(fake.base_url())
        .api_key(KEY)
        .api_secret(SECRET)
        .conn_options(conn())
        .build()
        .unwrap();
    let llm = openai::Llm::builder("gpt-bench")
        .base_url(llm.base_url())
        .api_key("sk-bench")
        .build()
        .unwrap();
    let session = AgentSession::builder()
        .stt(Arc::new(stt(fake)))
        .llm(llm)
        .tts(Arc::new(tts))
        .min_endpointing_delay(Duration::ZERO)
        .build();
    let (frames_tx, receiver) = tokio::sync::mpsc::unbounded_channel::<AudioFrame>();
    let audio = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|frame| (frame, receiver))
    });
    let output = Arc::new(RecordingOutput {
        first_frame_at: std::sync::Mutex::new(None),
        arrived: tokio::sync::Notify::new(),
    });
    session
        .start(Agent::new("Be brief."))
        .audio_input(audio)
        .audio_output(output.clone())
        .await
        .unwrap();
    session.wait_for_idle().await;
    let chunk = frames(UTTERANCE.as_secs_f64(), 16_000);
    let mut latencies = Vec::with_capacity(TURNS);
    for turn in 0..TURNS + warmup {
        *output.first_frame_at.lock().unwrap() = None;
        let (last, rest) = chunk.split_last().unwrap();
        for frame in rest {
            frames_tx.send(frame.clone()).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        let started = Instant::now();
        frames_tx.send(last.clone()).unwrap();
        output.arrived.notified().await;
        let first = output.first_frame_at.lock().unwrap().unwrap();
        session.wait_for_idle().await;
        if turn >= warmup {
            latencies.push(first - started);
        }
    }
    let summary = Summary::of(&latencies);
    println!(
        "Voice turn, last audio → first agent frame (all fakes on loopback): p50 {} p99 {} max {} over {TURNS}",
        micros(summary.p50),
        micros(summary.p99),
        micros(summary.max)
    );
    drop(frames_tx);
    session.close().await;
}

fn frames(seconds: f64, rate: u32) -> Vec<AudioFrame> {
    let per_frame = (rate / 100) as usize;
    (0..(seconds * 100.0).round() as usize)
        .map(|f| {
            let samples = (0..per_frame)
                .map(|i| {
                    let t = (f * per_frame + i) as f64 / f64::from(rate);
                    ((t * 220.0 * std::f64::consts::TAU).sin() * 6000.0) as i16
                })
                .collect();
            AudioFrame::new(samples, rate, 1).unwrap()
        })
        .collect()
}

fn conn() -> ApiConnectOptions {
    ApiConnectOptions::new(0, Duration::from_millis(10), Duration::from_secs(5))
}

async fn tts_bench(fake: &FakeGateway) {
    let tts = inference::Tts::builder("cartesia/sonic-3:voice")
        .base_url(fake.base_url())
        .api_key(KEY)
        .api_secret(SECRET)
        .conn_options(conn())
        .build()
        .unwrap();
    for _ in 0..20 {
        tts.synthesize("Hello there, how are you?", &TtsOptions::default())
            .collect_frame()
            .await
            .unwrap();
    }
    let mut ttfb = Vec::with_capacity(SYNTHESES);
    let mut audio = Duration::ZERO;
    let cpu = thread_cpu();
    for _ in 0..SYNTHESES {
        let started = Instant::now();
        let mut stream = tts.synthesize("Hello there, how are you?", &TtsOptions::default());
        let first = stream.next().await.unwrap().unwrap();
        ttfb.push(started.elapsed());
        audio += first.frame.duration();
        while let Some(frame) = stream.next().await {
            audio += frame.unwrap().frame.duration();
        }
    }
    let cpu = thread_cpu() - cpu;
    let summary = Summary::of(&ttfb);
    println!(
        "TTS time to first audio (loopback, pooled): p50 {} p99 {} max {} over {SYNTHESES}",
        micros(summary.p50),
        micros(summary.p99),
        micros(summary.max)
    );
    println!(
        "TTS client CPU per second of audio: {} ({:.1} s of audio)",
        micros(cpu.div_f64(audio.as_secs_f64())),
        audio.as_secs_f64()
    );
    println!("TTS connections opened: {}", fake.accepted("/v1/tts").len());
}

fn stt(fake: &FakeGateway) -> inference::Stt {
    inference::Stt::builder("deepgram/nova-3")
        .base_url(fake.base_url())
        .api_key(KEY)
        .api_secret(SECRET)
        .conn_options(conn())
        .build()
        .unwrap()
}

async fn stt_cpu_bench(fake: &FakeGateway, rate: u32) {
    let audio = frames(CPU_SECONDS as f64, rate);
    fake.script_stt(SttPlan::new([Utterance::after(
        Duration::from_secs(CPU_SECONDS as u64) - Duration::from_millis(200),
        "the end",
    )]));
    let stt = stt(fake);
    let mut stream = stt.stream(&SttOptions::default());
    let cpu = thread_cpu();
    for frame in &audio {
        stream.push_frame(frame);
    }
    loop {
        let event = stream.next().await.unwrap().unwrap();
        if event.kind == SpeechEventKind::FinalTranscript {
            break;
        }
    }
    let cpu = thread_cpu() - cpu;
    println!(
        "STT client CPU per second of {} kHz audio sent: {} ({CPU_SECONDS} s)",
        rate / 1000,
        micros(cpu / CPU_SECONDS as u32)
    );
}

async fn stt_latency_bench(fake: &FakeGateway) {
    fake.script_stt(SttPlan::new(
        (1..=UTTERANCES).map(|i| Utterance::after(UTTERANCE * i as u32, format!("utterance {i}"))),
    ));
    let stt = stt(fake);
    let mut stream = stt.stream(&SttOptions::default());
    let chunk = frames(UTTERANCE.as_secs_f64(), 16_000);
    let mut latencies = Vec::with_capacity(UTTERANCES);
    for _ in 0..UTTERANCES {
        let (last, rest) = chunk.split_last().unwrap();
        for frame in rest {
            stream.push_frame(frame);
        }
        // Let the client send what it has, then time the frame completing the utterance.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let started = Instant::now();
        stream.push_frame(last);
        loop {
            let event = stream.next().await.unwrap().unwrap();
            if event.kind == SpeechEventKind::FinalTranscript {
                latencies.push(started.elapsed());
                break;
            }
        }
    }
    let summary = Summary::of(&latencies);
    println!(
        "STT last audio → final transcript (loopback): p50 {} p99 {} max {} over {UTTERANCES}",
        micros(summary.p50),
        micros(summary.p99),
        micros(summary.max)
    );
}

fn main() {
    let (fake, llm) = fakes();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        tts_bench(&fake).await;
        stt_cpu_bench(&fake, 48_000).await;
        stt_cpu_bench(&fake, 16_000).await;
        stt_latency_bench(&fake).await;
        voice_turn_bench(&fake, &llm).await;
    });
    assert_eq!(fake.violations(), Vec::<String>::new());
}
