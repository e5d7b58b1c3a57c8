//! The resampler (`agents_core::audio::Resampler`) against `rubato` (the maintained Rust
//! resampler): quality and speed on the conversions the voice pipeline makes, with the same
//! measures as `bench/python/resample_quality.py` applies to soxr (what LiveKit's Python SDK
//! resamples with).
//!
//! ```text
//! cargo bench -p agents-bench --bench resample            # quality and speed (a few seconds)
//! cargo bench -p agents-bench --bench resample -- quick   # 3 speed runs instead of 7
//! cargo bench -p agents-bench --bench resample -- explore # rubato's windows × lengths × cut-offs
//! ```
//!
//! The contenders, all mono `f32`, all fed 10 ms frames:
//!
//! - **ours**: `Resampler::process` per frame, `flush` at the end.
//! - **rubato sinc**: `rubato::Async::new_sinc` (the asynchronous sinc resampler), with a fixed
//!   input chunk of 10 ms (`FixedAsync::Input`). It takes chunks of exactly
//!   `input_frames_next()` samples, so every contender of rubato sits behind [`Chunked`]: a
//!   buffer that collects the frames and runs every whole chunk it holds (with 10 ms frames
//!   and 10 ms chunks the buffer never holds more than one frame, but its copy is timed).
//!   Variants (`sinc_len` is in input samples, rubato scales the cut-off below the output Nyquist
//!   frequency itself; "exact" is `Nearest` interpolation with `oversampling_factor` = the
//!   reduced output factor `L` (1, 160, 2, 3), so that every output falls on a precomputed
//!   phase: a polyphase filter like ours):
//!   - `sinc 16 zc`: the taps of ours (16 zero crossings each side at the lower rate:
//!     `sinc_len` 96, 88, 32, 32), `Blackman` window, cut-off 0.94 (ours), exact: of rubato's windows
//!     and cut-offs at that length, the closest to ours (`-- explore` prints them all).
//!   - `sinc 32 zc`: twice the taps (192, 176, 64, 64), `BlackmanHarris2`, cut-off 0.94, exact:
//!     the shortest rubato sinc that is at least as good as ours on every figure.
//!   - `sinc 256`: the crate's recommended defaults, `SincInterpolationParameters::new(256,
//!     BlackmanHarris2)`: automatic cut-off, `Cubic` interpolation between 128 phases.
//! - **rubato FFT**: `rubato::Fft::new` (the synchronous FFT resampler, `BlackmanHarris2`,
//!   one FFT per 10 ms chunk), fixed input chunk of 10 ms (`FixedSync::Input`), same buffer;
//!   `FFT /2`: `Fft::new_custom` with 2 sub-chunks (half the FFT, half the delay).
//!
//! Measures:
//!
//! - **delay:** an impulse in the middle of 1 s of silence; where the peak of the output comes
//!   out (parabolic interpolation), against where it should: the delay of the signal, in output
//!   samples. **Latency:** that delay plus the output that is still held back after the last
//!   frame was pushed (ours delays no signal but waits for the input past each output), in ms.
//! - **passband:** a sine at 0.5 amplitude, 2 s, at 0.1, 0.5 and 0.85 of the lower Nyquist
//!   frequency; the output past the delay, 0.1 s trimmed at each end, is fitted with a sine of
//!   the tone's frequency (least squares, any phase): the level error of the fit in dB, its SNR
//!   over what is left (noise, distortion, images: THD+N), and THD (harmonics 2–5 below the
//!   lower Nyquist frequency, fitted on what is left; only the 0.1 tone has any). Upsampling:
//!   also the image of the tone (at `input rate − f`), in dB of the input tone.
//! - **stopband:** a sine above the output's Nyquist frequency: the level of what comes out, in
//!   dB relative to the input (aliasing).
//! - **speed:** thread CPU time per second of audio, 10 s of speech-like noise pushed in 10 ms
//!   frames (the resampler built before the clock starts), median of 7 runs after a warm-up.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::f64::consts::TAU;
use std::time::Duration;

use agents_core::audio::Resampler;
use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Indexing, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

/// A conversion: input rate, output rate, stopband tones (downsampling only).
struct Case {
    input: u32,
    output: u32,
    stopband: &'static [f64],
}

const CASES: &[Case] = &[
    Case { input: 48_000, output: 16_000, stopband: &[9_000.0, 12_000.0, 20_000.0] },
    Case { input: 44_100, output: 16_000, stopband: &[9_000.0, 15_000.0, 20_000.0] },
    Case { input: 24_000, output: 48_000, stopband: &[] },
    Case { input: 16_000, output: 48_000, stopband: &[] },
];

/// Passband tones, as fractions of the lower Nyquist frequency.
const TONES: [f64; 3] = [0.1, 0.5, 0.85];

