//! `update_tools download-files`: the seed declares ONNX Runtime (for the Silero VAD), and
//! the command installs it through pip, honouring pip's settings. These runs are offline
//! (`PIP_NO_INDEX`): the successful download is tested in agents-runtime-libs with a local
//! wheel; here, what the command says when it cannot download, or must not.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The example binary `cargo test` built beside this test.
fn example_binary() -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let profile_dir = test_binary.parent().and_then(|deps| deps.parent()).expect("target dir");
    profile_dir.join("examples").join("update_tools")
}

/// A fresh folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("download-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The real `python3` on `PATH`.
fn real_python() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("python3"))
        .find(|p| p.is_file())
        .expect("python3 is on PATH (pip downloads the runtime libraries)")
}

/// What the `python3` that `update_tools` sees does.
enum Python {
    /// Lists no packages (so an ONNX Runtime installed in this machine's Python is not
    /// found), but runs pip as the real `python3` on `PATH`.
    Pip,
    /// Must not be reached: lists no packages and fails if asked to run pip (needs no
    /// real `python3`).
    NoPip,
}

/// Runs `update_tools download-files` offline: pip sees no index and an empty folder of
/// wheels, and `python3` is `python`.
fn download_files(scratch: &Path, cache: &Path, env: &[(&str, &Path)], python: Python) -> Output {
    let bin = scratch.join("bin");
    let wheels = scratch.join("wheels");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&wheels).unwrap();
    let wrapper = bin.join("python3");
    let pip = match python {
        Python::Pip => format!("exec '{}' \"$@\"", real_python().display()),
        Python::NoPip => "echo 'pip was run' >&2; exit 97".to_owned(),
    };
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nif [ \"$1\" = \"-c\" ]; then exit 0; fi\n{pip}\n"),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut command = Command::new(example_binary());
    command
        .arg("download-files")
        .current_dir(scratch)
        .env("PATH", path)
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", &wheels)
        .env("LIVEKIT_AGENTS_CACHE_DIR", cache)
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("VIRTUAL_ENV");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

const WHEEL: &str = "onnxruntime-1.32.0-cp312-cp312-manylinux_2_28_x86_64.whl";

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn offline_it_says_what_to_download_and_where_to_put_it() {
    let scratch = Scratch::new("offline");
    let cache = scratch.0.join("cache");
    let output = download_files(&scratch.0, &cache, &[], Python::Pip);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("ONNX Runtime 1.32.0: downloading {WHEEL} with pip")),
        "{stderr}"
    );
    // pip ran, with this machine's pip settings (here: no index).
    assert!(
        format!("{stdout}{stderr}")
            .contains("No matching distribution found for onnxruntime==1.32.0"),
        "{stdout}\n{stderr}"
    );
    let destination = cache.join("onnxruntime-1.32.0").join("libonnxruntime.so.1.32.0");
    let expected = format!(
        "error: pip could not download ONNX Runtime 1.32.0 (exit status: 1); its messages are \
         above. Without pip: download `{WHEEL}` (sha256 \
         99e1074c4b2197accd5073052a465361be17b89c093b8ffb6e6bd8f986c52df8) from \
         https://pypi.org/project/onnxruntime/1.32.0/#files, take \
         `onnxruntime/capi/libonnxruntime.so.1.32.0` out of it (a wheel is a zip file) and put \
         it at `{}`, or set ORT_DYLIB_PATH to it; see \
         docs/src/troubleshooting.md#runtime-libraries\n",
        destination.display()
    );
    assert!(stderr.ends_with(&expected), "{stderr}");
    // Nothing half-installed.
    let left: Vec<_> = std::fs::read_dir(cache.join("onnxruntime-1.32.0")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_wrong_variable_is_reported_and_nothing_is_downloaded() {
    let scratch = Scratch::new("variable");
    let cache = scratch.0.join("cache");
    let missing = scratch.0.join("libonnxruntime.so.1.32.0");
    let output = download_files(&scratch.0, &cache, &[("ORT_DYLIB_PATH", &missing)], Python::NoPip);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: ORT_DYLIB_PATH is `{}`, which does not exist",
            missing.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("downloading"), "{stderr}");
    assert!(!stderr.contains("pip was run"), "{stderr}");
    assert!(!cache.exists());
}

#[test]
fn a_variable_naming_a_folder_without_the_library_says_to_fix_or_unset_it() {
    let scratch = Scratch::new("variable-folder");
    let cache = scratch.0.join("cache");
    let folder = scratch.0.join("empty");
    std::fs::create_dir_all(&folder).unwrap();
    let output = download_files(&scratch.0, &cache, &[("ORT_DYLIB_PATH", &folder)], Python::NoPip);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // Not "install it with download-files": that is the command refusing while the
    // variable is set.
    assert_eq!(
        stderr,
        format!(
            "error: ORT_DYLIB_PATH is `{}`, a folder with no usable copy of ONNX Runtime 1.32.0 \
             (or any version from 1.17); set it to the ONNX Runtime library file, or unset it \
             and run `<your agent> download-files` to install it in the per-user cache; see \
             docs/src/troubleshooting.md#runtime-libraries\n",
            folder.display()
        )
    );
    assert!(!cache.exists());
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn an_unwritable_cache_is_reported_before_downloading() {
    let scratch = Scratch::new("unwritable");
    let blocked = scratch.0.join("a-file");
    std::fs::write(&blocked, b"").unwrap();
    let cache = blocked.join("cache");
    let output = download_files(&scratch.0, &cache, &[], Python::NoPip);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: cannot write to the cache folder `{}`",
            cache.join("onnxruntime-1.32.0").display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("set LIVEKIT_AGENTS_CACHE_DIR to a folder you can write"), "{stderr}");
    assert!(!stderr.contains("downloading"), "{stderr}");
}
