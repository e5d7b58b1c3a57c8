//! A missing or wrong library is a typed error that says what to do (its own binary: the
//! library loads once per process).

#![allow(clippy::panic)]

use agents_rtc::{AudioSource, AudioSourceOptions, RtcError, load_library};

#[test]
fn a_library_that_cannot_be_loaded_says_how_to_install_the_right_one() {
    let error = load_library("/nonexistent/liblivekit_ffi.so").expect_err("no such file");
    assert!(matches!(error, RtcError::Load { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("LIVEKIT_LIB_PATH"), "{message}");
    assert!(message.contains("download-files"), "{message}");

    // A file that is a library, but not livekit-ffi: a missing function is named.
    let not_livekit = ["/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists());
    let path = not_livekit.expect("libm.so.6 (glibc's, on every Linux this crate runs on)");
    let error = load_library(path).expect_err("libm is not livekit-ffi");
    assert!(error.to_string().contains("livekit_ffi_initialize"), "{error}");

    // Nothing was loaded: the next use finds the real library (or says how to install it).
    match AudioSource::new(48_000, 1, AudioSourceOptions::default()) {
        Ok(_) => {}
        Err(RtcError::NotFound(error)) => {
            assert!(error.to_string().contains("LIVEKIT_LIB_PATH"), "{error}")
        }
        Err(other) => panic!("unexpected {other:?}"),
    }
}
