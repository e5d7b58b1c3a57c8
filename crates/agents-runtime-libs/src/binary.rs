//! Whether a file is a shared library for this processor (ELF headers, on Linux).

use std::io::Read;
use std::path::Path;

/// What is wrong with a library file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BinaryProblem {
    /// Not a shared library at all (not ELF).
    NotALibrary,
    /// Built for another processor: its name.
    Architecture(String),
}

/// Checks the file's header against this program's processor. Only ELF (Linux and other
/// Unix-likes but macOS) is checked; elsewhere every file passes. An unreadable file is the
/// loader's business, so it passes too.
pub(crate) fn check(path: &Path) -> Result<(), BinaryProblem> {
    if cfg!(any(target_os = "macos", target_os = "ios", windows)) {
        return Ok(());
    }
    let mut header = [0u8; 20];
    let Ok(mut file) = std::fs::File::open(path) else { return Ok(()) };
    if file.read_exact(&mut header).is_err() {
        return Err(BinaryProblem::NotALibrary);
    }
    if header[..4] != *b"\x7fELF" {
        return Err(BinaryProblem::NotALibrary);
    }
    let machine = match header[5] {
        2 => u16::from_be_bytes([header[18], header[19]]),
        _ => u16::from_le_bytes([header[18], header[19]]),
    };
    let bits = if header[4] == 2 { 64 } else { 32 };
    let found = machine_name(machine, bits);
    match expected_machine() {
        Some((expected, expected_bits)) if expected != machine || expected_bits != bits => {
            Err(BinaryProblem::Architecture(found))
        }
        _ => Ok(()),
    }
}

/// This program's ELF machine number and word size, if known.
fn expected_machine() -> Option<(u16, u32)> {
    Some(match std::env::consts::ARCH {
        "x86_64" => (62, 64),
        "aarch64" => (183, 64),
        "x86" => (3, 32),
        "arm" => (40, 32),
        "riscv64" => (243, 64),
        "powerpc64" => (21, 64),
        "s390x" => (22, 64),
        _ => return None,
    })
}

/// A processor's name, as Rust's `std::env::consts::ARCH` spells it.
fn machine_name(machine: u16, bits: u32) -> String {
    match (machine, bits) {
        (62, 64) => "x86_64".to_owned(),
        (183, 64) => "aarch64".to_owned(),
        (3, 32) => "x86".to_owned(),
        (40, 32) => "arm".to_owned(),
        (243, 64) => "riscv64".to_owned(),
        (243, 32) => "riscv32".to_owned(),
        (21, 64) => "powerpc64".to_owned(),
        (22, 64) => "s390x".to_owned(),
        (other, bits) => format!("ELF machine {other} ({bits}-bit)"),
    }
}

#[cfg(all(test, target_os = "linux", target_arch = "x86_64"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn elf(machine: u16, class: u8) -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = class;
        bytes[5] = 1;
        bytes[18..20].copy_from_slice(&machine.to_le_bytes());
        bytes
    }

    #[test]
    fn headers_are_checked() {
        let dir = std::env::temp_dir().join(format!("runtime-libs-elf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("lib.so");
        std::fs::write(&file, elf(62, 2)).unwrap();
        assert_eq!(check(&file), Ok(()));
        std::fs::write(&file, elf(183, 2)).unwrap();
        assert_eq!(check(&file), Err(BinaryProblem::Architecture("aarch64".into())));
        std::fs::write(&file, elf(3, 1)).unwrap();
        assert_eq!(check(&file), Err(BinaryProblem::Architecture("x86".into())));
        std::fs::write(&file, b"#!/bin/sh\necho not a library\n").unwrap();
        assert_eq!(check(&file), Err(BinaryProblem::NotALibrary));
        std::fs::write(&file, b"").unwrap();
        assert_eq!(check(&file), Err(BinaryProblem::NotALibrary));
        std::fs::remove_dir_all(&dir).unwrap();
        // This test program is itself an ELF file for this processor.
        assert_eq!(check(&std::env::current_exe().unwrap()), Ok(()));
    }
}
