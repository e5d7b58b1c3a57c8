//! Turns the Rust snippets of the README and the guide into modules, as a user would paste them:
//!
//! * `$OUT_DIR/readme.rs`: every ```` ```rust ```` block of `README.md`, in order, as the
//!   contents of one module (the quick start's `src/main.rs`, shown in pieces);
//! * `$OUT_DIR/guide.rs`: one module per chapter of `docs/src/`, holding that chapter's Rust
//!   blocks in order (a chapter builds up one program).
//!
//! A block whose info string is anything but `rust` (`rust,ignore`, `rust,no_run`, ...) is
//! refused: every Rust snippet of the documentation compiles.

use std::path::{Path, PathBuf};
use std::{env, fs};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest_dir.join("../..");
    let out = PathBuf::from(env::var("OUT_DIR")?);

    let readme_path = root.join("README.md");
    println!("cargo::rerun-if-changed={}", readme_path.display());
    let readme = rust_blocks(&readme_path)?.concat();
    fs::write(out.join("readme.rs"), readme)?;

    let guide_dir = root.join("docs/src");
    println!("cargo::rerun-if-changed={}", guide_dir.display());
    let mut chapters = Vec::new();
    markdown_files(&guide_dir, &mut chapters)?;
    chapters.sort();
    let mut guide = String::new();
    for chapter in &chapters {
        println!("cargo::rerun-if-changed={}", chapter.display());
        let blocks = rust_blocks(chapter)?;
        if blocks.is_empty() {
            continue;
        }
        let relative = chapter.strip_prefix(&guide_dir)?.to_string_lossy().into_owned();
        let module: String = relative
            .trim_end_matches(".md")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect();
        guide.push_str(&format!("/// `docs/src/{relative}`.\npub mod {module} {{\n"));
        guide.push_str(&blocks.concat());
        guide.push_str("}\n");
    }
    fs::write(out.join("guide.rs"), guide)?;
    Ok(())
}

/// The `.md` files under `dir`, recursively.
fn markdown_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            println!("cargo::rerun-if-changed={}", path.display());
            markdown_files(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "md") {
            files.push(path);
        }
    }
    Ok(())
}

/// The contents of the ```` ```rust ```` blocks of the file at `path`, in order.
fn rust_blocks(path: &Path) -> Result<Vec<String>, Error> {
    let text = fs::read_to_string(path)?;
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    let mut fence: Option<&str> = None;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        match (&mut current, fence) {
            (None, None) if trimmed.starts_with("```") => {
                let info = trimmed.trim_start_matches('`').trim();
                if info == "rust" {
                    current = Some(String::new());
                } else if info.starts_with("rust") {
                    return Err(format!(
                        "{}:{}: a ```{info} block: every Rust snippet of the documentation \
                         compiles, so write ```rust (or ```text for what is not Rust)",
                        path.display(),
                        number + 1
                    )
                    .into());
                } else {
                    fence = Some("```");
                }
            }
            (None, None) => {}
            (None, Some(_)) => {
                if trimmed == "```" {
                    fence = None;
                }
            }
            (Some(_), _) if trimmed == "```" => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    Ok(blocks)
}
