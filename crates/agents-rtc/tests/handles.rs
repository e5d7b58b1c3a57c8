//! Every handle the library hands over is released exactly once (one test per binary: the
//! counters are process-wide).

#![allow(clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use agents_rtc::{
    AudioFrame, AudioSource, AudioSourceOptions, LocalAudioTrack, RtcError, handle_stats,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_tracks_and_captured_frames_release_every_handle_once() {
    common::require_library();
    let before = handle_stats();

    let mut options = AudioSourceOptions::default();
    options.queue_size_ms = 100;
    let source = AudioSource::new(48_000, 1, options).expect("a source");
    let track = LocalAudioTrack::create_audio_track("voice", &source).expect("a track");
    assert_eq!(track.name(), "voice");
    let live = handle_stats();
    // Two objects (the source and the track) are alive; every response buffer is released.
    assert_eq!(live.live() - before.live(), 2, "{live:?}");

    // Back-pressure: 600 ms of audio into a 100 ms queue cannot be accepted faster than the
    // source plays it out (in real time, 10 ms at a time).
    let frame = AudioFrame::new(vec![1000; 480], 48_000, 1);
    let start = Instant::now();
    for _ in 0..60 {
        source.capture_frame(&frame).await.expect("captured");
    }
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(400), "captured 600 ms in {elapsed:?}");
    source.clear_queue().expect("cleared");

    // Frames of another format are refused before reaching the library.
    let wrong = AudioFrame::new(vec![0; 160], 16_000, 1);
    assert!(matches!(source.capture_frame(&wrong).await, Err(RtcError::InvalidArgument { .. })));

    let clone = source.clone();
    drop(source);
    assert_eq!(handle_stats().live() - before.live(), 2, "a clone keeps the source");
    drop((clone, track));
    let after = handle_stats();
    assert_eq!(after.live(), before.live(), "{after:?}");
    assert_eq!(after.rejected, 0, "no double drops: {after:?}");
    // The source, the track, and one response buffer per request (2 + 60 + 1 + 0).
    assert_eq!(after.received - before.received, 2 + 2 + 60 + 1, "{after:?}");
}
