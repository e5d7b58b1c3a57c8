//! Every fuzz target on stable: its seeds and `FUZZ_CHECK_RUNS` (default 500) random and
//! mutated inputs, the same on every run (`FUZZ_CHECK_SEED`, default 1). `cargo xtask
//! fuzz-check` runs more. A failure names the input and the command that replays it.

#![allow(clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use agents_fuzz_targets::{TARGETS, harness, target};

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value.parse().unwrap_or_else(|_| {
            panic!("{name}={value:?} is not a number: unset it or set a number")
        }),
        Err(_) => default,
    }
}

fn check(name: &str) {
    let target = target(name).unwrap_or_else(|| panic!("no target `{name}`"));
    let runs = usize::try_from(env_number("FUZZ_CHECK_RUNS", 500)).unwrap_or(usize::MAX);
    let seed = env_number("FUZZ_CHECK_SEED", 1);
    let failures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-check");
    if let Err(failure) = harness::check(target, runs, seed, Some(failures)) {
        panic!("{failure}");
    }
}

macro_rules! each_target {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { check(stringify!($name)); })*

        #[test]
        fn every_target_is_checked_here() {
            let here: BTreeSet<&str> = [$(stringify!($name)),*].into_iter().collect();
            let all: BTreeSet<&str> = TARGETS.iter().map(|target| target.name).collect();
            assert_eq!(here, all);
        }
    };
}

each_target![
    chat_chunks,
    console_keys,
    console_lines,
    env_file,
    ffi_events,
    inference_messages,
    retry_after,
    sse_parser,
    tool_arguments,
    wav_read,
    worker_messages,
    job_host_lines,
    worker_url,
    mcp_schema,
    mcp_results,
];

/// cargo-fuzz sees the same targets: a `[[bin]]` and a file under `fuzz/fuzz_targets/` each.
#[test]
fn cargo_fuzz_has_a_binary_for_every_target() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap_or_default();
    let bins: BTreeSet<String> = manifest
        .lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .filter(|name| *name != "agents-fuzz")
        .map(str::to_owned)
        .collect();
    let all: BTreeSet<String> = TARGETS.iter().map(|target| target.name.to_owned()).collect();
    assert_eq!(bins, all, "fuzz/Cargo.toml's [[bin]] entries");
    for name in &all {
        let file = fuzz.join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            text.contains(&format!("agents_fuzz_targets::targets::{name}::run")),
            "{} must run the target `{name}`",
            file.display()
        );
    }
}
