"""The Python side of `bench/benches/vad.rs`: LiveKit's Silero plugin on the same audio.

    python3 -m venv /tmp/silero/venv
    /tmp/silero/venv/bin/pip install livekit-plugins-silero onnxruntime
    /tmp/silero/venv/bin/python bench/python/vad_cpu.py [quick] [streams=1,10,50]

1. one stream, as fast as possible: the 16 kHz fixture 8 times (62.5 s) in 20 ms frames,
   every event read; process CPU time (all threads) per audio second, median of 7 runs;
2. paced streams: N streams fed 20 ms frames at real time for 5 s on the asyncio loop;
   process CPU per stream-second, and how late the streams finished (a run that ends more
   than a frame late did not keep up with real time, so its figure is not a capacity).
"""

import asyncio
import statistics
import sys
import time
import wave
from pathlib import Path

from livekit import rtc
from livekit.plugins import silero

FIXTURE = Path(__file__).parents[2] / "crates/agents-plugins-silero/tests/data/speech_16k.wav"
FRAME_MS = 20
REPEAT = 8
RUNS = 7


def load_pcm() -> tuple[bytes, int]:
    with wave.open(str(FIXTURE), "rb") as w:
        return w.readframes(w.getnframes()) * REPEAT, w.getframerate()


def frames(pcm: bytes, rate: int) -> list[rtc.AudioFrame]:
    step = rate * FRAME_MS // 1000 * 2
    return [
        rtc.AudioFrame(pcm[i : i + step], rate, 1, len(pcm[i : i + step]) // 2)
        for i in range(0, len(pcm), step)
    ]


async def one_stream(vad: silero.VAD, audio: list[rtc.AudioFrame]) -> int:
    stream = vad.stream()
    count = 0

    async def read() -> None:
        nonlocal count
        async for _ in stream:
            count += 1

    reader = asyncio.create_task(read())
    for frame in audio:
        stream.push_frame(frame)
        await asyncio.sleep(0)  # let the stream work as frames come, as a live caller would
    stream.end_input()
    await reader
    await stream.aclose()
    return count


async def paced(
    vad: silero.VAD, audio: list[rtc.AudioFrame], n: int, seconds: float
) -> tuple[float, float]:
    per_stream = int(seconds * 1000 / FRAME_MS)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def run(i: int) -> None:
        stream = vad.stream()

        async def read() -> None:
            async for _ in stream:
                pass

        reader = asyncio.create_task(read())
        next_time = start + i * FRAME_MS / 1000 / n
        for frame in audio[:per_stream]:
            await asyncio.sleep(max(0.0, next_time - loop.time()))
            stream.push_frame(frame)
            next_time += FRAME_MS / 1000
        stream.end_input()
        await reader
        await stream.aclose()

    cpu = time.process_time()
    await asyncio.gather(*(run(i) for i in range(n)))
    late = loop.time() - (start + per_stream * FRAME_MS / 1000)
    return time.process_time() - cpu, late


async def main() -> None:
    quick = "quick" in sys.argv
    pcm, rate = load_pcm()
    audio = frames(pcm, rate)
    seconds = len(pcm) / 2 / rate
    vad = silero.VAD.load()
    await one_stream(vad, audio)  # warm-up
    samples = []
    for _ in range(RUNS):
        cpu = time.process_time()
        await one_stream(vad, audio)
        samples.append((time.process_time() - cpu) * 1e3 / seconds)
    per = statistics.median(samples)
    print(f"one stream, as fast as possible: {per:.3f} ms CPU per audio second "
          f"({1000 / per:.0f} streams per core)")
    duration = 2.0 if quick else 5.0
    print(f"paced streams, 20 ms frames at real time, {duration:.0f} s")
    counts = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("streams=")), "1,10,50")
    for n in (int(c) for c in counts.split(",")):
        cpu, late = await paced(vad, audio, n, duration)
        per = cpu * 1e3 / (n * duration)
        print(f"  {n:>4} streams: {per:.3f} ms CPU per stream-second ({1000 / per:.0f} streams per core), "
              f"finished {late * 1e3:.0f} ms after the last frame was due")


if __name__ == "__main__":
    asyncio.run(main())
