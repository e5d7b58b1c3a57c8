//! `handle.proto`: `FfiOwnedHandle`, the one message that owns something.
//!
//! Every `FfiOwnedHandle` the library sends (a room, a participant, a track, an audio frame,
//! a reader, …) transfers ownership of that object to us: it must be released with
//! `livekit_ffi_drop_handle`, exactly once. So the message is not `Clone`, and releasing it
//! is its `Drop`: however a decoded message ends — handed to the user, undeliverable,
//! replaced by a repeated field while decoding, or half-decoded from bad bytes — each handle
//! it held is dropped once. Its `prost::Message` implementation is written by hand (rather
//! than derived) so that decoding can count the handles received and release one that a
//! repeated field would otherwise overwrite.

use std::sync::atomic::{AtomicU64, Ordering};

use prost::bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType};

/// The library's "no handle" id.
pub(crate) const INVALID_HANDLE: u64 = 0;

static RECEIVED: AtomicU64 = AtomicU64::new(0);
static RELEASED: AtomicU64 = AtomicU64::new(0);
static REJECTED: AtomicU64 = AtomicU64::new(0);

/// An owned library object, released when dropped (`message FfiOwnedHandle { required uint64
/// id = 1; }`).
#[derive(PartialEq, Eq, Default)]
pub struct FfiOwnedHandle {
    /// The object's id; [`INVALID_HANDLE`] owns nothing.
    pub id: u64,
}

impl FfiOwnedHandle {
    /// Takes ownership of `id`, as if decoded from a message (the request path's response
    /// buffers use it too).
    pub(crate) fn adopt(id: u64) -> Self {
        if id != INVALID_HANDLE {
            RECEIVED.fetch_add(1, Ordering::Relaxed);
        }
        Self { id }
    }

    fn release(&mut self) {
        let id = std::mem::replace(&mut self.id, INVALID_HANDLE);
        if id == INVALID_HANDLE {
            return;
        }
        match crate::sys::drop_handle(id) {
            Some(true) => {
                RELEASED.fetch_add(1, Ordering::Relaxed);
            }
            // The library did not know the id: a double drop, or an id it never gave.
            Some(false) => {
                REJECTED.fetch_add(1, Ordering::Relaxed);
            }
            // No library loaded (decoding tests, fuzzing): there is nothing to release.
            None => {
                RELEASED.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Drop for FfiOwnedHandle {
    fn drop(&mut self) {
        self.release();
    }
}

impl std::fmt::Debug for FfiOwnedHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FfiOwnedHandle({})", self.id)
    }
}

impl prost::Message for FfiOwnedHandle {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        prost::encoding::uint64::encode(1, &self.id, buf);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        if tag != 1 {
            return prost::encoding::skip_field(wire_type, tag, buf, ctx);
        }
        let mut id = 0;
        prost::encoding::uint64::merge(wire_type, &mut id, buf, ctx)?;
        // A repeated `id` field: the earlier handle is released, not forgotten.
        self.release();
        *self = Self::adopt(id);
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        prost::encoding::uint64::encoded_len(1, &self.id)
    }

    fn clear(&mut self) {
        self.release();
    }
}

/// How many library handles this process has received and released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct HandleStats {
    /// Handles received from the library (in responses and events).
    pub received: u64,
    /// Handles released with `livekit_ffi_drop_handle` (and accepted by it).
    pub released: u64,
    /// Releases the library refused: a double drop or an unknown id. Always 0 unless
    /// something is wrong.
    pub rejected: u64,
}

impl HandleStats {
    /// Handles received and not released yet.
    pub fn live(&self) -> u64 {
        self.received.saturating_sub(self.released + self.rejected)
    }
}

/// The process-wide handle counters: every handle is released exactly once, so after all
/// rooms, tracks, sources and streams are dropped, [`HandleStats::live`] is back where it
/// started and [`HandleStats::rejected`] is 0.
pub fn handle_stats() -> HandleStats {
    HandleStats {
        received: RECEIVED.load(Ordering::Relaxed),
        released: RELEASED.load(Ordering::Relaxed),
        rejected: REJECTED.load(Ordering::Relaxed),
    }
}
