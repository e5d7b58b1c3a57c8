//! `room.proto`.

use super::{
    FfiOwnedHandle, OwnedParticipant, OwnedTextStreamReader, OwnedTrack, OwnedTrackPublication,
    TrackSource,
};

/// Carries the access token: its `Debug` is written by hand and leaves the token out.
#[derive(Clone, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub struct ConnectRequest {
    #[prost(string, required, tag = "1")]
    pub url: String,
    #[prost(string, required, tag = "2")]
    pub token: String,
    #[prost(message, required, tag = "3")]
    pub options: RoomOptions,
    #[prost(uint64, optional, tag = "4")]
    pub request_async_id: Option<u64>,
}

impl std::fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectRequest")
            .field("url", &crate::error::redact_url(&self.url))
            .field("token", &"<redacted>")
            .field("options", &self.options)
            .field("request_async_id", &self.request_async_id)
            .finish()
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ConnectResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(PartialEq, prost::Message)]
pub struct ConnectCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(oneof = "connect_callback::Message", tags = "2, 3")]
    pub message: Option<connect_callback::Message>,
}

pub mod connect_callback {
    use super::{OwnedParticipant, OwnedRoom, OwnedTrackPublication};

    #[derive(PartialEq, prost::Message)]
    pub struct ParticipantWithTracks {
        #[prost(message, required, tag = "1")]
        pub participant: OwnedParticipant,
        #[prost(message, repeated, tag = "2")]
        pub publications: Vec<OwnedTrackPublication>,
    }

    #[derive(PartialEq, prost::Message)]
    pub struct Result {
        #[prost(message, required, tag = "1")]
        pub room: OwnedRoom,
        #[prost(message, required, tag = "2")]
        pub local_participant: OwnedParticipant,
        #[prost(message, repeated, tag = "3")]
        pub participants: Vec<ParticipantWithTracks>,
    }

