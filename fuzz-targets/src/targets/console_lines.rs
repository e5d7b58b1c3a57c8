//! Fuzzes the text console's input decoding with arbitrary bytes: never a panic or an error,
//! every line trimmed, non-empty and without a newline, and valid UTF-8 kept as it is.

use agents_core::cli::__fuzz::UserLines;

/// One run over `data`: panics when a property does not hold.
pub fn run(data: &[u8]) {
    let mut lines = UserLines::new(data);
    let mut read = Vec::new();
    while let Some(line) = futures::executor::block_on(lines.next_line()).expect("a slice reads") {
        assert!(!line.is_empty() && line.trim() == line && !line.contains('\n'), "{line:?}");
        read.push(line);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let expected: Vec<&str> =
            text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect();
        assert_eq!(read, expected);
    }
}
