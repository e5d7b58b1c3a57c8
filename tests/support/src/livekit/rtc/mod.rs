//! `/rtc`: a LiveKit-compatible signal endpoint and SFU for tests, on webrtc-rs.
//!
//! [`RtcService`] serves the signal WebSocket (`SignalRequest`/`SignalResponse` protobufs,
//! client protocol 18, two peer connections: the client's publisher connection, which the
//! client offers, and its subscriber connection, which the server offers with `_reliable` and
//! `_lossy` data channels). Tokens are checked with livekit-api's verifier. Audio published by
//! one participant is forwarded to every other; data packets are relayed with the sender's
//! identity stamped on them; attribute updates are broadcast as `ParticipantUpdate`s.
//!
//! [`ServerParticipant`]s live inside the server: a test joins one, publishes PCM, captures
//! what the others published, sends `lk.chat` text and reads the `lk.transcription` text
//! streams and `lk.agent.state` attribute changes it receives. [`RtcFault`]s refuse the
//! token, drop the signal socket, or send the `JoinResponse` that aborts livekit-ffi.
//!
//! Not served: the single-peer-connection path `/rtc/v1` (answered 404, so clients fall back
//! to `/rtc`), resume/reconnect, simulcast, video, TURN, selective subscription (everything
//! is auto-subscribed).

mod error;
mod media;
mod participant;
mod peer;
mod room;
mod service;
mod session;
mod text_stream;

pub use error::RtcError;
pub use media::SAMPLE_RATE;
pub use participant::ServerParticipant;
pub use service::{Admission, RtcConfig, RtcFault, RtcService, SignalConnection};
pub use text_stream::TextStream;
