//! Sentence tokenization for speech: split text, also while it streams in from an LLM, into
//! sentences a TTS can speak one by one (Python's `tokenize.SentenceTokenizer`).
//!
//! A sentence ends after `.`, `!`, `?` or `…` (or a run of them, e.g. `?!` or `...`), and any
//! closing quotes or brackets, when whitespace follows and the next word does not start with
//! a lowercase letter. CJK terminators (`。`, `！`, `？`) end a sentence whatever follows.
//! A single `.` after a common abbreviation (`Mr.`, `Dr.`, `e.g.`, `i.e.`, `etc.`, …) does not
//! end one, nor does a `.` inside a number (`3.14`). Sentences shorter than the minimum length
//! are merged with the next.

/// Abbreviations (lowercase, without their final `.`) after which `.` does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd",
    "co", "corp", "mt", "approx", "dept", "fig", "u.s", "u.k", "a.k.a", "cf",
];

/// Terminators of Latin-script sentences: they end one only before whitespace.
fn is_latin_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…')
}

/// CJK full-width terminators: they end a sentence whatever follows.
fn is_cjk_terminator(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '｡')
}

/// Closing quotes and brackets that belong to the sentence they follow.
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '”' | '’' | ')' | ']' | '}' | '»' | '」' | '』' | '）' | '】' | '〉' | '》'
    )
}

/// The outcome of looking for the next sentence boundary.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// A boundary: the sentence ends at this byte offset (after its terminator and closers).
    Boundary(usize),
    /// Whether a terminator starting at this offset ends a sentence depends on text not seen
    /// yet; everything before it has been decided.
    NeedMore(usize),
    /// No boundary in the rest of the text.
    Nothing,
}

/// Finds the next boundary in `text` at or after byte `from`. With `complete`, the text is
/// all there is: a terminator at its end is a boundary.
fn scan(text: &str, from: usize, complete: bool) -> Scan {
    let mut chars = text[from..].char_indices().map(|(i, c)| (i + from, c)).peekable();
    while let Some((start, c)) = chars.next() {
        if !is_latin_terminator(c) && !is_cjk_terminator(c) {
            continue;
        }
        // The whole run of terminators, then the closers.
        let mut cjk = is_cjk_terminator(c);
        let mut run_len = 1;
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = chars.peek() {
            if is_latin_terminator(next) || is_cjk_terminator(next) {
                cjk |= is_cjk_terminator(next);
                run_len += 1;
            } else if !is_closer(next) {
                break;
            }
            end = i + next.len_utf8();
            chars.next();
        }
        let Some(&(_, after)) = chars.peek() else {
            return if complete { Scan::Boundary(end) } else { Scan::NeedMore(start) };
        };
        if cjk {
            return Scan::Boundary(end);
        }
        if !after.is_whitespace() {
            continue;
        }
        match text[end..].chars().find(|c| !c.is_whitespace()) {
            None if complete => return Scan::Boundary(end),
            None => return Scan::NeedMore(start),
            Some(next) if next.is_lowercase() => continue,
            Some(_) => {}
        }
        if run_len == 1 && c == '.' && is_abbreviation(&text[..start]) {
            continue;
        }
        return Scan::Boundary(end);
    }
    Scan::Nothing
}

/// Whether `before` (the text up to a `.`) ends with a known abbreviation.
fn is_abbreviation(before: &str) -> bool {
    let word_start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = before[word_start..].to_lowercase();
    ABBREVIATIONS.contains(&word.as_str())
}

/// Splits text into sentences for speech (Python's blingfire `SentenceTokenizer`).
///
/// ```
/// use agents_core::tokenize::SentenceTokenizer;
///
/// let tokenizer = SentenceTokenizer::new();
/// let sentences = tokenizer.tokenize(
///     "Dr. Smith measured 3.14 meters, i.e. a lot. Really? Yes! I was surprised to hear it.",
/// );
/// assert_eq!(
///     sentences,
///     ["Dr. Smith measured 3.14 meters, i.e. a lot.", "Really? Yes! I was surprised to hear it."],
/// );
///
/// // Streaming: sentences come out as soon as the next one starts.
/// let mut stream = tokenizer.stream();
/// assert!(stream.push("Hello there, how are you doing").is_empty());
/// assert!(stream.push(" today?").is_empty());
/// assert_eq!(stream.push(" I am"), ["Hello there, how are you doing today?"]);
/// assert!(stream.push(" fine").is_empty());
/// assert_eq!(stream.flush(), ["I am fine"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentenceTokenizer {
    /// Sentences shorter than this many characters are merged with the next one.
    pub min_sentence_len: usize,
}

impl Default for SentenceTokenizer {
    fn default() -> Self {
        Self { min_sentence_len: 20 }
    }
}

impl SentenceTokenizer {
    /// A tokenizer with Python's defaults (sentences of at least 20 characters).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the minimum sentence length, in characters (0 or 1: no merging).
    pub fn with_min_sentence_len(mut self, min_sentence_len: usize) -> Self {
        self.min_sentence_len = min_sentence_len;
        self
    }

