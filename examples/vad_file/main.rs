//! Voice activity detection over a WAV file with the Silero VAD plugin.
//!
//! **What it shows.** `agents_plugins_silero::Vad::load()` and a VAD stream fed 20 ms frames:
//! the file is run through as fast as the VAD goes (any sample rate, mono or stereo; 8 to
//! 32-bit integer or 32-bit float samples), one line is printed per speech segment, from its
//! `StartOfSpeech` to its `EndOfSpeech` timestamp, then a summary of the work done.
//!
//! **What it needs.** No credentials and no network: only ONNX Runtime, loaded at run time.
//! `cargo run --example update_tools -- download-files` installs it into the per-user cache,
//! or `pip install onnxruntime`, or set `ORT_DYLIB_PATH` to `libonnxruntime.so.1.xx.x` (the
//! error message says so when it is missing).
//!
//! **Run it.**
//!
//! ```text
//! cargo run --release --example vad_file -- speech.wav
//! start=1.120 end=3.552
//! start=4.768 end=7.136
//! audio=7.815s inferences=244 cpu=0.021s cpu_per_audio_second=2.69ms wall=0.021s load=0.046s
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use agents_core::audio::AudioFrame;
use agents_core::vad::VadEventKind;
use agents_plugins_silero::Vad;
use futures::StreamExt;

/// Frames of 20 ms, as a room or a microphone would deliver them.
const FRAME_MS: usize = 20;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        eprintln!("usage: vad_file <file.wav>");
        return ExitCode::from(2);
    };
    match run(Path::new(&path)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &Path) -> Result<(), String> {
    let audio = read_wav(path)?;

    let load_started = Instant::now();
    let vad = Vad::load().map_err(|e| e.to_string())?;
    let load = load_started.elapsed();

    let cpu_started = process_cpu_time();
    let wall_started = Instant::now();
    let mut stream = vad.stream();
    let per_frame = (audio.sample_rate() as usize * FRAME_MS / 1000).max(1);
    let total = audio.samples_per_channel();
    let mut start = 0;
    while start < total {
        let end = (start + per_frame).min(total);
        stream.push_frame(&audio.slice(start..end).map_err(|e| e.to_string())?);
        start = end;
    }
    stream.end_input();

    let mut inferences = 0u64;
    let mut speech_start = None;
    let mut last_timestamp = 0.0;
    futures::executor::block_on(async {
        while let Some(event) = stream.next().await {
            last_timestamp = event.timestamp;
            match event.kind {
                VadEventKind::InferenceDone => inferences += 1,
                VadEventKind::StartOfSpeech => speech_start = Some(event.timestamp),
                VadEventKind::EndOfSpeech => {
                    let start = speech_start.take().unwrap_or(0.0);
                    println!("start={start:.3} end={:.3}", event.timestamp);
                }
                _ => {}
            }
        }
    });
    if let Some(start) = speech_start {
        println!("start={start:.3} end={last_timestamp:.3} (the file ends in speech)");
    }
    let wall = wall_started.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu_started);

    let seconds = audio.duration().as_secs_f64();
    let per_audio_second = if seconds > 0.0 { cpu.as_secs_f64() * 1e3 / seconds } else { 0.0 };
    println!(
        "audio={seconds:.3}s inferences={inferences} cpu={:.3}s cpu_per_audio_second={per_audio_second:.2}ms \
         wall={:.3}s load={:.3}s",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        load.as_secs_f64(),
    );
    Ok(())
}

/// The whole file as one frame of 16-bit samples.
fn read_wav(path: &Path) -> Result<AudioFrame, String> {
    let shown = PathBuf::from(path).display().to_string();
    let mut reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(e) => format!("cannot read `{shown}`: {e}"),
        e => format!("`{shown}` is not a WAV file this example reads: {e}"),
    })?;
    let spec = reader.spec();
    let invalid = |e: hound::Error| format!("`{shown}` is damaged: {e}");
    let samples: Vec<i16> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => {
            reader.samples::<i16>().collect::<Result<_, _>>().map_err(invalid)?
        }
        (hound::SampleFormat::Int, bits @ 1..=32) => reader
            .samples::<i32>()
            .map(|s| s.map(|s| to_i16(f64::from(s) / f64::from(1u32 << (bits - 1)))))
            .collect::<Result<_, _>>()
            .map_err(invalid)?,
        (hound::SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .map(|s| s.map(|s| to_i16(f64::from(s))))
            .collect::<Result<_, _>>()
            .map_err(invalid)?,
        (format, bits) => {
            return Err(format!(
                "`{shown}` holds {bits}-bit {format:?} samples; convert it to 16-bit PCM \
                 (e.g. `sox {shown} -b 16 out.wav`)"
            ));
        }
    };
    AudioFrame::new(samples, spec.sample_rate, spec.channels)
        .map_err(|e| format!("`{shown}` has an invalid format: {e}"))
}

/// A sample in [-1, 1] as 16-bit.
fn to_i16(x: f64) -> i16 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// CPU time of the whole process (all threads, the inference thread included).
fn process_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec.max(0) as u64, t.tv_nsec.clamp(0, 999_999_999) as u32)
}
