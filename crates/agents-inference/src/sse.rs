//! An incremental parser of Server-Sent Events (`text/event-stream`), the framing of streamed
//! chat completions.
//!
//! Feed it the response body as it arrives, in chunks cut anywhere (inside a line, a CRLF pair or
//! a UTF-8 character); it returns each event once its terminating blank line has arrived. It
//! follows the WHATWG event-stream rules the providers rely on:
//!
//! * lines end with LF, CR or CRLF;
//! * `data:` lines (with or without a space after the colon) are joined with `\n`;
//! * lines starting with `:` are comments; `id:` and `retry:` lines are ignored;
//! * `event:` sets the event's name, kept in [`SseEvent::event`];
//! * a blank line ends the event; an event without `data` lines is not reported;
//! * an event that the stream ends inside (no blank line after it) is dropped.
//!
//! Memory is bounded: a line, and an event's data, may be at most
//! [`max_size`](SseParser::with_max_size) bytes ([`DEFAULT_MAX_SIZE`], 1 MiB, unless set).
//! Past that, [`push`](SseParser::push) fails with [`SseError`] and the parser stays failed:
//! the stream is not one to keep reading.
//!
//! ```
//! use agents_inference::sse::SseParser;
//!
//! let mut parser = SseParser::new();
//! assert!(parser.push(b"data: {\"a\"")?.is_empty());
//! let events = parser.push(b":1}\r\n\r\n: keep-alive\n\ndata:[DONE]\n\n")?;
//! assert_eq!(events.len(), 2);
//! assert_eq!(events[0].data, "{\"a\":1}");
//! assert_eq!(events[1].data, "[DONE]");
//!
//! let mut small = SseParser::with_max_size(8);
//! assert!(small.push(b"data: far too long").is_err());
//! # Ok::<(), agents_inference::sse::SseError>(())
//! ```

/// One event of the stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SseEvent {
    /// The event's name (its `event:` line), if it had one.
    pub event: Option<String>,
    /// The event's `data:` lines, joined with `\n`.
    pub data: String,
}

/// The default bound of a line and of an event's data: 1 MiB (chat completion chunks are a
/// few hundred bytes).
pub const DEFAULT_MAX_SIZE: usize = 1024 * 1024;

/// The stream broke the parser's size bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line is longer than the bound (e.g. bytes that never end a line).
    #[error("an event-stream line is longer than {limit} bytes; the stream was abandoned")]
    LineTooLong {
        /// The bound, in bytes.
        limit: usize,
    },
    /// An event's data lines add up to more than the bound.
    #[error("an event-stream event is larger than {limit} bytes; the stream was abandoned")]
    EventTooLarge {
        /// The bound, in bytes.
        limit: usize,
    },
}

/// An incremental event-stream parser: [`push`](Self::push) bytes in, get events out.
#[derive(Debug)]
pub struct SseParser {
    /// The bound of a line and of an event's data, in bytes.
    max_size: usize,
    /// The error the parser failed with: it parses nothing more.
    failed: Option<SseError>,
    /// The bytes of the line being received (no line ending yet).
    line: Vec<u8>,
    /// The last byte seen was a CR: an LF right after it belongs to the same line ending.
    after_cr: bool,
    /// No byte has been seen yet (a leading byte-order mark is skipped).
    at_start: bool,
    /// The data lines of the event being received, joined with `\n`.
    data: String,
    /// Whether the event being received has a `data` line (its data may be empty).
    has_data: bool,
    /// The name of the event being received.
    event: Option<String>,
}

