"""Records what LiveKit's Python Silero plugin reports for the WAV fixtures of this folder.

Not run by the tests: it made `reference.json`, which the Rust parity test
(`tests/parity.rs`) compares against. See README.md in this folder for the exact command.

For each WAV it feeds 10 ms frames to `silero.VAD.load().stream()` (default options), then
records every START_OF_SPEECH / END_OF_SPEECH event and the smoothed probability of every
INFERENCE_DONE event.
"""

import asyncio
import json
import sys
import wave

from livekit import rtc
from livekit.agents import vad as agents_vad
from livekit.plugins import silero


async def run(vad: silero.VAD, path: str) -> dict:
    with wave.open(path, "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        assert w.getsampwidth() == 2 and channels == 1
        pcm = w.readframes(w.getnframes())

    stream = vad.stream()
    per_frame = rate // 100
    events: list[dict] = []
    probabilities: list[float] = []

    async def read() -> None:
        async for ev in stream:
            if ev.type == agents_vad.VADEventType.INFERENCE_DONE:
                probabilities.append(ev.probability)
            else:
                events.append(
                    {
                        "kind": ev.type.value,
                        "samples_index": ev.samples_index,
                        "timestamp": ev.timestamp,
                        "speech_duration": ev.speech_duration,
                        "silence_duration": ev.silence_duration,
                        "frame_samples": sum(f.samples_per_channel for f in ev.frames),
                    }
                )

    reader = asyncio.create_task(read())
    step = per_frame * 2
    for start in range(0, len(pcm), step):
        chunk = pcm[start : start + step]
        stream.push_frame(
            rtc.AudioFrame(
                data=chunk,
                sample_rate=rate,
                num_channels=1,
                samples_per_channel=len(chunk) // 2,
            )
        )
    stream.end_input()
    await reader
    await stream.aclose()
    return {
        "file": path.rsplit("/", 1)[-1],
        "sample_rate": rate,
        "events": events,
        "probabilities": probabilities,
    }


async def main() -> None:
    vad = silero.VAD.load()
    results = [await run(vad, path) for path in sys.argv[1:]]
    json.dump({"python_plugin": "livekit-plugins-silero", "runs": results}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    asyncio.run(main())
