//! `participant.proto`.

use std::collections::HashMap;

use super::FfiOwnedHandle;

#[derive(Clone, PartialEq, prost::Message)]
pub struct ParticipantInfo {
    #[prost(string, required, tag = "1")]
    pub sid: String,
    #[prost(string, required, tag = "2")]
    pub name: String,
    #[prost(string, required, tag = "3")]
    pub identity: String,
    #[prost(enumeration = "ParticipantState", required, tag = "4")]
    pub state: i32,
    #[prost(string, required, tag = "5")]
    pub metadata: String,
    #[prost(map = "string, string", tag = "6")]
    pub attributes: HashMap<String, String>,
    #[prost(enumeration = "ParticipantKind", required, tag = "7")]
    pub kind: i32,
    #[prost(enumeration = "DisconnectReason", required, tag = "8")]
    pub disconnect_reason: i32,
    #[prost(int64, required, tag = "9")]
    pub joined_at: i64,
}

#[derive(PartialEq, prost::Message)]
pub struct OwnedParticipant {
    #[prost(message, required, tag = "1")]
    pub handle: FfiOwnedHandle,
    #[prost(message, required, tag = "2")]
    pub info: ParticipantInfo,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ParticipantState {
    ParticipantStateJoining = 0,
    ParticipantStateJoined = 1,
    ParticipantStateActive = 2,
    ParticipantStateDisconnected = 3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ParticipantKind {
    ParticipantKindStandard = 0,
    ParticipantKindIngress = 1,
    ParticipantKindEgress = 2,
    ParticipantKindSip = 3,
    ParticipantKindAgent = 4,
    ParticipantKindConnector = 5,
    ParticipantKindBridge = 6,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DisconnectReason {
    UnknownReason = 0,
    ClientInitiated = 1,
    DuplicateIdentity = 2,
    ServerShutdown = 3,
    ParticipantRemoved = 4,
    RoomDeleted = 5,
    StateMismatch = 6,
    JoinFailure = 7,
    Migration = 8,
    SignalClose = 9,
    RoomClosed = 10,
    UserUnavailable = 11,
    UserRejected = 12,
    SipTrunkFailure = 13,
    ConnectionTimeout = 14,
    MediaFailure = 15,
    AgentError = 16,
}
