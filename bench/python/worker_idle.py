"""The Python side of `bench/benches/worker.rs`: LiveKit's Python worker (`AgentServer` from
livekit-agents) registered with the same LiveKit test server, taking idle jobs.

The Rust bench starts this script itself, with the virtual environment it made:

    python3 -m venv target/bench-venv
    target/bench-venv/bin/pip install livekit-agents==1.8.9
    LIVEKIT_URL=http://127.0.0.1:PORT LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... \
        target/bench-venv/bin/python bench/python/worker_idle.py

It prints `registered` once the server answered its registration, then serves jobs until
killed. Each job is Python's minimal idle job: the entrypoint returns without `ctx.connect()`
(the test server has no `/rtc`), and the job process stays until the job is terminated —
livekit-agents only logs a warning after 10 s. Jobs run one per process (Python's default,
`JobExecutorType.PROCESS` through a forkserver); no idle processes are kept warm
(`num_idle_processes=0`), so every process counted belongs to a job or to the worker.
"""

import asyncio
import logging
import sys

from livekit.agents import AgentServer, JobContext

# Errors only: every idle job would otherwise warn that it never connected to its room.
logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

# Port 0: a random port for the health server, as the Rust worker runs without one here.
# `load_threshold` infinite: the loaded machine must not make the worker refuse jobs (the
# Rust worker's `development` options have no threshold either).
server = AgentServer(num_idle_processes=0, port=0, load_threshold=float("inf"))


@server.rtc_session()
async def entrypoint(ctx: JobContext) -> None:
    # The minimal idle job: nothing to do, no room connection.
    return None


def on_registered(worker_id: str, _server_info: object) -> None:
    print("registered", flush=True)


server.on("worker_registered", on_registered)

if __name__ == "__main__":
    asyncio.run(server.run(devmode=False))
