//! The local participant (us) and remote participants.

use std::collections::HashMap;
use std::sync::Arc;

use crate::client::{self, check, unexpected};
use crate::data_stream::{self, StreamTextOptions, TextStreamInfo, TextStreamWriter};
use crate::dispatch;
use crate::error::RtcError;
use crate::proto::{self, FfiOwnedHandle, ffi_event, ffi_response, publish_track_callback};
use crate::sys;
use crate::track::{LocalAudioTrack, TrackPublication, TrackPublishOptions};

/// What a participant is (Python's `ParticipantKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParticipantKind {
    /// A person's client.
    Standard,
    /// An ingress.
    Ingress,
    /// An egress.
    Egress,
    /// A phone call.
    Sip,
    /// An agent.
    Agent,
    /// A connector.
    Connector,
    /// A bridge.
    Bridge,
}

impl ParticipantKind {
    fn from_proto(value: i32) -> Self {
        use proto::ParticipantKind as K;
        match K::try_from(value) {
            Ok(K::ParticipantKindIngress) => Self::Ingress,
            Ok(K::ParticipantKindEgress) => Self::Egress,
            Ok(K::ParticipantKindSip) => Self::Sip,
            Ok(K::ParticipantKindAgent) => Self::Agent,
            Ok(K::ParticipantKindConnector) => Self::Connector,
            Ok(K::ParticipantKindBridge) => Self::Bridge,
            _ => Self::Standard,
        }
    }
}

/// A participant's details when they were last reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParticipantInfo {
    /// The server's id for this participant (`PA_…`).
    pub sid: String,
    /// The participant's identity (unique in the room).
    pub identity: String,
    /// Its display name.
    pub name: String,
    /// Its metadata.
    pub metadata: String,
    /// Its attributes (e.g. `lk.agent.state`).
    pub attributes: HashMap<String, String>,
    /// What it is.
    pub kind: ParticipantKind,
}

impl ParticipantInfo {
    pub(crate) fn from_proto(info: proto::ParticipantInfo) -> Self {
        Self {
            sid: info.sid,
            identity: info.identity,
            name: info.name,
            metadata: info.metadata,
            attributes: info.attributes,
            kind: ParticipantKind::from_proto(info.kind),
        }
    }
}

/// Another participant in the room (Python's `rtc.RemoteParticipant`).
#[derive(Debug, Clone)]
pub struct RemoteParticipant {
    handle: Arc<FfiOwnedHandle>,
    info: ParticipantInfo,
}

impl RemoteParticipant {
    pub(crate) fn from_owned(participant: proto::OwnedParticipant) -> Self {
        Self {
            handle: Arc::new(participant.handle),
            info: ParticipantInfo::from_proto(participant.info),
        }
    }

    /// Its details, as of when this value was made.
    pub fn info(&self) -> &ParticipantInfo {
        &self.info
    }

    /// Its identity.
    pub fn identity(&self) -> &str {
        &self.info.identity
    }

    pub(crate) fn info_mut(&mut self) -> &mut ParticipantInfo {
        &mut self.info
    }

    pub(crate) fn handle_id(&self) -> u64 {
        self.handle.id
    }
}

/// Options of [`LocalParticipant::publish_data`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataPublishOptions {
    /// Reliable (ordered, retransmitted) or lossy delivery (reliable, as in Python).
    pub reliable: bool,
    /// The packet's topic.
    pub topic: Option<String>,
    /// Who receives it; empty for everyone.
    pub destination_identities: Vec<String>,
}

impl Default for DataPublishOptions {
    fn default() -> Self {
        Self { reliable: true, topic: None, destination_identities: Vec::new() }
    }
}

/// This client in the room (Python's `rtc.LocalParticipant`). Clones share it.
#[derive(Debug, Clone)]
pub struct LocalParticipant {
    handle: Arc<FfiOwnedHandle>,
    info: Arc<ParticipantInfo>,
}

impl LocalParticipant {
    pub(crate) fn from_owned(participant: proto::OwnedParticipant) -> Self {
        Self {
            handle: Arc::new(participant.handle),
            info: Arc::new(ParticipantInfo::from_proto(participant.info)),
        }
    }

    /// Our identity.
    pub fn identity(&self) -> &str {
        &self.info.identity
    }

    /// Our sid.
    pub fn sid(&self) -> &str {
        &self.info.sid
    }

