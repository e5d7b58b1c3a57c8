//! Audio through liblivekit_ffi (agents-rtc), frames in: what an agent's voice costs on its
//! way to a published track.
//!
//! * `capture latency`: one 10 ms frame through `AudioSource::capture_frame` while the
//!   source's queue has room — the request, the library's copy, and its callback routed
//!   back to the awaiting task: the latency added between a TTS frame and the library
//!   holding it.
//! * `CPU per second of audio`: 10 s of 48 kHz mono in 10 ms frames, paced by the source's
//!   back-pressure (queue 1000 ms, as in Python), with the process's CPU time (every thread,
//!   the library's included) divided by the audio's length; an idle interval of the same
//!   wall time is measured first and subtracted. The calling thread's share (our side of
//!   the FFI: requests encoded, responses and callbacks decoded) is shown apart.
//!
//! Needs the library (`cargo xtask setup`). Frames out (a remote track's `AudioStream`) need
//! a LiveKit server and are not measured here.

use std::time::{Duration, Instant};

use agents_bench::measure::{Summary, load_average, micros, process_cpu, thread_cpu};
use agents_rtc::{AudioFrame, AudioSource, AudioSourceOptions, LocalAudioTrack};

const RATE: u32 = 48_000;
const FRAME: usize = 480;

fn frame(index: usize) -> AudioFrame {
    let samples = (0..FRAME)
        .map(|i| {
            let t = (index * FRAME + i) as f64 / f64::from(RATE);
            (f64::sin(t * 440.0 * std::f64::consts::TAU) * 8000.0) as i16
        })
        .collect();
    AudioFrame::new(samples, RATE, 1)
}

fn main() {
    let path = agents_rtc::library_path().expect("liblivekit_ffi.so: run `cargo xtask setup`");
    println!("library: {}", path.display());
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        // Latency: a queue far longer than the audio sent, so no capture waits for room.
        let mut options = AudioSourceOptions::default();
        options.queue_size_ms = 120_000;
        let source = AudioSource::new(RATE, 1, options).expect("source");
        let _track = LocalAudioTrack::create_audio_track("bench", &source).expect("track");
        let frames: Vec<_> = (0..100).map(frame).collect();
        let mut latencies = Vec::new();
        for round in 0..60 {
            for frame in &frames {
                let start = Instant::now();
                source.capture_frame(frame).await.expect("capture");
                if round >= 5 {
                    latencies.push(start.elapsed());
                }
            }
        }
        source.clear_queue().expect("clear");
        let summary = Summary::of(&latencies);
        println!(
            "capture latency ({} frames of 10 ms, queue not full): min {} p50 {} mean {} p99 {} max {}",
            summary.count,
            micros(summary.min),
            micros(summary.p50),
            micros(summary.mean),
            micros(summary.p99),
            micros(summary.max)
        );
        drop((source, _track));

        // CPU: 10 s of audio at the pace the source plays it.
        let seconds = 10;
        let idle_start = process_cpu();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let idle = process_cpu() - idle_start;

        let source = AudioSource::new(RATE, 1, AudioSourceOptions::default()).expect("source");
        let _track = LocalAudioTrack::create_audio_track("bench", &source).expect("track");
        let frames: Vec<_> = (0..100).map(frame).collect();
        let (cpu_start, ours_start, wall_start) = (process_cpu(), thread_cpu(), Instant::now());
        for index in 0..(seconds as usize * 100) {
            source.capture_frame(&frames[index % frames.len()]).await.expect("capture");
        }
        let (cpu, ours, wall) =
            (process_cpu() - cpu_start, thread_cpu() - ours_start, wall_start.elapsed());
        let per_second = cpu.saturating_sub(idle) / seconds as u32;
        println!(
            "CPU per second of audio in: {:.2} ms ({:.3} % of a core); {} s of audio took {:.2} s wall, \
             {:.1} ms CPU; idle process over {} s: {:.1} ms CPU",
            per_second.as_secs_f64() * 1e3,
            per_second.as_secs_f64() * 100.0,
            seconds,
            wall.as_secs_f64(),
            cpu.as_secs_f64() * 1e3,
            seconds,
            idle.as_secs_f64() * 1e3
        );
        println!(
            "  of which the calling thread (encoding requests, decoding responses, waiting): \
             {:.2} ms per second of audio",
            ours.as_secs_f64() * 1e3 / seconds as f64
        );
        println!("load average (1 min): {}", load_average());
    });
}
