"""Times secretctl's MCP server through the official Python SDK (see bench/mcp.sh).

Usage: mcp.py SECRETCTL VAULT_DIR ROUNDS. Prints a Markdown table of medians on stdout.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import time

# This file is named mcp.py: with its own directory first on sys.path, `import mcp` would import
# this file again instead of the MCP SDK. Drop that entry before importing the SDK.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

BIN, VAULT, ROUNDS = sys.argv[1], sys.argv[2], int(sys.argv[3])
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin"}


def structured(result):
    """The structured content of a tool result (`structuredContent` before SDK 2, then snake case)."""
    return getattr(result, "structured_content", None) or getattr(result, "structuredContent")


def failed(result):
    return getattr(result, "is_error", None) or getattr(result, "isError", False)


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
                count = len(structured(r)["secrets"])
                assert count == 10000, count
            run_args = {"keys": ["bench/k00042"], "command": "/usr/bin/true", "args": []}
            for _ in range(ROUNDS):
                t = time.perf_counter()
                r = await session.call_tool("secret_run", run_args)
                runs.append(time.perf_counter() - t)
                assert not failed(r), r
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
