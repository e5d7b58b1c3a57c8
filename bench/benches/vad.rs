//! Silero VAD: CPU per second of audio, against the raw model and how many real-time streams
//! one core keeps up with.
//!
//! ```text
//! cargo bench -p agents-bench --bench vad            # everything (about 40 s)
//! cargo bench -p agents-bench --bench vad -- quick   # shorter paced runs
//! cargo bench -p agents-bench --bench vad -- streams=100,400,800   # other paced counts
//! ```
//!
//! What it measures (process CPU time, all threads, unless said otherwise):
//!
//! 1. **raw**: `session.run` of the bundled model through `ort` directly, one window after the
//!    other with the state carried over: the floor any Silero VAD on ONNX Runtime pays. Runs
//!    in a child process, since ONNX Runtime allows one environment per process. And the same
//!    at batch 8 and 32 (windows of that many streams in one run): the floor of the batching
//!    engine. And the sequence export of the model, 32 windows of one stream a run: the floor
//!    of one stream faster than real time.
//! 2. **one stream, as fast as possible**: 62.5 s of speech (the 16 kHz fixture, 8 times)
//!    pushed in 20 ms frames into one stream, every event read; and the same at 48 kHz
//!    (resampling included), and the resampler alone.
//! 3. **paced streams**: N streams, each fed 20 ms frames at real time for a few seconds on one
//!    tokio thread, events read as they come (what an agent server does); CPU per
//!    stream-second, how busy the inference thread was, and how late the last stream finished
//!    (more than a frame late means the process did not keep up with real time).
//!
//! The figures and the Python side-by-side (`bench/python/vad_cpu.py`) are in BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use agents_core::audio::{AudioFrame, Resampler, read_wav};
use agents_core::vad::VadEventKind;
use agents_plugins_silero::Vad;
use futures::{FutureExt, StreamExt};

const FRAME_MS: usize = 20;
const REPEAT: usize = 8;
const RUNS: usize = 7;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--raw-child") {
        raw_child(Path::new(&args[pos + 1]));
        return;
    }
    let quick = args.iter().any(|a| a == "quick");

    let audio16 = repeat(&fixture("speech_16k.wav"), REPEAT);
    let audio48 = repeat(&fixture("speech_48k.wav"), REPEAT);
    let seconds = audio16.duration().as_secs_f64();
    let vad = Vad::load().expect("ONNX Runtime (see the error)");
    let library = Vad::runtime_library().expect("the library was loaded");
    println!("ONNX Runtime: {}", library.display());
    println!("load average: {}", load_average());
    println!("audio: {seconds:.1} s per run, {RUNS} runs, median\n");

    // 1. The raw model, in a child process.
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--raw-child", library.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let raw_text = String::from_utf8_lossy(&output.stdout).to_string();
    print!("{raw_text}");
    let raw_value = |key: &str| -> f64 {
        raw_text
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap()
    };
    let raw_ms = raw_value("raw_ms_per_audio_second=");
    // One stream faster than real time sends jobs of many windows, run as sequences.
    let raw_sequence_ms = raw_value("raw_sequence_ms_per_audio_second=");

    // 2. One stream, as fast as possible.
    let one16 = median_ms(RUNS, || one_stream(&vad, &audio16)) / seconds;
    let one48 = median_ms(RUNS, || one_stream(&vad, &audio48)) / seconds;
    let resample = median_ms(RUNS, || resample_only(&audio48)) / seconds;
    println!("\none stream, as fast as possible (CPU ms per audio second)");
    for (rate, ms) in [(16, one16), (48, one48)] {
        println!(
            "  {rate} kHz input: {ms:.3} ms  ({:+.1}% vs the raw sequence model, {:+.1}% vs raw batch 1)",
            (ms / raw_sequence_ms - 1.0) * 100.0,
            (ms / raw_ms - 1.0) * 100.0
        );
    }
    println!("  resampler alone, 48 → 16 kHz: {resample:.3} ms");
    println!("  streams per core (16 kHz): {:.0}", 1000.0 / one16);

    // 3. Paced streams.
    let duration = if quick { Duration::from_secs(2) } else { Duration::from_secs(5) };
    println!("\npaced streams, 20 ms frames at real time, {} s", duration.as_secs());
    println!(
        "  streams | CPU ms per stream-second | streams per core | inference thread busy | late"
    );
    let counts: Vec<usize> = args
        .iter()
        .find_map(|a| a.strip_prefix("streams="))
        .unwrap_or("1,10,50,100,200,400")
        .split(',')
        .map(|n| n.parse().expect("streams=N,N,..."))
        .collect();
    for n in counts {
        let (cpu, engine, late) = paced(&vad, &audio16, n, duration);
        let stream_seconds = n as f64 * duration.as_secs_f64();
        let per = cpu.as_secs_f64() * 1e3 / stream_seconds;
        println!(
            "  {n:>7} | {per:>24.3} | {:>16.0} | {:>20.1}% | {:>4.0} ms",
            1000.0 / per,
            engine.as_secs_f64() / duration.as_secs_f64() * 100.0,
            late.as_secs_f64() * 1e3
        );
    }
}

