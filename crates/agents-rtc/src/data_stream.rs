//! Text streams: sent whole or chunk by chunk, received by topic (`lk.chat`,
//! `lk.transcription`).

use std::collections::HashMap;

use tokio::sync::mpsc;

use crate::client::{self, unexpected};
use crate::dispatch;
use crate::error::RtcError;
use crate::proto::{
    self, FfiOwnedHandle, ffi_event, ffi_request, ffi_response, stream_send_text_callback,
    text_stream_open_callback, text_stream_reader_event, text_stream_reader_read_all_callback,
};

/// Options of a text stream (Python's `send_text` / `stream_text` arguments).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamTextOptions {
    /// The topic receivers register for, e.g. `lk.transcription` or `lk.chat`.
    pub topic: String,
    /// The stream's attributes, e.g. `lk.transcribed_track_id`, `lk.segment_id`,
    /// `lk.transcription_final`.
    pub attributes: HashMap<String, String>,
    /// Who receives it; empty for everyone in the room.
    pub destination_identities: Vec<String>,
    /// The stream's id; `None` for a fresh one.
    pub stream_id: Option<String>,
    /// The stream this one replies to.
    pub reply_to_stream_id: Option<String>,
    /// Whose stream receivers see it as: `None` for the local participant; an agent sets
    /// the user's identity on the user's transcription (LiveKit's server keeps it on text
    /// streams from agents, and marks them as generated).
    pub sender_identity: Option<String>,
}

impl StreamTextOptions {
    /// Options for `topic`, with no attributes.
    pub fn topic(topic: impl Into<String>) -> Self {
        Self { topic: topic.into(), ..Self::default() }
    }

    /// Adds an attribute.
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// Sends the stream on behalf of `identity` (see [`sender_identity`](Self::sender_identity)).
    pub fn on_behalf_of(mut self, identity: impl Into<String>) -> Self {
        self.sender_identity = Some(identity.into());
        self
    }

    pub(crate) fn to_proto(&self, local_identity: &str) -> proto::StreamTextOptions {
        let sender_identity = self.sender_identity.as_deref().unwrap_or(local_identity);
        proto::StreamTextOptions {
            topic: self.topic.clone(),
            attributes: self.attributes.clone(),
            destination_identities: self.destination_identities.clone(),
            id: self.stream_id.clone(),
            reply_to_stream_id: self.reply_to_stream_id.clone(),
            sender_identity: Some(sender_identity.to_owned()),
            ..proto::StreamTextOptions::default()
        }
    }
}

/// What is known of a text stream when it opens (Python's `TextStreamInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TextStreamInfo {
    /// The stream's id.
    pub stream_id: String,
    /// Its topic.
    pub topic: String,
    /// When it was opened, in milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Its MIME type (`text/plain`).
    pub mime_type: String,
    /// Its attributes.
    pub attributes: HashMap<String, String>,
    /// Its total length, when the sender knew it.
    pub total_length: Option<u64>,
}

impl TextStreamInfo {
    pub(crate) fn from_proto(info: proto::TextStreamInfo) -> Self {
        Self {
            stream_id: info.stream_id,
            topic: info.topic,
            timestamp: info.timestamp,
            mime_type: info.mime_type,
            attributes: info.attributes,
            total_length: info.total_length,
        }
    }
}

pub(crate) async fn send_text(
    participant_handle: u64,
    sender_identity: &str,
    text: &str,
    options: &StreamTextOptions,
) -> Result<TextStreamInfo, RtcError> {
    let reply = client::request_async("send_text", |async_id| {
        ffi_request::Message::SendText(proto::StreamSendTextRequest {
            local_participant_handle: participant_handle,
            options: options.to_proto(sender_identity),
            text: text.to_owned(),
            request_async_id: Some(async_id),
        })
    })
    .await?;
    match reply {
        ffi_event::Message::SendText(callback) => match callback.result {
            Some(stream_send_text_callback::Result::Info(info)) => {
                Ok(TextStreamInfo::from_proto(info))
            }
            Some(stream_send_text_callback::Result::Error(error)) => {
                Err(RtcError::Failed { operation: "send_text", message: error.description })
            }
            None => Err(unexpected("send_text")),
        },
        _ => Err(unexpected("send_text")),
    }
}

/// A text stream being written, chunk by chunk (Python's `TextStreamWriter`): what an
/// agent's transcription is while it speaks.
#[derive(Debug)]
pub struct TextStreamWriter {
    handle: FfiOwnedHandle,
    info: TextStreamInfo,
}

impl TextStreamWriter {
    pub(crate) async fn open(
        participant_handle: u64,
        sender_identity: &str,
        options: &StreamTextOptions,
    ) -> Result<Self, RtcError> {
        let reply = client::request_async("text_stream_open", |async_id| {
            ffi_request::Message::TextStreamOpen(proto::TextStreamOpenRequest {
                local_participant_handle: participant_handle,
                options: options.to_proto(sender_identity),
                request_async_id: Some(async_id),
            })
        })
        .await?;
        match reply {
            ffi_event::Message::TextStreamOpen(callback) => match callback.result {
                Some(text_stream_open_callback::Result::Writer(writer)) => Ok(Self {
                    handle: writer.handle,
                    info: TextStreamInfo::from_proto(writer.info),
                }),
                Some(text_stream_open_callback::Result::Error(error)) => Err(RtcError::Failed {
                    operation: "text_stream_open",
                    message: error.description,
                }),
                None => Err(unexpected("text_stream_open")),
            },
            _ => Err(unexpected("text_stream_open")),
        }
    }

