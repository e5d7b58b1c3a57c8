//! Helpers shared by the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code, unreachable_pub)]

use std::path::PathBuf;

use agents_core::audio::AudioFrame;
use agents_core::vad::VadEvent;
use agents_plugins_silero::{Vad, VadOptions};
use futures::StreamExt;

/// A fixture of `tests/data`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("data").join(name)
}

/// Loads the VAD; fails the test with the loader's advice when ONNX Runtime is missing.
pub fn load(options: VadOptions) -> Vad {
    Vad::load_with(options).unwrap_or_else(|e| panic!("{e}"))
}

/// A 16-bit WAV file as one frame.
pub fn read_wav(name: &str) -> AudioFrame {
    let mut reader = hound::WavReader::open(data(name)).unwrap();
    let spec = reader.spec();
    assert_eq!(spec.bits_per_sample, 16);
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    AudioFrame::new(samples, spec.sample_rate, spec.channels).unwrap()
}

/// Pushes `audio` in frames of `frame_ms`, ends the input, and collects every event.
pub fn run(vad: &Vad, audio: &AudioFrame, frame_ms: usize) -> Vec<VadEvent> {
    let mut stream = vad.stream();
    let per_frame = (audio.sample_rate() as usize * frame_ms / 1000).max(1);
    let total = audio.samples_per_channel();
    let mut start = 0;
    while start < total {
        let end = (start + per_frame).min(total);
        stream.push_frame(&audio.slice(start..end).unwrap());
        start = end;
    }
    stream.end_input();
    futures::executor::block_on(stream.collect::<Vec<_>>())
}
