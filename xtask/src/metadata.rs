//! The workspace as `cargo metadata` describes it: which members are published, their
//! features and declared `rust-version`, and the resolved dependency graph with each
//! package's own `rust-version`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::process::Command;

use serde_json::Value;

/// Why the workspace could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MetadataError {
    /// cargo did not run or failed.
    #[error("`cargo metadata` failed: {0}")]
    Cargo(String),
    /// Its output was not what cargo documents.
    #[error("`cargo metadata` printed something unexpected: {0}")]
    Format(String),
}

/// A Rust version as `rust-version` writes it: `1.88` or `1.88.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RustVersion(pub(crate) u32, pub(crate) u32, pub(crate) u32);

impl RustVersion {
    /// Parses `MAJOR.MINOR[.PATCH]`; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.').map(str::parse::<u32>);
        let major = parts.next()?.ok()?;
        let minor = parts.next()?.ok()?;
        let patch = match parts.next() {
            Some(patch) => patch.ok()?,
            None => 0,
        };
        parts.next().is_none().then_some(Self(major, minor, patch))
    }

    /// The oldest Rust that builds an edition: a floor for `rust-version`.
    pub(crate) fn of_edition(edition: &str) -> Self {
        match edition {
            "2024" => Self(1, 85, 0),
            "2021" => Self(1, 56, 0),
            "2018" => Self(1, 31, 0),
            _ => Self(1, 0, 0),
        }
    }
}

impl fmt::Display for RustVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)?;
        if self.2 != 0 {
            write!(f, ".{}", self.2)?;
        }
        Ok(())
    }
}

/// One package of the resolved graph.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) edition: String,
    /// `rust-version` as declared; `None` when absent (or unparsable).
    pub(crate) rust_version: Option<RustVersion>,
    /// The features it declares, without `default`, sorted.
    pub(crate) features: Vec<String>,
    /// What its `default` feature enables (empty when it has none).
    pub(crate) defaults: Vec<String>,
    /// `publish = false` is absent.
    pub(crate) publishable: bool,
}

/// The workspace: its members and the resolved graph (every feature of every member on).
#[derive(Debug)]
pub(crate) struct Workspace {
    /// Every package of the graph, by id.
    pub(crate) packages: BTreeMap<String, Package>,
    /// The members' ids, in the workspace's order.
    pub(crate) members: Vec<String>,
    /// For each package, the packages it depends on to build (normal and build
    /// dependencies, on any platform), not its dev-dependencies.
    pub(crate) build_deps: BTreeMap<String, Vec<String>>,
    /// The target directory (where `cargo package` writes `package/*.crate`).
    pub(crate) target_directory: std::path::PathBuf,
}

impl Workspace {
    /// Runs `cargo metadata --all-features --locked` in the current directory.
    pub(crate) fn load(cargo: &std::ffi::OsStr) -> Result<Self, MetadataError> {
        let output = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--all-features", "--locked"])
            .output()
            .map_err(|error| MetadataError::Cargo(format!("cannot run cargo: {error}")))?;
        if !output.status.success() {
            return Err(MetadataError::Cargo(String::from_utf8_lossy(&output.stderr).into()));
        }
        let json: Value = serde_json::from_slice(&output.stdout)
            .map_err(|error| MetadataError::Format(error.to_string()))?;
        Self::from_json(&json)
    }

