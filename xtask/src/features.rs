//! `cargo xtask features`: the feature matrix. Each published crate's library is checked
//! (`cargo check --lib`, the workspace's target dir) with no default features, with its
//! defaults, with each feature alone, and with all of them, so that no feature choice breaks
//! the build (a feature that uses what it does not enable, code that forgot its `cfg`).
//! `-p <crate>` alone resolves features for that crate only (resolver 3), as a user's build
//! does; identical feature sets are checked once.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::process::Command;
use std::time::Instant;

use crate::metadata::{Package, Workspace};

/// One `cargo check` of the matrix: the arguments after `-p <crate>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Combination(pub(crate) Vec<String>);

impl Combination {
    fn of(args: &[&str]) -> Self {
        Self(args.iter().map(|arg| (*arg).to_owned()).collect())
    }
}

/// The combinations to check for `krate`: none, the defaults, each feature alone, all;
/// a combination that enables the same features as an earlier one is left out.
pub(crate) fn matrix(krate: &Package) -> Vec<Combination> {
    let all: BTreeSet<&str> = krate.features.iter().map(String::as_str).collect();
    let mut candidates: Vec<(BTreeSet<&str>, Combination)> =
        vec![(BTreeSet::new(), Combination::of(&["--no-default-features"]))];
    // `default` may enable dependencies' features (`dep/feature`): its set is then its own.
    candidates.push((krate.defaults.iter().map(String::as_str).collect(), Combination::of(&[])));
    for feature in &krate.features {
        candidates.push((
            BTreeSet::from([feature.as_str()]),
            Combination::of(&["--no-default-features", "--features", feature]),
        ));
    }
    candidates.push((all, Combination::of(&["--all-features"])));
    let mut seen = Vec::new();
    let mut combinations = Vec::new();
    for (set, combination) in candidates {
        if !seen.contains(&set) {
            seen.push(set);
            combinations.push(combination);
        }
    }
    combinations
}

/// Whether rustc warned about the checked crate's code: with `--message-format=short` each
/// such warning is a line `<file>:<line>:<column>: warning: ...` (dependencies' warnings are
/// capped by cargo; cargo's own, such as "warning: ignoring test", start with `warning:`).
pub(crate) fn has_warnings(stderr: &str) -> bool {
    stderr.lines().any(|line| {
        line.split_once(": warning: ").is_some_and(|(location, _)| {
            let mut parts = location.rsplitn(3, ':');
            let column = parts.next().unwrap_or_default();
            let line = parts.next().unwrap_or_default();
            parts.next().is_some_and(|file| !file.is_empty())
                && !column.is_empty()
                && column.bytes().all(|b| b.is_ascii_digit())
                && !line.is_empty()
                && line.bytes().all(|b| b.is_ascii_digit())
        })
    })
}

/// Runs the matrix; every failure (and every warning) is reported, then the task fails.
pub(crate) fn run(cargo: &OsStr) -> Result<(), String> {
    let workspace = Workspace::load(cargo).map_err(|error| error.to_string())?;
    let started = Instant::now();
    let mut failed = Vec::new();
    let mut count = 0;
    for krate in workspace.published() {
        for Combination(args) in matrix(krate) {
            count += 1;
            let shown = format!("cargo check --locked --lib -p {} {}", krate.name, args.join(" "));
            eprintln!("xtask: {shown}");
            let output = Command::new(cargo)
                .args(["check", "--locked", "--lib", "--quiet", "--message-format=short"])
                .args(["-p", &krate.name])
                .args(&args)
                .output()
                .map_err(|error| format!("cannot run cargo: {error}"))?;
            let stderr = String::from_utf8_lossy(&output.stderr);
            eprint!("{stderr}");
            if !output.status.success() {
                failed.push(shown);
            } else if has_warnings(&stderr) {
                // Code one combination leaves unused (a missing `cfg`) warns only there.
                failed.push(format!("{shown} (warnings)"));
            }
        }
    }
    eprintln!("xtask: {count} feature combinations checked in {:.0?}", started.elapsed());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("these feature combinations do not build:\n  {}", failed.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(features: &[&str], defaults: &[&str]) -> Package {
        Package {
            id: "x".into(),
            name: "x".into(),
            version: "0.1.0".into(),
            edition: "2024".into(),
            rust_version: None,
            features: features.iter().map(|f| (*f).to_owned()).collect(),
            defaults: defaults.iter().map(|f| (*f).to_owned()).collect(),
            publishable: true,
        }
    }

    #[test]
    fn a_feature_alone_that_is_the_defaults_is_checked_once() {
        let combinations = matrix(&package(&["a", "b"], &["a"]));
        let shown: Vec<String> = combinations.iter().map(|c| c.0.join(" ")).collect();
        assert_eq!(
            shown,
            ["--no-default-features", "", "--no-default-features --features b", "--all-features",]
        );
    }

    #[test]
    fn every_feature_alone_when_the_defaults_are_several() {
        let combinations = matrix(&package(&["a", "b", "c"], &["a", "b"]));
        let shown: Vec<String> = combinations.iter().map(|c| c.0.join(" ")).collect();
        assert_eq!(
            shown,
            [
                "--no-default-features",
                "",
                "--no-default-features --features a",
                "--no-default-features --features b",
                "--no-default-features --features c",
                "--all-features",
            ]
        );
    }

    #[test]
    fn warnings_of_the_crate_fail_the_combination() {
        // As cargo prints them with `--quiet --message-format=short`.
        assert!(has_warnings("crates/agents-rtc/src/lib.rs:3:5: warning: unused import: `x`\n"));
        assert!(!has_warnings("warning: ignoring test `mcp` as `tests/mcp.rs` is not included\n"));
        assert!(!has_warnings("warning: unused manifest key: a: warning: b\n"));
        assert!(!has_warnings(""));
    }

    #[test]
    fn identical_sets_are_checked_once() {
        // No features: the crate has one build.
        assert_eq!(matrix(&package(&[], &[])).len(), 1);
        // One default feature: none, and the default (= all).
        let shown: Vec<String> =
            matrix(&package(&["download"], &["download"])).iter().map(|c| c.0.join(" ")).collect();
        assert_eq!(shown, ["--no-default-features", ""]);
    }
}
