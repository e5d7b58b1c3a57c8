//! Tracks and publications.

use std::sync::Arc;

use crate::audio::AudioSource;
use crate::client::{self, unexpected};
use crate::error::RtcError;
use crate::proto::{self, FfiOwnedHandle, ffi_request, ffi_response};

/// Where a track comes from (Python's `TrackSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackSource {
    /// Unknown.
    Unknown,
    /// A camera.
    Camera,
    /// A microphone (an agent's voice is published as one).
    Microphone,
    /// A screen share.
    Screenshare,
    /// A screen share's audio.
    ScreenshareAudio,
}

impl TrackSource {
    pub(crate) fn to_proto(self) -> proto::TrackSource {
        match self {
            Self::Unknown => proto::TrackSource::SourceUnknown,
            Self::Camera => proto::TrackSource::SourceCamera,
            Self::Microphone => proto::TrackSource::SourceMicrophone,
            Self::Screenshare => proto::TrackSource::SourceScreenshare,
            Self::ScreenshareAudio => proto::TrackSource::SourceScreenshareAudio,
        }
    }

    pub(crate) fn from_proto(value: i32) -> Self {
        match proto::TrackSource::try_from(value) {
            Ok(proto::TrackSource::SourceCamera) => Self::Camera,
            Ok(proto::TrackSource::SourceMicrophone) => Self::Microphone,
            Ok(proto::TrackSource::SourceScreenshare) => Self::Screenshare,
            Ok(proto::TrackSource::SourceScreenshareAudio) => Self::ScreenshareAudio,
            _ => Self::Unknown,
        }
    }
}

/// A track's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackKind {
    /// Unknown.
    Unknown,
    /// Audio.
    Audio,
    /// Video.
    Video,
}

impl TrackKind {
    fn from_proto(value: i32) -> Self {
        match proto::TrackKind::try_from(value) {
            Ok(proto::TrackKind::KindAudio) => Self::Audio,
            Ok(proto::TrackKind::KindVideo) => Self::Video,
            _ => Self::Unknown,
        }
    }
}

/// An audio track published from an [`AudioSource`] (Python's `rtc.LocalAudioTrack`).
#[derive(Debug, Clone)]
pub struct LocalAudioTrack {
    handle: Arc<FfiOwnedHandle>,
    sid: String,
    name: String,
}

impl LocalAudioTrack {
    /// A track named `name` playing `source` (Python's `create_audio_track`).
    pub fn create_audio_track(name: &str, source: &AudioSource) -> Result<Self, RtcError> {
        let message = ffi_request::Message::CreateAudioTrack(proto::CreateAudioTrackRequest {
            name: name.to_owned(),
            source_handle: source.handle_id(),
        });
        match client::request("create_audio_track", message)? {
            ffi_response::Message::CreateAudioTrack(response) => {
                let track = response.track;
                Ok(Self {
                    handle: Arc::new(track.handle),
                    sid: track.info.sid,
                    name: track.info.name,
                })
            }
            _ => Err(unexpected("create_audio_track")),
        }
    }

    /// The track's sid (assigned by the server once published).
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The track's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn handle_id(&self) -> u64 {
        self.handle.id
    }
}

/// A remote participant's track, once subscribed (Python's `rtc.RemoteTrack`).
#[derive(Debug, Clone)]
pub struct RemoteTrack {
    handle: Arc<FfiOwnedHandle>,
    sid: String,
    name: String,
    kind: TrackKind,
    muted: bool,
}

impl RemoteTrack {
    pub(crate) fn from_owned(track: proto::OwnedTrack) -> Self {
        Self {
            handle: Arc::new(track.handle),
            sid: track.info.sid,
            name: track.info.name,
            kind: TrackKind::from_proto(track.info.kind),
            muted: track.info.muted,
        }
    }

    /// The track's sid.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The track's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Audio or video.
    pub fn kind(&self) -> TrackKind {
        self.kind
    }

    /// Whether it was muted when subscribed.
    pub fn muted(&self) -> bool {
        self.muted
    }

    pub(crate) fn handle_id(&self) -> u64 {
        self.handle.id
    }
}

/// A track publication: a track as announced in the room (Python's `TrackPublication`).
#[derive(Debug, Clone)]
pub struct TrackPublication {
    _handle: Arc<FfiOwnedHandle>,
    sid: String,
    name: String,
    kind: TrackKind,
    source: TrackSource,
    muted: bool,
}

impl TrackPublication {
    pub(crate) fn from_owned(publication: proto::OwnedTrackPublication) -> Self {
        let info = publication.info;
        Self {
            _handle: Arc::new(publication.handle),
            sid: info.sid,
            name: info.name,
            kind: TrackKind::from_proto(info.kind),
            source: TrackSource::from_proto(info.source),
            muted: info.muted,
        }
    }

    /// The track's sid.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The track's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Audio or video.
    pub fn kind(&self) -> TrackKind {
        self.kind
    }

    /// Microphone, camera, …
    pub fn source(&self) -> TrackSource {
        self.source
    }

    /// Whether it was muted when announced.
    pub fn muted(&self) -> bool {
        self.muted
    }
}

/// Options of [`LocalParticipant::publish_track`](crate::LocalParticipant::publish_track),
/// with the library's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackPublishOptions {
    /// What the track is ([`TrackSource::Unknown`], as in Python; an agent's voice is
    /// [`TrackSource::Microphone`]).
    pub source: TrackSource,
    /// Opus discontinuous transmission; `None` for the library's default (on).
    pub dtx: Option<bool>,
    /// Redundant audio encoding; `None` for the library's default (on).
    pub red: Option<bool>,
    /// The encoder's maximum bitrate in bits per second; `None` for the library's.
    pub audio_max_bitrate: Option<u64>,
    /// The media stream the track belongs to; `None` for the library's.
    pub stream: Option<String>,
}

impl Default for TrackPublishOptions {
    fn default() -> Self {
        Self {
            source: TrackSource::Unknown,
            dtx: None,
            red: None,
            audio_max_bitrate: None,
            stream: None,
        }
    }
}

impl TrackPublishOptions {
    pub(crate) fn to_proto(&self) -> proto::TrackPublishOptions {
        proto::TrackPublishOptions {
            audio_encoding: self
                .audio_max_bitrate
                .map(|max_bitrate| proto::AudioEncoding { max_bitrate }),
            dtx: self.dtx,
            red: self.red,
            source: Some(self.source.to_proto() as i32),
            stream: self.stream.clone(),
            preconnect_buffer: None,
        }
    }
}
