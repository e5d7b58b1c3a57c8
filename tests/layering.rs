//! The crate layering (shared/architecture.md): a plugin depends on agents-core without its
//! default features and never compiles the worker's WebSocket and protocol stack or the FFI
//! room client. Checked on the real dependency tree, as `cargo tree` prints it (offline).

#![allow(clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Crates a plugin must never pull in: the worker's WebSocket, protocol and signing stack,
/// and the room client over the FFI library.
const FORBIDDEN_IN_PLUGINS: &[&str] =
    &["tokio-tungstenite", "livekit-protocol", "livekit-api", "prost", "voice-agents-rtc"];

/// The package names in the normal (non-dev, non-build) dependency tree of `package`,
/// resolved as when `package` is built on its own.
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace");
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace)
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none", "-f", "{p}", "-p", package])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "`cargo tree -p {package}` failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn forbidden_in(tree: &BTreeSet<String>) -> Vec<&'static str> {
    FORBIDDEN_IN_PLUGINS.iter().copied().filter(|name| tree.contains(*name)).collect()
}

#[test]
fn the_silero_plugin_compiles_no_websocket_protocol_or_ffi_crate() {
    let tree = normal_dependencies("voice-agents-plugins-silero");
    assert!(tree.contains("voice-agents-core"), "{tree:?}");
    assert_eq!(
        forbidden_in(&tree),
        Vec::<&str>::new(),
        "agents-plugins-silero must depend on agents-core with `default-features = false` \
         and only the features it needs; its tree: {tree:?}"
    );
}

#[test]
fn the_silero_plugin_takes_agents_core_without_its_default_features() {
    // `macros` is a default feature of agents-core; the plugin writes no tools.
    let tree = normal_dependencies("voice-agents-plugins-silero");
    assert!(!tree.contains("voice-agents-macros"), "{tree:?}");
}

#[test]
fn the_check_sees_a_websocket_crate_where_there_is_one() {
    // agents-inference holds the gateway's WebSocket clients: the same check flags them, so
    // an empty result above means the plugin's tree is clean, not that nothing was read.
    let tree = normal_dependencies("voice-agents-inference");
    assert!(forbidden_in(&tree).contains(&"tokio-tungstenite"), "{tree:?}");
    assert!(!tree.contains("voice-agents-macros"), "{tree:?}");
}