    #[derive(PartialEq, prost::Oneof)]
    pub enum Message {
        #[prost(string, tag = "2")]
        Error(String),
        #[prost(message, tag = "3")]
        Result(Result),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DisconnectRequest {
    #[prost(uint64, required, tag = "1")]
    pub room_handle: u64,
    #[prost(uint64, optional, tag = "2")]
    pub request_async_id: Option<u64>,
    #[prost(enumeration = "super::DisconnectReason", optional, tag = "3")]
    pub reason: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DisconnectResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DisconnectCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PublishTrackRequest {
    #[prost(uint64, required, tag = "1")]
    pub local_participant_handle: u64,
    #[prost(uint64, required, tag = "2")]
    pub track_handle: u64,
    #[prost(message, required, tag = "3")]
    pub options: TrackPublishOptions,
    #[prost(uint64, optional, tag = "4")]
    pub request_async_id: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PublishTrackResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(PartialEq, prost::Message)]
pub struct PublishTrackCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(oneof = "publish_track_callback::Message", tags = "2, 3")]
    pub message: Option<publish_track_callback::Message>,
}

pub mod publish_track_callback {
    #[derive(PartialEq, prost::Oneof)]
    pub enum Message {
        #[prost(string, tag = "2")]
        Error(String),
        #[prost(message, tag = "3")]
        Publication(super::OwnedTrackPublication),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadyForRoomEventRequest {
    #[prost(uint64, required, tag = "1")]
    pub room_handle: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadyForRoomEventResponse {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct UnpublishTrackRequest {
    #[prost(uint64, required, tag = "1")]
    pub local_participant_handle: u64,
    #[prost(string, required, tag = "2")]
    pub track_sid: String,
    #[prost(bool, required, tag = "3")]
    pub stop_on_unpublish: bool,
    #[prost(uint64, optional, tag = "4")]
    pub request_async_id: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct UnpublishTrackResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct UnpublishTrackCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(string, optional, tag = "2")]
    pub error: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PublishDataRequest {
    #[prost(uint64, required, tag = "1")]
    pub local_participant_handle: u64,
    #[prost(uint64, required, tag = "2")]
    pub data_ptr: u64,
    #[prost(uint64, required, tag = "3")]
    pub data_len: u64,
    #[prost(bool, required, tag = "4")]
    pub reliable: bool,
    #[prost(string, optional, tag = "6")]
    pub topic: Option<String>,
    #[prost(string, repeated, tag = "7")]
    pub destination_identities: Vec<String>,
    #[prost(uint64, optional, tag = "8")]
    pub request_async_id: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PublishDataResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PublishDataCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(string, optional, tag = "2")]
    pub error: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SetLocalAttributesRequest {
    #[prost(uint64, required, tag = "1")]
    pub local_participant_handle: u64,
    #[prost(message, repeated, tag = "2")]
    pub attributes: Vec<AttributesEntry>,
    #[prost(uint64, optional, tag = "3")]
    pub request_async_id: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributesEntry {
    #[prost(string, required, tag = "1")]
    pub key: String,
    #[prost(string, required, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SetLocalAttributesResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SetLocalAttributesCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(string, optional, tag = "2")]
    pub error: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AudioEncoding {
    #[prost(uint64, required, tag = "1")]
    pub max_bitrate: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TrackPublishOptions {
    #[prost(message, optional, tag = "2")]
    pub audio_encoding: Option<AudioEncoding>,
    #[prost(bool, optional, tag = "4")]
    pub dtx: Option<bool>,
    #[prost(bool, optional, tag = "5")]
    pub red: Option<bool>,
    #[prost(enumeration = "TrackSource", optional, tag = "7")]
    pub source: Option<i32>,
    #[prost(string, optional, tag = "8")]
    pub stream: Option<String>,
    #[prost(bool, optional, tag = "9")]
    pub preconnect_buffer: Option<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct RoomOptions {
    #[prost(bool, optional, tag = "1")]
    pub auto_subscribe: Option<bool>,
    #[prost(bool, optional, tag = "2")]
    pub adaptive_stream: Option<bool>,
    #[prost(bool, optional, tag = "3")]
    pub dynacast: Option<bool>,
    #[prost(uint32, optional, tag = "6")]
    pub join_retries: Option<u32>,
    #[prost(bool, optional, tag = "8")]
    pub single_peer_connection: Option<bool>,
    #[prost(uint64, optional, tag = "9")]
    pub connect_timeout_ms: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BufferInfo {
    #[prost(uint64, required, tag = "1")]
    pub data_ptr: u64,
    #[prost(uint64, required, tag = "2")]
    pub data_len: u64,
}

#[derive(PartialEq, prost::Message)]
pub struct OwnedBuffer {
    #[prost(message, required, tag = "1")]
    pub handle: FfiOwnedHandle,
    #[prost(message, required, tag = "2")]
    pub data: BufferInfo,
}

#[derive(PartialEq, prost::Message)]
pub struct RoomEvent {
    #[prost(uint64, required, tag = "1")]
    pub room_handle: u64,
    #[prost(
        oneof = "room_event::Message",
        tags = "2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 17, 18, 19, 20, 21, 22, 23, 24, 26, 27, 35"
    )]
    pub message: Option<room_event::Message>,
}

pub mod room_event {
    #[derive(PartialEq, prost::Oneof)]
    pub enum Message {
        #[prost(message, tag = "2")]
        ParticipantConnected(super::ParticipantConnected),
        #[prost(message, tag = "3")]
        ParticipantDisconnected(super::ParticipantDisconnected),
        #[prost(message, tag = "7")]
        TrackPublished(super::TrackPublished),
        #[prost(message, tag = "8")]
        TrackUnpublished(super::TrackUnpublished),
        #[prost(message, tag = "9")]
        TrackSubscribed(super::TrackSubscribed),
        #[prost(message, tag = "10")]
        TrackUnsubscribed(super::TrackUnsubscribed),
        #[prost(message, tag = "11")]
        TrackSubscriptionFailed(super::TrackSubscriptionFailed),
        #[prost(message, tag = "12")]
        TrackMuted(super::TrackMuted),
        #[prost(message, tag = "13")]
        TrackUnmuted(super::TrackUnmuted),
        #[prost(message, tag = "14")]
        ActiveSpeakersChanged(super::ActiveSpeakersChanged),
        #[prost(message, tag = "17")]
        ParticipantMetadataChanged(super::ParticipantMetadataChanged),
        #[prost(message, tag = "18")]
        ParticipantNameChanged(super::ParticipantNameChanged),
        #[prost(message, tag = "19")]
        ParticipantAttributesChanged(super::ParticipantAttributesChanged),
        #[prost(message, tag = "20")]
        ConnectionQualityChanged(super::ConnectionQualityChanged),
        #[prost(message, tag = "21")]
        ConnectionStateChanged(super::ConnectionStateChanged),
        #[prost(message, tag = "22")]
        Disconnected(super::Disconnected),
        #[prost(message, tag = "23")]
        Reconnecting(super::Reconnecting),
        #[prost(message, tag = "24")]
        Reconnected(super::Reconnected),
        #[prost(message, tag = "26")]
        Eos(super::RoomEos),
        #[prost(message, tag = "27")]
        DataPacketReceived(super::DataPacketReceived),
        #[prost(message, tag = "35")]
        TextStreamOpened(super::TextStreamOpened),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct RoomInfo {
    #[prost(string, optional, tag = "1")]
    pub sid: Option<String>,
    #[prost(string, required, tag = "2")]
    pub name: String,
    #[prost(string, required, tag = "3")]
    pub metadata: String,
}

#[derive(PartialEq, prost::Message)]
pub struct OwnedRoom {
    #[prost(message, required, tag = "1")]
    pub handle: FfiOwnedHandle,
    #[prost(message, required, tag = "2")]
    pub info: RoomInfo,
}

#[derive(PartialEq, prost::Message)]
pub struct ParticipantConnected {
    #[prost(message, required, tag = "1")]
    pub info: OwnedParticipant,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ParticipantDisconnected {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(enumeration = "super::DisconnectReason", required, tag = "2")]
    pub disconnect_reason: i32,
}

#[derive(PartialEq, prost::Message)]
pub struct TrackPublished {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(message, required, tag = "2")]
    pub publication: OwnedTrackPublication,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TrackUnpublished {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(string, required, tag = "2")]
    pub publication_sid: String,
}

#[derive(PartialEq, prost::Message)]
pub struct TrackSubscribed {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(message, required, tag = "2")]
    pub track: OwnedTrack,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TrackUnsubscribed {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(string, required, tag = "2")]
    pub track_sid: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TrackSubscriptionFailed {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(string, required, tag = "2")]
    pub track_sid: String,
    #[prost(string, required, tag = "3")]
    pub error: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TrackMuted {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(string, required, tag = "2")]
    pub track_sid: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TrackUnmuted {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(string, required, tag = "2")]
    pub track_sid: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ActiveSpeakersChanged {
    #[prost(string, repeated, tag = "1")]
    pub participant_identities: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ParticipantMetadataChanged {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(string, required, tag = "2")]
    pub metadata: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ParticipantAttributesChanged {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(message, repeated, tag = "2")]
    pub attributes: Vec<AttributesEntry>,
    #[prost(message, repeated, tag = "3")]
    pub changed_attributes: Vec<AttributesEntry>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ParticipantNameChanged {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(string, required, tag = "2")]
    pub name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ConnectionQualityChanged {
    #[prost(string, required, tag = "1")]
    pub participant_identity: String,
    #[prost(enumeration = "ConnectionQuality", required, tag = "2")]
    pub quality: i32,
}

#[derive(PartialEq, prost::Message)]
pub struct UserPacket {
    #[prost(message, required, tag = "1")]
    pub data: OwnedBuffer,
    #[prost(string, optional, tag = "2")]
    pub topic: Option<String>,
}

#[derive(PartialEq, prost::Message)]
pub struct DataPacketReceived {
    #[prost(enumeration = "DataPacketKind", required, tag = "1")]
    pub kind: i32,
    #[prost(string, required, tag = "2")]
    pub participant_identity: String,
    #[prost(oneof = "data_packet_received::Value", tags = "4")]
    pub value: Option<data_packet_received::Value>,
}

pub mod data_packet_received {
    #[derive(PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(message, tag = "4")]
        User(super::UserPacket),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ConnectionStateChanged {
    #[prost(enumeration = "ConnectionState", required, tag = "1")]
    pub state: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Disconnected {
    #[prost(enumeration = "super::DisconnectReason", required, tag = "1")]
    pub reason: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Reconnecting {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Reconnected {}

/// `RoomEOS`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RoomEos {}

#[derive(PartialEq, prost::Message)]
pub struct TextStreamOpened {
    #[prost(message, required, tag = "1")]
    pub reader: OwnedTextStreamReader,
    #[prost(string, required, tag = "2")]
    pub participant_identity: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ConnectionQuality {
    QualityPoor = 0,
    QualityGood = 1,
    QualityExcellent = 2,
    QualityLost = 3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ConnectionState {
    ConnDisconnected = 0,
    ConnConnected = 1,
    ConnReconnecting = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DataPacketKind {
    KindLossy = 0,
    KindReliable = 1,
}
