//! `cargo xtask msrv`: the minimum supported Rust version each published crate declares
//! (`rust-version`) is checked against what it needs:
//!
//! 1. its edition (2024 needs Rust 1.85);
//! 2. the `rust-version` of every crate it builds with, every feature on (`cargo metadata
//!    --all-features`, normal and build dependencies): the newest of them is a floor. The graph
//!    is the workspace's, every feature of every member on, so a crate's floor can come from a
//!    dependency only another feature choice brings: a floor never too low, maybe too high;
//! 3. when the declared toolchain is installed (`rustup toolchain list`), `cargo +<msrv> check`
//!    of the crate with all its features. rustup cannot download toolchains everywhere; when it
//!    is not installed this step says so and the first two still hold.
//!
//! Our own code's use of the standard library is checked by clippy's `incompatible_msrv` lint
//! (on by default, `cargo clippy -- -D warnings` in CI), which reads the same `rust-version`.

use std::ffi::OsStr;
use std::process::Command;

use crate::metadata::{Package, RustVersion, Workspace};

/// What is wrong with one crate's declared MSRV.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    /// No `rust-version`.
    Undeclared { krate: String },
    /// Older than the edition allows.
    OlderThanEdition { krate: String, declared: RustVersion, edition: String },
    /// Older than a dependency's.
    OlderThanDependency {
        krate: String,
        declared: RustVersion,
        dependency: String,
        needs: RustVersion,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Undeclared { krate } => write!(
                f,
                "{krate} declares no `rust-version`: add `rust-version.workspace = true` (or a \
                 version) to its Cargo.toml"
            ),
            Self::OlderThanEdition { krate, declared, edition } => write!(
                f,
                "{krate} declares rust-version {declared}, older than edition {edition} allows \
                 ({}): raise it in its Cargo.toml",
                RustVersion::of_edition(edition)
            ),
            Self::OlderThanDependency { krate, declared, dependency, needs } => write!(
                f,
                "{krate} declares rust-version {declared}, but it builds {dependency}, which \
                 needs Rust {needs}: raise `rust-version` to {needs} in its Cargo.toml (and in \
                 VERSIONING.md and the changelog), or keep the older dependency"
            ),
        }
    }
}

/// The newest `rust-version` among what `krate` builds with: the package and its version.
pub(crate) fn dependency_floor<'a>(
    workspace: &'a Workspace,
    krate: &Package,
) -> Option<(&'a Package, RustVersion)> {
    workspace
        .build_closure(&krate.id)
        .into_iter()
        .filter_map(|id| workspace.packages.get(id))
        .filter_map(|package| package.rust_version.map(|version| (package, version)))
        .max_by_key(|(_, version)| *version)
}

/// Checks the declared MSRV of each published crate against its edition and dependencies.
pub(crate) fn check(workspace: &Workspace) -> Vec<Finding> {
    let mut findings = Vec::new();
    for krate in workspace.published() {
        let Some(declared) = krate.rust_version else {
            findings.push(Finding::Undeclared { krate: krate.name.clone() });
            continue;
        };
        if declared < RustVersion::of_edition(&krate.edition) {
            findings.push(Finding::OlderThanEdition {
                krate: krate.name.clone(),
                declared,
                edition: krate.edition.clone(),
            });
        }
        if let Some((dependency, needs)) = dependency_floor(workspace, krate)
            && needs > declared
        {
            findings.push(Finding::OlderThanDependency {
                krate: krate.name.clone(),
                declared,
                dependency: format!("{} {}", dependency.name, dependency.version),
                needs,
            });
        }
    }
    findings
}

/// Whether rustup has `toolchain` (e.g. `1.88` or `1.88.0`) installed.
fn toolchain_installed(version: RustVersion) -> Option<String> {
    let output = Command::new("rustup").args(["toolchain", "list"]).output().ok()?;
    let list = String::from_utf8_lossy(&output.stdout);
    let short = format!("{}.{}", version.0, version.1);
    let full = format!("{}.{}.{}", version.0, version.1, version.2);
    list.lines().filter_map(|line| line.split_whitespace().next()).find_map(|name| {
        let channel = name.split('-').next().unwrap_or(name);
        (channel == short || channel == full).then(|| channel.to_owned())
    })
}

