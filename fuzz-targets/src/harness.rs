//! Runs a target on stable: its seeds, then random and mutated inputs from a fixed RNG seed
//! (the same inputs on every machine). What fails is written to a file, with the command
//! that replays it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::Target;

/// How long one input may take before it counts as a hang.
pub const SLOW_INPUT: Duration = Duration::from_secs(2);

/// Bytes that often change how a parser branches.
const INTERESTING: &[u8] = b"\x00\x01\x7f\x80\xff\n\r\"{}[]\\@:/?#=,0-";

/// An input a target failed on.
#[derive(Debug)]
pub struct Failure {
    /// The target's name.
    pub target: &'static str,
    /// The input.
    pub input: Vec<u8>,
    /// The panic's message, or how long it took.
    pub message: String,
    /// Where the input was written, if it could be.
    pub saved: Option<PathBuf>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fuzz target `{}` failed: {}; input ({} bytes): {:?}",
            self.target,
            self.message,
            self.input.len(),
            String::from_utf8_lossy(&self.input)
        )?;
        match &self.saved {
            Some(path) => write!(
                f,
                "; saved as {}: replay with `cargo +nightly fuzz run {} {}` (in fuzz/)",
                path.display(),
                self.target,
                path.display()
            ),
            None => Ok(()),
        }
    }
}

/// SplitMix64: small, seedable, the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % bound.max(1) as u64).unwrap_or(0)
    }

    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.byte()).collect()
    }
}

/// `input` changed by one to eight mutations; `others` for splicing.
fn mutate(rng: &mut Rng, input: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(8) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let len = rng.below(16) + 1;
                let bytes = rng.bytes(len);
                out.splice(at..at, bytes);
            }
            3 => {
                let end = (at + rng.below(32) + 1).min(out.len());
                out.drain(at..end);
            }
            4 => {
                // Repeat a piece: long lines, deep nesting.
                let end = (at + rng.below(16) + 1).min(out.len());
                let piece = out[at..end].to_vec();
                for _ in 0..rng.below(64) + 1 {
                    out.splice(at..at, piece.iter().copied());
                }
            }
            5 if !others.is_empty() => {
                let other = &others[rng.below(others.len())];
                let start = rng.below(other.len() + 1);
                let end = (start + rng.below(64)).min(other.len());
                out.splice(at..at, other[start..end].iter().copied());
            }
            _ => {
                out.truncate(at);
            }
        }
    }
    out
}

/// The inputs of a check: the seeds, then `runs` random or mutated inputs from `seed`.
pub fn inputs(seeds: &[Vec<u8>], runs: usize, seed: u64) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut rng = Rng(seed);
    let generated = (0..runs).map(move |_| {
        if seeds.is_empty() || rng.below(4) == 0 {
            let len = rng.below(512);
            rng.bytes(len)
        } else {
            let base = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, base, seeds)
        }
    });
    seeds.iter().cloned().chain(generated)
}

/// Runs `target` over its seeds and `runs` more inputs from `seed`: the number of inputs
/// run, or the first input it panicked or hung on (saved under `failures`).
pub fn check(
    target: Target,
    runs: usize,
    seed: u64,
    failures: Option<PathBuf>,
) -> Result<usize, Box<Failure>> {
    let seeds = (target.seeds)();
    let mut count = 0;
    for input in inputs(&seeds, runs, seed) {
        count += 1;
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(&input)));
        let message = match outcome {
            Err(payload) => Some(
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "a panic".to_owned()),
            ),
            Ok(()) if started.elapsed() > SLOW_INPUT => {
                Some(format!("took {:?} (a hang?)", started.elapsed()))
            }
            Ok(()) => None,
        };
        if let Some(message) = message {
            let saved = failures.as_ref().and_then(|dir| {
                let path = dir.join(format!("{}-{count}", target.name));
                std::fs::create_dir_all(dir)
                    .and_then(|()| std::fs::write(&path, &input))
                    .ok()
                    .map(|()| path)
            });
            return Err(Box::new(Failure { target: target.name, input, message, saved }));
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inputs_are_the_same_for_the_same_seed_and_start_with_the_seeds() {
        let seeds = vec![b"abc".to_vec(), b"{\"a\":1}".to_vec()];
        let first: Vec<_> = inputs(&seeds, 200, 7).collect();
        let again: Vec<_> = inputs(&seeds, 200, 7).collect();
        assert_eq!(first, again);
        assert_eq!(&first[..2], &seeds[..]);
        assert_eq!(first.len(), 202);
        let other: Vec<_> = inputs(&seeds, 200, 8).collect();
        assert_ne!(first, other);
    }

    #[test]
    fn a_panicking_target_is_reported_with_its_input() {
        fn fails_on_z(data: &[u8]) {
            assert!(!data.contains(&b'z'), "a z");
        }
        let target = Target { name: "z", run: fails_on_z, seeds: || vec![b"abc".to_vec()] };
        let failure = check(target, 5_000, 1, None).unwrap_err();
        assert!(failure.input.contains(&b'z'));
        assert_eq!(failure.message, "a z");
    }
}