    /// The stream's header.
    pub fn info(&self) -> &TextStreamInfo {
        &self.info
    }

    /// Sends `text` as the stream's next chunk(s); the library splits long text.
    pub async fn write(&self, text: &str) -> Result<(), RtcError> {
        let writer_handle = self.handle.id;
        let reply = client::request_async("text_stream_write", |async_id| {
            ffi_request::Message::TextStreamWrite(proto::TextStreamWriterWriteRequest {
                writer_handle,
                text: text.to_owned(),
                request_async_id: Some(async_id),
            })
        })
        .await?;
        match reply {
            ffi_event::Message::TextStreamWriterWrite(callback) => {
                stream_error("text_stream_write", callback.error)
            }
            _ => Err(unexpected("text_stream_write")),
        }
    }

    /// Ends the stream, adding `attributes` to its trailer (e.g. `lk.transcription_final`).
    pub async fn close(self, attributes: HashMap<String, String>) -> Result<(), RtcError> {
        let writer_handle = self.handle.id;
        let reply = client::request_async("text_stream_close", |async_id| {
            ffi_request::Message::TextStreamClose(proto::TextStreamWriterCloseRequest {
                writer_handle,
                reason: None,
                request_async_id: Some(async_id),
                attributes,
            })
        })
        .await?;
        match reply {
            ffi_event::Message::TextStreamWriterClose(callback) => {
                stream_error("text_stream_close", callback.error)
            }
            _ => Err(unexpected("text_stream_close")),
        }
    }
}

fn stream_error(
    operation: &'static str,
    error: Option<proto::StreamError>,
) -> Result<(), RtcError> {
    match error {
        Some(error) => Err(RtcError::Failed { operation, message: error.description }),
        None => Ok(()),
    }
}

/// The text streams a room receives on one topic (Python's `register_text_stream_handler`).
#[derive(Debug)]
pub struct TextStreamReceiver {
    pub(crate) readers: mpsc::UnboundedReceiver<proto::TextStreamOpened>,
}

impl TextStreamReceiver {
    /// The next stream opened on the topic; `None` once the room is gone.
    pub async fn next(&mut self) -> Option<TextStreamReader> {
        let opened = self.readers.recv().await?;
        Some(TextStreamReader {
            handle: opened.reader.handle,
            info: TextStreamInfo::from_proto(opened.reader.info),
            participant_identity: opened.participant_identity,
            chunks: None,
        })
    }
}

/// A text stream being received (Python's `TextStreamReader`).
#[derive(Debug)]
pub struct TextStreamReader {
    handle: FfiOwnedHandle,
    info: TextStreamInfo,
    participant_identity: String,
    chunks: Option<mpsc::UnboundedReceiver<proto::TextStreamReaderEvent>>,
}

impl TextStreamReader {
    /// The stream's header.
    pub fn info(&self) -> &TextStreamInfo {
        &self.info
    }

    /// The sender's identity.
    pub fn participant_identity(&self) -> &str {
        &self.participant_identity
    }

    /// The whole text, once the stream ends.
    pub async fn read_all(self) -> Result<String, RtcError> {
        let reader_handle = self.handle.id;
        let reply = client::request_async("text_read_all", |async_id| {
            ffi_request::Message::TextReadAll(proto::TextStreamReaderReadAllRequest {
                reader_handle,
                request_async_id: Some(async_id),
            })
        })
        .await?;
        match reply {
            ffi_event::Message::TextStreamReaderReadAll(callback) => match callback.result {
                Some(text_stream_reader_read_all_callback::Result::Content(text)) => Ok(text),
                Some(text_stream_reader_read_all_callback::Result::Error(error)) => {
                    Err(RtcError::Failed { operation: "text_read_all", message: error.description })
                }
                None => Err(unexpected("text_read_all")),
            },
            _ => Err(unexpected("text_read_all")),
        }
    }

    /// The next chunk as it arrives; `Ok(None)` at the end of the stream.
    pub async fn next_chunk(&mut self) -> Result<Option<String>, RtcError> {
        if self.chunks.is_none() {
            // The route exists before the request, so no chunk is missed; it goes again when
            // the request fails (no chunk will come, and the next call asks again).
            let (sender, chunks) = mpsc::unbounded_channel();
            dispatch::dispatcher().register_text_reader(self.handle.id, sender);
            let message = ffi_request::Message::TextReadIncremental(
                proto::TextStreamReaderReadIncrementalRequest { reader_handle: self.handle.id },
            );
            let reply = client::request("text_read_incremental", message);
            if !matches!(reply, Ok(ffi_response::Message::TextReadIncremental(_))) {
                dispatch::dispatcher().unregister_text_reader(self.handle.id);
                return Err(reply.err().unwrap_or_else(|| unexpected("text_read_incremental")));
            }
            self.chunks = Some(chunks);
        }
        let Some(chunks) = self.chunks.as_mut() else { return Ok(None) };
        match chunks.recv().await.and_then(|event| event.detail) {
            Some(text_stream_reader_event::Detail::ChunkReceived(chunk)) => Ok(Some(chunk.content)),
            Some(text_stream_reader_event::Detail::Eos(eos)) => {
                chunks.close();
                match eos.error {
                    Some(error) => Err(RtcError::Failed {
                        operation: "text stream",
                        message: error.description,
                    }),
                    None => Ok(None),
                }
            }
            None => Ok(None),
        }
    }
}

impl Drop for TextStreamReader {
    fn drop(&mut self) {
        if self.chunks.is_some() {
            dispatch::dispatcher().unregister_text_reader(self.handle.id);
        }
    }
}