/// A configuration of rubato's asynchronous sinc resampler.
#[derive(Clone, Copy, Debug)]
struct Sinc {
    /// Zero crossings each side at the lower rate (`sinc_len` = twice that times
    /// `max(1, input / output)`), or `sinc_len` itself when `fixed_len`.
    len: usize,
    fixed_len: bool,
    window: WindowFunction,
    /// `None`: rubato's automatic cut-off for the length and window.
    cutoff: Option<f32>,
    /// `Nearest` with `oversampling_factor` = the reduced output factor `L`; else rubato's
    /// defaults (`Cubic` between 128 phases).
    exact: bool,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Ours,
    Sinc(&'static str, Sinc),
    /// `None`: `Fft::new` (its default sub-chunks and window); else `Fft::new_custom` with that
    /// many sub-chunks (shorter FFTs, less delay) and the same window.
    Fft(Option<usize>),
}

const KINDS: &[Kind] = &[
    Kind::Ours,
    Kind::Sinc(
        "rubato sinc 16 zc",
        Sinc {
            len: 16,
            fixed_len: false,
            window: WindowFunction::Blackman,
            cutoff: Some(0.94),
            exact: true,
        },
    ),
    Kind::Sinc(
        "rubato sinc 32 zc",
        Sinc {
            len: 32,
            fixed_len: false,
            window: WindowFunction::BlackmanHarris2,
            cutoff: Some(0.94),
            exact: true,
        },
    ),
    Kind::Sinc(
        "rubato sinc 256",
        Sinc {
            len: 256,
            fixed_len: true,
            window: WindowFunction::BlackmanHarris2,
            cutoff: None,
            exact: false,
        },
    ),
    Kind::Fft(None),
    Kind::Fft(Some(2)),
];

impl Kind {
    fn name(self) -> String {
        match self {
            Kind::Ours => "ours".into(),
            Kind::Sinc(name, _) => name.into(),
            Kind::Fft(None) => "rubato FFT".into(),
            Kind::Fft(Some(n)) => format!("rubato FFT /{n}"),
        }
    }

