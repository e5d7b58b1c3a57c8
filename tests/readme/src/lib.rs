//! The documentation, checked against the code:
//!
//! * the README's Rust snippets compile as one program with exactly the dependencies its quick
//!   start lists, and its test runs;
//! * each chapter of the guide (`docs/src/`) compiles as one module, and its tests run;
//! * every `cargo` command of the README and the guide names packages, examples, features and
//!   agent commands that exist; the README's feature table is the crates' features;
//! * every `docs/src/...md#section` a set-up error (or a document) points at exists.

#[allow(missing_docs, dead_code, unreachable_pub)]
mod readme {
    include!(concat!(env!("OUT_DIR"), "/readme.rs"));
}

// A chapter may define items after its tests, in the order it explains them.
#[cfg(test)]
#[allow(missing_docs, dead_code, unreachable_pub, clippy::items_after_test_module)]
mod guide {
    include!(concat!(env!("OUT_DIR"), "/guide.rs"));
}

#[cfg(test)]
mod checks;
