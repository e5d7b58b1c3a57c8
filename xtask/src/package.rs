//! `cargo xtask package`: every published crate packages, its package holds what it needs and
//! nothing it must not ship, and (unless `--no-verify`) builds on its own from the package.
//!
//! `cargo package -p <each> --locked` packages the crates together: the unpublished
//! inter-crate dependencies resolve through a local registry overlay of the packages just
//! made (cargo ≥ 1.90), so nothing is downloaded from crates.io but third-party crates
//! (from the local cache when offline: `CARGO_NET_OFFLINE=true`). Verifying builds each
//! package's library with its default features in `target/package/`.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use crate::metadata::{Package, Workspace};

/// crates.io refuses a `.crate` file larger than this (10 MiB).
pub(crate) const CRATES_IO_LIMIT: u64 = 10 * 1024 * 1024;

/// Files every package ships: its manifest, library root, README (the crate docs) and licence.
const REQUIRED: &[&str] = &["Cargo.toml", "README.md", "LICENSE", "src/lib.rs"];

/// Files a package needs beyond [`REQUIRED`]: embedded data and its licence notice.
const REQUIRED_BY_CRATE: &[(&str, &[&str])] = &[(
    "voice-agents-plugins-silero",
    &["models/LICENSE", "models/silero_vad.onnx", "models/silero_vad_16k_sequence.onnx"],
)];

/// Folders and files no package ships: tests, their data, benchmarks, examples, fuzzing.
const FORBIDDEN_PREFIXES: &[&str] =
    &["tests/", "benches/", "examples/", "fuzz/", "proptest-regressions/", "target/"];
const FORBIDDEN_EXTENSIONS: &[&str] = &[".wav", ".pcm", ".log"];

/// What is wrong with one package's file list and size.
pub(crate) fn check_listing(krate: &str, files: &[String], size: u64) -> Vec<String> {
    let mut problems = Vec::new();
    let needed = REQUIRED.iter().chain(
        REQUIRED_BY_CRATE
            .iter()
            .filter(|(name, _)| *name == krate)
            .flat_map(|(_, files)| files.iter()),
    );
    for file in needed {
        if !files.iter().any(|listed| listed == file) {
            problems.push(format!(
                "{krate}: the package lacks `{file}`: add it to `include` in its Cargo.toml"
            ));
        }
    }
    for file in files {
        let forbidden = FORBIDDEN_PREFIXES.iter().any(|prefix| file.starts_with(prefix))
            || FORBIDDEN_EXTENSIONS.iter().any(|extension| file.ends_with(extension));
        if forbidden {
            problems.push(format!(
                "{krate}: the package ships `{file}` (tests, test data or dev files): narrow \
                 `include` in its Cargo.toml"
            ));
        }
    }
    if size > CRATES_IO_LIMIT {
        problems.push(format!(
            "{krate}: the package is {size} bytes, over crates.io's limit of {CRATES_IO_LIMIT}"
        ));
    }
    problems
}

/// `cargo package --list -p <krate>`: the files of its package.
fn listing(cargo: &OsStr, krate: &str) -> Result<Vec<String>, String> {
    let output = Command::new(cargo)
        .args(["package", "--list", "--locked", "--allow-dirty", "-p", krate])
        .output()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo package --list -p {krate}` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect())
}

/// Runs the check; `args` go to `cargo package` (e.g. `--no-verify`, `--allow-dirty`).
pub(crate) fn run(cargo: &OsStr, args: &[String]) -> Result<(), String> {
    let workspace = Workspace::load(cargo).map_err(|error| error.to_string())?;
    let published: Vec<&Package> = workspace.published();
    let mut command = Command::new(cargo);
    // An extracted package is a workspace of its own, without ours' `[profile.dev]`: without
    // debug info its dependencies build faster, smaller, and as the workspace's own builds
    // (`debug = false` for dependencies), which they can then share.
    command.args(["package", "--locked"]).args(args).env("CARGO_PROFILE_DEV_DEBUG", "false");
    for krate in &published {
        command.args(["-p", &krate.name]);
    }
    let names: Vec<&str> = published.iter().map(|krate| krate.name.as_str()).collect();
    eprintln!("xtask: cargo package --locked {} -p {}", args.join(" "), names.join(" -p "));
    let status = command.status().map_err(|error| format!("cannot run cargo: {error}"))?;
    if !status.success() {
        return Err("`cargo package` failed (above)".to_owned());
    }
    let mut problems = Vec::new();
    for krate in &published {
        let files = listing(cargo, &krate.name)?;
        let crate_file = workspace
            .target_directory
            .join("package")
            .join(format!("{}-{}.crate", krate.name, krate.version));
        let size = file_size(&crate_file)?;
        eprintln!(
            "xtask: {} {}: {} files, {:.1} KiB compressed: {}",
            krate.name,
            krate.version,
            files.len(),
            size as f64 / 1024.0,
            files.join(" ")
        );
        problems.extend(check_listing(&krate.name, &files, size));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("the packages are not publishable:\n  - {}", problems.join("\n  - ")))
    }
}

fn file_size(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|metadata| metadata.len())
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[&str]) -> Vec<String> {
        list.iter().map(|file| (*file).to_owned()).collect()
    }

    const COMPLETE: &[&str] =
        &["Cargo.toml", "Cargo.toml.orig", "LICENSE", "README.md", "src/lib.rs", "src/a.rs"];

    #[test]
    fn a_complete_package_passes() {
        assert_eq!(
            check_listing("voice-agents-core", &files(COMPLETE), 1000),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_missing_licence_or_model_is_named() {
        let problems = check_listing(
            "voice-agents-core",
            &files(&["Cargo.toml", "README.md", "src/lib.rs"]),
            1,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("`LICENSE`"), "{problems:?}");
        let problems = check_listing("voice-agents-plugins-silero", &files(COMPLETE), 1);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("models/LICENSE")), "{problems:?}");
    }

    #[test]
    fn tests_and_test_data_are_refused() {
        let mut list = files(COMPLETE);
        list.extend(files(&[
            "tests/session.rs",
            "src/fixtures/hello.wav",
            "proptest-regressions/sse.txt",
        ]));
        let problems = check_listing("voice-agents-core", &list, 1);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn a_package_over_the_crates_io_limit_is_refused() {
        let problems = check_listing("voice-agents-core", &files(COMPLETE), CRATES_IO_LIMIT + 1);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("limit"), "{problems:?}");
    }
}
