//! The README's feature table is the crates' features, defaults included.

use std::collections::BTreeSet;

use super::markdown;
use super::workspace;

/// The rows of the README's feature table: `(package, feature, default)`.
fn table() -> BTreeSet<(String, String, bool)> {
    let readme = workspace::read("README.md");
    let section = readme
        .split_once("\n## Features\n")
        .expect("the README has a Features section")
        .1
        .split("\n## ")
        .next()
        .unwrap_or_default();
    let (_, prose) = markdown::split(section);
    prose
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let code = |cell: &str| cell.trim_matches('`').to_owned();
            let default = match cells[3] {
                "yes" => true,
                "no" => false,
                other => panic!("the default column says `{other}`, not yes or no: {line}"),
            };
            (code(cells[1]), code(cells[2]), default)
        })
        .collect()
}

#[test]
fn the_feature_table_is_the_crates_features() {
    let documented = table();
    let packages = workspace::packages();
    let mut actual = BTreeSet::new();
    for (name, package) in &packages {
        let published = package.dir.starts_with("crates/");
        if !published && name != "examples" {
            continue;
        }
        // Published as `voice-agents-*`, whatever this workspace's manifests call them yet.
        let name = match published && !name.starts_with("voice-") {
            true => format!("voice-{name}"),
            false => name.clone(),
        };
        for (feature, default) in &package.features {
            actual.insert((name.clone(), feature.clone(), *default));
        }
    }
    let missing: Vec<_> = actual.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&actual).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README's feature table: missing (package, feature, default) {missing:?}; not in the crates {extra:?}"
    );
}
