# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Local Cloudflare API v4 emulator for the homelab.mcp_edge tests (standard library only).

Run:  python3 tests/cloudflare_emulator/emulator.py --host 127.0.0.1 --port 8787 \\
          --seed tests/cloudflare_emulator/seed.example.json [--state state.json] [--port-file FILE]
API:  http://HOST:PORT/client/v4/...      Control (tests only, no auth): http://HOST:PORT/__emulator/...
See README.md next to this file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import re
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cfemu_access
import cfemu_alerting
import cfemu_dns
import cfemu_tunnels
from cfemu_core import ApiError, Store, now_iso, organization, paginate

API_PREFIX = "/client/v4"
CONTROL_PREFIX = "/__emulator"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
DEFAULT_FAULTS = {
    "rate_429": 0.0,
    "rate_5xx": 0.0,
    "rate_drop": 0.0,
    "rate_5xx_after_write": 0.0,
    "latency_ms": 0,
    "retry_after": 1,
    "seed": 42,
    "html_502": True,
}
HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
)


class Ctx:
    """What a route handler sees."""

    def __init__(self, store, params, query, body, rel_path):
        self.store = store
        self.params = params
        self.query = query
        self.body = body
        self.rel_path = rel_path


# --------------------------------------------------------------------------- auth


def verify_user_token(ctx):
    tok = ctx.principal
    if tok is None or tok["kind"] != "user":
        raise ApiError(401, 1000, "Invalid API Token")
    return 200, _verify_result(tok), None


def verify_account_token(ctx):
    ctx.store.account(ctx.params["account"], ctx.rel_path)
    tok = ctx.principal
    if tok is None or tok["kind"] != "account" or tok.get("account_id") not in (None, ctx.params["account"]):
        raise ApiError(401, 1000, "Invalid API Token")
    return 200, _verify_result(tok), None


def _verify_result(tok):
    result = {"id": tok["id"], "status": tok["status"]}
    if tok.get("expires_on"):
        result["expires_on"] = tok["expires_on"]
    return result


def list_accounts(ctx):
    accounts = [a for a in ctx.store.data["accounts"] if _token_sees(ctx.principal, a["id"])]
    items = [_account_public(a) for a in accounts]
    chunk, info = paginate(items, ctx.query, default=20, minimum=5, maximum=50)
    return 200, chunk, info


def get_account(ctx):
    acct = ctx.store.account(ctx.params["account"], ctx.rel_path)
    return 200, _account_public(acct), None


def _account_public(acct: dict) -> dict:
    """The Account schema: id, name, created_on, settings (no `type`: SDK 4.x and current models lack it)."""
    return {**acct, "settings": {"enforce_twofactor": False}, "created_on": "2026-01-01T00:00:00.000000Z"}


def _token_sees(tok, account_id: str) -> bool:
    return tok is None or tok.get("account_id") in (None, account_id)


AUTH_ROUTES = [
    ("GET", "/user/tokens/verify", verify_user_token, "verify"),
    ("GET", "/accounts/{account}/tokens/verify", verify_account_token, "verify"),
    ("GET", "/accounts", list_accounts, "any"),
    ("GET", "/accounts/{account}", get_account, "any"),
]


def permitted(perms: list, needed: str) -> bool:
    """Whether a token's permissions cover ``needed`` (``resource:read|edit``).

    ``edit`` implies ``read``. Access is split like the dashboard's permission groups: ``access_apps``
    (Apps and Policies), ``access_service_tokens`` (Service Tokens), ``access_org`` (Organizations,
    Identity Providers, and Groups); ``access:<level>`` grants all three.
    """
    if needed == "any" or "#all" in perms or "*" in perms or needed in perms:
        return True
    resource, _unused, level = needed.partition(":")
    held = {resource}
    if resource.startswith("access_"):
        held.add("access")
    levels = ("read", "edit") if level == "read" else ("edit",)
    return any(f"{r}:{lv}" in perms for r in held for lv in levels)


# --------------------------------------------------------------------------- router


