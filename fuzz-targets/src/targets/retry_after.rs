//! Fuzzes the `Retry-After` parser (delta-seconds and the three HTTP-date forms) at any
//! clock time: no input panics or overflows.

use std::time::{Duration, UNIX_EPOCH};

use agents_inference::__fuzz::retry_after;

/// One run over `input`: panics when a property does not hold.
pub fn run(input: &[u8]) {
    let Some((clock, value)) = input.split_first_chunk::<4>() else { return };
    let now = UNIX_EPOCH + Duration::from_secs(u64::from(u32::from_le_bytes(*clock)) * 4);
    let value = String::from_utf8_lossy(value);
    let wait = retry_after(&value, now);
    let trimmed = value.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        assert!(wait.is_some(), "{value:?}");
    }
}