/// The UTF-8 byte-order mark, which the stream may start with.
const BOM: &[u8] = "\u{feff}".as_bytes();

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser at the start of a stream, with lines and events bounded by
    /// [`DEFAULT_MAX_SIZE`].
    pub fn new() -> Self {
        Self::with_max_size(DEFAULT_MAX_SIZE)
    }

    /// A parser whose lines and events' data may be at most `max_size` bytes each.
    pub fn with_max_size(max_size: usize) -> Self {
        Self {
            max_size,
            failed: None,
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            data: String::new(),
            has_data: false,
            event: None,
        }
    }

    /// Feeds the next bytes of the stream; returns the events they complete, in order.
    ///
    /// Fails when a line or an event outgrows the bound; the events completed before it in
    /// `bytes` are lost with it, and every later call fails the same way.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        self.parse(bytes).inspect_err(|error| {
            // Free what was held and stay failed.
            self.failed = Some(error.clone());
            self.line = Vec::new();
            self.data = String::new();
            self.event = None;
        })
    }

    fn parse(&mut self, mut bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut events = Vec::new();
        if bytes.is_empty() {
            return Ok(events);
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.grow_line(end)?;
            self.line.extend_from_slice(&bytes[..end]);
            let ending = bytes[end];
            bytes = &bytes[end + 1..];
            if ending == b'\r' {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            if let Some(event) = self.on_line(&line)? {
                events.push(event);
            }
        }
        self.grow_line(bytes.len())?;
        self.line.extend_from_slice(bytes);
        Ok(events)
    }

    /// Checks that the line being received may grow by `more` bytes.
    fn grow_line(&self, more: usize) -> Result<(), SseError> {
        if self.line.len().saturating_add(more) > self.max_size {
            return Err(SseError::LineTooLong { limit: self.max_size });
        }
        Ok(())
    }

    /// Handles one complete line; returns the event a blank line completes.
    fn on_line(&mut self, mut line: &[u8]) -> Result<Option<SseEvent>, SseError> {
        if self.at_start {
            self.at_start = false;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line.starts_with(b":") {
            return Ok(None);
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                // Measured as stored: each invalid UTF-8 byte becomes U+FFFD (three bytes).
                let value = String::from_utf8_lossy(value);
                let separator = usize::from(self.has_data);
                if self.data.len() + separator + value.len() > self.max_size {
                    return Err(SseError::EventTooLarge { limit: self.max_size });
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.has_data = true;
                self.data.push_str(&value);
            }
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            // `id`, `retry` and unknown fields carry nothing a chat completion needs.
            _ => {}
        }
        Ok(None)
    }

    /// Ends the event being received; returns it if it had data.
    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(SseEvent { event, data: std::mem::take(&mut self.data) })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use proptest::prelude::*;

    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        chunks.iter().flat_map(|chunk| parser.push(chunk).unwrap()).collect()
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|event| event.data.as_str()).collect()
    }

    #[test]
    fn data_with_and_without_space() {
        let events = parse_all(&[b"data: one\n\ndata:two\n\ndata:  three\n\n"]);
        assert_eq!(data(&events), ["one", "two", " three"]);
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines() {
        let events = parse_all(&[b"data: a\ndata: b\ndata\n\n"]);
        assert_eq!(data(&events), ["a\nb\n"]);
    }

    #[test]
    fn comments_ids_and_retries_are_ignored() {
        let events = parse_all(&[b": ping\n\nid: 7\nretry: 100\ndata: x\n\n:\n\n"]);
        assert_eq!(data(&events), ["x"]);
    }

    #[test]
    fn event_names_are_kept_and_reset() {
        let events = parse_all(&[b"event: error\ndata: bad\n\ndata: fine\n\n"]);
        assert_eq!(events[0].event.as_deref(), Some("error"));
        assert_eq!(events[1].event, None);
    }

    #[test]
    fn events_without_data_are_not_reported() {
        let events = parse_all(&[b"event: ping\n\n\n\ndata: x\n\n"]);
        assert_eq!(data(&events), ["x"]);
        assert_eq!(events[0].event, None);
    }

    #[test]
    fn empty_data_is_an_event() {
        assert_eq!(data(&parse_all(&[b"data:\n\n"])), [""]);
    }

    #[test]
    fn cr_lf_and_crlf_endings() {
        let events = parse_all(&[b"data: a\r\rdata: b\r\n\r\ndata: c\n\n"]);
        assert_eq!(data(&events), ["a", "b", "c"]);
    }

    #[test]
    fn crlf_split_between_chunks() {
        let events = parse_all(&[b"data: a\r", b"\n\r", b"\ndata: b\r", b"\r"]);
        assert_eq!(data(&events), ["a", "b"]);
    }

    #[test]
    fn an_empty_chunk_between_cr_and_lf_changes_nothing() {
        let events = parse_all(&[b"data: a\r", b"", b"\ndata: b\n\n"]);
        assert_eq!(data(&events), ["a\nb"]);
    }

    #[test]
    fn utf8_split_between_chunks() {
        let bytes = "data: h\u{e9}llo \u{1f600}\n\n".as_bytes();
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for byte in bytes {
            events.extend(parser.push(std::slice::from_ref(byte)).unwrap());
        }
        assert_eq!(data(&events), ["h\u{e9}llo \u{1f600}"]);
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped() {
        let events = parse_all(&["\u{feff}data: x\n\n".as_bytes()]);
        assert_eq!(data(&events), ["x"]);
    }

    #[test]
    fn an_unterminated_event_is_not_reported() {
        let events = parse_all(&[b"data: [DONE]\n\ndata: {\"cut\":"]);
        assert_eq!(data(&events), ["[DONE]"]);
        let events = parse_all(&[b"data: whole line but no blank line\n"]);
        assert!(events.is_empty());
    }

    #[test]
    fn a_line_without_end_is_bounded() {
        let mut parser = SseParser::with_max_size(16);
        assert!(parser.push(b"data: 0123456789").unwrap().is_empty());
        assert_eq!(parser.push(b"abcdef"), Err(SseError::LineTooLong { limit: 16 }));
        // Failed for good, and nothing is held any more.
        assert_eq!(parser.push(b"\n\n"), Err(SseError::LineTooLong { limit: 16 }));
        assert!(parser.line.capacity() == 0 && parser.data.capacity() == 0);
        // Comments count too.
        let mut parser = SseParser::with_max_size(16);
        assert!(parser.push(b": 0123456789abcdefgh\n").is_err());
    }

    /// Found by the stable fuzz check: the bound counted the raw bytes, and invalid UTF-8
    /// (one byte, stored as a three-byte U+FFFD) let an event grow to three times it.
    #[test]
    fn invalid_utf8_counts_as_stored_against_the_bound() {
        let mut parser = SseParser::with_max_size(16);
        let error = parser.push(b"data: \xff\xff\xff\xff\xff\xff\n\n").unwrap_err();
        assert_eq!(error, SseError::EventTooLarge { limit: 16 });
        let mut parser = SseParser::with_max_size(18);
        let events = parser.push(b"data: \xff\xff\xff\xff\xff\xff\n\n").unwrap();
        assert_eq!(events[0].data.len(), 18);
    }

    #[test]
    fn an_event_of_many_short_lines_is_bounded() {
        let mut parser = SseParser::with_max_size(16);
        assert!(parser.push(b"data: 01234567\ndata: 0123456\n").is_ok());
        assert_eq!(parser.push(b"data: x\n"), Err(SseError::EventTooLarge { limit: 16 }));
        let mut parser = SseParser::with_max_size(16);
        let events = parser.push(b"data: 0123456789\n\n").unwrap();
        assert_eq!(data(&events), ["0123456789"]);
    }

    /// One line of a generated stream.
    #[derive(Debug, Clone)]
    enum Line {
        Data(String),
        Event(String),
        Comment(String),
        Id(String),
        Blank,
    }

    fn line() -> impl Strategy<Value = Line> {
        // Values without line breaks (a value cannot contain one), with multi-byte characters.
        let value = "[a-z0-9 :{}\"\u{e9}\u{4e2d}\u{1f600}]{0,12}";
        prop_oneof![
            4 => value.prop_map(Line::Data),
            1 => value.prop_map(Line::Event),
            1 => value.prop_map(Line::Comment),
            1 => value.prop_map(Line::Id),
            3 => Just(Line::Blank),
        ]
    }

    /// The stream's bytes. A CR ending followed by a blank line's LF ending would read as one
    /// CRLF ending, so that blank line gets a CRLF ending instead.
    fn render(lines: &[(Line, usize)]) -> Vec<u8> {
        let endings: [&[u8]; 3] = [b"\n", b"\r", b"\r\n"];
        let mut bytes = Vec::new();
        let mut previous = 0;
        for (line, ending) in lines {
            let text = match line {
                Line::Data(v) => format!("data: {v}"),
                Line::Event(v) => format!("event:{v}"),
                Line::Comment(v) => format!(":{v}"),
                Line::Id(v) => format!("id: {v}"),
                Line::Blank => String::new(),
            };
            let ending = if previous == 1 && *ending == 0 && text.is_empty() { 2 } else { *ending };
            bytes.extend_from_slice(text.as_bytes());
            bytes.extend_from_slice(endings[ending]);
            previous = ending;
        }
        bytes
    }

    /// The events `lines` describe, computed without the parser.
    fn expected(lines: &[(Line, usize)]) -> Vec<SseEvent> {
        let (mut events, mut data, mut event): (Vec<SseEvent>, Option<String>, Option<String>) =
            (Vec::new(), None, None);
        for (line, _) in lines {
            match line {
                Line::Data(v) => match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(v);
                    }
                    None => data = Some(v.clone()),
                },
                Line::Event(v) => event = Some(v.strip_prefix(' ').unwrap_or(v).to_owned()),
                Line::Comment(_) | Line::Id(_) => {}
                Line::Blank => {
                    let name = event.take();
                    if let Some(data) = data.take() {
                        events.push(SseEvent { event: name, data });
                    }
                }
            }
        }
        events
    }

    proptest! {
        #[test]
        fn any_rechunking_yields_the_same_events(
            lines in proptest::collection::vec((line(), 0..3usize), 0..40),
            cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..12),
        ) {
            let bytes = render(&lines);
            let whole = parse_all(&[&bytes]);
            prop_assert_eq!(&whole, &expected(&lines));
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks = Vec::new();
            let mut start = 0;
            for point in points {
                chunks.push(&bytes[start..point]);
                start = point;
            }
            chunks.push(&bytes[start..]);
            prop_assert_eq!(parse_all(&chunks), whole);
        }
    }
}
