//! A LiveKit room client — what Python's `livekit.rtc` is to `livekit-agents` — over
//! LiveKit's own client library, `liblivekit_ffi.so` (PyPI `livekit` 1.2.1, FFI server
//! v0.13.2), loaded at run time. It has no agent concepts: rooms, participants, tracks,
//! audio sources and streams, data packets, attributes and text streams.
//!
//! The library is found on first use as agents-runtime-libs finds it: `LIVEKIT_LIB_PATH`,
//! then the per-user cache that `<agent> download-files` fills, then an installed Python
//! `livekit` 1.2.1 (or give a path with [`load_library`]).
//!
//! ```no_run
//! use agents_rtc::{AudioFrame, AudioSource, AudioSourceOptions, LocalAudioTrack, Room,
//!     RoomEvent, RoomOptions, StreamTextOptions, TrackPublishOptions, TrackSource};
//!
//! # async fn run(url: &str, token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let (room, mut events) = Room::connect(url, token, RoomOptions::default()).await?;
//! let source = AudioSource::new(24_000, 1, AudioSourceOptions::default())?;
//! let track = LocalAudioTrack::create_audio_track("agent-voice", &source)?;
//! let mut options = TrackPublishOptions::default();
//! options.source = TrackSource::Microphone;
//! room.local_participant().publish_track(&track, options).await?;
//! source.capture_frame(&AudioFrame::new(vec![0; 240], 24_000, 1)).await?;
//! room.local_participant()
//!     .send_text("Hello!", &StreamTextOptions::topic("lk.chat"))
//!     .await?;
//! while let Some(event) = events.recv().await {
//!     if let RoomEvent::Disconnected { reason } = event {
//!         println!("left: {reason:?}");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Threads and safety
//!
//! This is the workspace's only crate with `unsafe`, all of it in the `sys` module (the C
//! ABI and the loader), each block with its reasoning. The library calls one process-wide
//! callback on its own threads; it decodes the event, routes it by handle or async id into
//! the channel of its room, stream or request, and returns — it never blocks, never calls
//! user code and never spawns. Every object the library hands over is released exactly
//! once ([`handle_stats`] counts them). If the library panics, every room receives
//! [`RoomEvent::Fatal`] with its text and every call fails with [`RtcError::Fatal`]: the
//! library cannot be used again in that process.

#![deny(unsafe_code)]

mod audio;
mod client;
mod data_stream;
mod dispatch;
mod error;
mod participant;
mod proto;
mod room;
mod sys;
mod track;

pub use audio::{AudioFrame, AudioSource, AudioSourceOptions, AudioStream, AudioStreamOptions};
pub use client::{library_path, load_library};
pub use data_stream::{
    StreamTextOptions, TextStreamInfo, TextStreamReader, TextStreamReceiver, TextStreamWriter,
};
pub use error::{ConnectError, RtcError};
pub use participant::{
    DataPublishOptions, LocalParticipant, ParticipantInfo, ParticipantKind, RemoteParticipant,
};
pub use proto::{HandleStats, handle_stats};
pub use room::{
    ConnectionState, DataPacketKind, DisconnectReason, Room, RoomEvent, RoomEvents, RoomOptions,
};
pub use track::{
    LocalAudioTrack, RemoteTrack, TrackKind, TrackPublication, TrackPublishOptions, TrackSource,
};

/// The event callback's decoding and routing, without the library (for the fuzz target).
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use crate::dispatch::Dispatcher;

    /// Decodes `bytes` as an `FfiEvent` and routes it, exactly as the library's callback
    /// does, through a routing table with a room (handle 1, with a receiver on the topic
    /// `lk.chat`), an audio stream and a text stream reader (handle 1), and waiters for
    /// async ids 1 to 4; then reads what was delivered and drops it. Never panics.
    pub fn dispatch_event(bytes: &[u8]) {
        let dispatcher = Dispatcher::default();
        let (room, mut room_events) = tokio::sync::mpsc::unbounded_channel();
        dispatcher.register_room(1, room);
        let (topic, mut readers) = tokio::sync::mpsc::unbounded_channel();
        dispatcher.register_text_topic(1, "lk.chat", topic);
        let (frames, mut audio) = tokio::sync::mpsc::unbounded_channel();
        dispatcher.register_audio_stream(1, frames);
        let (chunks, mut text) = tokio::sync::mpsc::unbounded_channel();
        dispatcher.register_text_reader(1, chunks);
        let mut waiters: Vec<_> = (1..=4).map(|id| dispatcher.register_waiter(id)).collect();
        dispatcher.on_event(bytes);
        while room_events.try_recv().is_ok() {}
        while readers.try_recv().is_ok() {}
        while audio.try_recv().is_ok() {}
        while text.try_recv().is_ok() {}
        for waiter in &mut waiters {
            let _ = waiter.try_recv();
        }
    }
}
