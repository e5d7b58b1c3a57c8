//! `locate`: the variable, the per-user cache, Python's packages, and what each error says.
//! Each case runs in a child process with its own environment.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use agents_runtime_libs::{LocateError, ONNX_RUNTIME, locate};
use common::{library_bytes, scratch};

const CHILD: &str = "RUNTIME_LIBS_TEST_CHILD";

/// Runs the test `test` in a child with `env`, and with no stray ONNX Runtime around: no
/// `ORT_DYLIB_PATH` unless given, no virtual environment, and a Python that has no packages.
fn run_child(test: &str, env: &[(&str, &Path)]) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("VIRTUAL_ENV")
        .env_remove("XDG_CACHE_HOME")
        .env("PYTHONNOUSERSITE", "1")
        .env("LIVEKIT_AGENTS_CACHE_DIR", "/nonexistent/cache");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

fn child() -> bool {
    std::env::var_os(CHILD).is_some()
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap()
}

#[test]
fn the_variable_is_checked_for_existence_version_and_processor() {
    let dir = scratch("variable");
    run_child(
        "child_variable_missing",
        &[("ORT_DYLIB_PATH", &dir.join("libonnxruntime.so.1.22.0"))],
    );
    let old = dir.join("libonnxruntime.so.1.16.3");
    std::fs::write(&old, library_bytes(64, 1)).unwrap();
    run_child("child_variable_old", &[("ORT_DYLIB_PATH", &old)]);
    let arm = dir.join("libonnxruntime.so.1.22.0");
    let mut bytes = library_bytes(64, 2);
    bytes[18..20].copy_from_slice(&183u16.to_le_bytes());
    std::fs::write(&arm, bytes).unwrap();
    run_child("child_variable_arm", &[("ORT_DYLIB_PATH", &arm)]);
    let good = dir.join("libonnxruntime.so.1.20.1");
    std::fs::write(&good, library_bytes(64, 3)).unwrap();
    run_child("child_variable_good", &[("ORT_DYLIB_PATH", &good)]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn child_variable_missing() {
    if !child() {
        return;
    }
    let error = locate(&ONNX_RUNTIME).unwrap_err();
    assert!(matches!(error, LocateError::EnvVarMissing { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "ORT_DYLIB_PATH is `{}`, which does not exist; set it to the ONNX Runtime library \
             file (ONNX Runtime 1.32.0 (or any version from 1.17)), or unset it and run \
             `<your agent> download-files` to install it in the per-user cache; see \
             docs/src/troubleshooting.md#runtime-libraries",
            var("ORT_DYLIB_PATH")
        )
    );
}

#[test]
fn child_variable_old() {
    if !child() {
        return;
    }
    let error = locate(&ONNX_RUNTIME).unwrap_err();
    assert!(matches!(error, LocateError::WrongVersion { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "`{}` is ONNX Runtime 1.16.3, but this program needs ONNX Runtime 1.32.0 (or any \
             version from 1.17); set ORT_DYLIB_PATH to another copy",
            var("ORT_DYLIB_PATH")
        )),
        "{message}"
    );
    assert!(message.contains("download-files"), "{message}");
}

#[test]
fn child_variable_arm() {
    if !child() {
        return;
    }
    let error = locate(&ONNX_RUNTIME).unwrap_err();
    assert!(matches!(error, LocateError::WrongBinary { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "`{}` is not usable as ONNX Runtime on this machine (x86_64): it is built for \
             aarch64; set ORT_DYLIB_PATH to the library for x86_64",
            var("ORT_DYLIB_PATH")
        )),
        "{message}"
    );
}

#[test]
fn child_variable_good() {
    if !child() {
        return;
    }
    assert_eq!(locate(&ONNX_RUNTIME).unwrap(), Path::new(&var("ORT_DYLIB_PATH")));
}

#[test]
fn a_folder_without_the_library_says_to_fix_or_unset_the_variable() {
    let dir = scratch("empty-folder");
    std::fs::write(dir.join("libonnxruntime.so.1.9.0"), library_bytes(64, 4)).unwrap();
    run_child("child_empty_folder", &[("ORT_DYLIB_PATH", &dir)]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn child_empty_folder() {
    if !child() {
        return;
    }
    let error = locate(&ONNX_RUNTIME).unwrap_err();
    assert!(matches!(error, LocateError::EnvVarFolder { .. }), "{error:?}");
    let dir = var("ORT_DYLIB_PATH");
    // Not "install it with download-files", which refuses while the variable is set: the
    // way out is to fix the variable or to unset it.
    assert_eq!(
        error.to_string(),
        format!(
            "ORT_DYLIB_PATH is `{dir}`, a folder with no usable copy of ONNX Runtime 1.32.0 (or \
             any version from 1.17) (skipped: {dir}/libonnxruntime.so.1.9.0 (version 1.9.0)); \
             set it to the ONNX Runtime library file, or unset it and run `<your agent> \
             download-files` to install it in the per-user cache; see \
             docs/src/troubleshooting.md#runtime-libraries"
        )
    );
}

#[test]
fn nothing_anywhere_names_the_command_the_cache_and_the_places_searched() {
    let root = scratch("nowhere");
    // A virtual environment whose package folder holds only a too-old build.
    let capi = root.join("venv/lib/python3.12/site-packages/onnxruntime/capi");
    std::fs::create_dir_all(&capi).unwrap();
    std::fs::write(capi.join("libonnxruntime.so.1.9.0"), library_bytes(64, 4)).unwrap();
    run_child("child_nowhere", &[("VIRTUAL_ENV", &root.join("venv"))]);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn child_nowhere() {
    if !child() {
        return;
    }
    let error = locate(&ONNX_RUNTIME).unwrap_err();
    assert!(matches!(error, LocateError::NotFound { .. }), "{error:?}");
    let capi = format!("{}/lib/python3.12/site-packages/onnxruntime/capi", var("VIRTUAL_ENV"));
    let message = error.to_string();
    // No example of this repository's own command: the message reaches other agents too.
    assert!(
        message.starts_with(&format!(
            "ONNX Runtime was not found; this program needs ONNX Runtime 1.32.0 (or any version \
             from 1.17). Install it with `<your agent> download-files`, which puts it in the \
             per-user cache (/nonexistent/cache), or set ORT_DYLIB_PATH to the library file, or \
             `pip install onnxruntime==1.32.0`. Looked in: /nonexistent/cache/onnxruntime-1.32.0, \
             {capi}"
        )),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(
            ". Skipped: {capi}/libonnxruntime.so.1.9.0 (version 1.9.0); see \
             docs/src/troubleshooting.md#runtime-libraries"
        )),
        "{message}"
    );
    assert!(!message.contains("cargo run"), "{message}");
}

#[test]
fn the_cache_comes_before_python_and_a_damaged_copy_is_reported() {
    let root = scratch("cache-order");
    let cache = root.join("cache");
    let pinned = cache.join("onnxruntime-1.32.0");
    std::fs::create_dir_all(&pinned).unwrap();
    // A Python virtual environment with an older accepted build.
    let capi = root.join("venv/lib/python3.12/site-packages/onnxruntime/capi");
    std::fs::create_dir_all(&capi).unwrap();
    std::fs::write(capi.join("libonnxruntime.so.1.16.0"), library_bytes(64, 5)).unwrap();
    std::fs::write(capi.join("libonnxruntime.so.1.20.0"), library_bytes(64, 6)).unwrap();
    std::fs::write(capi.join("libonnxruntime_providers_shared.so"), library_bytes(64, 7)).unwrap();
    let venv = root.join("venv");
    let env = [("LIVEKIT_AGENTS_CACHE_DIR", cache.as_path()), ("VIRTUAL_ENV", venv.as_path())];
    // Nothing in the cache: the virtual environment's newest accepted build.
    run_child("child_found_in_python", &env);
    // The pinned build in the cache (its size is what is checked): it wins.
    let file = std::fs::File::create(pinned.join("libonnxruntime.so.1.32.0")).unwrap();
    file.set_len(34_824_680).unwrap();
    run_child("child_found_in_cache", &env);
    // Cut short: reported, not loaded.
    file.set_len(1000).unwrap();
    run_child("child_damaged_cache", &env);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn child_found_in_python() {
    if !child() {
        return;
    }
    let found = locate(&ONNX_RUNTIME).unwrap();
    assert!(
        found.ends_with("site-packages/onnxruntime/capi/libonnxruntime.so.1.20.0"),
        "{found:?}"
    );
}

#[test]
fn child_found_in_cache() {
    if !child() {
        return;
    }
    let found = locate(&ONNX_RUNTIME).unwrap();
    assert_eq!(
        found,
        Path::new(&var("LIVEKIT_AGENTS_CACHE_DIR"))
            .join("onnxruntime-1.32.0/libonnxruntime.so.1.32.0")
    );
}

#[test]
fn child_damaged_cache() {
    if !child() {
        return;
    }
    let error = locate(&ONNX_RUNTIME).unwrap_err();
    assert!(matches!(error, LocateError::DamagedCache { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("is damaged (1000 bytes, not 34824680)"), "{message}");
    assert!(message.contains("download-files"), "{message}");
    assert!(
        message.contains("to replace it with ONNX Runtime 1.32.0, or set ORT_DYLIB_PATH"),
        "{message}"
    );
}
