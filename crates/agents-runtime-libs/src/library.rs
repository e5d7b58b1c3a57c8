//! What a runtime library is: its pinned version, its file, and the wheel it comes in.

use std::fmt;

/// A native library loaded at run time, and everything needed to find or install it.
///
/// The known libraries are constants: [`ONNX_RUNTIME`] and [`LIVEKIT_FFI`]. A plugin that
/// loads one names it (for `download-files`); [`locate`](crate::locate) finds it and
/// [`Installer::install`](crate::Installer::install) fetches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeLibrary {
    /// The library's name for people, e.g. `"ONNX Runtime"`.
    pub name: &'static str,
    /// The environment variable naming the library file (or a folder holding it).
    pub env_var: &'static str,
    /// The library's base name: `onnxruntime` is `libonnxruntime.so*` on Linux,
    /// `libonnxruntime*.dylib` on macOS, `onnxruntime.dll` on Windows.
    pub base_name: &'static str,
    /// The PyPI package whose wheel ships the library, e.g. `"onnxruntime"`.
    pub package: &'static str,
    /// The package's pinned version: what [`Installer`](crate::Installer) installs.
    pub version: &'static str,
    /// Which other versions are accepted when one is found installed.
    pub accepts: VersionRule,
    /// The library's folder inside the package, `/`-separated (e.g. `onnxruntime/capi`).
    pub package_dir: &'static str,
    /// The pinned builds, one per platform.
    pub artifacts: &'static [Artifact],
}

/// Which installed versions a library accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersionRule {
    /// Only the pinned version (a protocol that must match exactly).
    Exactly,
    /// The pinned version or any other from this one on, e.g. `"1.17"`.
    AtLeast(&'static str),
}

/// One pinned build of a library: the wheel it is in and the file's checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Artifact {
    /// The platform, as Rust names it: [`std::env::consts::OS`].
    pub os: &'static str,
    /// The processor, as Rust names it: [`std::env::consts::ARCH`].
    pub arch: &'static str,
    /// The wheel's platform tag, for `pip download --platform`.
    pub wheel_platform: &'static str,
    /// The Python version the wheel is for, for `pip download --python-version`.
    pub python_version: &'static str,
    /// The wheel's file name on PyPI.
    pub wheel: &'static str,
    /// The wheel's sha256, as PyPI publishes it.
    pub wheel_sha256: &'static str,
    /// The library's path inside the wheel.
    pub member: &'static str,
    /// The library's file name once installed.
    pub file_name: &'static str,
    /// The library's size in bytes.
    pub size: u64,
    /// The library's sha256.
    pub sha256: &'static str,
}

/// ONNX Runtime, from PyPI's `onnxruntime` wheel (the Silero VAD plugin's runtime). Versions
/// from 1.17 on work (its C API 17); 1.32.0 is the one installed. Variable: `ORT_DYLIB_PATH`.
pub const ONNX_RUNTIME: RuntimeLibrary = RuntimeLibrary {
    name: "ONNX Runtime",
    env_var: "ORT_DYLIB_PATH",
    base_name: "onnxruntime",
    package: "onnxruntime",
    version: "1.32.0",
    accepts: VersionRule::AtLeast("1.17"),
    package_dir: "onnxruntime/capi",
    artifacts: &[Artifact {
        os: "linux",
        arch: "x86_64",
        wheel_platform: "manylinux_2_28_x86_64",
        python_version: "3.12",
        wheel: "onnxruntime-1.32.0-cp312-cp312-manylinux_2_28_x86_64.whl",
        wheel_sha256: "99e1074c4b2197accd5073052a465361be17b89c093b8ffb6e6bd8f986c52df8",
        member: "onnxruntime/capi/libonnxruntime.so.1.32.0",
        file_name: "libonnxruntime.so.1.32.0",
        size: 34_824_680,
        sha256: "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f",
    }],
};

/// LiveKit's FFI library (`liblivekit_ffi.so`, FFI server v0.13.2), from PyPI's `livekit`
/// 1.2.1 wheel: the room client's native side. Its protocol must match exactly. Variable:
/// `LIVEKIT_LIB_PATH`.
pub const LIVEKIT_FFI: RuntimeLibrary = RuntimeLibrary {
    name: "livekit-ffi",
    env_var: "LIVEKIT_LIB_PATH",
    base_name: "livekit_ffi",
    package: "livekit",
    version: "1.2.1",
    accepts: VersionRule::Exactly,
    package_dir: "livekit/rtc/resources",
    artifacts: &[Artifact {
        os: "linux",
        arch: "x86_64",
        wheel_platform: "manylinux_2_28_x86_64",
        python_version: "3.12",
        wheel: "livekit-1.2.1-py3-none-manylinux_2_28_x86_64.whl",
        wheel_sha256: "c9a0269cc23a889e20f716405a59fbae375a0248ea3d2d043da103cfb0b71711",
        member: "livekit/rtc/resources/liblivekit_ffi.so",
        file_name: "liblivekit_ffi.so",
        size: 28_265_384,
        sha256: "b0e3b91dcf42b486045b6acca4863b132e3c4d114d5701b5759c7661c04ea1eb",
    }],
};

