//! The README's quick start lists exactly the dependencies its snippets are compiled with.

use super::markdown;
use super::workspace;

/// The dependency lines of the `[table]` in `text` (a manifest or a `toml` block), as
/// `(name, specification)` with comments removed.
fn dependencies(text: &str, table: &str) -> Vec<(String, String)> {
    text.lines()
        .skip_while(|line| line.trim() != table)
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default().trim();
            let (name, spec) = line.split_once('=')?;
            Some((name.trim().to_owned(), spec.trim().to_owned()))
        })
        .collect()
}

/// The README's quick start: its first `toml` block.
fn quick_start() -> String {
    markdown::blocks(&workspace::read("README.md"))
        .into_iter()
        .find(|block| block.info == "toml")
        .expect("the README has a toml block")
        .body
}

/// The workspace's folder name of a published package (`voice-agents-core` → `agents-core`).
fn local(name: &str) -> &str {
    name.strip_prefix("voice-").unwrap_or(name)
}

/// The `features = [...]` of a specification.
fn features(spec: &str) -> Option<&str> {
    Some(spec.split_once("features = [")?.1.split_once(']')?.0)
}

/// Fails unless `documented` and `used` name the same dependencies: equal specifications,
/// except that a workspace crate is taken by path here and must only agree on features.
fn agree(table: &str, documented: &[(String, String)], used: &[(String, String)]) {
    for (name, spec) in documented {
        let (_, used_spec) = used
            .iter()
            .find(|(used, _)| local(used) == local(name))
            .unwrap_or_else(|| panic!("{table}: the README lists `{name}`, tests/readme does not"));
        if name.starts_with("voice-agents-") {
            assert!(
                used_spec.contains("path = \"../../crates/"),
                "`{name}` must be the workspace's"
            );
            assert_eq!(features(spec), features(used_spec), "{table}: the features of `{name}`");
        } else {
            assert_eq!(spec, used_spec, "{table}: `{name}` differs from the README");
        }
    }
}

#[test]
fn dependencies_match_the_readme() {
    let readme = quick_start();
    let manifest = workspace::read("tests/readme/Cargo.toml");

    let documented = dependencies(&readme, "[dependencies]");
    let used = dependencies(&manifest, "[dependencies]");
    let names = |deps: &[(String, String)]| -> Vec<String> {
        deps.iter().map(|(name, _)| local(name).to_owned()).collect()
    };
    // Exactly these, so the README's program compiles with nothing it does not list.
    assert_eq!(names(&documented), names(&used), "the README lists other dependencies");
    agree("[dependencies]", &documented, &used);
    assert_eq!(
        names(&documented),
        ["agents-core", "agents-inference", "agents-plugins-silero"],
        "the quick start's dependencies"
    );

    // The README's test may see more (the guide's dev-dependencies), never less.
    let documented = dependencies(&readme, "[dev-dependencies]");
    assert!(!documented.is_empty(), "the README lists no dev-dependencies");
    agree("[dev-dependencies]", &documented, &dependencies(&manifest, "[dev-dependencies]"));
}

#[test]
fn the_documented_packages_and_features_exist() {
    let packages = workspace::packages();
    let mut checked = 0;
    for (path, text) in workspace::documents() {
        for block in markdown::blocks(&text).into_iter().filter(|block| block.info == "toml") {
            for table in ["[dependencies]", "[dev-dependencies]"] {
                for (name, spec) in dependencies(&block.body, table) {
                    if !name.starts_with("voice-agents-") {
                        continue;
                    }
                    checked += 1;
                    let package = workspace::package(&packages, &name)
                        .unwrap_or_else(|| panic!("{path}: no package `{name}`"));
                    for feature in features(&spec).unwrap_or_default().split(',') {
                        let feature = feature.trim().trim_matches('"');
                        assert!(
                            feature.is_empty() || package.features.contains_key(feature),
                            "{path}: `{name}` has no feature `{feature}`"
                        );
                    }
                }
            }
        }
    }
    assert!(checked >= 5, "only {checked} documented dependencies");
}