    /// Publishes `track`; returns once the server acknowledged it.
    pub async fn publish_track(
        &self,
        track: &LocalAudioTrack,
        options: TrackPublishOptions,
    ) -> Result<TrackPublication, RtcError> {
        let (participant, track_handle) = (self.handle.id, track.handle_id());
        let reply = client::request_async("publish_track", |async_id| {
            proto::ffi_request::Message::PublishTrack(proto::PublishTrackRequest {
                local_participant_handle: participant,
                track_handle,
                options: options.to_proto(),
                request_async_id: Some(async_id),
            })
        })
        .await?;
        match reply {
            ffi_event::Message::PublishTrack(callback) => match callback.message {
                Some(publish_track_callback::Message::Publication(publication)) => {
                    Ok(TrackPublication::from_owned(publication))
                }
                Some(publish_track_callback::Message::Error(message)) => {
                    Err(RtcError::Failed { operation: "publish_track", message })
                }
                None => Err(unexpected("publish_track")),
            },
            _ => Err(unexpected("publish_track")),
        }
    }

    /// Unpublishes the track with sid `track_sid`.
    pub async fn unpublish_track(&self, track_sid: &str) -> Result<(), RtcError> {
        let participant = self.handle.id;
        let reply = client::request_async("unpublish_track", |async_id| {
            proto::ffi_request::Message::UnpublishTrack(proto::UnpublishTrackRequest {
                local_participant_handle: participant,
                track_sid: track_sid.to_owned(),
                stop_on_unpublish: true,
                request_async_id: Some(async_id),
            })
        })
        .await?;
        match reply {
            ffi_event::Message::UnpublishTrack(callback) => {
                check("unpublish_track", callback.error)
            }
            _ => Err(unexpected("unpublish_track")),
        }
    }

    /// Sets our attributes (merged with the current ones; an empty value removes a key),
    /// e.g. `lk.agent.state`.
    pub async fn set_attributes(
        &self,
        attributes: HashMap<String, String>,
    ) -> Result<(), RtcError> {
        let participant = self.handle.id;
        let mut entries: Vec<_> = attributes
            .into_iter()
            .map(|(key, value)| proto::AttributesEntry { key, value })
            .collect();
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        let reply = client::request_async("set_local_attributes", |async_id| {
            proto::ffi_request::Message::SetLocalAttributes(proto::SetLocalAttributesRequest {
                local_participant_handle: participant,
                attributes: entries,
                request_async_id: Some(async_id),
            })
        })
        .await?;
        match reply {
            ffi_event::Message::SetLocalAttributes(callback) => {
                check("set_local_attributes", callback.error)
            }
            _ => Err(unexpected("set_local_attributes")),
        }
    }

    /// Sends a data packet.
    pub async fn publish_data(
        &self,
        payload: &[u8],
        options: DataPublishOptions,
    ) -> Result<(), RtcError> {
        if let Some(message) = dispatch::dispatcher().fatal() {
            return Err(RtcError::Fatal { message });
        }
        let library = client::library()?;
        let waiter = client::Waiter::new("publish_data");
        let request = proto::PublishDataRequest {
            local_participant_handle: self.handle.id,
            data_ptr: 0,
            data_len: 0,
            reliable: options.reliable,
            topic: options.topic,
            destination_identities: options.destination_identities,
            request_async_id: Some(waiter.async_id()),
        };
        match client::answer("publish_data", sys::publish_data(library, request, payload))? {
            ffi_response::Message::PublishData(_) => {}
            _ => return Err(unexpected("publish_data")),
        }
        match waiter.wait().await? {
            ffi_event::Message::PublishData(callback) => check("publish_data", callback.error),
            _ => Err(unexpected("publish_data")),
        }
    }

    /// Sends `text` as one text stream (Python's `send_text`); the library chunks it.
    pub async fn send_text(
        &self,
        text: &str,
        options: &StreamTextOptions,
    ) -> Result<TextStreamInfo, RtcError> {
        data_stream::send_text(self.handle.id, self.identity(), text, options).await
    }

    /// Opens a text stream to write chunk by chunk (Python's `stream_text`), e.g. an
    /// agent's transcription on `lk.transcription` while it speaks.
    pub async fn stream_text(
        &self,
        options: &StreamTextOptions,
    ) -> Result<TextStreamWriter, RtcError> {
        TextStreamWriter::open(self.handle.id, self.identity(), options).await
    }
}