class Router:
    def __init__(self, routes):
        self.routes = []
        for method, template, handler, perm in routes:
            pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
            key = method + " " + re.sub(r"\{\w+\}", ":id", template)
            self.routes.append((method, re.compile(pattern), handler, perm, key))

    def match(self, method: str, path: str):
        """(handler, perm, params, route_key); handler None when no route (error set in perm)."""
        allowed = False
        for r_method, pattern, handler, perm, key in self.routes:
            m = pattern.match(path)
            if not m:
                continue
            if r_method == method:
                return handler, perm, m.groupdict(), key
            allowed = True
        generic = method + " " + re.sub(r"/[0-9a-fA-F-]{32,36}(?=/|$)", "/:id", path)
        if allowed:
            return None, ApiError(405, 7001, f"Method {method} not available for that URI."), {}, generic
        return None, ApiError(404, 7000, "No route for that URI"), {}, generic


# --------------------------------------------------------------------------- faults and limits


class Faults:
    def __init__(self, initial: dict):
        self.lock = threading.Lock()
        self.initial = {**DEFAULT_FAULTS, **initial}
        self.set(self.initial, replace=True)

    def set(self, new: dict, replace: bool = False) -> dict:
        unknown = set(new) - set(DEFAULT_FAULTS)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        with self.lock:
            base = dict(DEFAULT_FAULTS) if replace else dict(self.cfg)
            base.update(new)
            for key in ("rate_429", "rate_5xx", "rate_drop", "rate_5xx_after_write"):
                base[key] = float(base[key])
                if not 0.0 <= base[key] <= 1.0:
                    raise ValueError(f"{key} must be between 0 and 1")
            base["latency_ms"] = int(base["latency_ms"])
            base["retry_after"] = int(base["retry_after"])
            self.cfg = base
            self.rng = random.Random(base["seed"])
            return dict(base)

    def roll(self, method: str):
        """('drop'|'429'|'5xx'|None, after_write: bool, status for 5xx)."""
        with self.lock:
            cfg = self.cfg
            if not any(cfg[k] for k in ("rate_429", "rate_5xx", "rate_drop", "rate_5xx_after_write")):
                return None, False, 0
            r1, r2, pick = self.rng.random(), self.rng.random(), self.rng.choice((500, 502, 503))
        if r1 < cfg["rate_drop"]:
            return "drop", False, 0
        if r1 < cfg["rate_drop"] + cfg["rate_429"]:
            return "429", False, 0
        if r1 < cfg["rate_drop"] + cfg["rate_429"] + cfg["rate_5xx"]:
            return "5xx", False, pick
        return None, method in WRITE_METHODS and r2 < cfg["rate_5xx_after_write"], 500


class RateLimiter:
    def __init__(self, limit: int, window: float):
        self.lock = threading.Lock()
        self.configure(limit, window)

    def configure(self, limit: int, window: float) -> None:
        with self.lock:
            self.limit, self.window, self.buckets = int(limit), float(window), {}

    def clear(self) -> None:
        with self.lock:
            self.buckets = {}

    def hit(self, key: str):
        """(allowed, remaining, seconds_to_reset)."""
        now = time.monotonic()
        with self.lock:
            start, count = self.buckets.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            reset = max(1, math.ceil(start + self.window - now))
            if count >= self.limit:
                self.buckets[key] = (start, count)
                return False, 0, reset
            count += 1
            self.buckets[key] = (start, count)
            return True, self.limit - count, reset


# --------------------------------------------------------------------------- the emulator


