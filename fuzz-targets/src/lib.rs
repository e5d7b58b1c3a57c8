//! The bodies of the fuzz targets of the parsers of outside input, and a stable harness
//! that runs them.
//!
//! Each target is a function of arbitrary bytes that panics when a property does not hold.
//! cargo-fuzz (nightly, `fuzz/`) drives them with coverage feedback: `cargo +nightly fuzz run
//! <target>`. [`harness::check`] drives them on stable, over each target's seeds and
//! thousands of random and mutated inputs from a fixed RNG seed: `cargo xtask fuzz-check`.

// A fuzz target reports a property that does not hold by panicking: that is its job.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

pub mod harness;
pub mod targets;

/// A fuzz target: its name (as cargo-fuzz knows it), its body, its seed inputs.
#[derive(Clone, Copy)]
pub struct Target {
    /// The name of its cargo-fuzz binary (`fuzz/fuzz_targets/<name>.rs`).
    pub name: &'static str,
    /// One run over an input: panics when a property does not hold.
    pub run: fn(&[u8]),
    /// Inputs to start from (well-formed messages), mutated by the harness.
    pub seeds: fn() -> Vec<Vec<u8>>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("name", &self.name).finish_non_exhaustive()
    }
}

macro_rules! targets {
    ($($name:ident $(with $seeds:path)?),* $(,)?) => {
        /// Every fuzz target.
        pub const TARGETS: &[Target] = &[$(Target {
            name: stringify!($name),
            run: targets::$name::run,
            seeds: targets!(@seeds $($seeds)?),
        }),*];
    };
    (@seeds) => { Vec::new };
    (@seeds $seeds:path) => { $seeds };
}

targets![
    chat_chunks with targets::seeds::chat_chunks,
    console_keys with targets::seeds::console_keys,
    console_lines with targets::seeds::console_keys,
    env_file with targets::seeds::env_file,
    ffi_events,
    inference_messages with targets::seeds::inference_messages,
    retry_after with targets::seeds::retry_after,
    sse_parser with targets::seeds::sse_parser,
    tool_arguments with targets::seeds::tool_arguments,
    wav_read with targets::seeds::wav_read,
    worker_messages with targets::worker_messages::seeds,
    job_host_lines with targets::job_host_lines::seeds,
    worker_url with targets::worker_url::seeds,
    mcp_schema with targets::mcp_schema::seeds,
    mcp_results with targets::mcp_results::seeds,
];

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().copied().find(|target| target.name == name)
}
