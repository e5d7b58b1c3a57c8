"""The Python side of `bench/benches/mcp.rs`: the same MCP test server called from Python.

The Rust bench starts this script itself with its virtual environment (livekit-agents, which
brings the `mcp` SDK) and the server it runs:

    target/bench-venv/bin/python bench/python/mcp_calls.py STDIO_COMMAND HTTP_URL

STDIO_COMMAND is run with `AGENTS_MCP_BENCH_SERVER=1` (the bench executable serving MCP on
stdio); HTTP_URL is the bench's streamable-HTTP server. For each transport, two figures:

* `mcp call`: `ClientSession.call_tool` of the bare `mcp` SDK — Python's floor, as `rmcp call`
  is Rust's;
* `livekit-agents call`: the same call as a voice agent makes it, through the function tool
  of livekit-agents' `MCPServerStdio`/`MCPServerHTTP`: the arguments parsed from the model's
  JSON and bound (`prepare_function_arguments`), the tool called, its result rendered — as
  `toolset call` is for Rust.

The `echo` tool does no work, so a call is the overhead. Prints Markdown table rows in the
Rust bench's format.

Python's `mcp` SDK (2.x) rejects a `tools/list` answer in which a tool's `inputSchema` lacks
`"type": "object"` (the MCP schema requires it), and lists the tools after a tool's first call
to validate its result: two of the test server's schema edge cases (`media` and `no_schema`,
whose schema is `{}`) make every Python listing fail. So each connection first removes them
through the server's own `remove_tool`, sent without that validation.
"""

import asyncio
import os
import statistics
import sys
import time

from mcp import types

from livekit.agents.llm import mcp as lk_mcp
from livekit.agents.llm.utils import prepare_function_arguments
from mcp import ClientSession, stdio_client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

WARM_UP = 200
CALLS = 2000


def report(name: str, transport: str, times: list[float]) -> None:
    times.sort()

    def at(fraction: float) -> float:
        return times[int((len(times) - 1) * fraction)]

    def micros(seconds: float) -> str:
        return f"{seconds * 1e6:.1f} µs"

    print(
        f"| {name} | {transport} | **{micros(at(0.5))}** | {micros(at(0.9))} "
        f"| {micros(statistics.fmean(times))} | {len(times)} |",
        flush=True,
    )


async def timed(call) -> list[float]:
    for _ in range(WARM_UP):
        await call()
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


# The test server's tools whose `inputSchema` is `{}`; see the module's documentation.
UNLISTABLE = ("media", "no_schema")


async def remove_unlistable(session: ClientSession) -> None:
    for name in UNLISTABLE:
        request = types.CallToolRequest(
            params=types.CallToolRequestParams(name="remove_tool", arguments={"name": name})
        )
        await session.send_request(request, types.CallToolResult)


async def bare(session: ClientSession) -> list[float]:
    await remove_unlistable(session)

    async def call() -> None:
        result = await session.call_tool("echo", {"text": "hi"})
        assert not result.is_error, result

    return await timed(call)


async def through_livekit(server: lk_mcp.MCPServer) -> list[float]:
    await server.initialize()
    assert server._client is not None  # noqa: SLF001 (the bench's one private access)
    await remove_unlistable(server._client)  # noqa: SLF001
    server.invalidate_cache()
    tools = await server.list_tools()
    echo = next(tool for tool in tools if tool.info.name == "echo")

    async def call() -> None:
        args, kwargs = prepare_function_arguments(fnc=echo, json_arguments='{"text": "hi"}')
        output = await echo(*args, **kwargs)
        assert "hi" in output, output  # livekit-agents renders the content part as JSON

    try:
        return await timed(call)
    finally:
        await server.aclose()


async def main(command: str, url: str) -> None:
    env = {**os.environ, "AGENTS_MCP_BENCH_SERVER": "1"}
    params = StdioServerParameters(command=command, args=[], env=env)
    async with stdio_client(params) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            report("mcp call (Python)", "stdio", await bare(session))
    report(
        "livekit-agents call (Python)",
        "stdio",
        await through_livekit(lk_mcp.MCPServerStdio(command, [], env=env)),
    )

    async with streamable_http_client(url) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            report("mcp call (Python)", "HTTP", await bare(session))
    report(
        "livekit-agents call (Python)",
        "HTTP",
        await through_livekit(lk_mcp.MCPServerHTTP(url)),
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
