"""A LiveKit Python SDK participant for checking the test server's `/rtc` end to end.

Run inside the test's network namespace (libwebrtc ignores loopback) with LK_URL and LK_TOKEN.
It connects, publishes a 440 Hz tone for 3 s, captures the audio of the other participant,
sends a text stream on `lk.transcription` (with attributes) and a data packet, sets
`lk.agent.state`, waits for a text stream on `lk.chat` and a data packet, and prints one JSON line with what it saw.
"""

import asyncio
import json
import math
import os

import numpy as np
from livekit import rtc

RATE = 48000


def pitch(samples):
    """The dominant frequency of int16 mono samples, in Hz."""
    x = np.asarray(samples, dtype=np.float64)
    if len(x) < RATE // 10:
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * RATE / len(x))


async def main():
    result = {"connected": False}
    room = rtc.Room()
    chat = asyncio.get_running_loop().create_future()
    captured = []

    async def read_chat(reader, identity):
        text = await reader.read_all()
        if not chat.done():
            chat.set_result({"text": text, "from": identity})

    def on_text(reader, identity):
        asyncio.ensure_future(read_chat(reader, identity))

    room.register_text_stream_handler("lk.chat", on_text)

    async def capture(track):
        stream = rtc.AudioStream(track, sample_rate=RATE, num_channels=1)
        async for event in stream:
            captured.extend(np.frombuffer(event.frame.data, dtype=np.int16).tolist())

    tasks = []
    data = asyncio.get_running_loop().create_future()

    @room.on("data_received")
    def on_data(packet):
        if not data.done():
            identity = packet.participant.identity if packet.participant else None
            data.set_result({"payload": packet.data.decode(), "topic": packet.topic, "from": identity})

    @room.on("track_subscribed")
    def on_track(track, publication, participant):
        result.setdefault("subscribed", []).append(
            {"participant": participant.identity, "track_sid": publication.sid, "kind": int(track.kind)}
        )
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            tasks.append(asyncio.ensure_future(capture(track)))

    await room.connect(os.environ["LK_URL"], os.environ["LK_TOKEN"])
    result["connected"] = True
    result["room"] = room.name
    result["remote_participants"] = sorted(room.remote_participants.keys())

    source = rtc.AudioSource(RATE, 1)
    track = rtc.LocalAudioTrack.create_audio_track("mic", source)
    publication = await room.local_participant.publish_track(
        track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    )
    result["published_sid"] = publication.sid

    await room.local_participant.set_attributes({"lk.agent.state": "listening"})
    writer = await room.local_participant.stream_text(
        topic="lk.transcription",
        attributes={"lk.transcription_final": "true", "lk.segment_id": "SG_1"},
    )
    await writer.write("hello from python")
    await writer.aclose()
    await room.local_participant.set_attributes({"lk.agent.state": "speaking"})
    await room.local_participant.publish_data(b"ping from python", topic="probe")

    n = 0
    for _ in range(150):  # 3 s of 20 ms frames
        samples = (np.sin(2 * math.pi * 440 * (np.arange(960) + n) / RATE) * 8000).astype(np.int16)
        n += 960
        frame = rtc.AudioFrame(samples.tobytes(), RATE, 1, 960)
        await source.capture_frame(frame)

    try:
        result["chat"] = await asyncio.wait_for(chat, 10)
    except asyncio.TimeoutError:
        result["chat"] = None
    try:
        result["data"] = await asyncio.wait_for(data, 10)
    except asyncio.TimeoutError:
        result["data"] = None
    await asyncio.sleep(1)
    result["captured_ms"] = len(captured) * 1000 // RATE
    body = captured[RATE // 2 :]  # skip the jitter buffer's start
    result["captured_rms"] = float(np.sqrt(np.mean(np.square(np.asarray(body, dtype=np.float64))))) if body else 0.0
    result["captured_pitch"] = pitch(body)
    await room.local_participant.set_attributes({"lk.agent.state": "idle"})
    await asyncio.sleep(0.3)
    await room.disconnect()
    for task in tasks:
        task.cancel()
    print("RESULT " + json.dumps(result), flush=True)


asyncio.run(main())
