//! Compile-time diagnostics of `#[function_tool]`, `#[function_tools]` and the
//! `function_tool(f, name, description)` builder.
//!
//! Each file under `tests/ui/fail/` is one misuse; its `.stderr` is what the user sees, checked
//! to point at their own token and to say what to do, with no cascade of follow-up errors. The
//! files under `tests/ui/pass/` must compile and run.
//!
//! The expected `.stderr` files were generated with rustc 1.95 (the toolchain of this workspace);
//! other compilers word and lay out diagnostics differently, so run this test with rustc 1.95.
//! After an intended change, regenerate them with
//! `TRYBUILD=overwrite cargo test -p voice-agents-core --test ui` and read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
