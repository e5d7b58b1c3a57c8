//! Copies the README's first snippets into `$OUT_DIR/snippets.rs`: the first one as items, the
//! next two as the body of `pub async fn snippets()`, as a user would paste them.

use std::path::PathBuf;
use std::{env, fs};

/// The first snippets of the README's "What you can do today", in order.
const SECTION: &str = "## What you can do today";
const SNIPPETS: usize = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let readme_path = manifest_dir.join("../../README.md");
    println!("cargo::rerun-if-changed={}", readme_path.display());
    let readme = fs::read_to_string(&readme_path)?;
    let section = readme
        .split_once(SECTION)
        .map(|(_, section)| section)
        .ok_or_else(|| format!("README.md has no `{SECTION}` section"))?;
    let blocks = rust_blocks(section);
    if blocks.len() < SNIPPETS {
        return Err(
            format!("README.md has {} Rust snippets, expected {SNIPPETS}", blocks.len()).into()
        );
    }
    let mut out = String::new();
    out.push_str(&blocks[0]);
    out.push_str(
        "\n/// The README's next snippets, in order.\n\
         pub async fn snippets() -> Result<(), Box<dyn std::error::Error>> {\n",
    );
    for block in &blocks[1..SNIPPETS] {
        out.push_str(block);
    }
    out.push_str("Ok(())\n}\n");
    fs::write(PathBuf::from(env::var("OUT_DIR")?).join("snippets.rs"), out)?;
    Ok(())
}

/// The contents of the ```` ```rust ```` blocks of `text`, in order.
fn rust_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim_end() == "```rust" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}
