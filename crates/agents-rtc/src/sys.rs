//! The C ABI of liblivekit_ffi and its loader: the only module of the workspace with
//! `unsafe`.
//!
//! ```c
//! typedef void (*FfiCallbackFn)(const uint8_t* data, size_t len);   // a serialized FfiEvent
//! void     livekit_ffi_initialize(FfiCallbackFn cb, bool capture_logs,
//!                                 const char* sdk, const char* sdk_version);
//! uint64_t livekit_ffi_request(const uint8_t* data, size_t len,     // a serialized FfiRequest
//!                              const uint8_t** res_ptr, size_t* res_len);
//! bool     livekit_ffi_drop_handle(uint64_t handle_id);
//! ```
//!
//! Everything else in the crate is safe code over four functions: [`Library::load`],
//! [`request`], [`drop_handle`] and the reads of library memory that an owned handle keeps
//! alive ([`read_samples`], [`read_bytes`]). Requests that carry a pointer into our memory
//! (audio frames, data packets) are built here too, so that the pointer never outlives the
//! borrow it was taken from.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use prost::Message as _;

use crate::proto::{self, FfiOwnedHandle, ffi_request};

type CallbackFn = unsafe extern "C" fn(data: *const u8, len: usize);
type InitializeFn = unsafe extern "C" fn(
    cb: CallbackFn,
    capture_logs: bool,
    sdk: *const c_char,
    version: *const c_char,
);
type RequestFn = unsafe extern "C" fn(
    data: *const u8,
    len: usize,
    res_ptr: *mut *const u8,
    res_len: *mut usize,
) -> u64;
type DropHandleFn = unsafe extern "C" fn(handle_id: u64) -> bool;

/// The SDK name the library reports to the server (one of the names it knows).
const SDK: &CStr = c"rust";
/// Our version, reported with [`SDK`].
const SDK_VERSION: &CStr = c"0.1.0";

/// The loaded, initialised library, for the rest of the process.
pub(crate) struct Library {
    request: RequestFn,
    drop_handle: DropHandleFn,
    path: PathBuf,
    // Keeps the code the function pointers point into mapped. Never unloaded: the library
    // runs its own threads until the process ends.
    _library: libloading::Library,
}

static LIBRARY: OnceLock<Library> = OnceLock::new();

/// Why the library could not be loaded.
#[derive(Debug)]
pub(crate) enum LoadFailure {
    /// `dlopen` failed.
    Open(libloading::Error),
    /// A function is missing: another library, or another version.
    Symbol(&'static str, libloading::Error),
}

impl Library {
    /// The library, if it has been loaded.
    pub(crate) fn get() -> Option<&'static Library> {
        LIBRARY.get()
    }

    /// The loaded library's file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Loads `path` and initialises it with the process-wide event callback, once per
    /// process; later calls return the library loaded first, whatever their path.
    pub(crate) fn load(path: &Path) -> Result<&'static Library, LoadFailure> {
        if let Some(library) = LIBRARY.get() {
            return Ok(library);
        }
        // SAFETY: loading a library runs its initialisers. liblivekit_ffi's are Rust
        // statics and libwebrtc's C++ constructors, which have no preconditions on the
        // loading process; the file was located and checked (processor, version) by
        // agents-runtime-libs.
        let library = unsafe { libloading::Library::new(path) }.map_err(LoadFailure::Open)?;
        // SAFETY: each symbol's type is the C declaration above (livekit_ffi.h and the
        // library's cabi.rs), and the pointers are only used while `_library` is alive,
        // which is for the rest of the process.
        let (initialize, request, drop_handle) = unsafe {
            let initialize = *library
                .get::<InitializeFn>(b"livekit_ffi_initialize\0")
                .map_err(|e| LoadFailure::Symbol("livekit_ffi_initialize", e))?;
            let request = *library
                .get::<RequestFn>(b"livekit_ffi_request\0")
                .map_err(|e| LoadFailure::Symbol("livekit_ffi_request", e))?;
            let drop_handle = *library
                .get::<DropHandleFn>(b"livekit_ffi_drop_handle\0")
                .map_err(|e| LoadFailure::Symbol("livekit_ffi_drop_handle", e))?;
            (initialize, request, drop_handle)
        };
        let loaded = Library { request, drop_handle, path: path.to_path_buf(), _library: library };
        // Two threads may race here: only the winner's copy is stored, and initialised before
        // any other thread can see it (`get_or_init` blocks them until it returns); the
        // loser's `dlopen` reference is dropped again (the library stays mapped by the
        // winner's).
        let library = LIBRARY.get_or_init(|| {
            // SAFETY: called once per process (inside the `OnceLock`'s initialiser), with a
            // callback of the declared signature that never unwinds (`on_event` catches
            // panics) and two NUL-terminated static strings, which the library copies.
            unsafe { initialize(on_event, false, SDK.as_ptr(), SDK_VERSION.as_ptr()) };
            loaded
        });
        Ok(library)
    }
}

/// Sends a serialized request; returns the serialized response, copied, with the library's
/// response buffer released. `None` when the library could not handle the request.
fn raw_request(library: &Library, request: &[u8]) -> Option<Vec<u8>> {
    let mut res_ptr: *const u8 = std::ptr::null();
    let mut res_len: usize = 0;
    // SAFETY: `request` is a live slice for the duration of the call; `res_ptr` and
    // `res_len` are valid out-pointers. The library copies the request before returning.
    let handle =
        unsafe { (library.request)(request.as_ptr(), request.len(), &mut res_ptr, &mut res_len) };
    // The response buffer is owned by `handle`, released when `owner` drops below.
    let owner = FfiOwnedHandle::adopt(handle);
    if owner.id == proto::INVALID_HANDLE || res_ptr.is_null() {
        return None;
    }
    // SAFETY: on success the library points `res_ptr` at `res_len` bytes owned by the
    // response handle, which `owner` keeps alive until after the copy.
    let response = unsafe { std::slice::from_raw_parts(res_ptr, res_len) }.to_vec();
    drop(owner);
    Some(response)
}

