//! `audio_frame.proto`.

use super::{FfiOwnedHandle, TrackSource};

#[derive(Clone, PartialEq, prost::Message)]
pub struct NewAudioStreamRequest {
    #[prost(uint64, required, tag = "1")]
    pub track_handle: u64,
    #[prost(enumeration = "AudioStreamType", required, tag = "2")]
    pub r#type: i32,
    #[prost(uint32, optional, tag = "3")]
    pub sample_rate: Option<u32>,
    #[prost(uint32, optional, tag = "4")]
    pub num_channels: Option<u32>,
    #[prost(uint32, optional, tag = "7")]
    pub frame_size_ms: Option<u32>,
    #[prost(uint32, optional, tag = "8")]
    pub queue_size_frames: Option<u32>,
}

#[derive(PartialEq, prost::Message)]
pub struct NewAudioStreamResponse {
    #[prost(message, required, tag = "1")]
    pub stream: OwnedAudioStream,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AudioStreamFromParticipantRequest {
    #[prost(uint64, required, tag = "1")]
    pub participant_handle: u64,
    #[prost(enumeration = "AudioStreamType", required, tag = "2")]
    pub r#type: i32,
    #[prost(enumeration = "TrackSource", optional, tag = "3")]
    pub track_source: Option<i32>,
    #[prost(uint32, optional, tag = "5")]
    pub sample_rate: Option<u32>,
    #[prost(uint32, optional, tag = "6")]
    pub num_channels: Option<u32>,
    #[prost(uint32, optional, tag = "9")]
    pub frame_size_ms: Option<u32>,
    #[prost(uint32, optional, tag = "10")]
    pub queue_size_frames: Option<u32>,
}

#[derive(PartialEq, prost::Message)]
pub struct AudioStreamFromParticipantResponse {
    #[prost(message, required, tag = "1")]
    pub stream: OwnedAudioStream,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct NewAudioSourceRequest {
    #[prost(enumeration = "AudioSourceType", required, tag = "1")]
    pub r#type: i32,
    #[prost(message, optional, tag = "2")]
    pub options: Option<AudioSourceOptions>,
    #[prost(uint32, optional, tag = "3")]
    pub sample_rate: Option<u32>,
    #[prost(uint32, optional, tag = "4")]
    pub num_channels: Option<u32>,
    #[prost(uint32, optional, tag = "5")]
    pub queue_size_ms: Option<u32>,
}

#[derive(PartialEq, prost::Message)]
pub struct NewAudioSourceResponse {
    #[prost(message, required, tag = "1")]
    pub source: OwnedAudioSource,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CaptureAudioFrameRequest {
    #[prost(uint64, required, tag = "1")]
    pub source_handle: u64,
    #[prost(message, required, tag = "2")]
    pub buffer: AudioFrameBufferInfo,
    #[prost(uint64, optional, tag = "3")]
    pub request_async_id: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CaptureAudioFrameResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CaptureAudioFrameCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(string, optional, tag = "2")]
    pub error: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ClearAudioBufferRequest {
    #[prost(uint64, required, tag = "1")]
    pub source_handle: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ClearAudioBufferResponse {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AudioFrameBufferInfo {
    #[prost(uint64, required, tag = "1")]
    pub data_ptr: u64,
    #[prost(uint32, required, tag = "2")]
    pub num_channels: u32,
    #[prost(uint32, required, tag = "3")]
    pub sample_rate: u32,
    #[prost(uint32, required, tag = "4")]
    pub samples_per_channel: u32,
}

#[derive(PartialEq, prost::Message)]
pub struct OwnedAudioFrameBuffer {
    #[prost(message, required, tag = "1")]
    pub handle: FfiOwnedHandle,
    #[prost(message, required, tag = "2")]
    pub info: AudioFrameBufferInfo,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AudioStreamInfo {
    #[prost(enumeration = "AudioStreamType", required, tag = "1")]
    pub r#type: i32,
}

#[derive(PartialEq, prost::Message)]
pub struct OwnedAudioStream {
    #[prost(message, required, tag = "1")]
    pub handle: FfiOwnedHandle,
    #[prost(message, required, tag = "2")]
    pub info: AudioStreamInfo,
}

#[derive(PartialEq, prost::Message)]
pub struct AudioStreamEvent {
    #[prost(uint64, required, tag = "1")]
    pub stream_handle: u64,
    #[prost(oneof = "audio_stream_event::Message", tags = "2, 3")]
    pub message: Option<audio_stream_event::Message>,
}

pub mod audio_stream_event {
    #[derive(PartialEq, prost::Oneof)]
    pub enum Message {
        #[prost(message, tag = "2")]
        FrameReceived(super::AudioFrameReceived),
        #[prost(message, tag = "3")]
        Eos(super::AudioStreamEos),
    }
}

#[derive(PartialEq, prost::Message)]
pub struct AudioFrameReceived {
    #[prost(message, required, tag = "1")]
    pub frame: OwnedAudioFrameBuffer,
}

/// `AudioStreamEOS`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AudioStreamEos {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AudioSourceOptions {
    #[prost(bool, required, tag = "1")]
    pub echo_cancellation: bool,
    #[prost(bool, required, tag = "2")]
    pub noise_suppression: bool,
    #[prost(bool, required, tag = "3")]
    pub auto_gain_control: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AudioSourceInfo {
    #[prost(enumeration = "AudioSourceType", required, tag = "2")]
    pub r#type: i32,
}

#[derive(PartialEq, prost::Message)]
pub struct OwnedAudioSource {
    #[prost(message, required, tag = "1")]
    pub handle: FfiOwnedHandle,
    #[prost(message, required, tag = "2")]
    pub info: AudioSourceInfo,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum AudioStreamType {
    AudioStreamNative = 0,
    AudioStreamHtml = 1,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum AudioSourceType {
    AudioSourceNative = 0,
    AudioSourcePlatform = 1,
}
