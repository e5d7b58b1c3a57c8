//! cargo-fuzz entry of [`agents_fuzz_targets::targets::inference_messages`] (its body and what it checks).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| agents_fuzz_targets::targets::inference_messages::run(data));