    fn build(self, input: u32, output: u32) -> Box<dyn Stream> {
        let chunk = input as usize / 100;
        let ratio = f64::from(output) / f64::from(input);
        let up = (output / gcd(input, output)) as usize;
        match self {
            Kind::Ours => Box::new(Resampler::new(input, output).unwrap()),
            Kind::Sinc(_, c) => {
                let len = if c.fixed_len {
                    c.len
                } else {
                    (2.0 * c.len as f64 * (1.0 / ratio).max(1.0)).round() as usize
                };
                let mut params = SincInterpolationParameters::new(len, c.window);
                if let Some(cutoff) = c.cutoff {
                    params = params.f_cutoff(cutoff);
                }
                if c.exact {
                    params = params
                        .interpolation(SincInterpolationType::Nearest)
                        .oversampling_factor(up);
                }
                let r = Async::<f32>::new_sinc(ratio, 1.0, &params, chunk, 1, FixedAsync::Input)
                    .unwrap();
                Box::new(Chunked::new(Box::new(r)))
            }
            Kind::Fft(sub_chunks) => {
                let (i, o) = (input as usize, output as usize);
                let r = match sub_chunks {
                    None => Fft::<f32>::new(i, o, chunk, 1, FixedSync::Input),
                    Some(n) => Fft::<f32>::new_custom(
                        i,
                        o,
                        chunk,
                        n,
                        1,
                        WindowFunction::BlackmanHarris2,
                        FixedSync::Input,
                    ),
                }
                .unwrap();
                Box::new(Chunked::new(Box::new(r)))
            }
        }
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A streaming resampler fed frames of any length.
trait Stream {
    fn push(&mut self, frame: &[f32], out: &mut Vec<f32>);
    /// Output the tail.
    fn finish(&mut self, out: &mut Vec<f32>);
}

impl Stream for Resampler {
    fn push(&mut self, frame: &[f32], out: &mut Vec<f32>) {
        self.process(frame, out);
    }

    fn finish(&mut self, out: &mut Vec<f32>) {
        self.flush(out);
    }
}

/// A rubato resampler behind a buffer that turns frames of any length into its fixed chunks.
struct Chunked {
    inner: Box<dyn rubato::Resampler<f32>>,
    pending: Vec<f32>,
    scratch: Vec<f32>,
}

impl Chunked {
    fn new(inner: Box<dyn rubato::Resampler<f32>>) -> Self {
        let pending = Vec::with_capacity(2 * inner.input_frames_max());
        let scratch = vec![0.0; inner.output_frames_max()];
        Self { inner, pending, scratch }
    }

    fn run(&mut self, input: &[f32], partial: Option<usize>, out: &mut Vec<f32>) -> usize {
        let frames_in = input.len();
        let buffer_in = SequentialSlice::new(input, 1, frames_in).unwrap();
        let frames_out = self.scratch.len();
        let mut buffer_out = SequentialSlice::new_mut(&mut self.scratch, 1, frames_out).unwrap();
        let indexing = partial.map(|n| Indexing::new().partial_len(n));
        let (used, produced) =
            self.inner.process_into_buffer(&buffer_in, &mut buffer_out, indexing.as_ref()).unwrap();
        out.extend_from_slice(&self.scratch[..produced]);
        used
    }
}

impl Stream for Chunked {
    fn push(&mut self, frame: &[f32], out: &mut Vec<f32>) {
        self.pending.extend_from_slice(frame);
        let mut start = 0;
        loop {
            let need = self.inner.input_frames_next();
            if self.pending.len() - start < need {
                break;
            }
            let chunk = std::mem::take(&mut self.pending);
            start += self.run(&chunk[start..start + need], None, out);
            self.pending = chunk;
        }
        self.pending.drain(..start);
    }

    fn finish(&mut self, out: &mut Vec<f32>) {
        // The partial chunk left, then silence until the delay has come out.
        let need = self.inner.input_frames_next();
        let mut chunk = std::mem::take(&mut self.pending);
        let left = chunk.len();
        chunk.resize(need, 0.0);
        self.run(&chunk, Some(left), out);
        let target = out.len() + self.inner.output_delay();
        while out.len() < target {
            let need = self.inner.input_frames_next();
            chunk.clear();
            chunk.resize(need, 0.0);
            self.run(&chunk, Some(0), out);
        }
    }
}

/// Resamples in 10 ms frames; also returns the output held back after the last frame (ideal
/// count minus produced count, in output samples).
fn resample(kind: Kind, input: u32, output: u32, samples: &[f32]) -> (Vec<f32>, f64) {
    let mut stream = kind.build(input, output);
    let mut out = Vec::with_capacity(samples.len() * output as usize / input as usize + 4096);
    for frame in samples.chunks(input as usize / 100) {
        stream.push(frame, &mut out);
    }
    let held = samples.len() as f64 * f64::from(output) / f64::from(input) - out.len() as f64;
    stream.finish(&mut out);
    (out, held)
}

fn sine(rate: u32, f: f64, seconds: f64) -> Vec<f32> {
    let n = (f64::from(rate) * seconds) as usize;
    (0..n).map(|i| (0.5 * (TAU * f * i as f64 / f64::from(rate)).sin()) as f32).collect()
}

/// The signal delay (output samples) and the latency (ms) of a resampler.
fn delay(kind: Kind, input: u32, output: u32) -> (f64, f64) {
    let mut x = vec![0.0f32; input as usize];
    x[input as usize / 2] = 1.0;
    let (y, held) = resample(kind, input, output, &x);
    let (peak, _) = y.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap();
    let (a, b, c) = (f64::from(y[peak - 1]), f64::from(y[peak]), f64::from(y[peak + 1]));
    let fraction = 0.5 * (a - c) / (a - 2.0 * b + c);
    let d = peak as f64 + fraction - f64::from(output / 2);
    (d, (d + held) * 1e3 / f64::from(output))
}

/// Least squares `a·sin + b·cos` of frequency `w` (radians per sample, time from `t0`).
fn fit(y: &[f64], w: f64, t0: usize) -> (f64, f64) {
    let (mut ss, mut cc, mut sc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (k, &v) in y.iter().enumerate() {
        let (s, c) = ((k + t0) as f64 * w).sin_cos();
        ss += s * s;
        cc += c * c;
        sc += s * c;
        ys += v * s;
        yc += v * c;
    }
    let det = ss * cc - sc * sc;
    ((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det)
}

/// Subtracts the fitted sine of frequency `w` from `y`; returns its amplitude.
fn remove(y: &mut [f64], w: f64, t0: usize) -> f64 {
    let (a, b) = fit(y, w, t0);
    for (k, v) in y.iter_mut().enumerate() {
        let (s, c) = ((k + t0) as f64 * w).sin_cos();
        *v -= a * s + b * c;
    }
    a.hypot(b)
}

/// The output past the delay with 0.1 s trimmed at each end, and where it starts.
fn steady(y: &[f32], output: u32, delay: f64) -> (Vec<f64>, usize) {
    let start = output as usize / 10 + delay.round().max(0.0) as usize;
    let len = output as usize * 18 / 10;
    (y[start..start + len].iter().map(|&v| f64::from(v)).collect(), start)
}

struct Passband {
    level: f64,
    snr: f64,
    thd: Option<f64>,
    image: Option<f64>,
}

fn passband(kind: Kind, input: u32, output: u32, f: f64, delay: f64) -> Passband {
    let (out, _) = resample(kind, input, output, &sine(input, f, 2.0));
    let (mut y, t0) = steady(&out, output, delay);
    let total: f64 = y.iter().map(|v| v * v).sum();
    let rate = f64::from(output);
    let amplitude = remove(&mut y, TAU * f / rate, t0);
    let residual: f64 = y.iter().map(|v| v * v).sum();
    let signal = total - residual;
    let nyquist = f64::from(input.min(output)) / 2.0;
    let harmonics: Vec<f64> = (2..=5)
        .map(|h| f * f64::from(h))
        .filter(|&fh| fh < nyquist * 0.999)
        .map(|fh| remove(&mut y, TAU * fh / rate, t0).powi(2))
        .collect();
    let thd = (!harmonics.is_empty())
        .then(|| 10.0 * (harmonics.iter().sum::<f64>() / amplitude.powi(2)).log10());
    let image = (output > input).then(|| {
        let fi = f64::from(input) - f;
        20.0 * (remove(&mut y, TAU * fi / rate, t0) / 0.5).log10()
    });
    Passband {
        level: 20.0 * (amplitude / 0.5).log10(),
        snr: 10.0 * (signal / residual).log10(),
        thd,
        image,
    }
}

/// The level (dB relative to the input) of what comes out of a stopband tone.
fn stopband(kind: Kind, input: u32, output: u32, f: f64, delay: f64) -> f64 {
    let x = sine(input, f, 2.0);
    let (out, _) = resample(kind, input, output, &x);
    let (y, _) = steady(&out, output, delay);
    let rms_y = (y.iter().map(|v| v * v).sum::<f64>() / y.len() as f64).sqrt();
    20.0 * (rms_y / (0.5 / 2f64.sqrt())).log10()
}

fn speed_ms(kind: Kind, input: u32, output: u32, runs: usize) -> f64 {
    // Speech-like: noise shaped by a slow envelope (a fixed LCG, no dependency).
    let mut state = 1u32;
    let samples: Vec<f32> = (0..input as usize * 10)
        .map(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            noise * (0.5 + 0.5 * (i as f32 / input as f32 * 3.0).sin())
        })
        .collect();
    let mut out = Vec::with_capacity(samples.len() * output as usize / input as usize + 4096);
    let mut times: Vec<f64> = (0..=runs)
        .map(|_| {
            let mut stream = kind.build(input, output);
            out.clear();
            let start = thread_cpu();
            for frame in samples.chunks(input as usize / 100) {
                stream.push(frame, &mut out);
            }
            std::hint::black_box(&out);
            (thread_cpu() - start).as_secs_f64() * 1e3 / 10.0
        })
        .collect();
    times.remove(0); // warm-up
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let runs = if quick { 3 } else { 7 };
    println!("load average: {}", load_average());
    let explore = std::env::args().any(|a| a == "explore");
    let explored: Vec<Kind> = if explore { explore_kinds() } else { KINDS.to_vec() };
    for case in CASES {
        let (input, output) = (case.input, case.output);
        let nyquist = f64::from(input.min(output)) / 2.0;
        println!("\n## {input} → {output}");
        for &kind in &explored {
            let (d, latency) = delay(kind, input, output);
            let mut line =
                format!("{:<22} delay {d:7.2} samples, latency {latency:5.2} ms", kind.name());
            for q in TONES {
                let p = passband(kind, input, output, q * nyquist, d);
                line +=
                    &format!(" | {:.0} Hz: {:+.3} dB, SNR {:.1} dB", q * nyquist, p.level, p.snr);
                if let Some(thd) = p.thd {
                    line += &format!(", THD {thd:.1} dB");
                }
                if let Some(image) = p.image {
                    line += &format!(", image {image:.1} dB");
                }
            }
            for &f in case.stopband {
                line +=
                    &format!(" | stop {f:.0} Hz: {:.1} dB", stopband(kind, input, output, f, d));
            }
            line += &format!(" | CPU {:.3} ms/s", speed_ms(kind, input, output, runs));
            println!("{line}");
        }
    }
    println!("\nload average: {}", load_average());
}

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(u64::try_from(t.tv_sec).unwrap_or(0), u32::try_from(t.tv_nsec).unwrap_or(0))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn explore_kinds() -> Vec<Kind> {
    let mut kinds = vec![Kind::Ours];
    for (wname, window) in [
        ("BH2", WindowFunction::BlackmanHarris2),
        ("BH", WindowFunction::BlackmanHarris),
        ("B2", WindowFunction::Blackman2),
        ("B", WindowFunction::Blackman),
    ] {
        for len in [16, 24, 32] {
            for cutoff in [None, Some(0.94), Some(0.9)] {
                let name = format!("{wname} {len} {cutoff:?}").leak();
                kinds.push(Kind::Sinc(
                    name,
                    Sinc { len, fixed_len: false, window, cutoff, exact: true },
                ));
            }
        }
    }
    kinds
}
