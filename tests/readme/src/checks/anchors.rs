//! Every set-up error ends with the guide's section about it, and every section that an
//! error or a document points at exists: a renamed heading fails here.

use std::collections::BTreeMap;
use std::path::Path;

use super::markdown;
use super::workspace;

/// The set-up errors and the section each points at: `(source file, section)`.
const SETUP_ERRORS: &[(&str, &str)] = &[
    // A runtime library not found, wrong, or not installable (ONNX Runtime, livekit-ffi).
    ("crates/agents-runtime-libs/src/locate.rs", "troubleshooting.md#runtime-libraries"),
    ("crates/agents-runtime-libs/src/download.rs", "troubleshooting.md#runtime-libraries"),
    // ONNX Runtime found but not loadable.
    ("crates/agents-plugins-silero/src/error.rs", "troubleshooting.md#onnx-runtime"),
    // liblivekit_ffi.so found but not loadable or not answering.
    ("crates/agents-rtc/src/error.rs", "troubleshooting.md#livekit-client-library"),
    // Missing LiveKit Inference or OpenAI credentials.
    ("crates/agents-inference/src/error.rs", "troubleshooting.md#credentials"),
    // A worker without LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET, or refused.
    ("crates/agents-core/src/worker/error.rs", "troubleshooting.md#credentials"),
    // No audio device, no ALSA.
    ("crates/agents-core/src/cli/devices.rs", "troubleshooting.md#audio-devices"),
    // The room tests' network namespaces without root.
    ("tests/support/src/netns.rs", "troubleshooting.md#room-tests-need-root"),
    // `cargo xtask` without ALSA's headers, pkg-config or cmake.
    ("xtask/src/system.rs", "troubleshooting.md#system-packages"),
];

/// The anchors of every chapter of the guide, by path relative to the root.
fn guide() -> BTreeMap<String, std::collections::BTreeSet<String>> {
    workspace::documents()
        .into_iter()
        .map(|(path, text)| {
            let anchors = markdown::unique_anchors(&path, &text);
            (path, anchors)
        })
        .collect()
}

/// Why the section `target` (`docs/src/file.md#anchor`, relative to the root) does not
/// exist, if it does not.
fn missing(
    guide: &BTreeMap<String, std::collections::BTreeSet<String>>,
    target: &str,
) -> Option<String> {
    let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
    let normal = normalize(file);
    let Some(anchors) = guide.get(&normal) else {
        return Some(format!("no chapter {normal}"));
    };
    (!anchor.is_empty() && !anchors.contains(anchor))
        .then(|| format!("{normal} has no section #{anchor} (its sections: {anchors:?})"))
}

/// `a/b/../c.md` → `a/c.md`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// Every `docs/src/...md#...` named in `text`.
fn guide_references(text: &str) -> Vec<String> {
    text.match_indices("docs/src/")
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "_-./#".contains(*c))
                .collect::<String>()
                .trim_end_matches('.')
                .to_owned()
        })
        .filter(|reference| reference.contains(".md"))
        .collect()
}

#[test]
fn every_setup_error_points_at_its_section() {
    let guide = guide();
    for (file, section) in SETUP_ERRORS {
        let source = workspace::read(file);
        let target = format!("docs/src/{section}");
        // The section itself, or `{GUIDE}`: a constant of the same folder naming it.
        let through_constant = source.contains("{GUIDE}") && {
            let mut siblings = Vec::new();
            let dir = workspace::root().join(file);
            workspace::files_under(dir.parent().unwrap(), "rs", &mut siblings);
            siblings.iter().any(|sibling| {
                std::fs::read_to_string(sibling)
                    .unwrap()
                    .contains(&format!("GUIDE: &str = \"see {target}\""))
            })
        };
        assert!(
            source.contains(&target) || through_constant,
            "{file}: its set-up errors must end with `see {target}`"
        );
        assert_eq!(missing(&guide, &target), None, "{file} points at {target}");
    }
}

#[test]
fn every_section_the_code_names_exists() {
    let guide = guide();
    let mut files = Vec::new();
    for dir in ["crates", "xtask/src", "tests/support/src", "examples"] {
        workspace::files_under(&workspace::root().join(dir), "rs", &mut files);
    }
    let mut references = 0;
    let mut wrong = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for target in guide_references(&text) {
            references += 1;
            if let Some(why) = missing(&guide, &target) {
                wrong.push(format!("{}: {target}: {why}", file.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "sections named in the code that do not exist:\n{}",
        wrong.join("\n")
    );
    assert!(references >= SETUP_ERRORS.len(), "only {references} references to the guide");
}

#[test]
fn every_link_between_documents_resolves() {
    let guide = guide();
    let mut wrong = Vec::new();
    for (path, text) in workspace::documents() {
        let dir =
            Path::new(&path).parent().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default();
        let (_, prose) = markdown::split(&text);
        for link in
            prose.split("](").skip(1).filter_map(|rest| rest.split_once(')')).map(|(l, _)| l)
        {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = link.split_once('#').unwrap_or((link, ""));
            let file =
                if file.is_empty() { path.clone() } else { normalize(&format!("{dir}/{file}")) };
            if file.ends_with(".md") && (file == "README.md" || file.starts_with("docs/")) {
                let target = if anchor.is_empty() { file } else { format!("{file}#{anchor}") };
                if let Some(why) = missing(&guide, &target) {
                    wrong.push(format!("{path}: ({link}): {why}"));
                }
            } else if !workspace::root().join(&file).exists() && !file.ends_with("CHANGELOG.md") {
                wrong.push(format!("{path}: ({link}): no file {file}"));
            }
        }
    }
    assert!(wrong.is_empty(), "links that lead nowhere:\n{}", wrong.join("\n"));
}

#[test]
fn every_chapter_is_in_the_summary() {
    let summary = workspace::read("docs/src/SUMMARY.md");
    let (_, prose) = markdown::split(&summary);
    let listed: Vec<&str> =
        prose.split("](").skip(1).filter_map(|rest| Some(rest.split_once(')')?.0)).collect();
    for (path, _) in workspace::documents() {
        let Some(chapter) = path.strip_prefix("docs/src/") else { continue };
        if chapter != "SUMMARY.md" {
            assert!(
                listed.contains(&chapter),
                "{path} is not in docs/src/SUMMARY.md: mdBook would leave it out"
            );
        }
    }
}

#[test]
fn references_are_found_in_messages() {
    let text = r#"#[error("no device: see docs/src/troubleshooting.md#audio-devices")] and "docs/src/x.md"."#;
    assert_eq!(
        guide_references(text),
        ["docs/src/troubleshooting.md#audio-devices", "docs/src/x.md"]
    );
    assert_eq!(normalize("docs/src/../../README.md"), "README.md");
}