/// Sends `request` to the library and decodes its response.
pub(crate) fn request(
    library: &Library,
    request: &proto::FfiRequest,
) -> Result<proto::FfiResponse, RequestFailure> {
    let bytes = raw_request(library, &request.encode_to_vec()).ok_or(RequestFailure::Refused)?;
    proto::FfiResponse::decode(bytes.as_slice()).map_err(RequestFailure::Decode)
}

/// Why a request got no response.
#[derive(Debug)]
pub(crate) enum RequestFailure {
    /// The library returned no response (it could not decode or handle the request).
    Refused,
    /// The response did not decode.
    Decode(prost::DecodeError),
}

/// `capture_audio_frame`: the library copies the samples during the call, so `samples`
/// only has to live until it returns.
pub(crate) fn capture_audio_frame(
    library: &Library,
    source_handle: u64,
    samples: &[i16],
    sample_rate: u32,
    num_channels: u32,
    async_id: u64,
) -> Result<proto::FfiResponse, RequestFailure> {
    let samples_per_channel = samples.len() / num_channels.max(1) as usize;
    let message = ffi_request::Message::CaptureAudioFrame(proto::CaptureAudioFrameRequest {
        source_handle,
        buffer: proto::AudioFrameBufferInfo {
            data_ptr: samples.as_ptr() as u64,
            num_channels,
            sample_rate,
            samples_per_channel: u32::try_from(samples_per_channel).unwrap_or(u32::MAX),
        },
        request_async_id: Some(async_id),
    });
    // `samples` is borrowed for this whole call: the pointer stays valid while the library
    // reads `samples_per_channel * num_channels <= samples.len()` values.
    request(library, &proto::FfiRequest { message: Some(message) })
}

/// `publish_data`: the library copies the payload during the call.
pub(crate) fn publish_data(
    library: &Library,
    mut data_request: proto::PublishDataRequest,
    payload: &[u8],
) -> Result<proto::FfiResponse, RequestFailure> {
    data_request.data_ptr = payload.as_ptr() as u64;
    data_request.data_len = payload.len() as u64;
    let message = ffi_request::Message::PublishData(data_request);
    // `payload` is borrowed for this whole call.
    request(library, &proto::FfiRequest { message: Some(message) })
}

/// Releases a handle: `Some(accepted)` from the library, `None` when no library is loaded.
pub(crate) fn drop_handle(id: u64) -> Option<bool> {
    let library = LIBRARY.get()?;
    // SAFETY: the function takes any id; an unknown one returns false.
    Some(unsafe { (library.drop_handle)(id) })
}

/// Copies an audio frame the library sent: `info` describes memory owned by `owner`.
pub(crate) fn read_samples(owner: &FfiOwnedHandle, info: &proto::AudioFrameBufferInfo) -> Vec<i16> {
    let len = (info.samples_per_channel as usize).saturating_mul(info.num_channels as usize);
    if owner.id == proto::INVALID_HANDLE
        || info.data_ptr == 0
        || len == 0
        || LIBRARY.get().is_none()
    {
        return Vec::new();
    }
    if !info.data_ptr.is_multiple_of(std::mem::align_of::<i16>() as u64) {
        return Vec::new();
    }
    // SAFETY: the library sent `info` with the owned buffer handle `owner`, which keeps
    // `samples_per_channel * num_channels` interleaved i16 at `data_ptr` alive until it is
    // dropped, after this copy (the borrow of `owner` proves it is still alive). Alignment
    // and null were checked above.
    unsafe { std::slice::from_raw_parts(info.data_ptr as *const i16, len) }.to_vec()
}

/// Copies a data packet's payload: `info` describes memory owned by `owner`.
pub(crate) fn read_bytes(owner: &FfiOwnedHandle, info: &proto::BufferInfo) -> Vec<u8> {
    let Ok(len) = usize::try_from(info.data_len) else { return Vec::new() };
    if owner.id == proto::INVALID_HANDLE
        || info.data_ptr == 0
        || len == 0
        || LIBRARY.get().is_none()
    {
        return Vec::new();
    }
    // SAFETY: the library sent `info` with the owned buffer handle `owner`, which keeps
    // `data_len` bytes at `data_ptr` alive until it is dropped, after this copy.
    unsafe { std::slice::from_raw_parts(info.data_ptr as *const u8, len) }.to_vec()
}

/// The process-wide event callback, called on the library's threads.
///
/// It copies and decodes the event, routes it into the channel of the room, stream or
/// request it belongs to, and returns: it never blocks, never calls user code and never
/// spawns. A panic (a bug of ours) is caught here: unwinding into C is undefined behaviour.
unsafe extern "C" fn on_event(data: *const u8, len: usize) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if data.is_null() {
            return;
        }
        // SAFETY: the library passes `len` readable bytes at `data`, valid during this call;
        // they are only read here, before returning.
        let bytes = unsafe { std::slice::from_raw_parts(data, len) };
        crate::dispatch::dispatcher().on_event(bytes);
    }));
}
