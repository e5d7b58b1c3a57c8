//! cargo-fuzz entry of [`agents_fuzz_targets::targets::mcp_results`] (its body and what it checks).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agents_fuzz_targets::targets::mcp_results::run(data));
