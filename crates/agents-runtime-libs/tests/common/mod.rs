//! A fake runtime library in a real wheel (made by Python's zipfile), served to pip from a
//! local folder: no test reaches PyPI.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use agents_runtime_libs::{Artifact, RuntimeLibrary, VersionRule};
use sha2::{Digest, Sha256};

pub(crate) const PACKAGE: &str = "lkfakelib";
pub(crate) const VERSION: &str = "1.0.0";
pub(crate) const WHEEL: &str = "lkfakelib-1.0.0-py3-none-manylinux_2_28_x86_64.whl";
pub(crate) const MEMBER: &str = "lkfakelib/lib/liblkfake.so";

/// A fresh folder for one test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("runtime-libs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// An x86_64 ELF header and `len` bytes that do not compress (xorshift).
pub(crate) fn library_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    bytes[..4].copy_from_slice(b"\x7fELF");
    bytes[4] = 2;
    bytes[5] = 1;
    bytes[18..20].copy_from_slice(&62u16.to_le_bytes());
    bytes
}

/// Writes the wheel holding `library` into `dir`; returns its bytes.
pub(crate) fn write_wheel(dir: &Path, library: &[u8]) -> Vec<u8> {
    let lib = dir.join("liblkfake.so.src");
    std::fs::write(&lib, library).unwrap();
    let wheel = dir.join(WHEEL);
    let script = r#"
import sys, zipfile
wheel, lib, member = sys.argv[1:4]
with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("lkfakelib/__init__.py", "")
    z.write(lib, member)
    z.writestr("lkfakelib-1.0.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: lkfakelib\nVersion: 1.0.0\n")
    z.writestr("lkfakelib-1.0.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: py3-none-manylinux_2_28_x86_64\n")
    z.writestr("lkfakelib-1.0.0.dist-info/RECORD", "")
"#;
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(&wheel)
        .arg(&lib)
        .arg(MEMBER)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_file(&lib).unwrap();
    std::fs::read(&wheel).unwrap()
}

/// The fake library's descriptor, pinned to these checksums and this size.
pub(crate) fn fake_library(wheel_sha256: &str, sha256: &str, size: u64) -> &'static RuntimeLibrary {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    let artifact = Artifact {
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        wheel_platform: "manylinux_2_28_x86_64",
        python_version: "3.12",
        wheel: WHEEL,
        wheel_sha256: leak(wheel_sha256),
        member: MEMBER,
        file_name: "liblkfake.so",
        size,
        sha256: leak(sha256),
    };
    let artifacts: &'static [Artifact] = Box::leak(Box::new([artifact]));
    Box::leak(Box::new(RuntimeLibrary {
        name: "Fake Lib",
        env_var: "LKFAKE_LIB_PATH",
        base_name: "lkfake",
        package: PACKAGE,
        version: VERSION,
        accepts: VersionRule::Exactly,
        package_dir: "lkfakelib/lib",
        artifacts,
    }))
}

/// Every entry of `dir`, recursively, as paths relative to it.
pub(crate) fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.strip_prefix(dir).unwrap().display().to_string();
        if path.is_dir() {
            out.extend(tree(&path).into_iter().map(|sub| format!("{name}/{sub}")));
            out.push(format!("{name}/"));
        } else {
            out.push(name);
        }
    }
    out.sort();
    out
}
