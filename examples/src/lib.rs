//! Examples of LiveKit Agents for Rust; run them with `cargo run --example <name>`.
