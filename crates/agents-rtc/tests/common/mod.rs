//! Shared by the tests that load the real liblivekit_ffi.so.

/// Loads the library (LIVEKIT_LIB_PATH, the per-user cache, or an installed Python
/// `livekit` 1.2.1); fails the test with the reason when it cannot.
pub(crate) fn require_library() {
    if let Err(error) = agents_rtc::library_path() {
        panic!("these tests need liblivekit_ffi.so: run `cargo xtask setup` ({error})");
    }
}
