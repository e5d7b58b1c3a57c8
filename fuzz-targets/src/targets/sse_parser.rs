//! Fuzzes the event-stream parser on arbitrary bytes: any input, cut anywhere, gives the same
//! events as in one piece (or fails the same way), no event outgrows the bound, and nothing
//! panics. The bound is small (1 to 4081 bytes), so long lines and large events are common.

use agents_inference::sse::SseParser;

/// One run over `input`: panics when a property does not hold.
pub fn run(input: &[u8]) {
    let [bound, step, bytes @ ..] = input else { return };
    let max_size = 1 + usize::from(*bound) * 16;
    let step = usize::from(*step % 16) + 1;

    let whole = SseParser::with_max_size(max_size).push(bytes);

    let mut parser = SseParser::with_max_size(max_size);
    let mut events = Vec::new();
    let mut failed = None;
    for piece in bytes.chunks(step) {
        match parser.push(piece) {
            Ok(more) => events.extend(more),
            Err(error) => {
                // Once failed, it stays failed.
                assert_eq!(parser.push(b"data: x\n\n").as_ref().err(), Some(&error));
                failed = Some(error);
                break;
            }
        }
    }
    match (whole, failed) {
        (Ok(whole), None) => {
            assert_eq!(whole, events);
            assert!(events.iter().all(|event| event.data.len() <= max_size));
        }
        (Err(_), Some(_)) => {}
        (whole, failed) => panic!("in one piece: {whole:?}; in pieces of {step}: {failed:?}"),
    }
}
