//! WAV reading and writing: round trips, sample formats, and the errors of bad input.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::time::Duration;

use agents_core::audio::{
    AudioFrame, WavError, WavWriter, read_wav, read_wav_frames, split_frame, write_wav,
};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("agents_core_wav_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A WAV file written with hound directly, in any sample format.
fn write_raw<S: hound::Sample + Copy>(name: &str, spec: hound::WavSpec, samples: &[S]) -> PathBuf {
    let path = temp(name);
    let mut writer = hound::WavWriter::create(&path, spec).unwrap();
    for &sample in samples {
        writer.write_sample(sample).unwrap();
    }
    writer.finalize().unwrap();
    path
}

fn spec(channels: u16, bits: u16, format: hound::SampleFormat) -> hound::WavSpec {
    hound::WavSpec { channels, sample_rate: 16_000, bits_per_sample: bits, sample_format: format }
}

#[test]
fn mono_round_trip_across_frames() {
    let path = temp("mono.wav");
    let frames: Vec<AudioFrame> = (0..5)
        .map(|i| AudioFrame::new((0..160).map(|s| (s * 100 - i * 7) as i16).collect(), 16_000, 1))
        .collect::<Result<_, _>>()
        .unwrap();
    let mut writer = WavWriter::create(&path, 16_000, 1).unwrap();
    assert_eq!(writer.path(), path);
    for frame in &frames {
        writer.write_frame(frame).unwrap();
    }
    writer.finalize().unwrap();

    let read = read_wav(&path).unwrap();
    assert_eq!(read, AudioFrame::concat(&frames).unwrap().unwrap());
    assert_eq!(read.duration(), Duration::from_millis(50));
}

#[test]
fn stereo_round_trip_keeps_interleaving() {
    let path = temp("stereo.wav");
    let frame = AudioFrame::new(vec![1, -1, 2, -2, i16::MAX, i16::MIN], 48_000, 2).unwrap();
    write_wav(&path, [&frame]).unwrap();
    let read = read_wav(&path).unwrap();
    assert_eq!(read.num_channels(), 2);
    assert_eq!(read.sample_rate(), 48_000);
    assert_eq!(read, frame);
}

#[test]
fn reads_frames_of_a_given_duration() {
    let path = temp("chunks.wav");
    let second = AudioFrame::new((0..16_050).map(|s| s as i16).collect(), 16_000, 1).unwrap();
    write_wav(&path, [&second]).unwrap();
    let frames = read_wav_frames(&path, Duration::from_millis(10)).unwrap();
    assert_eq!(frames.len(), 101);
    assert!(frames[..100].iter().all(|f| f.samples_per_channel() == 160));
    assert_eq!(frames[100].samples_per_channel(), 50);
    assert_eq!(AudioFrame::concat(&frames).unwrap().unwrap(), second);
    assert!(
        split_frame(&AudioFrame::silence(16_000, 1, 0).unwrap(), Duration::from_millis(10))
            .is_empty()
    );
}

#[test]
fn converts_other_sample_formats_to_16_bits() {
    let int24 = write_raw(
        "int24.wav",
        spec(1, 24, hound::SampleFormat::Int),
        &[0x7F_FFFF_i32, -0x80_0000, 0x100],
    );
    assert_eq!(read_wav(&int24).unwrap().data(), &[i16::MAX, i16::MIN, 1]);

    let int32 = write_raw(
        "int32.wav",
        spec(1, 32, hound::SampleFormat::Int),
        &[i32::MAX, i32::MIN, 0x1_0000],
    );
    assert_eq!(read_wav(&int32).unwrap().data(), &[i16::MAX, i16::MIN, 1]);

    let float =
        write_raw("float.wav", spec(2, 32, hound::SampleFormat::Float), &[1.0_f32, -1.0, 0.5, 2.0]);
    let read = read_wav(&float).unwrap();
    assert_eq!(read.num_channels(), 2);
    assert_eq!(read.data(), &[i16::MAX, i16::MIN, 16_384, i16::MAX]);

    let int8 = write_raw("int8.wav", spec(1, 8, hound::SampleFormat::Int), &[127_i8, -128]);
    assert_eq!(read_wav(&int8).unwrap().data(), &[127 << 8, i16::MIN]);
}

#[test]
fn writer_rejects_frames_of_another_format() {
    let path = temp("mismatch.wav");
    let mut writer = WavWriter::create(&path, 16_000, 1).unwrap();
    let error = writer.write_frame(&AudioFrame::silence(24_000, 1, 10).unwrap()).unwrap_err();
    assert!(matches!(
        error,
        WavError::FormatMismatch { expected_rate: 16_000, found_rate: 24_000, .. }
    ));
    let message = error.to_string();
    assert!(message.contains("mismatch.wav") && message.contains("resample"), "{message}");
    let error = writer.write_frame(&AudioFrame::silence(16_000, 2, 10).unwrap()).unwrap_err();
    assert!(matches!(error, WavError::FormatMismatch { found_channels: 2, .. }));
    writer.finalize().unwrap();
    assert!(read_wav(&path).unwrap().is_empty());
}

#[test]
fn errors_name_the_file_and_the_problem() {
    let missing = temp("does-not-exist.wav");
    let error = read_wav(&missing).unwrap_err();
    assert!(matches!(error, WavError::Io { .. }));
    assert!(error.to_string().contains("does-not-exist.wav"), "{error}");
    // The operating system's error is the source, not repeated in the message.
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(!error.to_string().contains(&cause), "{error} / {cause}");

    let garbage = temp("garbage.wav");
    std::fs::write(&garbage, b"this is not a RIFF file at all").unwrap();
    let error = read_wav(&garbage).unwrap_err();
    assert!(matches!(error, WavError::Invalid { .. }), "{error:?}");
    assert!(error.to_string().contains("garbage.wav"), "{error}");

    let error = write_wav(temp("empty.wav"), []).unwrap_err();
    assert!(matches!(error, WavError::NoFrames { .. }));
    assert!(error.to_string().contains("empty.wav"), "{error}");

    let error = WavWriter::create(temp("zero.wav"), 0, 1).unwrap_err();
    assert!(matches!(error, WavError::Audio { .. }));
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(!error.to_string().contains(&cause), "{error} / {cause}");
}
