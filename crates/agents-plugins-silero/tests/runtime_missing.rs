//! Without ONNX Runtime, loading says how to get it. Runs in child processes, since the
//! runtime is loaded once per process.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::Command;

use agents_core::runtime_libs::LocateError;
use agents_plugins_silero::{LoadError, Vad};

const CHILD: &str = "SILERO_TEST_CHILD";

fn run_child(test: &str, ort_dylib_path: &std::path::Path) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("ORT_DYLIB_PATH", ort_dylib_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[test]
fn a_wrong_ort_dylib_path_is_a_clear_error() {
    run_child("child_wrong_file", "/nonexistent/libonnxruntime.so.1.22.0".as_ref());
}

#[test]
fn a_folder_without_the_library_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("silero-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    run_child("child_empty_folder", &dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn child_wrong_file() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let err = Vad::load().unwrap_err();
    assert!(matches!(err, LoadError::Runtime(LocateError::EnvVarMissing { .. })), "{err}");
    let message = err.to_string();
    assert!(message.starts_with("ORT_DYLIB_PATH is `"), "{message}");
    assert!(message.contains("download-files"), "{message}");
    assert!(message.contains("ONNX Runtime 1.32.0 (or any version from 1.17)"), "{message}");
    assert!(message.contains("/nonexistent/libonnxruntime.so.1.22.0"), "{message}");
    assert!(Vad::runtime_library().is_none());
}

#[test]
fn child_empty_folder() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let err = Vad::load().unwrap_err();
    assert!(matches!(err, LoadError::Runtime(LocateError::EnvVarFolder { .. })), "{err}");
    let message = err.to_string();
    assert!(message.starts_with("ORT_DYLIB_PATH is `"), "{message}");
    assert!(message.contains("silero-empty-"), "{message}");
    assert!(message.contains("a folder with no usable copy of ONNX Runtime 1.32.0"), "{message}");
    assert!(message.contains("set it to the ONNX Runtime library file"), "{message}");
    assert!(message.contains("unset it and run `<your agent> download-files`"), "{message}");
}