    /// The sentences of `text`, trimmed.
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        let mut stream = self.stream();
        let mut sentences = stream.push(text);
        sentences.extend(stream.flush());
        sentences
    }

    /// A stream to push text into piece by piece.
    pub fn stream(&self) -> SentenceStream {
        SentenceStream { min_len: self.min_sentence_len, buffer: String::new(), scanned: 0 }
    }
}

/// Sentences out of text pushed piece by piece (Python's `SentenceStream`).
///
/// However the text is cut into pieces, the sentences are the same as
/// [`SentenceTokenizer::tokenize`] gives for the whole text.
#[derive(Debug, Clone)]
pub struct SentenceStream {
    min_len: usize,
    /// Text not yet returned.
    buffer: String,
    /// Byte offset in `buffer` up to which no boundary remains undecided.
    scanned: usize,
}

impl SentenceStream {
    /// Adds `text`; returns the sentences it completed.
    pub fn push(&mut self, text: &str) -> Vec<String> {
        self.buffer.push_str(text);
        self.take(false)
    }

    /// Ends the current text: returns the sentences left, the last one whatever its length.
    /// The stream can be used again afterwards.
    pub fn flush(&mut self) -> Vec<String> {
        let mut sentences = self.take(true);
        let rest = self.buffer.trim();
        if !rest.is_empty() {
            sentences.push(rest.to_owned());
        }
        self.buffer.clear();
        self.scanned = 0;
        sentences
    }

    /// The text pushed and not yet returned as a sentence.
    pub fn pending(&self) -> &str {
        &self.buffer
    }

    fn take(&mut self, complete: bool) -> Vec<String> {
        let mut sentences = Vec::new();
        loop {
            match scan(&self.buffer, self.scanned, complete) {
                Scan::Boundary(end) => {
                    let sentence = self.buffer[..end].trim();
                    if sentence.chars().count() >= self.min_len {
                        sentences.push(sentence.to_owned());
                        self.buffer.drain(..end);
                        self.scanned = 0;
                    } else {
                        self.scanned = end;
                    }
                }
                Scan::NeedMore(at) => {
                    self.scanned = at;
                    return sentences;
                }
                Scan::Nothing => {
                    // Nothing undecided: only the text pushed next needs scanning.
                    self.scanned = self.buffer.len();
                    return sentences;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<String> {
        SentenceTokenizer::new().with_min_sentence_len(0).tokenize(text)
    }

    #[test]
    fn splits_on_terminators() {
        assert_eq!(
            split("One. Two! Three? Four… Five"),
            ["One.", "Two!", "Three?", "Four…", "Five"]
        );
        assert_eq!(split("Wait?! No... Yes."), ["Wait?!", "No...", "Yes."]);
        assert_eq!(split("He said \"stop.\" Then left."), ["He said \"stop.\"", "Then left."]);
        assert_eq!(split("你好。今天天气很好！是吗？"), ["你好。", "今天天气很好！", "是吗？"]);
        assert_eq!(split("「はい。」そうです。"), ["「はい。」", "そうです。"]);
    }

    #[test]
    fn does_not_split_abbreviations_numbers_or_lowercase_continuations() {
        assert_eq!(split("Mr. Smith and Dr. Who met."), ["Mr. Smith and Dr. Who met."]);
        assert_eq!(
            split("Fruit, e.g. Apples, etc. Are good."),
            ["Fruit, e.g. Apples, etc. Are good."]
        );
        assert_eq!(split("Pi is 3.14 today. Yes"), ["Pi is 3.14 today.", "Yes"]);
        assert_eq!(split("Well... maybe not. Ok"), ["Well... maybe not.", "Ok"]);
        assert_eq!(split("See example.com for more"), ["See example.com for more"]);
    }

    #[test]
    fn merges_short_sentences() {
        let tokenizer = SentenceTokenizer::new();
        assert_eq!(
            tokenizer.tokenize("Hi. Ok. This one is long enough to stand. Bye."),
            ["Hi. Ok. This one is long enough to stand.", "Bye."]
        );
    }

    #[test]
    fn streams_sentences_as_soon_as_the_next_begins() {
        let mut stream = SentenceTokenizer::new().with_min_sentence_len(0).stream();
        assert!(stream.push("Hello.").is_empty());
        assert!(stream.push(" ").is_empty());
        assert_eq!(stream.push("Next"), ["Hello."]);
        assert_eq!(stream.pending(), " Next");
        assert_eq!(stream.flush(), ["Next"]);
        assert!(stream.flush().is_empty());
        assert_eq!(stream.push("Again. And"), ["Again."]);
    }

    #[test]
    fn handles_empty_and_whitespace() {
        assert!(split("").is_empty());
        assert!(split("   \n ").is_empty());
        assert_eq!(split("..."), ["..."]);
    }
}
