//! What `room_latency` and `room_echo` share: the test server's credentials, the user's
//! utterance (a 300 Hz tone at the server's 48 kHz) and silence, and the tables' rows.

use std::time::{Duration, Instant};

use livekit_api::access_token::{AccessToken, VideoGrants};

pub(crate) const KEY: &str = "devkey";
pub(crate) const SECRET: &str = "secret-secret-secret-secret-secret";
/// The user's PCM rate (the server's).
pub(crate) const RATE: u32 = 48_000;

/// A token to join the room `bench` as `identity`.
pub(crate) fn token(identity: &str) -> String {
    AccessToken::with_api_key(KEY, SECRET)
        .with_identity(identity)
        .with_grants(VideoGrants { room_join: true, room: "bench".into(), ..Default::default() })
        .to_jwt()
        .unwrap()
}

/// `duration` of a 300 Hz tone peaking at 8000, at [`RATE`].
pub(crate) fn tone(duration: Duration) -> Vec<i16> {
    let samples = (duration.as_secs_f64() * f64::from(RATE)) as usize;
    let step = 300.0 * std::f64::consts::TAU / f64::from(RATE);
    (0..samples).map(|i| ((i as f64 * step).sin() * 8_000.0) as i16).collect()
}

/// `duration` of silence at [`RATE`].
pub(crate) fn silence(duration: Duration) -> Vec<i16> {
    vec![0; (duration.as_secs_f64() * f64::from(RATE)) as usize]
}

/// `later - earlier` in ms, signed.
pub(crate) fn signed_ms(later: Instant, earlier: Instant) -> f64 {
    if later >= earlier {
        (later - earlier).as_secs_f64() * 1e3
    } else {
        -((earlier - later).as_secs_f64() * 1e3)
    }
}

/// A table row of `values` (ms): min, p50, p90, p99, max.
pub(crate) fn row(name: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
        values[rank.clamp(1, values.len()) - 1]
    };
    println!(
        "| {name} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
        values[0],
        at(50.0),
        at(90.0),
        at(99.0),
        values[values.len() - 1]
    );
}
