"""Times secretctl's MCP server through the official Python SDK (see bench/mcp.sh). Not named
mcp.py: that would shadow the SDK package.

Usage: mcp_client_bench.py SECRETCTL VAULT_DIR ROUNDS. Prints a Markdown table of medians on stdout.
"""

import asyncio
import statistics
import subprocess
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

BIN, VAULT, ROUNDS = sys.argv[1], sys.argv[2], int(sys.argv[3])
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin"}


def attr(obj, *names):
    """The first attribute of `names` that `obj` has (SDK 1.x camelCase, 2.x snake_case)."""
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    raise AttributeError(names[0])


def ms(samples):
    return statistics.median(samples) * 1000


def params():
    return StdioServerParameters(
        command=BIN, args=["--vault-dir", VAULT, "mcp-server"], env=ENV
    )


async def startup_round():
    start = time.perf_counter()
    async with stdio_client(params()) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()
            return time.perf_counter() - start


async def main():
    startup = [await startup_round() for _ in range(ROUNDS)]
    listing, runs, handshake = [], [], []
    async with stdio_client(params()) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for _ in range(ROUNDS):
                t = time.perf_counter()
                await session.list_tools()
                handshake.append(time.perf_counter() - t)
            for _ in range(max(5, ROUNDS // 3)):
                t = time.perf_counter()
                r = await session.call_tool("secret_list", {})
                listing.append(time.perf_counter() - t)
                count = len(attr(r, "structured_content", "structuredContent")["secrets"])
                assert count == 10000, count
            run_args = {"keys": ["bench/k00042"], "command": "/usr/bin/true", "args": []}
            for _ in range(ROUNDS):
                t = time.perf_counter()
                r = await session.call_tool("secret_run", run_args)
                runs.append(time.perf_counter() - t)
                assert not attr(r, "is_error", "isError"), r
    direct = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        subprocess.run(["/usr/bin/true"], check=True)
        direct.append(time.perf_counter() - t)
    print("| measurement | median |")
    print("|---|---|")
    print(f"| spawn `mcp-server` + `initialize` + `tools/list` | {ms(startup):.1f} ms |")
    print(f"| `tools/list` on a running server | {ms(handshake):.2f} ms |")
    print(f"| `secret_list`, 10,000 secrets | {ms(listing):.1f} ms |")
    print(f"| `secret_run` of `/usr/bin/true` (one key) | {ms(runs):.1f} ms |")
    print(f"| `/usr/bin/true` run directly from Python | {ms(direct):.1f} ms |")
    print(f"| **`secret_run` overhead** (goal < 10 ms) | **{ms(runs) - ms(direct):.1f} ms** |")
    print(f"\nrounds: {ROUNDS}")


asyncio.run(main())
