//! LiveKit text streams (`lk.chat`, `lk.transcription`): a header, chunks and a trailer sent as
//! data packets, and their reassembly.

use std::collections::HashMap;
use std::io::Read as _;

use livekit_protocol::data_packet::Value;
use livekit_protocol::data_stream::{self, header::ContentHeader};
use livekit_protocol::{DataPacket, data_packet};

/// A text stream a server-side participant received, complete (its trailer arrived).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TextStream {
    /// The stream's id.
    pub stream_id: String,
    /// The topic (`lk.transcription`, `lk.chat`, …).
    pub topic: String,
    /// Who sent it (stamped by the server).
    pub sender_identity: String,
    /// The text, all chunks in order.
    pub text: String,
    /// The header's attributes (e.g. `lk.transcription_final`, `lk.segment_id`,
    /// `lk.transcribed_track_id`), with the trailer's merged over them.
    pub attributes: HashMap<String, String>,
}

/// The data packets of a text stream `text` on `topic`.
pub(crate) fn packets(
    stream_id: &str,
    topic: &str,
    text: &str,
    attributes: HashMap<String, String>,
    timestamp_ms: i64,
) -> Vec<DataPacket> {
    // `kind` is deprecated in the protocol, but clients still set it.
    #[allow(deprecated)]
    let reliable = |value| DataPacket {
        kind: data_packet::Kind::Reliable as i32,
        value: Some(value),
        ..Default::default()
    };
    let mut out = vec![reliable(Value::StreamHeader(data_stream::Header {
        stream_id: stream_id.to_owned(),
        timestamp: timestamp_ms,
        topic: topic.to_owned(),
        mime_type: "text/plain".to_owned(),
        total_length: Some(text.len() as u64),
        attributes,
        content_header: Some(ContentHeader::TextHeader(data_stream::TextHeader::default())),
        ..Default::default()
    }))];
    // Chunks of at most 15,000 bytes, cut on character boundaries.
    let mut chunk = String::new();
    let mut index = 0_u64;
    for ch in text.chars() {
        if chunk.len() + ch.len_utf8() > 15_000 {
            out.push(reliable(chunk_value(stream_id, index, &chunk)));
            index += 1;
            chunk.clear();
        }
        chunk.push(ch);
    }
    if !chunk.is_empty() {
        out.push(reliable(chunk_value(stream_id, index, &chunk)));
    }
    out.push(reliable(Value::StreamTrailer(data_stream::Trailer {
        stream_id: stream_id.to_owned(),
        ..Default::default()
    })));
    out
}

fn chunk_value(stream_id: &str, index: u64, text: &str) -> Value {
    Value::StreamChunk(data_stream::Chunk {
        stream_id: stream_id.to_owned(),
        chunk_index: index,
        content: text.as_bytes().to_vec(),
        ..Default::default()
    })
}

struct Partial {
    header: data_stream::Header,
    sender: String,
    chunks: Vec<(u64, Vec<u8>)>,
}

/// Reassembles text streams from data packets.
#[derive(Default)]
pub(crate) struct Assembler {
    open: HashMap<String, Partial>,
}

impl Assembler {
    /// Feeds one packet; returns the stream it completed, if any.
    pub(crate) fn push(&mut self, packet: &DataPacket) -> Option<TextStream> {
        match packet.value.as_ref()? {
            Value::StreamHeader(header) => {
                if !matches!(header.content_header, Some(ContentHeader::TextHeader(_))) {
                    return None; // a byte stream
                }
                let mut chunks = Vec::new();
                if let Some(inline) = &header.inline_content {
                    chunks.push((0, inline.clone()));
                }
                self.open.insert(
                    header.stream_id.clone(),
                    Partial {
                        header: header.clone(),
                        sender: packet.participant_identity.clone(),
                        chunks,
                    },
                );
                None
            }
            Value::StreamChunk(chunk) => {
                let partial = self.open.get_mut(&chunk.stream_id)?;
                partial.chunks.push((chunk.chunk_index, chunk.content.clone()));
                None
            }
            Value::StreamTrailer(trailer) => {
                let partial = self.open.remove(&trailer.stream_id)?;
                Some(finish(partial, trailer))
            }
            _ => None,
        }
    }
}

fn finish(mut partial: Partial, trailer: &data_stream::Trailer) -> TextStream {
    partial.chunks.sort_by_key(|(index, _)| *index);
    let deflated = partial.header.compression == data_stream::CompressionType::DeflateRaw as i32;
    let mut bytes = Vec::new();
    for (_, content) in partial.chunks {
        if deflated {
            let mut inflated = Vec::new();
            match flate2::read::DeflateDecoder::new(content.as_slice()).read_to_end(&mut inflated) {
                Ok(_) => bytes.extend_from_slice(&inflated),
                // Not deflated after all: keep the bytes as they came rather than lose them.
                Err(_) => bytes.extend_from_slice(&content),
            }
        } else {
            bytes.extend_from_slice(&content);
        }
    }
    let mut attributes = partial.header.attributes;
    attributes.extend(trailer.attributes.clone());
    TextStream {
        stream_id: partial.header.stream_id,
        topic: partial.header.topic,
        sender_identity: partial.sender,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        attributes,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_stream_survives_the_round_trip_in_chunks() {
        let text = "é".repeat(10_000); // 20,000 bytes: two chunks
        let attributes = HashMap::from([("lk.transcription_final".to_owned(), "true".to_owned())]);
        let packets = packets("S1", "lk.transcription", &text, attributes.clone(), 1);
        assert_eq!(packets.len(), 4);
        let mut assembler = Assembler::default();
        let mut done = None;
        for mut packet in packets.into_iter().rev().skip(1).collect::<Vec<_>>().into_iter().rev() {
            packet.participant_identity = "agent".into();
            assert!(assembler.push(&packet).is_none());
        }
        let trailer = DataPacket {
            value: Some(Value::StreamTrailer(data_stream::Trailer {
                stream_id: "S1".into(),
                ..Default::default()
            })),
            ..Default::default()
        };
        done = done.or(assembler.push(&trailer));
        let stream = done.unwrap();
        assert_eq!(stream.text, text);
        assert_eq!(stream.sender_identity, "agent");
        assert_eq!(stream.attributes, attributes);
    }
}
