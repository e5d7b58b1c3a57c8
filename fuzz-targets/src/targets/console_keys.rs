//! Fuzzes the audio console's keyboard parser with arbitrary bytes, fed in arbitrary pieces:
//! never a panic, and the same controls however the bytes are split.

use agents_core::cli::__fuzz::{Control, Keys};

/// One run over `data`: panics when a property does not hold.
pub fn run(data: &[u8]) {
    // The first byte chooses where the input is cut in two.
    let Some((&cut, bytes)) = data.split_first() else { return };
    let cut = usize::from(cut).min(bytes.len());

    let mut whole = Keys::default();
    let mut at_once = whole.feed(bytes);
    at_once.extend(whole.end());

    let mut pieces = Keys::default();
    let mut split = pieces.feed(&bytes[..cut]);
    split.extend(pieces.feed(&bytes[cut..]));
    split.extend(pieces.end());

    assert_eq!(at_once, split);
    assert_eq!(at_once.last(), Some(&Control::End));
    for control in &at_once {
        if let Control::Line(line) = control {
            assert!(!line.contains('\n'), "{line:?}");
        }
    }
}
