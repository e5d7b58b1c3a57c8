//! [`RtcError`]: what the `/rtc` service and its server-side participants report.

/// An error of the LiveKit test server's `/rtc` service or of a
/// [`ServerParticipant`](super::ServerParticipant).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcError {
    /// webrtc-rs failed (a peer connection, a track, a data channel).
    #[error("WebRTC: {0}")]
    WebRtc(String),
    /// Opus failed to encode or decode.
    #[error("Opus: {0}")]
    Opus(String),
    /// The identity is already in the room.
    #[error("`{identity}` is already in the room `{room}`; join with another identity")]
    DuplicateIdentity {
        /// The room.
        room: String,
        /// The identity.
        identity: String,
    },
    /// The participant left the room (or the server stopped).
    #[error("the participant `{0}` is no longer in the room")]
    Left(String),
    /// PCM that cannot be published.
    #[error("cannot publish this PCM: {0}")]
    Pcm(String),
    /// Waiting for something timed out.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        after: std::time::Duration,
    },
}
