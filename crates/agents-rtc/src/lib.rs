#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
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
/// Feature `fuzzing`; not covered by the versioning policy (it may change in any release).
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
