"""Probe an MCP server over Streamable HTTP with the official `mcp` Python SDK (2.x).

Does initialize, tools/list and one tools/call, prints a JSON summary on stdout and exits
non-zero on any failure (connection, protocol, a missing tool, a tool error, an expected
text that is not in the result).

    python mcp_probe.py http://127.0.0.1:8080/mcp
    python mcp_probe.py http://127.0.0.1:8080/mcp --call get_current_time --args '{"timezone": "UTC"}'
    python mcp_probe.py http://127.0.0.1:3000/mcp --header 'Authorization: Bearer TOKEN' \
        --call tools_documentation --expect n8n --wait 60

Without --call, the first listed tool that needs no arguments is called.
Exit codes: 0 ok, 1 probe failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("url", help="the server's Streamable HTTP endpoint, e.g. http://127.0.0.1:8080/mcp")
    p.add_argument(
        "--header",
        "-H",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="an HTTP header sent with every request (repeatable)",
    )
    p.add_argument(
        "--call", metavar="TOOL", help="the tool to call (default: the first tool without required arguments)"
    )
    p.add_argument("--args", default="{}", metavar="JSON", help="the tool's arguments as a JSON object")
    p.add_argument(
        "--expect", action="append", default=[], metavar="TEXT", help="text the tool result must contain (repeatable)"
    )
    p.add_argument(
        "--expect-tool",
        action="append",
        default=[],
        metavar="NAME",
        help="a tool name tools/list must contain (repeatable)",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="retry the whole probe until it passes or SECONDS have passed (servers still starting)",
    )
    p.add_argument("--timeout", type=float, default=30, metavar="SECONDS", help="timeout of one probe attempt")
    p.add_argument(
        "--mode", default="legacy", help="protocol negotiation: 'legacy' (the initialize handshake, default) or 'auto'"
    )
    p.add_argument("--max-text", type=int, default=500, help="truncate the tool result text in the summary")
    a = p.parse_args(argv)
    try:
        a.arguments = json.loads(a.args)
    except json.JSONDecodeError as exc:
        p.error(f"--args is not JSON: {exc}")
    if not isinstance(a.arguments, dict):
        p.error("--args must be a JSON object")
    a.headers = {}
    for h in a.header:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            p.error(f"--header {h!r} is not 'Name: value'")
        a.headers[name.strip()] = value.strip()
    return a


def _text_of(result: Any) -> str:
    parts = []
    for item in getattr(result, "content", None) or []:
        text = getattr(item, "text", None)
        parts.append(text if text is not None else f"<{getattr(item, 'type', 'content')}>")
    return "\n".join(parts)


def _required(tool: Any) -> list[str]:
    schema = getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None) or {}
    return list(schema.get("required") or [])


class ProbeError(RuntimeError):
    """The server answered, but not what the probe requires."""


async def probe_once(a: argparse.Namespace) -> dict[str, Any]:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    summary: dict[str, Any] = {"url": a.url}
    http = create_mcp_http_client(headers=a.headers or None)
    async with http:
        transport = streamable_http_client(a.url, http_client=http)
        async with Client(transport, mode=a.mode, raise_exceptions=True, read_timeout_seconds=a.timeout) as client:
            info = client.server_info
            summary["initialize"] = {
                "protocol_version": client.protocol_version,
                "server": getattr(info, "name", None),
                "server_version": getattr(info, "version", None),
            }
            listed = await client.list_tools()
            tools = list(listed.tools)
            summary["tools"] = [t.name for t in tools]
            missing = [n for n in a.expect_tool if n not in summary["tools"]]
            if missing:
                raise ProbeError(f"tools/list lacks {missing}")

            name = a.call
            if name is None:
                name = next((t.name for t in tools if not _required(t)), None)
                if name is None:
                    raise ProbeError("no tool without required arguments: name one with --call and --args")
            elif name not in summary["tools"]:
                raise ProbeError(f"tool {name!r} is not listed")
            result = await client.call_tool(name, a.arguments)
            text = _text_of(result)
            is_error = bool(getattr(result, "is_error", False) or getattr(result, "isError", False))
            structured = getattr(result, "structured_content", None)
            summary["call"] = {
                "tool": name,
                "arguments": a.arguments,
                "is_error": is_error,
                "text": text if len(text) <= a.max_text else text[: a.max_text] + "...",
            }
            if structured is not None:
                summary["call"]["structured"] = structured
            if is_error:
                raise ProbeError(f"tool {name!r} returned an error: {text[:200]}")
            for want in a.expect:
                if want not in text and want not in json.dumps(structured or {}):
                    raise ProbeError(f"tool {name!r} result lacks {want!r}")
    return summary


def _describe(exc: BaseException) -> str:
    # anyio task groups wrap the real error in (nested) exception groups.
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def _diagnose(a: argparse.Namespace) -> dict[str, Any]:
    """After a failure: what does a bare initialize POST get? (HTTP status and the start of the body)."""
    import httpx2

    body = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "mcp_probe-diagnose", "version": "1"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream", **a.headers}
    try:
        r = httpx2.post(a.url, json=body, headers=headers, timeout=10)
        return {"http_status": r.status_code, "body": r.text[:300]}
    except Exception as exc:
        return {"http_error": _describe(exc)}


def main(argv: list[str] | None = None) -> int:
    a = parse_args(sys.argv[1:] if argv is None else argv)
    deadline = time.monotonic() + a.wait
    attempt = 0
    while True:
        attempt += 1
        start = time.monotonic()
        try:
            summary = asyncio.run(asyncio.wait_for(probe_once(a), a.timeout))
            summary.update(ok=True, attempts=attempt, seconds=round(time.monotonic() - start, 2))
            print(json.dumps(summary, indent=2, default=str))
            return 0
        except Exception as exc:
            error = _describe(exc) if not isinstance(exc, TimeoutError) else f"timed out after {a.timeout}s"
            if time.monotonic() + 2 < deadline:
                time.sleep(2)
                continue
            report: dict[str, Any] = {"url": a.url, "ok": False, "attempts": attempt, "error": error}
            if not isinstance(exc, ProbeError):
                report["diagnosis"] = _diagnose(a)
            print(json.dumps(report, indent=2))
            return 1


if __name__ == "__main__":
    sys.exit(main())
