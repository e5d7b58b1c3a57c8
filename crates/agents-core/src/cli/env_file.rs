//! The `.env` file: found in the working directory or a parent, its variables loaded into
//! the environment (those already set win), and every line that cannot be loaded reported by
//! its number and what is wrong with it, never by its text: a `.env` file holds secrets.
//!
//! Lines are parsed by `dotenvy` one entry at a time (an entry is a line, or several when a
//! quoted value spans lines), so that a bad line is skipped and the lines after it still load.

use std::fmt;
use std::path::{Path, PathBuf};

/// The file's name.
const FILE_NAME: &str = ".env";

/// A line of a `.env` file that was not loaded. Its text is never shown: it may hold a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} of {}: {problem}; the line was skipped", file.display())]
pub struct EnvLineError {
    /// The file.
    pub file: PathBuf,
    /// The line's number, from 1 (the first line of the entry when it spans several).
    pub line: usize,
    /// What is wrong with it.
    pub problem: EnvLineProblem,
}

/// What is wrong with a line of a `.env` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvLineProblem {
    /// The line is not UTF-8 text.
    NotUtf8,
    /// A quote opened on the line is never closed, up to the end of the file.
    UnclosedQuote,
    /// The line is not `KEY=value` (or `export KEY=value`).
    Syntax,
}

impl fmt::Display for EnvLineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotUtf8 => write!(f, "not UTF-8 text; save the file as UTF-8"),
            Self::UnclosedQuote => write!(
                f,
                "a quote opened here is never closed; close it, or escape a quote that is part \
                 of the value"
            ),
            Self::Syntax => write!(
                f,
                "not `KEY=value`; keys are letters, digits and `_`, a value with spaces must be \
                 quoted (KEY=\"two words\"), and a `#` comment after a value needs a space before it"
            ),
        }
    }
}

/// The `.env` file could not be found or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum EnvFileError {
    /// The file is there but cannot be read.
    #[error("cannot read {}: {source}; check its permissions", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// One entry of a `.env` file: its first line's number and its text, or why it is skipped.
/// Its `Debug` output leaves the text out.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvEntry {
    /// Its first line's number, from 1.
    pub line: usize,
    /// Its text, which parses as one `KEY=value` (or a blank or comment line), or what is
    /// wrong with it.
    pub text: Result<String, EnvLineProblem>,
}

impl fmt::Debug for EnvEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.text.as_ref().map(|text| format!("<{} bytes>", text.len()));
        f.debug_struct("EnvEntry").field("line", &self.line).field("text", &text).finish()
    }
}

/// Cuts the text of a `.env` file into entries, parsing each: an entry that does not parse
/// carries its problem, never its text. Variables are not set here.
pub fn entries(content: &[u8]) -> Vec<EnvEntry> {
    let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    let mut lines = content.split_inclusive(|&byte| byte == b'\n').enumerate();
    let mut entries = Vec::new();
    while let Some((index, first)) = lines.next() {
        let line = index + 1;
        let Ok(first) = std::str::from_utf8(first) else {
            entries.push(EnvEntry { line, text: Err(EnvLineProblem::NotUtf8) });
            continue;
        };
        let mut text = first.to_owned();
        let result = loop {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            match parse(&text) {
                Parsed::Complete => break Ok(text),
                Parsed::Invalid => break Err(EnvLineProblem::Syntax),
                // The entry goes on: a quoted value spans lines.
                Parsed::Open => match lines.next() {
                    Some((_, next)) => match std::str::from_utf8(next) {
                        Ok(next) => text.push_str(next),
                        Err(_) => break Err(EnvLineProblem::NotUtf8),
                    },
                    None => break Err(EnvLineProblem::UnclosedQuote),
                },
            }
        };
        entries.push(EnvEntry { line, text: result });
    }
    entries
}

/// How an entry's text parses.
enum Parsed {
    /// One variable, or nothing (a blank or comment line).
    Complete,
    /// A quote is still open at its end.
    Open,
    /// It is not `KEY=value`.
    Invalid,
}

/// Parses `text` (ending with a newline) with dotenvy, without setting anything.
fn parse(text: &str) -> Parsed {
    let mut items = dotenvy::from_read_iter(text.as_bytes());
    match items.next() {
        None | Some(Ok(_)) => Parsed::Complete,
        // dotenvy gives an unclosed quote as the whole text read, newline included; a line that
        // does not parse comes without its newline.
        Some(Err(dotenvy::Error::LineParse(read, _))) if read.ends_with('\n') => Parsed::Open,
        // A line that does not parse; other errors cannot come from text in memory, and count
        // as one all the same.
        Some(Err(_)) => Parsed::Invalid,
    }
}

/// Finds the `.env` file in `dir` or its nearest parent that has one.
pub(crate) fn find(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().map(|dir| dir.join(FILE_NAME)).find(|path| path.is_file())
}

/// Loads the `.env` file of the working directory (or its nearest parent that has one) into
/// the environment, the variables already set winning. Returns the lines that were skipped
/// (`Ok` with none when there is no file), or why the file could not be read.
///
/// It sets environment variables: call it before any other thread starts.
pub(crate) fn load() -> Result<Vec<EnvLineError>, EnvFileError> {
    let Some(file) = std::env::current_dir().ok().as_deref().and_then(find) else {
        return Ok(Vec::new());
    };
    let content =
        std::fs::read(&file).map_err(|source| EnvFileError::Read { file: file.clone(), source })?;
    let mut skipped = Vec::new();
    for entry in entries(&content) {
        let loaded = match entry.text {
            // Parsed already: this only sets the variable (unless it is set).
            Ok(text) => dotenvy::from_read(text.as_bytes()).map_err(|_| EnvLineProblem::Syntax),
            Err(problem) => Err(problem),
        };
        if let Err(problem) = loaded {
            skipped.push(EnvLineError { file: file.clone(), line: entry.line, problem });
        }
    }
    Ok(skipped)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn problems(content: &str) -> Vec<(usize, Result<(), EnvLineProblem>)> {
        entries(content.as_bytes())
            .into_iter()
            .map(|entry| (entry.line, entry.text.map(|_| ())))
            .collect()
    }

    #[test]
    fn each_entry_is_numbered_by_its_first_line() {
        let content = "A=1\n\n# comment\nB=\"two\nlines\"\nC=secret oops\nD='never closed\nE=5\n";
        assert_eq!(
            problems(content),
            [
                (1, Ok(())),
                (2, Ok(())),
                (3, Ok(())),
                (4, Ok(())),
                (6, Err(EnvLineProblem::Syntax)),
                (7, Err(EnvLineProblem::UnclosedQuote)),
            ]
        );
    }

    #[test]
    fn lines_that_are_not_utf8_are_skipped_alone() {
        let content = b"A=1\nB=\xff\xfe\nC=3";
        assert_eq!(
            entries(content).into_iter().map(|e| (e.line, e.text.is_ok())).collect::<Vec<_>>(),
            [(1, true), (2, false), (3, true)]
        );
    }

    #[test]
    fn a_skipped_line_is_reported_without_its_text() {
        let error =
            EnvLineError { file: "/app/.env".into(), line: 3, problem: EnvLineProblem::Syntax };
        let entry = entries(b"KEY=hunter2 oops\nOTHER=hunter2\n");
        assert!(!format!("{entry:?}").contains("hunter2"), "{entry:?}");
        let message = error.to_string();
        assert!(message.starts_with("line 3 of /app/.env: not `KEY=value`; "), "{message}");
        assert!(message.ends_with("; the line was skipped"), "{message}");
    }
}
