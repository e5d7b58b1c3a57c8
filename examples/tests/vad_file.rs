//! `vad_file`, run as a user runs it: the Silero VAD over the plugin's test recordings (speech
//! from 1.1 s to 3.5 s and from 4.8 s to 7.1 s), and what it says about bad input.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{example_binary, show};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/agents-plugins-silero/tests/data")
        .join(name)
}

async fn vad_file(args: &[&Path]) -> Output {
    tokio::process::Command::new(example_binary("vad_file"))
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap()
}

/// The `(start, end)` of each segment line.
fn segments(output: &Output) -> Vec<(f64, f64)> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (start, end) = line.strip_prefix("start=")?.split_once(" end=")?;
            Some((start.parse().ok()?, end.parse().ok()?))
        })
        .collect()
}

#[tokio::test]
async fn finds_the_two_utterances_at_any_sample_rate() {
    for file in ["speech_16k.wav", "speech_48k.wav"] {
        let output = vad_file(&[&data(file)]).await;
        assert!(output.status.success(), "{file}: {}", show(&output));
        let found = segments(&output);
        assert_eq!(found.len(), 2, "{file}: {}", show(&output));
        for ((start, end), (speech_start, speech_end)) in
            found.into_iter().zip([(1.1, 3.5), (4.8, 7.1)])
        {
            assert!((start - speech_start).abs() < 0.1, "{file}: starts at {start}");
            assert!((end - speech_end).abs() < 0.1, "{file}: ends at {end}");
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("audio=7.815s inferences=244 "), "{file}: {stdout}");
    }
}

#[tokio::test]
async fn bad_input_is_an_error_that_says_what_is_wrong() {
    let output = vad_file(&[]).await;
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "usage: vad_file <file.wav>\n");

    let missing = std::env::temp_dir().join("vad_file_no_such_file.wav");
    let output = vad_file(&[&missing]).await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with(&format!("error: cannot read `{}`", missing.display())), "{stderr}");

    let not_wav = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = vad_file(&[&not_wav]).await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a WAV file this example reads"), "{stderr}");
}
