//! Entry points for the fuzz targets in `fuzz/` (hidden; not part of the API).

use std::time::{Duration, SystemTime};

use agents_core::llm::{ChatChunk, LlmError};

use crate::openai::assemble::ChunkAssembler;

/// Feeds events (`event:` name, data) to the chunk assembler of a streamed chat completion,
/// then the end of the stream; returns every chunk yielded and the error the stream ended
/// with, as the client would.
pub fn assemble<'a>(
    events: impl IntoIterator<Item = (Option<&'a str>, &'a str)>,
) -> (Vec<ChatChunk>, Option<LlmError>) {
    let mut assembler = ChunkAssembler::default();
    let mut chunks = Vec::new();
    for (event, data) in events {
        let out = assembler.on_event(event, data);
        chunks.extend(out.chunks);
        if out.error.is_some() {
            return (chunks, out.error);
        }
        if assembler.is_complete() {
            return (chunks, None);
        }
    }
    let out = assembler.on_end();
    chunks.extend(out.chunks);
    (chunks, out.error)
}

/// The wait a `Retry-After` header value asks for, seen at `now`.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    crate::retry_after::parse(value, now)
}
