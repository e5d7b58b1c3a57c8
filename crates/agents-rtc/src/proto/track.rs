//! `track.proto` and `track_publication.proto`.

use super::FfiOwnedHandle;

#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateAudioTrackRequest {
    #[prost(string, required, tag = "1")]
    pub name: String,
    #[prost(uint64, required, tag = "2")]
    pub source_handle: u64,
}

#[derive(PartialEq, prost::Message)]
pub struct CreateAudioTrackResponse {
    #[prost(message, required, tag = "1")]
    pub track: OwnedTrack,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TrackPublicationInfo {
    #[prost(string, required, tag = "1")]
    pub sid: String,
    #[prost(string, required, tag = "2")]
    pub name: String,
    #[prost(enumeration = "TrackKind", required, tag = "3")]
    pub kind: i32,
    #[prost(enumeration = "TrackSource", required, tag = "4")]
    pub source: i32,
    #[prost(bool, required, tag = "5")]
    pub simulcasted: bool,
    #[prost(uint32, required, tag = "6")]
    pub width: u32,
    #[prost(uint32, required, tag = "7")]
    pub height: u32,
    #[prost(string, required, tag = "8")]
    pub mime_type: String,
    #[prost(bool, required, tag = "9")]
    pub muted: bool,
    #[prost(bool, required, tag = "10")]
    pub remote: bool,
}

#[derive(PartialEq, prost::Message)]
pub struct OwnedTrackPublication {
    #[prost(message, required, tag = "1")]
    pub handle: FfiOwnedHandle,
    #[prost(message, required, tag = "2")]
    pub info: TrackPublicationInfo,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TrackInfo {
    #[prost(string, required, tag = "1")]
    pub sid: String,
    #[prost(string, required, tag = "2")]
    pub name: String,
    #[prost(enumeration = "TrackKind", required, tag = "3")]
    pub kind: i32,
    #[prost(enumeration = "StreamState", required, tag = "4")]
    pub stream_state: i32,
    #[prost(bool, required, tag = "5")]
    pub muted: bool,
    #[prost(bool, required, tag = "6")]
    pub remote: bool,
}

#[derive(PartialEq, prost::Message)]
pub struct OwnedTrack {
    #[prost(message, required, tag = "1")]
    pub handle: FfiOwnedHandle,
    #[prost(message, required, tag = "2")]
    pub info: TrackInfo,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum TrackKind {
    KindUnknown = 0,
    KindAudio = 1,
    KindVideo = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum TrackSource {
    SourceUnknown = 0,
    SourceCamera = 1,
    SourceMicrophone = 2,
    SourceScreenshare = 3,
    SourceScreenshareAudio = 4,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum StreamState {
    StateUnknown = 0,
    StateActive = 1,
    StatePaused = 2,
}