/// Every library this crate family loads at run time.
pub const ALL: &[&RuntimeLibrary] = &[&ONNX_RUNTIME, &LIVEKIT_FFI];

impl RuntimeLibrary {
    /// The pinned build for the platform this program runs on, if there is one.
    pub fn artifact(&self) -> Option<&'static Artifact> {
        self.artifact_for(std::env::consts::OS, std::env::consts::ARCH)
    }

    /// The pinned build for a platform (`os`, `arch` as in [`std::env::consts`]).
    pub fn artifact_for(&self, os: &str, arch: &str) -> Option<&'static Artifact> {
        self.artifacts.iter().find(|a| a.os == os && a.arch == arch)
    }

    /// What this library wants, for messages: `ONNX Runtime 1.32.0 (or any from 1.17)`.
    pub fn wanted(&self) -> String {
        match self.accepts {
            VersionRule::Exactly => format!("{} {}", self.name, self.version),
            VersionRule::AtLeast(min) => {
                format!("{} {} (or any version from {min})", self.name, self.version)
            }
        }
    }

    /// Whether `version` (dotted numbers) is accepted.
    pub fn accepts_version(&self, version: &str) -> bool {
        let Some(found) = parse_version(version) else { return false };
        match self.accepts {
            VersionRule::Exactly => parse_version(self.version) == Some(found),
            VersionRule::AtLeast(min) => parse_version(min).is_some_and(|min| found >= min),
        }
    }

    /// The version in a file name of this library on this platform: `Some(Some("1.22.0"))`
    /// for `libonnxruntime.so.1.22.0`, `Some(None)` for `libonnxruntime.so`, `None` for a file
    /// that is not this library.
    pub fn version_in_file_name(&self, name: &str) -> Option<Option<String>> {
        let base = self.base_name;
        let rest = if cfg!(target_os = "macos") {
            name.strip_prefix(&format!("lib{base}"))?.strip_suffix(".dylib")?.to_owned()
        } else if cfg!(windows) {
            return name.eq_ignore_ascii_case(&format!("{base}.dll")).then_some(None);
        } else {
            name.strip_prefix(&format!("lib{base}.so"))?.to_owned()
        };
        if rest.is_empty() {
            return Some(None);
        }
        let version = rest.strip_prefix('.')?;
        parse_version(version).map(|_| Some(version.to_owned()))
    }
}

impl fmt::Display for RuntimeLibrary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

/// Dotted numbers (`1.22.0` → `[1, 22, 0]`); `None` if any part is not a number.
pub(crate) fn parse_version(version: &str) -> Option<Vec<u32>> {
    if version.is_empty() {
        return None;
    }
    version.split('.').map(|part| part.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_compared_as_numbers() {
        assert!(ONNX_RUNTIME.accepts_version("1.17.0"));
        assert!(ONNX_RUNTIME.accepts_version("1.22.1"));
        assert!(ONNX_RUNTIME.accepts_version("1.17"));
        assert!(!ONNX_RUNTIME.accepts_version("1.16.3"));
        assert!(!ONNX_RUNTIME.accepts_version("1.9.0"));
        assert!(!ONNX_RUNTIME.accepts_version("1.x"));
        assert!(LIVEKIT_FFI.accepts_version("1.2.1"));
        assert!(!LIVEKIT_FFI.accepts_version("1.2.2"));
        assert!(!LIVEKIT_FFI.accepts_version("1.2.0"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn versions_are_read_from_file_names() {
        let v = |n| ONNX_RUNTIME.version_in_file_name(n);
        assert_eq!(v("libonnxruntime.so.1.22.0"), Some(Some("1.22.0".into())));
        assert_eq!(v("libonnxruntime.so"), Some(None));
        assert_eq!(v("libonnxruntime.so.1.x"), None);
        assert_eq!(v("libonnxruntime_providers_shared.so"), None);
        assert_eq!(v("libonnxruntime.dylib"), None);
        assert_eq!(LIVEKIT_FFI.version_in_file_name("liblivekit_ffi.so"), Some(None));
    }

    #[test]
    fn the_pinned_builds_are_consistent() {
        for library in ALL {
            assert!(library.accepts_version(library.version), "{library}");
            for artifact in library.artifacts {
                assert!(artifact.member.starts_with(library.package_dir), "{library}");
                assert!(artifact.member.ends_with(artifact.file_name), "{library}");
                let prefix = format!("{}-{}-", library.package, library.version);
                assert!(artifact.wheel.starts_with(&prefix), "{library}");
                assert!(artifact.wheel.contains(artifact.wheel_platform), "{library}");
                for sha in [artifact.sha256, artifact.wheel_sha256] {
                    assert_eq!(sha.len(), 64, "{library}");
                    assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()), "{library}");
                }
            }
        }
        assert_eq!(ONNX_RUNTIME.artifact_for("linux", "x86_64").map(|a| a.size), Some(34_824_680));
        assert_eq!(LIVEKIT_FFI.artifact_for("freebsd", "x86_64"), None);
    }
}
