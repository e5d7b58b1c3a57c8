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
//! `cargo bench -p agents-bench --bench inference_speech`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use agents_bench::measure::{Summary, micros, thread_cpu};
use agents_core::audio::AudioFrame;
use agents_core::llm::ApiConnectOptions;
use agents_core::stt::{SpeechEventKind, Stt as _, SttOptions};
use agents_core::tts::{Tts as _, TtsOptions};
use agents_inference::inference;
use agents_test_support::{FakeGateway, SttPlan, Utterance};
use futures::StreamExt;
use tokio::time::Instant;

const KEY: &str = "APIbench";
const SECRET: &str = "bench-secret-bench-secret";
const SYNTHESES: usize = 300;
const UTTERANCES: usize = 100;
const UTTERANCE: Duration = Duration::from_millis(500);
const CPU_SECONDS: usize = 60;

/// Starts a fake gateway on its own thread and returns it (it lives until the process ends).
fn gateway() -> Arc<FakeGateway> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let fake = Arc::new(FakeGateway::start(KEY, SECRET).await.unwrap());
            tx.send(fake.clone()).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
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
    let fake = gateway();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        tts_bench(&fake).await;
        stt_cpu_bench(&fake, 48_000).await;
        stt_cpu_bench(&fake, 16_000).await;
        stt_latency_bench(&fake).await;
    });
    assert_eq!(fake.violations(), Vec::<String>::new());
}
