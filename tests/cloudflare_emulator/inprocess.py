# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Run the Cloudflare API emulator inside the test process (a server thread on 127.0.0.1, free port).

    from inprocess import running_emulator
    with running_emulator() as emu:
        emu.base_url   # http://127.0.0.1:PORT/client/v4
        emu.api("GET", "/zones", token=...)  -> (status, payload)
        emu.reset()

Faster than a subprocess (no interpreter start) and enough for tests that only talk HTTP to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import emulator as _emulator  # noqa: E402 - the path is set just above
from cfemu_core import Store  # noqa: E402

DEFAULT_SEED = os.path.join(HERE, "seed.example.json")


class InProcessEmulator:
    """One emulator server thread; `api()` and `ctl()` are small urllib helpers for assertions."""

    def __init__(self, seed_path: str = DEFAULT_SEED, rate_limit: int = 100000, rate_window: float = 300.0):
        with open(seed_path, encoding="utf-8") as fh:
            self.seed = json.load(fh)
        store = Store(self.seed, None)
        self.emulator = _emulator.Emulator(store, {}, rate_limit, rate_window, quiet=True)
        self.server = _emulator.Server(("127.0.0.1", 0), _emulator.Handler)
        self.server.emulator = self.emulator
        self.port = self.server.server_address[1]
        self.root = f"http://127.0.0.1:{self.port}"
        self.base_url = self.root + _emulator.API_PREFIX
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        self.emulator.reset()

    def raw(self, method: str, url: str, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + url, data=data, method=method)  # noqa: S310 - loopback only
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback only
                status, payload = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, exc.read()
        return status, (json.loads(payload) if payload else None)

    def api(self, method: str, path: str, body=None, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.raw(method, _emulator.API_PREFIX + path, body, headers)

    def ctl(self, method: str, path: str, body=None):
        return self.raw(method, _emulator.CONTROL_PREFIX + path, body)[1]


@contextlib.contextmanager
def running_emulator(seed_path: str = DEFAULT_SEED):
    emu = InProcessEmulator(seed_path)
    try:
        yield emu
    finally:
        emu.close()
