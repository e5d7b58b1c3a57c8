//! What the workspace has: its documents, packages, features, examples and commands, read
//! from its files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The workspace's root folder.
pub(super) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the workspace, as text.
pub(super) fn read(relative: &str) -> String {
    let path = root().join(relative);
    fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The documents users read: `README.md` and every chapter of the guide, as
/// `(path relative to the root, text)`.
pub(super) fn documents() -> Vec<(String, String)> {
    let mut documents = vec![("README.md".to_owned(), read("README.md"))];
    let mut chapters = Vec::new();
    files_under(&root().join("docs/src"), "md", &mut chapters);
    chapters.sort();
    for chapter in chapters {
        let relative = chapter.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/");
        documents.push((relative.clone(), read(&relative)));
    }
    documents
}

/// The files under `dir` ending in `.{ext}`, recursively.
pub(super) fn files_under(dir: &Path, ext: &str, files: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, ext, files);
        } else if path.extension().is_some_and(|e| e == ext) {
            files.push(path);
        }
    }
}

/// A package of the workspace.
pub(super) struct Package {
    /// Its folder, relative to the root.
    pub(super) dir: String,
    /// Its features (without `default`), and whether each is on by default.
    pub(super) features: BTreeMap<String, bool>,
    /// Its `[[example]]` targets: name and file, relative to the package's folder.
    pub(super) examples: BTreeMap<String, String>,
}

/// The packages of the workspace by name (its `members`).
pub(super) fn packages() -> BTreeMap<String, Package> {
    let manifest = read("Cargo.toml");
    let members = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("the root Cargo.toml lists its members")
        .0;
    members
        .split(',')
        .map(|member| member.trim().trim_matches('"'))
        .filter(|member| !member.is_empty())
        .map(|dir| {
            let text = read(&format!("{dir}/Cargo.toml"));
            let sections = sections(&text);
            let name = sections
                .iter()
                .find(|(header, _)| header == "[package]")
                .and_then(|(_, body)| value(body, "name"))
                .unwrap_or_else(|| panic!("{dir}/Cargo.toml has no package name"));
            let mut features = BTreeMap::new();
            let mut default = Vec::new();
            for (_, body) in sections.iter().filter(|(header, _)| header == "[features]") {
                for (key, array) in keys(body) {
                    if key == "default" {
                        default = array;
                    } else {
                        features.insert(key, false);
                    }
                }
            }
            for feature in default {
                features.insert(feature, true);
            }
            let examples = sections
                .iter()
                .filter(|(header, _)| header == "[[example]]")
                .filter_map(|(_, body)| Some((value(body, "name")?, value(body, "path")?)))
                .collect();
            (name, Package { dir: dir.to_owned(), features, examples })
        })
        .collect()
}

/// The `[header]` sections of a manifest, with their bodies.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut sections = vec![(String::new(), String::new())];
    for line in text.lines() {
        if line.starts_with('[') {
            sections.push((line.trim().to_owned(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    sections
}

/// The string value of `key` in a section's body.
fn value(body: &str, key: &str) -> Option<String> {
    body.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The keys of a `[features]` body, each with the strings of its array.
fn keys(body: &str) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    for line in body.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let rest = match line.split_once('=') {
            Some((key, rest)) if !line.starts_with(' ') && !key.trim().is_empty() => {
                keys.push((key.trim().to_owned(), Vec::new()));
                rest
            }
            _ => line,
        };
        if let Some((_, array)) = keys.last_mut() {
            array.extend(rest.split('"').skip(1).step_by(2).map(str::to_owned));
        }
    }
    keys
}

/// The package a documented name means: the packages are published as `voice-agents-*`,
/// the names this workspace's manifests may still give them as `agents-*`.
pub(super) fn package<'a>(
    packages: &'a BTreeMap<String, Package>,
    name: &str,
) -> Option<&'a Package> {
    packages.get(name).or_else(|| packages.get(name.strip_prefix("voice-")?))
}

/// The tasks of `cargo xtask`.
pub(super) fn xtask_tasks() -> BTreeSet<String> {
    let main = read("xtask/src/main.rs");
    main.split("Some(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"'))
        .map(|(task, _)| task.to_owned())
        .filter(|task| !task.starts_with('-'))
        .collect()
}

/// The commands of an agent's command line (`console`, `dev`, ...), from its usage text.
pub(super) fn agent_commands() -> BTreeSet<String> {
    let args = read("crates/agents-core/src/cli/args.rs");
    let commands = args
        .split_once("Commands:\n")
        .and_then(|(_, rest)| rest.split_once("\n\n"))
        .expect("the usage text has a Commands section")
        .0;
    commands
        .lines()
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_workspace_is_read_right() {
    let packages = packages();
    let core = package(&packages, "voice-agents-core").expect("agents-core is a member");
    assert_eq!(core.features.get("worker"), Some(&true));
    assert_eq!(core.features.get("testing"), Some(&false));
    assert!(!core.features.contains_key("default"));
    assert!(package(&packages, "examples").unwrap().examples.contains_key("update_tools"));
    assert!(xtask_tasks().contains("setup"));
    let commands = agent_commands();
    for command in ["console", "dev", "start", "connect", "download-files"] {
        assert!(commands.contains(command), "{command} in {commands:?}");
    }
}
