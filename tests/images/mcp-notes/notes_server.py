"""mcp-notes: a small native Streamable-HTTP MCP server built on the official `mcp` SDK.

Tools (real results, no stubs):
  add_note(text)      store a note, return its id and the number of notes
  list_notes()        every note, oldest first
  word_count(text)    words, characters and lines of a text

HTTP routes: the MCP endpoint (MCP_PATH, default /mcp) and GET /healthz.

Settings (environment):
  MCP_HOST            listen address                          (default 0.0.0.0)
  MCP_PORT / PORT     listen port                             (default 8080)
  MCP_PATH            Streamable HTTP path                    (default /mcp)
  NOTES_DIR           where notes.json is kept; notes survive restarts when it is a
                      writable directory (mount a volume at /data)   (default /data)
  MCP_AUTH_TOKEN      when set, every request but /healthz needs 'Authorization: Bearer <token>'
  MCP_AUTH_TOKEN_FILE the same, read from a file (a Docker secret)
  MCP_ALLOWED_HOSTS   comma-separated Host header values (host:port, host:* allowed); when set,
                      DNS-rebinding protection is on and other Host/Origin headers are refused
  MCP_ALLOWED_ORIGINS comma-separated Origin values accepted with MCP_ALLOWED_HOSTS
  LOG_LEVEL           DEBUG, INFO, WARNING, ERROR              (default INFO)
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

VERSION = "1.0.0"
log = logging.getLogger("mcp-notes")


class NoteStore:
    """Notes in memory, mirrored to NOTES_DIR/notes.json when that directory is writable."""

    def __init__(self, directory: str | None) -> None:
        self._lock = threading.Lock()
        self._notes: list[dict[str, Any]] = []
        self.path: Path | None = None
        if directory:
            d = Path(directory)
            if d.is_dir() and os.access(d, os.W_OK):
                self.path = d / "notes.json"
                if self.path.exists():
                    self._notes = json.loads(self.path.read_text(encoding="utf-8")).get("notes", [])
            else:
                log.warning("NOTES_DIR %s is not a writable directory: notes are kept in memory only", d)

    @property
    def persistent(self) -> bool:
        return self.path is not None

    def add(self, text: str) -> dict[str, Any]:
        note = {
            "id": uuid.uuid4().hex[:12],
            "text": text,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with self._lock:
            self._notes.append(note)
            self._save()
            return {"note": note, "count": len(self._notes), "persistent": self.persistent}

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._notes)

    def _save(self) -> None:
        if self.path is None:
            return
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".notes.", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "notes": self._notes}, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def _csv(name: str) -> list[str]:
    return [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]


def _token() -> str | None:
    token = os.environ.get("MCP_AUTH_TOKEN", "").strip()
    file = os.environ.get("MCP_AUTH_TOKEN_FILE", "").strip()
    if not token and file:
        token = Path(file).read_text(encoding="utf-8").strip()
    return token or None


class BearerAuth:
    """Plain ASGI middleware: a static bearer token on everything but /healthz."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") != "/healthz":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await JSONResponse({"error": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)


def build(store: NoteStore) -> MCPServer:
    server = MCPServer(
        "mcp-notes",
        version=VERSION,
        instructions="Keeps short text notes and counts words. Test server of homelab.mcp_edge.",
    )

    @server.tool()
    def add_note(text: str) -> dict[str, Any]:
        """Store a short text note. Returns the note (with its id) and how many notes exist."""
        if not text.strip():
            raise ValueError("text is empty")
        return store.add(text)

    @server.tool()
    def list_notes() -> dict[str, Any]:
        """List every stored note, oldest first."""
        notes = store.all()
        return {"count": len(notes), "notes": notes}

    @server.tool()
    def word_count(text: str) -> dict[str, int]:
        """Count the words, characters and lines of a text."""
        return {"words": len(text.split()), "characters": len(text), "lines": len(text.splitlines()) if text else 0}

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(_unused: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "server": "mcp-notes",
                "version": VERSION,
                "notes": len(store.all()),
                "persistent": store.persistent,
            }
        )

    return server


def main() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Inside its container; the host publishes the port on 127.0.0.1 only.
    host = os.environ.get("MCP_HOST", "0.0.0.0")  # noqa: S104
    port = int(os.environ.get("MCP_PORT") or os.environ.get("PORT") or 8080)
    path = os.environ.get("MCP_PATH", "/mcp")
    store = NoteStore(os.environ.get("NOTES_DIR", "/data"))
    server = build(store)

    hosts = _csv("MCP_ALLOWED_HOSTS")
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=bool(hosts),
        allowed_hosts=hosts,
        allowed_origins=_csv("MCP_ALLOWED_ORIGINS"),
    )
    app: Any = server.streamable_http_app(streamable_http_path=path, transport_security=security, host=host)
    token = _token()
    if token:
        app = BearerAuth(app, token)
    log.info(
        "mcp-notes %s on http://%s:%d%s (auth: %s, allowed hosts: %s, notes: %s)",
        VERSION,
        host,
        port,
        path,
        "bearer" if token else "none",
        ",".join(hosts) or "any",
        store.path or "memory",
    )
    uvicorn.run(app, host=host, port=port, log_level=level.lower(), proxy_headers=False, server_header=False)


if __name__ == "__main__":
    main()
