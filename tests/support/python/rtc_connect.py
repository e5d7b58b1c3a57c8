"""Connects a LiveKit Python SDK participant (LK_URL, LK_TOKEN) and reports, as one JSON line,
whether the connect succeeded (or its error) and the room's connection events during LK_WAIT
seconds. Used to check the test server's faults against the real client."""

import asyncio
import json
import os
import time

from livekit import rtc


async def main():
    result = {"events": []}
    room = rtc.Room()
    start = time.monotonic()

    def record(name):
        def handler(*args):
            detail = str(args[0]) if args else ""
            result["events"].append({"event": name, "detail": detail, "at": round(time.monotonic() - start, 2)})
        return handler

    for name in ("disconnected", "reconnecting", "reconnected", "connection_state_changed"):
        room.on(name, record(name))
    try:
        await room.connect(os.environ["LK_URL"], os.environ["LK_TOKEN"])
        result["connected"] = True
    except Exception as error:  # the client's connect error is what is checked
        result["connected"] = False
        result["error"] = f"{type(error).__name__}: {error}"
    print("RESULT " + json.dumps(result), flush=True)
    if result["connected"]:
        await asyncio.sleep(float(os.environ.get("LK_WAIT", "5")))
        result["final_state"] = str(room.connection_state)
        print("RESULT " + json.dumps(result), flush=True)
        await room.disconnect()


asyncio.run(main())
