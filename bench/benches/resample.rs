//! The resampler (`agents_core::audio::Resampler`): quality and speed on the conversions the
//! voice pipeline makes, with the same measures as `bench/python/resample_quality.py` applies to
//! soxr (what LiveKit's Python SDK resamples with).
//!
//! ```text
//! cargo bench -p agents-bench --bench resample
//! ```
//!
//! - **passband:** a sine at 0.5 amplitude, resampled in 10 ms chunks; away from the edges the
//!   output is fitted with a sine of the same frequency (least squares): the level error of the
//!   fit in dB, and the SNR of the fit over what is left (noise, distortion, images).
//! - **stopband:** a sine above the output's Nyquist frequency: what comes out, in dB relative
//!   to the input (aliasing).
//! - **speed:** thread CPU time per second of audio, 10 ms chunks of speech-like noise, median
//!   of 7 runs.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::f64::consts::TAU;
use std::time::Duration;

use agents_core::audio::Resampler;

/// Conversions: (input rate, output rate, passband tones, stopband tones).
const CASES: &[(u32, u32, &[f64], &[f64])] = &[
    (48_000, 16_000, &[1_000.0, 4_000.0, 6_800.0], &[9_000.0, 12_000.0, 20_000.0]),
    (44_100, 16_000, &[1_000.0, 4_000.0, 6_800.0], &[9_000.0, 15_000.0]),
    (24_000, 48_000, &[1_000.0, 6_000.0, 10_200.0], &[]),
    (16_000, 48_000, &[1_000.0, 4_000.0, 6_800.0], &[]),
];

fn main() {
    println!("conversion | tone | level error | SNR (passband) or output level (stopband)");
    for &(input, output, passband, stopband) in CASES {
        for &f in passband {
            let (level, snr) = passband_quality(input, output, f);
            println!("{input} → {output} | {f:>6.0} Hz | {level:+.3} dB | SNR {snr:.1} dB",);
        }
        for &f in stopband {
            let out = stopband_level(input, output, f);
            println!("{input} → {output} | {f:>6.0} Hz | — | stopband {out:.1} dB");
        }
    }
    println!("\nspeed (thread CPU per second of audio, 10 ms chunks)");
    for &(input, output, _, _) in CASES {
        println!("{input} → {output}: {:.3} ms", speed_ms(input, output));
    }
}

fn sine(rate: u32, f: f64, seconds: f64) -> Vec<f32> {
    let n = (f64::from(rate) * seconds) as usize;
    (0..n).map(|i| (0.5 * (TAU * f * i as f64 / f64::from(rate)).sin()) as f32).collect()
}

fn resample(input: u32, output: u32, samples: &[f32]) -> Vec<f32> {
    let mut resampler = Resampler::new(input, output).unwrap();
    let mut out = Vec::with_capacity(samples.len() * output as usize / input as usize + 64);
    for chunk in samples.chunks(input as usize / 100) {
        resampler.process(chunk, &mut out);
    }
    resampler.flush(&mut out);
    out
}

/// The level error (dB) and SNR (dB) of a passband tone.
fn passband_quality(input: u32, output: u32, f: f64) -> (f64, f64) {
    let out = resample(input, output, &sine(input, f, 2.0));
    let edge = output as usize / 10;
    let y = &out[edge..out.len() - edge];
    // Least squares fit of a·sin + b·cos at the tone's frequency (time from the start).
    let w = TAU * f / f64::from(output);
    let (mut ss, mut cc, mut sc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (k, &v) in y.iter().enumerate() {
        let t = (k + edge) as f64 * w;
        let (s, c) = t.sin_cos();
        ss += s * s;
        cc += c * c;
        sc += s * c;
        ys += f64::from(v) * s;
        yc += f64::from(v) * c;
    }
    let det = ss * cc - sc * sc;
    let a = (ys * cc - yc * sc) / det;
    let b = (yc * ss - ys * sc) / det;
    let (mut signal, mut noise) = (0.0, 0.0);
    for (k, &v) in y.iter().enumerate() {
        let t = (k + edge) as f64 * w;
        let fit = a * t.sin() + b * t.cos();
        signal += fit * fit;
        noise += (f64::from(v) - fit).powi(2);
    }
    let amplitude = a.hypot(b);
    (20.0 * (amplitude / 0.5).log10(), 10.0 * (signal / noise).log10())
}

/// The level (dB relative to the input) of what comes out of a stopband tone.
fn stopband_level(input: u32, output: u32, f: f64) -> f64 {
    let x = sine(input, f, 2.0);
    let out = resample(input, output, &x);
    let edge = output as usize / 10;
    let rms =
        |s: &[f32]| (s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / s.len() as f64).sqrt();
    20.0 * (rms(&out[edge..out.len() - edge]) / rms(&x)).log10()
}

fn speed_ms(input: u32, output: u32) -> f64 {
    // Speech-like: noise shaped by a slow envelope (a fixed LCG, no dependency).
    let mut state = 1u32;
    let samples: Vec<f32> = (0..input as usize * 10)
        .map(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            noise * (0.5 + 0.5 * (i as f32 / input as f32 * 3.0).sin())
        })
        .collect();
    let mut runs: Vec<f64> = (0..8)
        .map(|_| {
            let start = thread_cpu();
            std::hint::black_box(resample(input, output, &samples));
            (thread_cpu() - start).as_secs_f64() * 1e3 / 10.0
        })
        .collect();
    runs.remove(0); // warm-up
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(u64::try_from(t.tv_sec).unwrap_or(0), u32::try_from(t.tv_nsec).unwrap_or(0))
}
