//! The `.env` file: found in the working directory or a parent, its variables loaded into
//! the environment (those already set win), and every line that cannot be loaded reported by
//! its number and what is wrong with it, never by its text: a `.env` file holds secrets.
//!
//! Lines are parsed by `dotenvy` one entry at a time (an entry is a line, or several when a
//! quoted value spans lines), so that a bad line is skipped and the lines after it still load:
//! after a bad entry (a quote never closed included), parsing starts again at the line after
//! its first. A quoted value spans at most 256 lines and 64 KiB, which bounds the work a bad
//! quote costs.

use std::fmt;
use std::path::{Path, PathBuf};

/// The file's name.
const FILE_NAME: &str = ".env";

/// The most lines a quoted value spans (a PEM certificate chain fits).
pub(crate) const MAX_ENTRY_LINES: usize = 256;

/// The most bytes an entry holds.
pub(crate) const MAX_ENTRY_BYTES: usize = 64 * 1024;

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
    /// A quote opened on the line is still open 256 lines or 64 KiB later.
    QuoteTooLong,
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
            Self::QuoteTooLong => write!(
                f,
                "a quote opened here is still open {MAX_ENTRY_LINES} lines or \
                 {MAX_ENTRY_BYTES} bytes later; close it, or escape a quote that is part of the \
                 value"
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
/// carries its problem, never its text, and the next entry starts on the line after its
/// first. Variables are not set here.
pub fn entries(content: &[u8]) -> Vec<EnvEntry> {
    let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    let lines: Vec<&[u8]> = content.split_inclusive(|&byte| byte == b'\n').collect();
    let mut entries = Vec::new();
    let mut index = 0;
    while let Some(rest) = lines.get(index..).filter(|rest| !rest.is_empty()) {
        let (text, taken) = entry(rest);
        entries.push(EnvEntry { line: index + 1, text });
        index += taken;
    }
    entries
}

/// The entry that starts at `lines[0]` (not empty): its text, and the lines it takes; or
/// its problem, and one line (the lines after it are read afresh).
fn entry(lines: &[&[u8]]) -> (Result<String, EnvLineProblem>, usize) {
    let Some(Ok(first)) = lines.first().map(|line| std::str::from_utf8(line)) else {
        return (Err(EnvLineProblem::NotUtf8), 1);
    };
    let mut text = first.to_owned();
    end_line(&mut text);
    let mut taken = 1;
    let mut parsed = parse(&text);
    loop {
        match parsed {
            Parsed::Complete => return (Ok(text), taken),
            Parsed::Invalid => return (Err(EnvLineProblem::Syntax), 1),
            // The entry goes on: a quoted value spans lines.
            Parsed::Open => {}
        }
        let Some(next) = lines.get(taken) else {
            return (Err(EnvLineProblem::UnclosedQuote), 1);
        };
        if taken >= MAX_ENTRY_LINES || text.len() + next.len() > MAX_ENTRY_BYTES {
            return (Err(EnvLineProblem::QuoteTooLong), 1);
        }
        // A line that cannot be read cannot be part of the value: the quote is not closed.
        let Ok(next) = std::str::from_utf8(next) else {
            return (Err(EnvLineProblem::UnclosedQuote), 1);
        };
        text.push_str(next);
        end_line(&mut text);
        taken += 1;
        // A line without a quote cannot close one: parse again only when it has one.
        if next.contains(['"', '\'']) {
            parsed = parse(&text);
        }
    }
}

/// Ends `text` with a newline (the file's last line may have none).
fn end_line(text: &mut String) {
    if !text.ends_with('\n') {
        text.push('\n');
    }
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
                (8, Ok(())),
            ]
        );
    }

    fn loaded(content: &str) -> Vec<(String, String)> {
        entries(content.as_bytes())
            .into_iter()
            .filter_map(|entry| entry.text.ok())
            .flat_map(|text| dotenvy::from_read_iter(text.as_bytes()).collect::<Vec<_>>())
            .map(Result::unwrap)
            .collect()
    }

    fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_lines_after_an_unclosed_quote_still_load() {
        let content = "A=1\nB=\"never closed\nC=3\nD='two\nlines'\n";
        assert_eq!(
            problems(content),
            [(1, Ok(())), (2, Err(EnvLineProblem::UnclosedQuote)), (3, Ok(())), (4, Ok(()))]
        );
        assert_eq!(loaded(content), pairs(&[("A", "1"), ("C", "3"), ("D", "two\nlines")]));
        // Not UTF-8 inside the quote: the quote's line is skipped, and that line alone.
        let content = b"A=\"open\nB=2\nC=\xff\nD=4\"\n";
        assert_eq!(
            entries(content).into_iter().map(|e| (e.line, e.text.err())).collect::<Vec<_>>(),
            [
                (1, Some(EnvLineProblem::UnclosedQuote)),
                (2, None),
                (3, Some(EnvLineProblem::NotUtf8)),
                (4, Some(EnvLineProblem::UnclosedQuote)),
            ]
        );
    }

    #[test]
    fn a_quoted_value_spans_a_bounded_number_of_lines_and_bytes() {
        let body = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n";
        let value = body.repeat(MAX_ENTRY_LINES - 2);
        let fits = format!("CERT=\"{value}\"\nNEXT=1\n");
        assert_eq!(problems(&fits), [(1, Ok(())), (MAX_ENTRY_LINES, Ok(()))]);
        let long = format!("CERT=\"{}\"\nNEXT=1\n", body.repeat(MAX_ENTRY_LINES));
        let found = problems(&long);
        assert_eq!(found[0], (1, Err(EnvLineProblem::QuoteTooLong)));
        // Read afresh after it: the value's lines are not variables, the last line loads.
        assert_eq!(found.last(), Some(&(MAX_ENTRY_LINES + 2, Ok(()))));
        assert_eq!(loaded(&long).last(), Some(&("NEXT".to_owned(), "1".to_owned())));
        let wide = format!("K='{}\nmore'\nNEXT=1\n", "x".repeat(MAX_ENTRY_BYTES));
        assert_eq!(
            problems(&wide),
            [
                (1, Err(EnvLineProblem::QuoteTooLong)),
                // `more'` opens a quote of its own.
                (2, Err(EnvLineProblem::UnclosedQuote)),
                (3, Ok(()))
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_before_many_lines_costs_little() {
        // Parsing the entry again at each of its lines would read 2 * 10^10 bytes here.
        let content = format!("A=\"open\n{}B=2\n", "y\n".repeat(200_000));
        let started = std::time::Instant::now();
        let found = problems(&content);
        let elapsed = started.elapsed();
        assert_eq!(found[0], (1, Err(EnvLineProblem::QuoteTooLong)));
        assert_eq!(found.len(), 200_002);
        assert_eq!(found.last(), Some(&(200_002, Ok(()))));
        assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
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
