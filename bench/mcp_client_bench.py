"""Times secretctl's MCP server through the official Python SDK (see bench/mcp.sh). Not named
mcp.py: that would shadow the SDK package.

Usage: mcp_client_bench.py SECRETCTL VAULT_DIR ROUNDS [--fnox FNOX FNOX_CONFIG] [--json FILE].
Prints a Markdown table of medians on stdout. With --fnox, also times fnox's MCP server (`fnox -c
FNOX_CONFIG mcp`) running /usr/bin/true through its `exec` tool, for bench/compare.sh; with
--json, also writes the medians (ms) to FILE.
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

BIN, VAULT, ROUNDS = sys.argv[1], sys.argv[2], int(sys.argv[3])
OPTS = sys.argv[4:]
FNOX = OPTS[OPTS.index("--fnox") + 1 : OPTS.index("--fnox") + 3] if "--fnox" in OPTS else None
JSON_OUT = OPTS[OPTS.index("--json") + 1] if "--json" in OPTS else None
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


async def fnox_exec_rounds():
    """fnox's MCP server resolves its secrets on the first tool call, then keeps them."""
    fnox, config = FNOX
    env = {**ENV, "HOME": os.environ.get("HOME", "/root")}
    server = StdioServerParameters(command=fnox, args=["-c", config, "mcp"], env=env)
    args = {"command": ["/usr/bin/true"]}
    samples = []
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            r = await session.call_tool("exec", args)  # warm-up: resolves the secrets
            assert not failed(r), r
            for _ in range(ROUNDS):
                t = time.perf_counter()
                r = await session.call_tool("exec", args)
                samples.append(time.perf_counter() - t)
                assert not failed(r), r
    return samples


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
            await session.call_tool("secret_run", run_args)  # warm-up, untimed
            for _ in range(ROUNDS):
                t = time.perf_counter()
                r = await session.call_tool("secret_run", run_args)
                runs.append(time.perf_counter() - t)
                assert not failed(r), r
    fnox_runs = await fnox_exec_rounds() if FNOX else []
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
    if fnox_runs:
        print(f"| fnox MCP `exec` of `/usr/bin/true` (one secret) | {ms(fnox_runs):.1f} ms |")
        print(f"| fnox `exec` overhead | {ms(fnox_runs) - ms(direct):.1f} ms |")
    print(f"\nrounds: {ROUNDS}")
    if JSON_OUT:
        with open(JSON_OUT, "w") as f:
            json.dump(
                {
                    "rounds": ROUNDS,
                    "startup_ms": ms(startup),
                    "secret_list_ms": ms(listing),
                    "secret_run_ms": ms(runs),
                    "direct_ms": ms(direct),
                    "fnox_exec_ms": ms(fnox_runs) if fnox_runs else None,
                },
                f,
            )


asyncio.run(main())
