//! Fuzzes WAV reading with arbitrary bytes: a frame or a typed error, never a panic; a frame
//! read is consistent (whole samples for every channel) and splits into 10 ms frames that add
//! up to it.

use std::time::Duration;

use agents_core::audio::{read_wav_from, split_frame};

/// One run over `data`: panics when a property does not hold.
pub fn run(data: &[u8]) {
    let Ok(frame) = read_wav_from(data, "fuzz.wav") else { return };
    let channels = usize::from(frame.num_channels());
    assert!(channels > 0 && frame.sample_rate() > 0);
    assert_eq!(frame.data().len(), frame.samples_per_channel() * channels);
    let frames = split_frame(&frame, Duration::from_millis(10));
    let total: usize = frames.iter().map(|f| f.samples_per_channel()).sum();
    assert_eq!(total, frame.samples_per_channel());
}
