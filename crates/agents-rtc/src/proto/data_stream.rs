//! `data_stream.proto`.

use std::collections::HashMap;

use super::FfiOwnedHandle;

#[derive(PartialEq, prost::Message)]
pub struct OwnedTextStreamReader {
    #[prost(message, required, tag = "1")]
    pub handle: FfiOwnedHandle,
    #[prost(message, required, tag = "2")]
    pub info: TextStreamInfo,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamReaderReadIncrementalRequest {
    #[prost(uint64, required, tag = "1")]
    pub reader_handle: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamReaderReadIncrementalResponse {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamReaderReadAllRequest {
    #[prost(uint64, required, tag = "1")]
    pub reader_handle: u64,
    #[prost(uint64, optional, tag = "2")]
    pub request_async_id: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamReaderReadAllResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamReaderReadAllCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(oneof = "text_stream_reader_read_all_callback::Result", tags = "2, 3")]
    pub result: Option<text_stream_reader_read_all_callback::Result>,
}

pub mod text_stream_reader_read_all_callback {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Result {
        #[prost(string, tag = "2")]
        Content(String),
        #[prost(message, tag = "3")]
        Error(super::StreamError),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamReaderEvent {
    #[prost(uint64, required, tag = "1")]
    pub reader_handle: u64,
    #[prost(oneof = "text_stream_reader_event::Detail", tags = "2, 3")]
    pub detail: Option<text_stream_reader_event::Detail>,
}

pub mod text_stream_reader_event {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Detail {
        #[prost(message, tag = "2")]
        ChunkReceived(super::TextStreamReaderChunkReceived),
        #[prost(message, tag = "3")]
        Eos(super::TextStreamReaderEos),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamReaderChunkReceived {
    #[prost(string, required, tag = "1")]
    pub content: String,
}

/// `TextStreamReaderEOS`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamReaderEos {
    #[prost(message, optional, tag = "1")]
    pub error: Option<StreamError>,
    #[prost(map = "string, string", tag = "2")]
    pub attributes: HashMap<String, String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamSendTextRequest {
    #[prost(uint64, required, tag = "1")]
    pub local_participant_handle: u64,
    #[prost(message, required, tag = "2")]
    pub options: StreamTextOptions,
    #[prost(string, required, tag = "3")]
    pub text: String,
    #[prost(uint64, optional, tag = "4")]
    pub request_async_id: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamSendTextResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamSendTextCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(oneof = "stream_send_text_callback::Result", tags = "2, 3")]
    pub result: Option<stream_send_text_callback::Result>,
}

pub mod stream_send_text_callback {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Result {
        #[prost(message, tag = "2")]
        Info(super::TextStreamInfo),
        #[prost(message, tag = "3")]
        Error(super::StreamError),
    }
}

#[derive(PartialEq, prost::Message)]
pub struct OwnedTextStreamWriter {
    #[prost(message, required, tag = "1")]
    pub handle: FfiOwnedHandle,
    #[prost(message, required, tag = "2")]
    pub info: TextStreamInfo,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamOpenRequest {
    #[prost(uint64, required, tag = "1")]
    pub local_participant_handle: u64,
    #[prost(message, required, tag = "2")]
    pub options: StreamTextOptions,
    #[prost(uint64, optional, tag = "3")]
    pub request_async_id: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamOpenResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(PartialEq, prost::Message)]
pub struct TextStreamOpenCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(oneof = "text_stream_open_callback::Result", tags = "2, 3")]
    pub result: Option<text_stream_open_callback::Result>,
}

pub mod text_stream_open_callback {
    #[derive(PartialEq, prost::Oneof)]
    pub enum Result {
        #[prost(message, tag = "2")]
        Writer(super::OwnedTextStreamWriter),
        #[prost(message, tag = "3")]
        Error(super::StreamError),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamWriterWriteRequest {
    #[prost(uint64, required, tag = "1")]
    pub writer_handle: u64,
    #[prost(string, required, tag = "2")]
    pub text: String,
    #[prost(uint64, optional, tag = "3")]
    pub request_async_id: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamWriterWriteResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamWriterWriteCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(message, optional, tag = "2")]
    pub error: Option<StreamError>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamWriterCloseRequest {
    #[prost(uint64, required, tag = "1")]
    pub writer_handle: u64,
    #[prost(string, optional, tag = "2")]
    pub reason: Option<String>,
    #[prost(uint64, optional, tag = "3")]
    pub request_async_id: Option<u64>,
    #[prost(map = "string, string", tag = "4")]
    pub attributes: HashMap<String, String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamWriterCloseResponse {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamWriterCloseCallback {
    #[prost(uint64, required, tag = "1")]
    pub async_id: u64,
    #[prost(message, optional, tag = "2")]
    pub error: Option<StreamError>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TextStreamInfo {
    #[prost(string, required, tag = "1")]
    pub stream_id: String,
    #[prost(int64, required, tag = "2")]
    pub timestamp: i64,
    #[prost(string, required, tag = "3")]
    pub mime_type: String,
    #[prost(string, required, tag = "4")]
    pub topic: String,
    #[prost(uint64, optional, tag = "5")]
    pub total_length: Option<u64>,
    #[prost(map = "string, string", tag = "6")]
    pub attributes: HashMap<String, String>,
    #[prost(enumeration = "text_stream_info::OperationType", required, tag = "7")]
    pub operation_type: i32,
    #[prost(int32, optional, tag = "8")]
    pub version: Option<i32>,
    #[prost(string, optional, tag = "9")]
    pub reply_to_stream_id: Option<String>,
    #[prost(string, repeated, tag = "10")]
    pub attached_stream_ids: Vec<String>,
    #[prost(bool, optional, tag = "11")]
    pub generated: Option<bool>,
}

pub mod text_stream_info {
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum OperationType {
        Create = 0,
        Update = 1,
        Delete = 2,
        Reaction = 3,
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamTextOptions {
    #[prost(string, required, tag = "1")]
    pub topic: String,
    #[prost(map = "string, string", tag = "2")]
    pub attributes: HashMap<String, String>,
    #[prost(string, repeated, tag = "3")]
    pub destination_identities: Vec<String>,
    #[prost(string, optional, tag = "4")]
    pub id: Option<String>,
    #[prost(enumeration = "text_stream_info::OperationType", optional, tag = "5")]
    pub operation_type: Option<i32>,
    #[prost(int32, optional, tag = "6")]
    pub version: Option<i32>,
    #[prost(string, optional, tag = "7")]
    pub reply_to_stream_id: Option<String>,
    #[prost(string, repeated, tag = "8")]
    pub attached_stream_ids: Vec<String>,
    #[prost(bool, optional, tag = "9")]
    pub generated: Option<bool>,
    #[prost(bool, optional, tag = "10")]
    pub compress: Option<bool>,
    #[prost(string, optional, tag = "11")]
    pub sender_identity: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamError {
    #[prost(string, required, tag = "1")]
    pub description: String,
}
