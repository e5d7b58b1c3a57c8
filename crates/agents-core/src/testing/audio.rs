//! Audio for the fakes: [`tone`] and [`silence`] in 10 ms mono frames.

use std::time::Duration;

use crate::audio::AudioFrame;

/// Peak amplitude of a [`tone`]: about -12 dBFS, well above [`FakeVad`](super::FakeVad)'s
/// threshold.
const AMPLITUDE: f64 = 8_000.0;

/// `duration` of a sine at `frequency` Hz, as 10 ms mono frames at `sample_rate` (the last
/// frame shorter if the duration is not a multiple of 10 ms).
pub fn tone(duration: Duration, frequency: f64, sample_rate: u32) -> Vec<AudioFrame> {
    let step = frequency * std::f64::consts::TAU / f64::from(sample_rate.max(1));
    frames(duration, sample_rate, |i| ((i as f64 * step).sin() * AMPLITUDE) as i16)
}

/// `duration` of silence, as 10 ms mono frames at `sample_rate`.
pub fn silence(duration: Duration, sample_rate: u32) -> Vec<AudioFrame> {
    frames(duration, sample_rate, |_| 0)
}

/// `duration` of mono samples given by `sample`, cut in 10 ms frames.
fn frames(duration: Duration, sample_rate: u32, sample: impl Fn(usize) -> i16) -> Vec<AudioFrame> {
    let rate = sample_rate.max(1);
    let total = samples_in(duration, rate);
    let per_frame = usize::try_from(rate / 100).unwrap_or(usize::MAX).max(1);
    let samples: Vec<i16> = (0..total).map(sample).collect();
    samples
        .chunks(per_frame)
        .filter_map(|chunk| AudioFrame::new(chunk.to_vec(), rate, 1).ok())
        .collect()
}

/// Samples in `duration` at `rate`, rounded down.
pub(super) fn samples_in(duration: Duration, rate: u32) -> usize {
    let samples = duration.as_nanos() * u128::from(rate) / 1_000_000_000;
    usize::try_from(samples).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_and_silence_are_cut_in_10_ms_frames() {
        let frames = tone(Duration::from_millis(25), 440.0, 16_000);
        let lengths: Vec<usize> = frames.iter().map(AudioFrame::samples_per_channel).collect();
        assert_eq!(lengths, [160, 160, 80]);
        assert!(frames[0].data().iter().any(|&s| s > 7_000));
        let quiet = silence(Duration::from_millis(20), 24_000);
        assert_eq!(quiet.len(), 2);
        assert!(quiet.iter().all(|frame| frame.data().iter().all(|&s| s == 0)));
    }
}
