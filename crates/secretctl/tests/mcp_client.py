"""A scripted MCP client for crates/secretctl/tests/mcp.rs, on the official Python SDK.

Reads a JSON spec on stdin:
  {"command": PATH, "args": [...], "env": {...},
   "calls": [{"name": TOOL, "arguments": {...}}, ...],      # one after the other
   "parallel": [{"name": TOOL, "arguments": {...}}, ...]}   # all at once, after "calls"
starts the server with the SDK's stdio_client, initializes a ClientSession, lists the tools,
makes the calls, and prints one JSON object on stdout:
  {"server": NAME, "tools": [{"name", "read_only"}], "results": [...], "parallel": [...]}
where each result is {"is_error": bool, "text": str, "structured": obj|null}.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def attr(obj, *names):
    """The first attribute of `names` that `obj` has (SDK 1.x camelCase, 2.x snake_case)."""
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


def shape(result):
    text = "".join(c.text for c in result.content if getattr(c, "type", None) == "text")
    return {
        "is_error": bool(attr(result, "is_error", "isError")),
        "text": text,
        "structured": attr(result, "structured_content", "structuredContent"),
    }


async def main():
    spec = json.load(sys.stdin)
    params = StdioServerParameters(
        command=spec["command"], args=spec["args"], env=spec.get("env", {})
    )
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server"] = attr(init, "server_info", "serverInfo").name
            listed = await session.list_tools()
            out["tools"] = [
                {
                    "name": t.name,
                    "read_only": (
                        attr(t.annotations, "read_only_hint", "readOnlyHint")
                        if t.annotations
                        else None
                    ),
                }
                for t in listed.tools
            ]
            results = []
            for call in spec.get("calls", []):
                r = await session.call_tool(call["name"], call.get("arguments", {}))
                results.append(shape(r))
            out["results"] = results
            parallel = spec.get("parallel", [])
            if parallel:
                rs = await asyncio.gather(
                    *(session.call_tool(c["name"], c.get("arguments", {})) for c in parallel)
                )
                out["parallel"] = [shape(r) for r in rs]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
