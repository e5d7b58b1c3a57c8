//! Just enough Markdown: fenced blocks, inline code, headings and their anchors.

use std::collections::BTreeSet;

/// A fenced code block.
pub(super) struct Block {
    /// The info string (`rust`, `text`, `toml`, ...).
    pub(super) info: String,
    /// The lines between the fences.
    pub(super) body: String,
}

/// The fenced blocks of `text`, and the text outside them (fences removed).
pub(super) fn split(text: &str) -> (Vec<Block>, String) {
    let mut blocks = Vec::new();
    let mut prose = String::new();
    let mut current: Option<Block> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        match &mut current {
            None if trimmed.starts_with("```") => {
                let info = trimmed.trim_start_matches('`').trim().to_owned();
                current = Some(Block { info, body: String::new() });
            }
            None => {
                prose.push_str(line);
                prose.push('\n');
            }
            Some(_) if trimmed == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.body.push_str(line);
                block.body.push('\n');
            }
        }
    }
    (blocks, prose)
}

/// The fenced blocks of `text`.
pub(super) fn blocks(text: &str) -> Vec<Block> {
    split(text).0
}

/// The inline code spans outside fenced blocks (a span may wrap across lines).
pub(super) fn inline_code(text: &str) -> Vec<String> {
    let prose = split(text).1.replace('\n', " ");
    prose.split('`').skip(1).step_by(2).map(|span| span.trim().to_owned()).collect()
}

/// The anchor of a heading, as GitHub and mdBook make it: lower case, letters, digits, `-`
/// and `_` kept, spaces turned into `-`, everything else dropped.
pub(super) fn anchor(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The anchors of the headings of `text` (outside fenced blocks).
pub(super) fn anchors(text: &str) -> Vec<String> {
    split(text)
        .1
        .lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| anchor(line.trim_start_matches('#')))
        .collect()
}

/// The anchors of `text`, failing on two headings with the same anchor (a link could only
/// reach the first).
pub(super) fn unique_anchors(name: &str, text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for anchor in anchors(text) {
        assert!(seen.insert(anchor.clone()), "{name}: two headings have the anchor #{anchor}");
    }
    seen
}

#[test]
fn anchors_are_made_as_forges_make_them() {
    assert_eq!(anchor(" ONNX Runtime"), "onnx-runtime");
    assert_eq!(anchor("Room tests need root"), "room-tests-need-root");
    assert_eq!(anchor("`console` and audio devices (ALSA)"), "console-and-audio-devices-alsa");
    assert_eq!(
        anchor("Runtime libraries: liblivekit_ffi.so"),
        "runtime-libraries-liblivekit_ffiso"
    );
}

#[test]
fn code_spans_and_blocks_are_told_apart() {
    let text = "Run `cargo a\nb` here.\n\n```text\ncargo c # `d`\n```\n`e`\n";
    assert_eq!(inline_code(text), ["cargo a b", "e"]);
    let blocks = blocks(text);
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].info, "text");
    assert_eq!(blocks[0].body, "cargo c # `d`\n");
}
