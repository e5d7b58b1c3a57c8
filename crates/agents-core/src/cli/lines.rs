//! The text console's input: the user's lines, decoded leniently.
//!
//! A line that is not valid UTF-8 (a file in another encoding, a stray byte) does not end the
//! console: its invalid bytes become U+FFFD (`�`) and a warning says which line it was.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The user's lines, read from `input` one at a time.
#[derive(Debug)]
pub struct UserLines<R> {
    input: R,
    raw: Vec<u8>,
    /// The number of the last line read, from 1.
    number: usize,
}

impl<R: AsyncBufRead + Unpin> UserLines<R> {
    /// Lines from `input`.
    pub fn new(input: R) -> Self {
        Self { input, raw: Vec::new(), number: 0 }
    }

    /// The next line that is not blank, trimmed; `None` at the end of the input. Bytes that are
    /// not UTF-8 are replaced by U+FFFD, with a warning. Fails only when `input` cannot be
    /// read.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        loop {
            self.raw.clear();
            if self.input.read_until(b'\n', &mut self.raw).await? == 0 {
                return Ok(None);
            }
            self.number += 1;
            let text = match std::str::from_utf8(&self.raw) {
                Ok(text) => text.trim().to_owned(),
                Err(_) => {
                    tracing::warn!(
                        "line {} of the console input is not valid UTF-8: its invalid bytes \
                         are replaced by U+FFFD",
                        self.number
                    );
                    String::from_utf8_lossy(&self.raw).trim().to_owned()
                }
            };
            if !text.is_empty() {
                return Ok(Some(text));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    async fn all(input: &[u8]) -> Vec<String> {
        let mut lines = UserLines::new(input);
        let mut all = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            all.push(line);
        }
        all
    }

    #[tokio::test]
    async fn blank_lines_are_skipped_and_lines_trimmed() {
        assert_eq!(all(b"  hello \r\n\n\t\nbye").await, ["hello", "bye"]);
    }

    #[tokio::test]
    async fn a_line_that_is_not_utf8_is_kept_with_replacements() {
        assert_eq!(
            all(b"one\ntw\xffo\n\xc3\nthree\n").await,
            ["one", "tw\u{fffd}o", "\u{fffd}", "three"]
        );
    }
}
