//! The text console's input: the user's lines, decoded leniently.
//!
//! A line that is not valid UTF-8 (a file in another encoding, a stray byte) does not end the
//! console: its invalid bytes become U+FFFD (`�`) and a warning says which line it was. A
//! UTF-8 byte order mark at the start of the input (a file saved with one) is dropped.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The UTF-8 byte order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

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
            let raw = match self.raw.strip_prefix(BOM) {
                Some(rest) if self.number == 1 => rest,
                _ => &self.raw[..],
            };
            let text = match std::str::from_utf8(raw) {
                Ok(text) => text.trim().to_owned(),
                Err(_) => {
                    tracing::warn!(
                        "line {} of the console input is not valid UTF-8: its invalid bytes \
                         are replaced by U+FFFD",
                        self.number
                    );
                    String::from_utf8_lossy(raw).trim().to_owned()
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
    async fn a_byte_order_mark_at_the_start_is_dropped() {
        assert_eq!(all(b"\xEF\xBB\xBFfirst line\nsecond\n").await, ["first line", "second"]);
        // Alone on its line: the line is blank. Later, it is the user's text.
        assert_eq!(all(b"\xEF\xBB\xBF\nhi\n\xEF\xBB\xBFx\n").await, ["hi", "\u{feff}x"]);
    }

    #[tokio::test]
    async fn a_line_that_is_not_utf8_is_kept_with_replacements() {
        assert_eq!(
            all(b"one\ntw\xffo\n\xc3\nthree\n").await,
            ["one", "tw\u{fffd}o", "\u{fffd}", "three"]
        );
    }
}