fn fixture(name: &str) -> AudioFrame {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/agents-plugins-silero/tests/data")
        .join(name);
    read_wav(&path).unwrap()
}

fn repeat(audio: &AudioFrame, times: usize) -> AudioFrame {
    AudioFrame::concat(std::iter::repeat_n(audio, times)).unwrap().unwrap()
}

fn frames(audio: &AudioFrame) -> Vec<AudioFrame> {
    let per = audio.sample_rate() as usize * FRAME_MS / 1000;
    let total = audio.samples_per_channel();
    (0..total).step_by(per).map(|s| audio.slice(s..(s + per).min(total)).unwrap()).collect()
}

/// Process CPU time of `work`, in ms.
fn median_ms(runs: usize, mut work: impl FnMut()) -> f64 {
    work(); // warm-up
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = process_cpu();
            work();
            (process_cpu() - start).as_secs_f64() * 1e3
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn one_stream(vad: &Vad, audio: &AudioFrame) {
    let mut stream = vad.stream();
    let mut windows = 0;
    futures::executor::block_on(async {
        for frame in frames(audio) {
            stream.push_frame(&frame);
            // Read what is ready, as a live consumer would, without waiting.
            while let Some(Some(event)) = stream.next().now_or_never() {
                windows += usize::from(event.kind == VadEventKind::InferenceDone);
            }
        }
        stream.end_input();
        while let Some(event) = stream.next().await {
            windows += usize::from(event.kind == VadEventKind::InferenceDone);
        }
    });
    assert_eq!(windows, audio.samples_per_channel() * 16_000 / audio.sample_rate() as usize / 512);
}

fn resample_only(audio: &AudioFrame) {
    let mut resampler = Resampler::new(audio.sample_rate(), 16_000).unwrap();
    let mut out = Vec::with_capacity(1024);
    for frame in frames(audio) {
        out.clear();
        resampler.process_i16(frame.data(), &mut out);
    }
    std::hint::black_box(&out);
}

/// `n` streams fed at real time for `duration`; returns the process CPU time, the inference
/// thread's CPU time, and how long after the last frame was due the last stream finished.
fn paced(
    vad: &Vad,
    audio: &AudioFrame,
    n: usize,
    duration: Duration,
) -> (Duration, Duration, Duration) {
    let frames = frames(audio);
    let per_stream = (duration.as_millis() as usize / FRAME_MS).min(frames.len());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let engine_before = engine_cpu();
    let cpu_before = process_cpu();
    let late = runtime.block_on(async {
        let start = tokio::time::Instant::now() + Duration::from_millis(50);
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let mut stream = vad.stream();
                let frames = frames[..per_stream].to_vec();
                // Spread the streams over one frame period, as independent callers would be.
                let offset = Duration::from_micros((i * FRAME_MS * 1000 / n) as u64);
                tokio::spawn(async move {
                    let mut windows = 0usize;
                    let mut next = start + offset;
                    for frame in &frames {
                        tokio::time::sleep_until(next).await;
                        stream.push_frame(frame);
                        next += Duration::from_millis(FRAME_MS as u64);
                        while let Some(Some(_)) = stream.next().now_or_never() {
                            windows += 1;
                        }
                    }
                    stream.end_input();
                    while stream.next().await.is_some() {
                        windows += 1;
                    }
                    windows
                })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap() > 0);
        }
        let last_due = start + Duration::from_millis((per_stream * FRAME_MS) as u64);
        tokio::time::Instant::now().saturating_duration_since(last_due)
    });
    (process_cpu() - cpu_before, engine_cpu() - engine_before, late)
}

