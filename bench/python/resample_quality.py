"""The soxr side of `bench/benches/resample.rs`: the same tones and measures, for the qualities
of soxr (the resampler of LiveKit's Python SDK).

    python3 -m venv /tmp/soxr-venv && /tmp/soxr-venv/bin/pip install soxr numpy
    /tmp/soxr-venv/bin/python bench/python/resample_quality.py

- passband: a sine at 0.5 amplitude through a streaming soxr.ResampleStream in 10 ms chunks;
  away from the edges the output is fitted with a sine of the same frequency (least squares):
  the fit's level error in dB, and the SNR of the fit over what is left.
- stopband: a sine above the output's Nyquist frequency: what comes out, in dB of the input.
- speed: thread CPU time per second of audio, 10 ms chunks of the same noise, median of 7 runs.
"""

import time

import numpy as np
import soxr

CASES = [
    (48_000, 16_000, [1_000, 4_000, 6_800], [9_000, 12_000, 20_000]),
    (44_100, 16_000, [1_000, 4_000, 6_800], [9_000, 15_000]),
    (24_000, 48_000, [1_000, 6_000, 10_200], []),
    (16_000, 48_000, [1_000, 4_000, 6_800], []),
]
QUALITIES = ["QQ", "LQ", "MQ", "HQ"]


def sine(rate, f, seconds=2.0):
    n = int(rate * seconds)
    return (0.5 * np.sin(2 * np.pi * f * np.arange(n) / rate)).astype(np.float32)


def resample(inp, out, x, quality):
    stream = soxr.ResampleStream(inp, out, 1, dtype="float32", quality=quality)
    chunk = inp // 100
    parts = [stream.resample_chunk(x[i : i + chunk]) for i in range(0, len(x), chunk)]
    parts.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    return np.concatenate(parts).astype(np.float64)


def passband(inp, out, f, quality):
    y = resample(inp, out, sine(inp, f), quality)
    edge = out // 10
    y = y[edge : len(y) - edge]
    # soxr delays its output (the streaming filter's latency): fit sin and cos, whatever phase.
    t = 2 * np.pi * f * (np.arange(len(y)) + edge) / out
    basis = np.stack([np.sin(t), np.cos(t)], axis=1)
    (a, b), *_ = np.linalg.lstsq(basis, y, rcond=None)
    fit = basis @ np.array([a, b])
    snr = 10 * np.log10(np.sum(fit**2) / np.sum((y - fit) ** 2))
    return 20 * np.log10(np.hypot(a, b) / 0.5), snr


def stopband(inp, out, f, quality):
    x = sine(inp, f)
    y = resample(inp, out, x, quality)
    edge = out // 10
    y = y[edge : len(y) - edge]
    rms = lambda s: np.sqrt(np.mean(np.asarray(s, np.float64) ** 2))
    return 20 * np.log10(rms(y) / rms(x))


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
    print("quality | conversion | tone | level error | SNR (passband) or output level (stopband)")
    for quality in QUALITIES:
        for inp, out, passband_tones, stopband_tones in CASES:
            for f in passband_tones:
                level, snr = passband(inp, out, f, quality)
                print(f"{quality} | {inp} → {out} | {f:>6} Hz | {level:+.3f} dB | SNR {snr:.1f} dB")
            for f in stopband_tones:
                print(f"{quality} | {inp} → {out} | {f:>6} Hz | — | stopband {stopband(inp, out, f, quality):.1f} dB")
    print("\nspeed (thread CPU per second of audio, 10 ms chunks; includes Python's per-chunk call)")
    for quality in QUALITIES:
        for inp, out, _, _ in CASES:
            print(f"{quality} {inp} → {out}: {speed(inp, out, quality):.3f} ms")


if __name__ == "__main__":
    main()
