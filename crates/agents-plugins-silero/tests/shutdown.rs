//! The inference thread stops when the `Vad` and its streams are gone.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use agents_core::audio::AudioFrame;

/// Threads of this process named `silero-vad`.
#[cfg(target_os = "linux")]
fn engine_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(Result::ok)
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|name| name.trim() == "silero-vad")
                })
                .count()
        })
        .unwrap_or(0)
}

#[cfg(target_os = "linux")]
#[test]
fn the_engine_thread_stops_with_the_last_handle() {
    let vad = common::load(Default::default());
    // The thread names itself once it runs: wait for that.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while engine_threads() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(engine_threads(), 1);
    let mut stream = vad.stream();
    // A job in flight when everything is dropped.
    stream.push_frame(&AudioFrame::silence(16_000, 1, 16_000).unwrap());
    let clone = vad.clone();
    drop(vad);
    assert_eq!(engine_threads(), 1, "the clone and the stream keep it");
    drop(clone);
    assert_eq!(engine_threads(), 1, "the stream keeps it");
    drop(stream);
    assert_eq!(engine_threads(), 0, "dropping the last handle joins the thread");
}