/// The raw floor: ort directly, prebuilt tensors, one window after the other.
fn raw_child(library: &Path) {
    use ort::value::Tensor;

    let env = ort::init_from(library).unwrap().build().unwrap();
    let mut session = plugin_session(&env, agents_plugins_silero::BUNDLED_MODEL);
    let audio = repeat(&fixture("speech_16k.wav"), REPEAT);
    let samples: Vec<f32> = audio.data().iter().map(|&s| f32::from(s) / 32767.0).collect();
    let mut input = Tensor::from_array(([1usize, 576], vec![0.0f32; 576])).unwrap();
    let mut state = Tensor::from_array(([2usize, 1, 128], vec![0.0f32; 256])).unwrap();
    let sr = Tensor::from_array((Vec::<usize>::new(), vec![16_000i64])).unwrap();
    let windows: Vec<&[f32]> = samples.chunks_exact(512).collect();

    let mut run_all = || {
        let mut context = [0.0f32; 64];
        state.extract_tensor_mut().1.fill(0.0);
        let mut sum = 0.0f32;
        for window in &windows {
            {
                let (_, data) = input.extract_tensor_mut();
                data[..64].copy_from_slice(&context);
                data[64..].copy_from_slice(window);
            }
            let outputs = session.run(ort::inputs![&input, &state, &sr]).unwrap();
            sum += outputs["output"].try_extract_tensor::<f32>().unwrap().1[0];
            let mut next = [0.0f32; 256];
            next.copy_from_slice(outputs["stateN"].try_extract_tensor::<f32>().unwrap().1);
            drop(outputs);
            state.extract_tensor_mut().1.copy_from_slice(&next);
            context.copy_from_slice(&window[448..]);
        }
        std::hint::black_box(sum);
    };
    run_all(); // warm-up
    let mut per_window: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = thread_cpu();
            run_all();
            (thread_cpu() - start).as_secs_f64() * 1e6 / windows.len() as f64
        })
        .collect();
    per_window.sort_by(f64::total_cmp);
    let us = per_window[per_window.len() / 2];
    println!("raw session.run (ort directly, thread CPU): {us:.1} µs per 32 ms window");
    println!("raw_ms_per_audio_second={:.3}", us * 31.25 / 1e3);

    // Batches: the windows of `n` streams (the audio at `n` offsets) in one run.
    for n in [8usize, 32] {
        let steps = windows.len() / n;
        let mut input = Tensor::from_array(([n, 576], vec![0.0f32; n * 576])).unwrap();
        let mut state = Tensor::from_array(([2usize, n, 128], vec![0.0f32; 256 * n])).unwrap();
        let mut run_all = || {
            state.extract_tensor_mut().1.fill(0.0);
            let mut sum = 0.0f32;
            for step in 0..steps {
                {
                    let (_, data) = input.extract_tensor_mut();
                    for (row, stream) in data.chunks_exact_mut(576).zip(0..n) {
                        let at = (stream * steps + step) * 512;
                        let from = at.saturating_sub(64);
                        row[576 - (at + 512 - from)..].copy_from_slice(&samples[from..at + 512]);
                    }
                }
                let outputs = session.run(ort::inputs![&input, &state, &sr]).unwrap();
                sum += outputs["output"].try_extract_tensor::<f32>().unwrap().1[0];
                let next = outputs["stateN"].try_extract_tensor::<f32>().unwrap().1.to_vec();
                drop(outputs);
                state.extract_tensor_mut().1.copy_from_slice(&next);
            }
            std::hint::black_box(sum);
        };
        run_all();
        let mut per_window: Vec<f64> = (0..RUNS)
            .map(|_| {
                let start = thread_cpu();
                run_all();
                (thread_cpu() - start).as_secs_f64() * 1e6 / (steps * n) as f64
            })
            .collect();
        per_window.sort_by(f64::total_cmp);
        let us = per_window[per_window.len() / 2];
        println!(
            "raw session.run at batch {n}: {us:.1} µs per stream-window ({:.3} ms per audio second)",
            us * 31.25 / 1e3
        );
    }

    // The sequence export: one stream's windows, 32 at a time (the plugin's largest job).
    let model = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/agents-plugins-silero/models/silero_vad_16k_sequence.onnx"),
    )
    .unwrap();
    let mut sequence = plugin_session(&env, &model);
    const L: usize = 32;
    let mut input = Tensor::from_array(([L, 576], vec![0.0f32; L * 576])).unwrap();
    let mut h = Tensor::from_array(([1usize, 1, 128], vec![0.0f32; 128])).unwrap();
    let mut c = Tensor::from_array(([1usize, 1, 128], vec![0.0f32; 128])).unwrap();
    let mut run_all = || {
        h.extract_tensor_mut().1.fill(0.0);
        c.extract_tensor_mut().1.fill(0.0);
        let mut sum = 0.0f32;
        for chunk in 0..windows.len() / L {
            {
                let (_, data) = input.extract_tensor_mut();
                for (k, row) in data.chunks_exact_mut(576).enumerate() {
                    let at = (chunk * L + k) * 512;
                    let from = at.saturating_sub(64);
                    row[576 - (at + 512 - from)..].copy_from_slice(&samples[from..at + 512]);
                }
            }
            let outputs =
                sequence.run(ort::inputs!["input" => &input, "h" => &h, "c" => &c]).unwrap();
            sum += outputs["speech_probs"].try_extract_tensor::<f32>().unwrap().1[0];
            let hn = outputs["hn"].try_extract_tensor::<f32>().unwrap().1.to_vec();
            let cn = outputs["cn"].try_extract_tensor::<f32>().unwrap().1.to_vec();
            drop(outputs);
            h.extract_tensor_mut().1.copy_from_slice(&hn);
            c.extract_tensor_mut().1.copy_from_slice(&cn);
        }
        std::hint::black_box(sum);
    };
    run_all();
    let runs = windows.len() / L * L;
    let mut per_window: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = thread_cpu();
            run_all();
            (thread_cpu() - start).as_secs_f64() * 1e6 / runs as f64
        })
        .collect();
    per_window.sort_by(f64::total_cmp);
    let us = per_window[per_window.len() / 2];
    println!(
        "raw sequence model, 32 windows a run: {us:.1} µs per window ({:.3} ms per audio second)",
        us * 31.25 / 1e3
    );
    println!("raw_sequence_ms_per_audio_second={:.3}", us * 31.25 / 1e3);
}

/// A session of `model` with the plugin's options.
fn plugin_session(env: &ort::environment::Environment, model: &[u8]) -> ort::session::Session {
    ort::session::Session::builder(env)
        .unwrap()
        .with_optimization_level(ort::session::builder::GraphOptimizationLevel::All)
        .unwrap()
        .with_intra_threads(1)
        .unwrap()
        .with_inter_threads(1)
        .unwrap()
        .with_parallel_execution(false)
        .unwrap()
        .with_intra_op_spinning(false)
        .unwrap()
        .with_inter_op_spinning(false)
        .unwrap()
        .commit_from_memory(model)
        .unwrap()
}

fn process_cpu() -> Duration {
    timespec(rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime))
}

fn thread_cpu() -> Duration {
    timespec(rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime))
}

fn timespec(t: rustix::time::Timespec) -> Duration {
    Duration::new(u64::try_from(t.tv_sec).unwrap_or(0), u32::try_from(t.tv_nsec).unwrap_or(0))
}

/// CPU time of the `silero-vad` threads, from `/proc/self/task/*/schedstat`.
fn engine_cpu() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Duration::ZERO };
    tasks
        .filter_map(Result::ok)
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "silero-vad")
        })
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .map(Duration::from_nanos)
        .sum()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
