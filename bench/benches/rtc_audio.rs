//! Audio through liblivekit_ffi (agents-rtc): what an agent's voice costs on its way out to
//! a track, frame by frame through `AudioSource::capture_frame`.
//!
//! * `capture latency`: one frame through `AudioSource::capture_frame` while the source's
//!   queue has room — the request, the library's copy, and its `capture_audio_frame`
//!   callback routed back to the awaiting task: the latency added between a TTS frame and
//!   the library holding it. p50/p90/p99 per sample rate and frame length.
//! * `CPU per second of audio`: 5 s of mono audio per configuration (24 kHz and 48 kHz,
//!   10 ms and 20 ms frames), sent two ways:
//!   - `paced`: one frame per frame duration (a tokio interval), as a TTS streaming in real
//!     time delivers it: the queue stays nearly empty;
//!   - `back-pressure`: as fast as the source takes them (queue 1000 ms, as in Python): the
//!     first second goes at once, then each capture waits for room.
//!
//!   The process's CPU time (every thread, the library's included) over the run, plus the
//!   time the queue takes to play out after the last capture, minus the idle process's CPU
//!   rate over the same wall time, divided by the audio's length. The calling thread (a
//!   current-thread runtime: our side of the FFI — requests encoded, responses decoded, the
//!   futures woken, the pacing timer) is split from the rest (the library's threads: its
//!   async runtime, the callback thread that hands the responses over, the native source's
//!   10 ms playout task).
//!
//! The track is created but not published (no room): Opus encoding is not included; see
//! `room_latency` for the room. Needs the library (`cargo xtask setup`).
//!
//! `cargo bench -p agents-bench --bench rtc_audio` (about a minute).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use agents_bench::measure::{load_average, percentile, process_cpu, thread_cpu};
use agents_rtc::{AudioFrame, AudioSource, AudioSourceOptions, LocalAudioTrack};
use tokio::time::MissedTickBehavior;

/// The sample rates and frame lengths measured.
const CONFIGS: [(u32, u64); 4] = [(24_000, 10), (24_000, 20), (48_000, 10), (48_000, 20)];
/// Audio sent per CPU measurement.
const SECONDS: u64 = 5;

fn frames(rate: u32, frame_ms: u64, count: usize) -> Vec<AudioFrame> {
    let samples = (u64::from(rate) * frame_ms / 1000) as usize;
    (0..count)
        .map(|index| {
            let pcm = (0..samples)
                .map(|i| {
                    let t = (index * samples + i) as f64 / f64::from(rate);
                    (f64::sin(t * 440.0 * std::f64::consts::TAU) * 8000.0) as i16
                })
                .collect();
            AudioFrame::new(pcm, rate, 1)
        })
        .collect()
}

fn us(duration: Duration) -> String {
    format!("{:.1} µs", duration.as_secs_f64() * 1e6)
}

/// Capture latency with a queue far longer than the audio sent, so no capture waits.
async fn latency(rate: u32, frame_ms: u64) {
    let mut options = AudioSourceOptions::default();
    options.queue_size_ms = 600_000;
    let source = AudioSource::new(rate, 1, options).expect("source");
    let _track = LocalAudioTrack::create_audio_track("bench", &source).expect("track");
    let frames = frames(rate, frame_ms, 100);
    let mut samples = Vec::new();
    for round in 0..30 {
        for frame in &frames {
            let start = Instant::now();
            source.capture_frame(frame).await.expect("capture");
            if round >= 3 {
                samples.push(start.elapsed());
            }
        }
    }
    source.clear_queue().expect("clear");
    samples.sort_unstable();
    println!(
        "| {} kHz | {frame_ms} ms | {} | {} | {} | {} | {} | {} |",
        rate / 1000,
        samples.len(),
        us(samples[0]),
        us(percentile(&samples, 50.0)),
        us(percentile(&samples, 90.0)),
        us(percentile(&samples, 99.0)),
        us(samples[samples.len() - 1]),
    );
}

/// CPU per second of audio for one configuration; `idle_rate` is the idle process's CPU per
/// wall second.
async fn cpu(rate: u32, frame_ms: u64, paced: bool, idle_rate: f64) {
    let options = AudioSourceOptions::default();
    let queue = Duration::from_millis(u64::from(options.queue_size_ms));
    let source = AudioSource::new(rate, 1, options).expect("source");
    let _track = LocalAudioTrack::create_audio_track("bench", &source).expect("track");
    let frames = frames(rate, frame_ms, 50);
    let count = (SECONDS * 1000 / frame_ms) as usize;
    let mut pacer = tokio::time::interval(Duration::from_millis(frame_ms));
    pacer.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let (cpu_start, ours_start, wall_start) = (process_cpu(), thread_cpu(), Instant::now());
    for index in 0..count {
        if paced {
            pacer.tick().await;
        }
        source.capture_frame(&frames[index % frames.len()]).await.expect("capture");
    }
    let sent = wall_start.elapsed();
    // What is queued plays out before the clocks are read: its CPU belongs to this audio.
    tokio::time::sleep(if paced { Duration::from_millis(100) } else { queue }).await;
    let (cpu, ours, wall) =
        (process_cpu() - cpu_start, thread_cpu() - ours_start, wall_start.elapsed());
    let audio = SECONDS as f64;
    let total_ms = (cpu.as_secs_f64() - idle_rate * wall.as_secs_f64()) * 1e3 / audio;
    let ours_ms = ours.as_secs_f64() * 1e3 / audio;
    println!(
        "| {} kHz | {frame_ms} ms | {} | **{total_ms:.2} ms** | {ours_ms:.2} ms | {:.2} ms | {:.1} µs | {:.2} s | {:.2} s |",
        rate / 1000,
        if paced { "paced" } else { "back-pressure" },
        total_ms - ours_ms,
        ours.as_secs_f64() * 1e6 / count as f64,
        sent.as_secs_f64(),
        wall.as_secs_f64(),
    );
}

fn main() {
    let path = agents_rtc::library_path().expect("liblivekit_ffi.so: run `cargo xtask setup`");
    println!("library: {}", path.display());
    println!("load average (1 min) at start: {}", load_average());
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        println!();
        println!(
            "## TTS frame → `capture_audio_frame` callback (capture_frame awaited, queue not full)"
        );
        println!();
        println!("| rate | frame | frames | min | p50 | p90 | p99 | max |");
        println!("|---|---|---|---|---|---|---|---|");
        for (rate, frame_ms) in CONFIGS {
            latency(rate, frame_ms).await;
        }

        // The idle process (the library loaded, its runtime started, no source).
        let idle_wall = Duration::from_secs(SECONDS);
        let idle_start = process_cpu();
        tokio::time::sleep(idle_wall).await;
        let idle_rate = (process_cpu() - idle_start).as_secs_f64() / idle_wall.as_secs_f64();

        println!();
        println!(
            "## CPU per second of audio out ({SECONDS} s each; idle process {:.2} ms CPU per s subtracted)",
            idle_rate * 1e3
        );
        println!();
        println!(
            "| rate | frame | sent | process CPU per s of audio | our thread | the library's threads | our thread per frame | sending took | with playout |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for paced in [true, false] {
            for (rate, frame_ms) in CONFIGS {
                cpu(rate, frame_ms, paced, idle_rate).await;
            }
        }
        println!();
        println!("load average (1 min) at the end: {}", load_average());
    });
}
