"""The soxr side of `bench/benches/resample.rs`: the same tones and measures, for the qualities
of soxr (the resampler of LiveKit's Python SDK).

    python3 -m venv /tmp/soxr-venv && /tmp/soxr-venv/bin/pip install soxr numpy
    /tmp/soxr-venv/bin/python bench/python/resample_quality.py

Everything goes through a streaming soxr.ResampleStream in 10 ms chunks (last=True at the end).

- delay: an impulse in the middle of 1 s of silence; where the output's peak comes out
  (parabolic interpolation) against where it should, in output samples. Latency: that delay
  plus the output still held back after the last chunk (before last=True), in ms.
- passband: a sine at 0.5 amplitude, 2 s, at 0.1, 0.5 and 0.85 of the lower Nyquist frequency;
  the output past the delay, 0.1 s trimmed at each end, fitted with a sine of the tone's
  frequency (least squares, any phase): the fit's level error in dB, its SNR over what is left
  (THD+N), THD (harmonics 2-5 below the lower Nyquist frequency, fitted on what is left), and
  when upsampling the image of the tone (at input rate - f), in dB of the input tone.
- stopband: a sine above the output's Nyquist frequency: what comes out, in dB of the input.
- speed: thread CPU time per second of audio, 10 ms chunks of the same noise, median of 7 runs
  (includes Python's call per chunk).
"""

import time

import numpy as np
import soxr

CASES = [
    (48_000, 16_000, [9_000, 12_000, 20_000]),
    (44_100, 16_000, [9_000, 15_000, 20_000]),
    (24_000, 48_000, []),
    (16_000, 48_000, []),
]
TONES = [0.1, 0.5, 0.85]
QUALITIES = ["QQ", "LQ", "MQ", "HQ"]


def sine(rate, f, seconds=2.0):
    n = int(rate * seconds)
    return (0.5 * np.sin(2 * np.pi * f * np.arange(n) / rate)).astype(np.float32)


def resample(inp, out, x, quality):
    """The output, and how much of it (output samples) was still held back before last=True."""
    stream = soxr.ResampleStream(inp, out, 1, dtype="float32", quality=quality)
    chunk = inp // 100
    parts = [stream.resample_chunk(x[i : i + chunk]) for i in range(0, len(x), chunk)]
    held = len(x) * out / inp - sum(len(p) for p in parts)
    parts.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    return np.concatenate(parts).astype(np.float64), held


def delay(inp, out, quality):
    x = np.zeros(inp, np.float32)
    x[inp // 2] = 1.0
    y, held = resample(inp, out, x, quality)
    peak = int(np.argmax(np.abs(y)))
    a, b, c = y[peak - 1], y[peak], y[peak + 1]
    d = peak + 0.5 * (a - c) / (a - 2 * b + c) - out // 2
    return d, (d + held) * 1e3 / out


def steady(y, out, d):
    start = out // 10 + max(0, round(d))
    return y[start : start + out * 18 // 10].copy(), start


def remove(y, f, out, t0):
    """Subtracts the least-squares sine of frequency f from y (in place); returns its amplitude."""
    t = 2 * np.pi * f * (np.arange(len(y)) + t0) / out
    basis = np.stack([np.sin(t), np.cos(t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    y -= basis @ coef
    return float(np.hypot(*coef))


def passband(inp, out, f, quality, d):
    y, _ = resample(inp, out, sine(inp, f), quality)
    y, t0 = steady(y, out, d)
    total = np.sum(y**2)
    amplitude = remove(y, f, out, t0)
    residual = np.sum(y**2)
    nyquist = min(inp, out) / 2
    harmonics = [remove(y, f * h, out, t0) ** 2 for h in range(2, 6) if f * h < nyquist * 0.999]
    thd = 10 * np.log10(sum(harmonics) / amplitude**2) if harmonics else None
    image = 20 * np.log10(remove(y, inp - f, out, t0) / 0.5) if out > inp else None
    return 20 * np.log10(amplitude / 0.5), 10 * np.log10((total - residual) / residual), thd, image


def stopband(inp, out, f, quality, d):
    y, _ = resample(inp, out, sine(inp, f), quality)
    y, _ = steady(y, out, d)
    return 20 * np.log10(np.sqrt(np.mean(y**2)) / (0.5 / np.sqrt(2)))


def speed(inp, out, quality):
    state = 1
    noise = np.empty(inp * 10, np.float32)
    for i in range(len(noise)):
        state = (state * 1_664_525 + 1_013_904_223) % 2**32
        noise[i] = ((state >> 8) / 2**24 - 0.5) * (0.5 + 0.5 * np.sin(i / inp * 3.0))
    runs = []
    for _ in range(8):
        start = time.thread_time()
        resample(inp, out, noise, quality)
        runs.append((time.thread_time() - start) * 1e3 / 10)
    return float(np.median(runs[1:]))


def main():
    print(f"soxr {soxr.__version__}, numpy {np.__version__}")
    for inp, out, stop_tones in CASES:
        nyquist = min(inp, out) / 2
        print(f"\n## {inp} → {out}")
        for quality in QUALITIES:
            d, latency = delay(inp, out, quality)
            line = f"soxr {quality:<17} delay {d:7.2f} samples, latency {latency:5.2f} ms"
            for q in TONES:
                f = q * nyquist
                level, snr, thd, image = passband(inp, out, f, quality, d)
                line += f" | {f:.0f} Hz: {level:+.3f} dB, SNR {snr:.1f} dB"
                if thd is not None:
                    line += f", THD {thd:.1f} dB"
                if image is not None:
                    line += f", image {image:.1f} dB"
            for f in stop_tones:
                line += f" | stop {f} Hz: {stopband(inp, out, f, quality, d):.1f} dB"
            line += f" | CPU {speed(inp, out, quality):.3f} ms/s"
            print(line)


if __name__ == "__main__":
    main()
