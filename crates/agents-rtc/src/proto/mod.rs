//! The messages of liblivekit_ffi's protocol (proto2, package `livekit.proto`, FFI server
//! v0.13.2 in PyPI `livekit` 1.2.1) that this crate speaks, written as prost structs.
//!
//! Only the messages and oneof variants the client uses are defined; the library's other
//! fields are skipped on decoding, as protobuf requires. Field numbers and types are the
//! protocol's; `tests/descriptors.rs` compares every struct, field, oneof variant and enum
//! value here with the descriptors the pinned wheel ships. Each file mirrors one of the
//! protocol's files (`room.proto` is `room.rs`) and must keep prost's layout (one attribute
//! per field, nested messages in a `snake_case` module) for that test to read it.
//!
//! [`FfiOwnedHandle`] is the one hand-written message: it owns the library object it names
//! and drops it exactly once (see `handle.rs`).

#![allow(missing_docs, unreachable_pub, dead_code)]
// The protocol's names (`ParticipantKind::ParticipantKindAgent`), and its message sizes.
#![allow(clippy::enum_variant_names, clippy::large_enum_variant)]

mod audio_frame;
mod data_stream;
mod ffi;
mod handle;
mod participant;
mod room;
mod track;

pub(crate) use audio_frame::*;
pub(crate) use data_stream::*;
pub(crate) use ffi::*;
pub(crate) use handle::{FfiOwnedHandle, INVALID_HANDLE};
pub use handle::{HandleStats, handle_stats};
pub(crate) use participant::*;
pub(crate) use room::*;
pub(crate) use track::*;