class Emulator:
    def __init__(self, store: Store, faults: dict, rate_limit: int, rate_window: float, quiet: bool = False):
        self.store = store
        self.router = Router(
            AUTH_ROUTES + cfemu_dns.ROUTES + cfemu_tunnels.ROUTES + cfemu_access.ROUTES + cfemu_alerting.ROUTES
        )
        self.faults = Faults(faults)
        self.limits = self.initial_limits = (rate_limit, rate_window)
        self.ratelimiter = RateLimiter(rate_limit, rate_window)
        self.log_lock = threading.Lock()
        self.log = []
        self.seq = 0
        self.quiet = quiet
        self.started = time.time()

    def record(self, method, path, query, status, fault, route, ms) -> None:
        with self.log_lock:
            self.seq += 1
            flat = {k: v[-1] if len(v) == 1 else v for k, v in query.items()}
            self.log.append(
                {
                    "seq": self.seq,
                    "method": method,
                    "path": path,
                    "query": flat,
                    "status": status,
                    "fault": fault,
                    "ts": now_iso(),
                    "route": route,
                    "ms": round(ms, 2),
                }
            )

    def counters(self) -> dict:
        with self.log_lock:
            entries = list(self.log)
        out = {"total": len(entries), "reads": 0, "writes": 0, "faults": 0, "by_method": {}, "by_route": {}}
        for e in entries:
            out["writes" if e["method"] in WRITE_METHODS else "reads"] += 1
            out["faults"] += 1 if e["fault"] else 0
            out["by_method"][e["method"]] = out["by_method"].get(e["method"], 0) + 1
            out["by_route"][e["route"]] = out["by_route"].get(e["route"], 0) + 1
        return out

    def reset(self) -> None:
        self.store.reset()
        with self.log_lock:
            self.log, self.seq = [], 0
        self.limits = self.initial_limits
        self.ratelimiter.configure(*self.limits)
        self.faults.set(self.faults.initial, replace=True)

    # -- authentication -------------------------------------------------------------------
    def authenticate(self, headers, verify: bool):
        """Return (principal or None for legacy key, rate-limit key)."""
        auth = headers.get("Authorization")
        email, key = headers.get("X-Auth-Email"), headers.get("X-Auth-Key")
        if auth:
            m = re.match(r"^Bearer\s+(\S+)\s*$", auth)
            if not m:
                raise ApiError(400, 6111, "Invalid format for Authorization header")
            tok = self.store.tokens.get(m.group(1))
            if tok is None:
                if verify:
                    raise ApiError(401, 1000, "Invalid API Token")
                raise ApiError(400, 9109, "Invalid access token")
            return tok, "token:" + tok["id"]
        if email or key:
            if not email:
                raise ApiError(400, 9106, "Missing X-Auth-Email header")
            if not key:
                raise ApiError(400, 9106, "Missing X-Auth-Key header")
            if (email.lower(), key) not in self.store.legacy_keys:
                raise ApiError(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")
            if verify:
                raise ApiError(400, 1001, "Token verification needs an API token (Authorization: Bearer)")
            return None, "email:" + email.lower()
        raise ApiError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")

    def authorize(self, tok, perm: str, params: dict) -> None:
        if tok is None:  # legacy global key: everything
            return
        if tok["status"] != "active":
            raise ApiError(403, 1000, f"Invalid API Token ({tok['status']})")
        if not permitted(tok["permissions"], perm):
            raise ApiError(403, 10000, "Authentication error")
        scope = tok.get("account_id")
        if scope:
            acct = params.get("account")
            if "zone" in params:
                zone = next((z for z in self.store.data["zones"] if z["id"] == params["zone"]), None)
                acct = zone["account"]["id"] if zone else acct
            if acct is not None and acct != scope:
                raise ApiError(403, 10000, "Authentication error")

    # -- one API call ----------------------------------------------------------------------
    def api_call(self, method, rel_path, query, raw_body, headers, route):
        """Return (status, payload dict, extra headers). Caller handles faults."""
        handler, perm, params, _key = route
        extra = {}
        try:
            if handler is None:
                raise perm
            tok, rl_key = self.authenticate(headers, verify=perm == "verify")
            ok, left, reset = self.ratelimiter.hit(rl_key)
            if not ok:
                raise ApiError(
                    429,
                    971,
                    "Please wait and consider throttling your request speed",
                    headers={"retry-after": str(reset)},
                )
            extra["Ratelimit"] = f'"default";r={left};t={reset}'
            extra["Ratelimit-Policy"] = f'"burst";q={self.ratelimiter.limit};w={int(self.ratelimiter.window)}'
            body = None
            if raw_body:
                try:
                    body = json.loads(raw_body)
                except (ValueError, UnicodeDecodeError):
                    raise ApiError(400, 6007, "Malformed JSON in request body") from None
            ctx = Ctx(self.store, params, query, body, rel_path)
            ctx.principal = tok
            with self.store.lock:
                if perm != "verify":
                    self.authorize(tok, perm, params)
                status, result, info = handler(ctx)
                if method in WRITE_METHODS:
                    self.store.save()
            payload = {"success": True, "errors": [], "messages": [], "result": result}
            if info is not None:
                payload["result_info"] = info
            return status, payload, extra
        except ApiError as exc:
            extra.update(exc.headers)
            return exc.status, {"success": False, "errors": exc.errors, "messages": [], "result": None}, extra


def error_payload(code: int, message: str) -> dict:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloudflare-emulator"
    sys_version = ""

    def log_message(self, format, *args):
        return

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _send(self, status: int, payload, headers=None, content_type="application/json") -> None:
        if isinstance(payload, (bytes, str)):
            data = payload.encode() if isinstance(payload, str) else payload
        else:
            data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("cf-ray", f"{random.getrandbits(64):016x}-EMU")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self):
        emu: Emulator = self.server.emulator
        t0 = time.monotonic()
        parts = urlsplit(self.path)
        path = parts.path
        raw = self._read_body()
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            status = self._control(emu, path[len(CONTROL_PREFIX) :].rstrip("/") or "/", parts.query, raw)
            self._log_line(self.command, path, status, t0, None)
            return
        query = parse_qs(parts.query, keep_blank_values=True)
        method = self.command
        if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            self._send(404, error_payload(7000, "No route for that URI"))
            self._log_line(method, path, 404, t0, None)
            return
        rel = path[len(API_PREFIX) :].rstrip("/") or "/"
        route = emu.router.match(method, rel)
        fault, after_write, pick = emu.faults.roll(method)
        latency = emu.faults.cfg["latency_ms"]
        if latency:
            time.sleep(latency / 1000.0)
        # The request is logged before the answer goes out: a client that reads the log right after
        # its response must find its own request there.
        headers, send = {}, None
        if fault == "drop":
            status = 0
        elif fault == "429":
            status = 429
            headers["retry-after"] = str(emu.faults.cfg["retry_after"])
            send = (429, error_payload(971, "Please wait and consider throttling your request speed"), headers)
        elif fault == "5xx":
            status = pick
            if pick == 502 and emu.faults.cfg["html_502"]:
                send = (502, HTML_502, None, "text/html")
            else:
                msg = {500: "Internal server error", 502: "Bad gateway", 503: "Service temporarily unavailable"}
                send = (pick, error_payload(10000 + pick - 490, msg[pick]))
        else:
            status, payload, headers = emu.api_call(method, rel, query, raw, self.headers, route)
            if after_write:
                fault = "5xx_after_write"
                status, payload = 500, error_payload(10010, "Internal server error")
            send = (status, payload, headers)
        ms = (time.monotonic() - t0) * 1000
        emu.record(method, path, query, status, fault, route[3], ms)
        if send is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._send(*send)
        self._log_line(method, path, status, t0, fault)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _log_line(self, method, path, status, t0, fault):
        if self.server.emulator.quiet:
            return
        ms = (time.monotonic() - t0) * 1000
        extra = f" fault={fault}" if fault else ""
        sys.stderr.write(f"{method} {path} {status} {ms:.1f}ms{extra}\n")

    # -- control API -------------------------------------------------------------------------
    def _control(self, emu: Emulator, sub: str, qs: str, raw: bytes) -> int:
        method = self.command
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("a JSON object is expected")
            status, out = self._control_dispatch(emu, method, sub, parse_qs(qs), body)
        except (ValueError, TypeError, KeyError) as exc:
            status, out = 400, {"error": str(exc)}
        self._send(status, out)
        return status

    def _control_dispatch(self, emu: Emulator, method: str, sub: str, query: dict, body: dict):
        if sub == "/health" and method == "GET":
            return 200, {"status": "ok", "uptime_s": round(time.time() - emu.started, 3), "pid": os.getpid()}
        if sub == "/requests" and method == "GET":
            since = int(query.get("since", ["0"])[-1])
            with emu.log_lock:
                return 200, [dict(e) for e in emu.log if e["seq"] > since]
        if sub == "/requests" and method == "DELETE":
            with emu.log_lock:
                n, emu.log = len(emu.log), []
            return 200, {"cleared": n}
        if sub == "/counters" and method == "GET":
            return 200, emu.counters()
        if sub == "/reset" and method == "POST":
            emu.reset()
            return 200, {"reset": True}
        if sub == "/state" and method == "GET":
            return 200, emu.store.dump()
        if sub == "/faults":
            if method == "GET":
                return 200, dict(emu.faults.cfg)
            if method == "POST":
                return 200, emu.faults.set(body)
            if method == "DELETE":
                return 200, emu.faults.set({}, replace=True)
        if sub == "/rate_limit" and method in ("GET", "POST"):
            if method == "POST":
                emu.limits = (int(body.get("limit", emu.limits[0])), float(body.get("window", emu.limits[1])))
                emu.ratelimiter.configure(*emu.limits)
            return 200, {"limit": emu.ratelimiter.limit, "window": emu.ratelimiter.window}
        m = re.match(r"^/tunnels/([^/]+)/connections$", sub)
        if m and method == "POST":
            with emu.store.lock:
                tun = next((t for t in emu.store.data["tunnels"] if t["id"] == m.group(1)), None)
                if tun is None:
                    return 404, {"error": "tunnel not found"}
                cfemu_tunnels.set_connections(tun, int(body.get("count", 4)))
                emu.store.save()
                return 200, cfemu_tunnels.public(tun)
        m = re.match(r"^/organizations/([^/]+)$", sub)
        if m and method == "POST":
            # {"team_name": "myteam"} gives the account that Zero Trust organization; null removes it.
            team = body.get("team_name")
            if team is not None and (not isinstance(team, str) or not re.match(r"^[a-z0-9][a-z0-9-]{0,62}$", team)):
                raise ValueError("team_name must be a lower-case DNS label or null")
            with emu.store.lock:
                if not any(a["id"] == m.group(1) for a in emu.store.data["accounts"]):
                    return 404, {"error": "account not found"}
                orgs = [o for o in emu.store.data["access_organizations"] if o["_account"] != m.group(1)]
                if team:
                    orgs.append(organization(m.group(1), team))
                emu.store.data["access_organizations"] = orgs
                emu.store.save()
            return 200, {"account_id": m.group(1), "team_name": team}
        m = re.match(r"^/zones/([^/]+)$", sub)
        if m and method == "POST":
            # {"status": "pending"} sets a zone's status (reset restores the seed's).
            status = body.get("status")
            if status not in ("active", "pending", "initializing", "moved", "deleted", "deactivated"):
                raise ValueError("status must be active, pending, initializing, moved, deleted or deactivated")
            with emu.store.lock:
                zone = next((z for z in emu.store.data["zones"] if z["id"] == m.group(1)), None)
                if zone is None:
                    return 404, {"error": "zone not found"}
                zone["status"] = status
                emu.store.save()
            return 200, {"id": m.group(1), "status": status}
        m = re.match(r"^/tokens/([^/]+)$", sub)
        if m and method == "POST":
            status = body.get("status")
            if status not in ("active", "disabled", "expired"):
                raise ValueError("status must be active, disabled or expired")
            with emu.store.lock:
                for tok in emu.store.tokens.values():
                    if tok["id"] == m.group(1):
                        tok["status"] = status
                        emu.store.save()
                        return 200, {"id": tok["id"], "status": status}
            return 404, {"error": "token not found"}
        return 404, {"error": f"no control endpoint {method} {CONTROL_PREFIX}{sub}"}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def parse_args(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description="Local Cloudflare API v4 emulator for tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    p.add_argument("--seed", default=os.path.join(here, "seed.example.json"), help="seed JSON file")
    p.add_argument("--state", help="optional JSON state file (loaded at start, rewritten after each change)")
    p.add_argument("--port-file", help="write the listening port here once ready")
    p.add_argument("--rate-limit", type=int, default=1200, help="requests per window per token (default 1200)")
    p.add_argument("--rate-window", type=float, default=300.0, help="rate-limit window in seconds (default 300)")
    p.add_argument("--faults", default="{}", help="initial fault settings as JSON, e.g. '{\"rate_429\": 0.2}'")
    p.add_argument("--quiet", action="store_true", help="no per-request log lines")
    p.add_argument("--allow-remote", action="store_true", help="allow a --host other than 127.0.0.1")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost") and not args.allow_remote:
        sys.stderr.write("refusing to listen on anything but 127.0.0.1 without --allow-remote\n")
        return 2
    with open(args.seed, encoding="utf-8") as fh:
        seed = json.load(fh)
    store = Store(seed, args.state)
    emu = Emulator(store, json.loads(args.faults), args.rate_limit, args.rate_window, quiet=args.quiet)
    server = Server((args.host, args.port), Handler)
    server.emulator = emu
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(f"{port}\n")
        os.replace(tmp, args.port_file)

    def stop(signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(f"cloudflare emulator listening on http://{args.host}:{port}{API_PREFIX}\n")
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    sys.stderr.write("cloudflare emulator stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
