//! Fuzzes the console's `.env` parsing with arbitrary bytes: never a panic, every entry
//! numbered within the file, and no error message that shows the file's text. Each NUL byte
//! of the input stands for a secret marker, so that lines hold it often.

use agents_core::cli::__fuzz::{EnvLineError, env_entries};

const MARKER: &str = "☃SECRET☃";

/// One run over `data`: panics when a property does not hold.
pub fn run(data: &[u8]) {
    let mut content = Vec::with_capacity(data.len());
    for &byte in data {
        match byte {
            0 => content.extend_from_slice(MARKER.as_bytes()),
            _ => content.push(byte),
        }
    }
    let lines = content.split(|&byte| byte == b'\n').count();
    let mut last = 0;
    for entry in env_entries(&content) {
        assert!(entry.line > last && entry.line <= lines, "{} of {lines}", entry.line);
        assert!(!format!("{entry:?}").contains('☃'), "{entry:?}");
        last = entry.line;
        if let Err(problem) = entry.text {
            let error = EnvLineError { file: "/app/.env".into(), line: entry.line, problem };
            for shown in [error.to_string(), format!("{error:?}")] {
                assert!(!shown.contains('☃'), "{shown}");
            }
        }
    }
}
