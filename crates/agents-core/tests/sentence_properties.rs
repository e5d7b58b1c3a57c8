//! Properties of the sentence tokenizer: chunking does not matter, no text is lost, no input
//! makes it panic.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use agents_core::tokenize::SentenceTokenizer;
use proptest::prelude::*;

/// Text made of words, terminators, abbreviations, numbers, quotes, CJK and odd whitespace.
fn speechy_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Hello".to_owned()),
        Just("world".to_owned()),
        Just("Mr.".to_owned()),
        Just("e.g.".to_owned()),
        Just("3.14".to_owned()),
        Just(".".to_owned()),
        Just("!".to_owned()),
        Just("?".to_owned()),
        Just("...".to_owned()),
        Just("…".to_owned()),
        Just("\"".to_owned()),
        Just(")".to_owned()),
        Just("。".to_owned()),
        Just("你好".to_owned()),
        Just(" ".to_owned()),
        Just("  ".to_owned()),
        Just("\n".to_owned()),
        "[a-zA-Z]{1,8}",
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// `text` cut at the given char positions.
fn chunks(text: &str, cuts: &[usize]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (chars.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([chars.len()]) {
        out.push(chars[start..cut].iter().collect());
        start = cut;
    }
    out
}

fn without_whitespace(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The sentences of `text` pushed in the chunks `cuts` makes, then flushed.
fn streamed(tokenizer: &SentenceTokenizer, text: &str, cuts: &[usize]) -> Vec<String> {
    let mut stream = tokenizer.stream();
    let mut sentences = Vec::new();
    for chunk in chunks(text, cuts) {
        sentences.extend(stream.push(&chunk));
    }
    sentences.extend(stream.flush());
    sentences
}

proptest! {
    #[test]
    fn chunking_does_not_change_the_sentences(
        text in speechy_text(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        min_len in 0usize..30,
    ) {
        let tokenizer = SentenceTokenizer::new().with_min_sentence_len(min_len);
        prop_assert_eq!(streamed(&tokenizer, &text, &cuts), tokenizer.tokenize(&text));
    }

    #[test]
    fn sentences_are_the_text_modulo_whitespace(text in speechy_text(), min_len in 0usize..30) {
        let sentences = SentenceTokenizer::new().with_min_sentence_len(min_len).tokenize(&text);
        prop_assert_eq!(without_whitespace(&sentences.concat()), without_whitespace(&text));
        for sentence in &sentences {
            prop_assert!(!sentence.is_empty());
            prop_assert_eq!(sentence.trim(), sentence.as_str());
        }
        // Only the last sentence may be shorter than the minimum.
        if let Some((_, init)) = sentences.split_last() {
            for sentence in init {
                prop_assert!(sentence.chars().count() >= min_len, "{sentence:?}");
            }
        }
    }

    #[test]
    fn arbitrary_input_does_not_panic(
        text in any::<String>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let tokenizer = SentenceTokenizer::new();
        prop_assert_eq!(streamed(&tokenizer, &text, &cuts), tokenizer.tokenize(&text));
    }
}