    /// Reads `cargo metadata --format-version 1` output.
    pub(crate) fn from_json(json: &Value) -> Result<Self, MetadataError> {
        let missing = |what: &str| MetadataError::Format(format!("no `{what}`"));
        let mut packages = BTreeMap::new();
        for package in json["packages"].as_array().ok_or_else(|| missing("packages"))? {
            let text = |key: &str| package[key].as_str().map(str::to_owned);
            let id = text("id").ok_or_else(|| missing("packages[].id"))?;
            let features = package["features"].as_object();
            let defaults = features
                .and_then(|features| features.get("default"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|enabled| enabled.as_str().map(str::to_owned))
                .collect();
            let mut feature_names: Vec<String> = features
                .map(|features| {
                    features.keys().filter(|name| *name != "default").cloned().collect()
                })
                .unwrap_or_default();
            feature_names.sort();
            let publishable = match &package["publish"] {
                Value::Null => true,
                Value::Array(registries) => !registries.is_empty(),
                _ => false,
            };
            packages.insert(
                id.clone(),
                Package {
                    id,
                    name: text("name").ok_or_else(|| missing("packages[].name"))?,
                    version: text("version").unwrap_or_default(),
                    edition: text("edition").unwrap_or_default(),
                    rust_version: text("rust_version").as_deref().and_then(RustVersion::parse),
                    features: feature_names,
                    defaults,
                    publishable,
                },
            );
        }
        let members = json["workspace_members"]
            .as_array()
            .ok_or_else(|| missing("workspace_members"))?
            .iter()
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect();
        let mut build_deps = BTreeMap::new();
        let nodes = json["resolve"]["nodes"].as_array().ok_or_else(|| missing("resolve.nodes"))?;
        for node in nodes {
            let Some(id) = node["id"].as_str() else { continue };
            let deps = node["deps"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|dep| {
                    dep["dep_kinds"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|kind| matches!(kind["kind"].as_str(), None | Some("build")))
                })
                .filter_map(|dep| dep["pkg"].as_str().map(str::to_owned))
                .collect();
            build_deps.insert(id.to_owned(), deps);
        }
        let target_directory =
            json["target_directory"].as_str().unwrap_or("target").to_owned().into();
        Ok(Self { packages, members, build_deps, target_directory })
    }

    /// The members that are published (no `publish = false`), in the workspace's order.
    pub(crate) fn published(&self) -> Vec<&Package> {
        self.members
            .iter()
            .filter_map(|id| self.packages.get(id))
            .filter(|package| package.publishable)
            .collect()
    }

    /// Every package `id` needs to build (itself excluded), through normal and build
    /// dependencies.
    pub(crate) fn build_closure(&self, id: &str) -> BTreeSet<&str> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(next) = stack.pop() {
            for dep in self.build_deps.get(next).into_iter().flatten() {
                if seen.insert(dep.as_str()) {
                    stack.push(dep);
                }
            }
        }
        seen.remove(id);
        seen
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rust_versions_parse_and_order() {
        assert_eq!(RustVersion::parse("1.88"), Some(RustVersion(1, 88, 0)));
        assert_eq!(RustVersion::parse("1.88.1"), Some(RustVersion(1, 88, 1)));
        assert_eq!(RustVersion::parse("1.x"), None);
        assert_eq!(RustVersion::parse("1.2.3.4"), None);
        assert!(RustVersion(1, 92, 0) > RustVersion(1, 88, 9));
        assert_eq!(RustVersion(1, 88, 0).to_string(), "1.88");
    }

    fn sample() -> Value {
        json!({
            "packages": [
                {"id": "a", "name": "a", "version": "0.1.0", "edition": "2024",
                 "rust_version": "1.88", "publish": null,
                 "features": {"default": ["x"], "x": [], "y": ["x"]}},
                {"id": "b", "name": "b", "version": "1.0.0", "edition": "2021",
                 "rust_version": "1.70.0", "publish": null, "features": {}},
                {"id": "t", "name": "t", "version": "1.0.0", "edition": "2021",
                 "rust_version": "1.95", "publish": null, "features": {}},
                {"id": "bench", "name": "bench", "version": "0.1.0", "edition": "2024",
                 "rust_version": null, "publish": [], "features": {}}
            ],
            "workspace_members": ["a", "bench"],
            "resolve": {"nodes": [
                {"id": "a", "deps": [
                    {"pkg": "b", "dep_kinds": [{"kind": null}]},
                    {"pkg": "t", "dep_kinds": [{"kind": "dev"}]}
                ]},
                {"id": "b", "deps": []},
                {"id": "bench", "deps": [{"pkg": "a", "dep_kinds": [{"kind": null}]}]}
            ]}
        })
    }

    #[test]
    fn reads_members_features_and_the_build_graph() {
        let workspace = Workspace::from_json(&sample()).expect("valid");
        let published: Vec<_> = workspace.published().iter().map(|p| p.name.clone()).collect();
        assert_eq!(published, ["a"]);
        let a = &workspace.packages["a"];
        assert_eq!(a.features, ["x", "y"]);
        assert_eq!(a.defaults, ["x"]);
        assert_eq!(a.rust_version, Some(RustVersion(1, 88, 0)));
        // The dev-dependency `t` (and its newer rust-version) is not needed to build `a`.
        assert_eq!(workspace.build_closure("a").into_iter().collect::<Vec<_>>(), ["b"]);
        assert_eq!(workspace.build_closure("bench").into_iter().collect::<Vec<_>>(), ["a", "b"]);
    }
}