/// `cargo xtask msrv`: prints each crate's MSRV and its floor; fails on any finding, or
/// when an installed MSRV toolchain does not build the crate.
pub(crate) fn run(cargo: &OsStr) -> Result<(), String> {
    let workspace = Workspace::load(cargo).map_err(|error| error.to_string())?;
    for krate in workspace.published() {
        let declared = krate.rust_version.map_or("none".to_owned(), |v| v.to_string());
        let floor = dependency_floor(&workspace, krate)
            .map_or("none".to_owned(), |(p, v)| format!("{v} ({} {})", p.name, p.version));
        eprintln!(
            "xtask: {}: rust-version {declared}; edition {} needs {}; newest dependency \
             rust-version {floor}",
            krate.name,
            krate.edition,
            RustVersion::of_edition(&krate.edition)
        );
    }
    let findings = check(&workspace);
    if !findings.is_empty() {
        let lines: Vec<String> = findings.iter().map(|f| format!("  - {f}")).collect();
        return Err(format!("the declared MSRVs do not hold:\n{}", lines.join("\n")));
    }
    let mut failed = Vec::new();
    let mut not_installed: Vec<String> = Vec::new();
    for krate in workspace.published() {
        let Some(version) = krate.rust_version else { continue };
        let Some(toolchain) = toolchain_installed(version) else {
            not_installed.push(format!("{} ({version})", krate.name));
            continue;
        };
        eprintln!("xtask: cargo +{toolchain} check -p {} --all-features --locked", krate.name);
        let status = Command::new("cargo")
            .arg(format!("+{toolchain}"))
            .args(["check", "--all-features", "--locked", "-p", &krate.name])
            .status()
            .map_err(|error| format!("cannot run cargo +{toolchain}: {error}"))?;
        if !status.success() {
            failed.push(format!("{} with Rust {toolchain}", krate.name));
        }
    }
    if !not_installed.is_empty() {
        eprintln!(
            "xtask: not compiled with their MSRV, whose toolchain is not installed (`rustup \
             toolchain install <version> --profile minimal` adds it): {}; checked against the \
             edition and the dependencies' rust-versions only",
            not_installed.join(", ")
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("does not build with its declared MSRV: {}", failed.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn workspace(declared: Option<&str>, dependency_needs: &str) -> Workspace {
        let json = json!({
            "packages": [
                {"id": "a", "name": "a", "version": "0.1.0", "edition": "2024",
                 "rust_version": declared, "publish": null, "features": {}},
                {"id": "b", "name": "b", "version": "2.0.0-rc.1", "edition": "2021",
                 "rust_version": dependency_needs, "publish": null, "features": {}}
            ],
            "workspace_members": ["a"],
            "resolve": {"nodes": [
                {"id": "a", "deps": [{"pkg": "b", "dep_kinds": [{"kind": null}]}]},
                {"id": "b", "deps": []}
            ]}
        });
        Workspace::from_json(&json).expect("valid")
    }

    #[test]
    fn a_declared_msrv_at_or_above_every_floor_holds() {
        assert_eq!(check(&workspace(Some("1.92"), "1.92")), []);
        assert_eq!(check(&workspace(Some("1.95"), "1.88")), []);
    }

    #[test]
    fn a_dependency_needing_a_newer_rust_is_named() {
        let findings = check(&workspace(Some("1.88"), "1.92"));
        assert_eq!(
            findings,
            [Finding::OlderThanDependency {
                krate: "a".into(),
                declared: RustVersion(1, 88, 0),
                dependency: "b 2.0.0-rc.1".into(),
                needs: RustVersion(1, 92, 0),
            }]
        );
        assert!(findings[0].to_string().contains("raise `rust-version` to 1.92"));
    }

    #[test]
    fn the_edition_and_a_missing_declaration_are_findings() {
        assert!(matches!(
            check(&workspace(Some("1.80"), "1.70")).as_slice(),
            [Finding::OlderThanEdition { .. }]
        ));
        assert!(matches!(check(&workspace(None, "1.70")).as_slice(), [Finding::Undeclared { .. }]));
    }
}
