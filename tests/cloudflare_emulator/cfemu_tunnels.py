# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Cloudflare Tunnel (cfd_tunnel) endpoints of the Cloudflare API emulator."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets

from cfemu_core import ApiError, new_uuid, now_iso, paginate, qbool, qget, require_object

# Tunnel configuration errors: HTTP 400, code 1056, "Bad Configuration: Validation failed: <cloudflared's
# message>\n". The API runs cloudflared's own ingress validation (ingress/ingress.go validateIngress), so the
# messages below are cloudflared's, checked in cloudflared's order (per rule: service, access, hostname, path).
CONFIG_ERROR = 1056
ERR_NO_RULES = "The config file doesn't contain any ingress rules"
LAST_RULE_MSG = "The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)"
ERR_BAD_WILDCARD = (
    'Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, '
    'e.g. "*.example.com"'
)
ERR_HOST_PORT = "Hostname cannot contain a port"
HELLO_WORLD = ("hello_world", "hello-world", "helloworld")
# originRequest / warp-routing fields that cloudflared decodes as CustomDuration: strconv.ParseInt on the raw
# JSON value, i.e. whole seconds written as a JSON integer ("30s" or 30.5 are refused).
ORIGIN_DURATIONS = ("connectTimeout", "tlsTimeout", "tcpKeepAlive", "keepAliveTimeout")
WARP_DURATIONS = ("connectTimeout", "tcpKeepAlive")
URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
PUBLIC_FIELDS = (
    "id",
    "account_tag",
    "name",
    "created_at",
    "deleted_at",
    "connections",
    "conns_active_at",
    "conns_inactive_at",
    "status",
    "remote_config",
    "tun_type",
    "metadata",
)


def _not_found() -> ApiError:
    return ApiError(404, 1002, "Tunnel not found")


def _check_secret(secret) -> str:
    if not isinstance(secret, str):
        raise ApiError(400, 1001, "tunnel_secret must be a base64-encoded string of at least 32 bytes.")
    try:
        raw = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, 1001, "tunnel_secret must be valid base64.") from None
    if len(raw) < 32:
        raise ApiError(400, 1001, f"tunnel_secret must decode to at least 32 bytes (got {len(raw)}).")
    return secret


def _check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, 1001, "name is required and must be a non-empty string.")
    if len(name) > 255:
        raise ApiError(400, 1001, "name must be at most 255 characters.")
    return name


def _status(tun: dict) -> str:
    n = len(tun["connections"])
    if n >= 4:
        return "healthy"
    if n > 0:
        return "degraded"
    return "down" if tun.get("conns_active_at") else "inactive"


def public(tun: dict) -> dict:
    tun["status"] = _status(tun)
    return copy.deepcopy({k: tun[k] for k in PUBLIC_FIELDS})


def token_for(tun: dict) -> str:
    payload = {"a": tun["account_tag"], "t": tun["id"], "s": tun["secret"]}
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _tunnels(ctx) -> list:
    ctx.store.account(ctx.params["account"], ctx.rel_path)
    return [t for t in ctx.store.data["tunnels"] if t["account_tag"] == ctx.params["account"]]


def _get(ctx, live: bool = False) -> dict:
    for tun in _tunnels(ctx):
        if tun["id"] == ctx.params["id"]:
            if live and tun["deleted_at"]:
                raise _not_found()
            return tun
    raise _not_found()


def list_tunnels(ctx):
    q = ctx.query
    items = _tunnels(ctx)
    is_deleted = qbool(q, "is_deleted")
    if is_deleted is not None:
        items = [t for t in items if bool(t["deleted_at"]) == is_deleted]
    for field, key in (("name", "name"), ("uuid", "id")):
        val = qget(q, field)
        if val is not None:
            items = [t for t in items if t[key] == val]
    prefix = qget(q, "include_prefix")
    if prefix:
        items = [t for t in items if t["name"].startswith(prefix)]
    prefix = qget(q, "exclude_prefix")
    if prefix:
        items = [t for t in items if not t["name"].startswith(prefix)]
    status = qget(q, "status")
    if status:
        items = [t for t in items if _status(t) == status]
    chunk, info = paginate(items, q, default=20, minimum=1, maximum=1000)
    return 200, [public(t) for t in chunk], info


def create_tunnel(ctx):
    body = require_object(ctx.body)
    account = ctx.store.account(ctx.params["account"], ctx.rel_path)
    name = _check_name(body.get("name"))
    config_src = body.get("config_src", "local")
    if config_src not in ("local", "cloudflare"):
        raise ApiError(400, 1001, "config_src must be 'local' or 'cloudflare'.")
    secret = body.get("tunnel_secret")
    if secret is None:
        if config_src == "local":
            raise ApiError(400, 1001, "tunnel_secret is required for locally managed tunnels (config_src local).")
        secret = base64.b64encode(secrets.token_bytes(32)).decode()
    _check_secret(secret)
    if any(t["name"] == name and not t["deleted_at"] for t in _tunnels(ctx)):
        raise ApiError(409, 1013, "You already have a tunnel with this name. Please choose a different name.")
    tun = {
        "id": new_uuid(),
        "account_tag": account["id"],
        "name": name,
        "created_at": now_iso(),
        "deleted_at": None,
        "connections": [],
        "conns_active_at": None,
        "conns_inactive_at": None,
        "status": "inactive",
        "remote_config": config_src == "cloudflare",
        "tun_type": "cfd_tunnel",
        "metadata": body.get("metadata") or {},
        "secret": secret,
    }
    ctx.store.data["tunnels"].append(tun)
    result = public(tun)
    result["credentials_file"] = {
        "AccountTag": tun["account_tag"],
        "TunnelID": tun["id"],
        "TunnelName": tun["name"],
        "TunnelSecret": secret,
    }
    result["token"] = token_for(tun)
    return 200, result, None


def get_tunnel(ctx):
    return 200, public(_get(ctx)), None


def patch_tunnel(ctx):
    body = require_object(ctx.body)
    tun = _get(ctx, live=True)
    if "name" in body:
        name = _check_name(body["name"])
        if any(t["name"] == name and not t["deleted_at"] and t["id"] != tun["id"] for t in _tunnels(ctx)):
            raise ApiError(409, 1013, "You already have a tunnel with this name. Please choose a different name.")
        tun["name"] = name
    if "tunnel_secret" in body:
        tun["secret"] = _check_secret(body["tunnel_secret"])
    return 200, public(tun), None


def delete_tunnel(ctx):
    tun = _get(ctx, live=True)
    if tun["connections"]:
        if qbool(ctx.query, "cascade"):
            _drop_connections(tun)
        else:
            raise ApiError(
                400,
                1022,
                "Cannot delete tunnel because it has active connections. "
                "Stop cloudflared or clean up its connections first.",
            )
    tun["deleted_at"] = now_iso()
    return 200, public(tun), None


def _drop_connections(tun: dict) -> None:
    if tun["connections"]:
        tun["conns_inactive_at"] = now_iso()
    tun["connections"] = []


def set_connections(tun: dict, count: int) -> None:
    """Test hook: pretend `count` cloudflared connections are up (0 = all down)."""
    if count <= 0:
        _drop_connections(tun)
        return
    client_id = new_uuid()
    colos = ["ams01", "fra06", "lhr01", "cdg02"]
    now = now_iso()
    tun["connections"] = [
        {
            "id": new_uuid(),
            "uuid": new_uuid(),
            "colo_name": colos[i % len(colos)],
            "is_pending_reconnect": False,
            "origin_ip": "198.51.100.7",
            "opened_at": now,
            "client_id": client_id,
            "client_version": "2026.1.0",
        }
        for i in range(count)
    ]
    tun["conns_active_at"] = now
    tun["conns_inactive_at"] = None


def list_connections(ctx):
    tun = _get(ctx)
    conns = tun["connections"]
    if not conns:
        return 200, [], None
    client = {
        "id": conns[0]["client_id"],
        "arch": "linux_amd64",
        "version": conns[0]["client_version"],
        "config_version": ctx.store.data["tunnel_configs"].get(tun["id"], {}).get("version", 0),
        "features": ["ha-origin", "serialized_headers"],
        "run_at": conns[0]["opened_at"],
        "conns": copy.deepcopy(conns),
    }
    return 200, [client], None


def delete_connections(ctx):
    tun = _get(ctx, live=True)
    _drop_connections(tun)
    return 200, {}, None


def get_token(ctx):
    return 200, token_for(_get(ctx, live=True)), None


def _config_result(ctx, tun: dict) -> dict:
    stored = ctx.store.data["tunnel_configs"].get(tun["id"])
    if stored is None:
        return {"tunnel_id": tun["id"], "version": 0, "config": None, "source": "cloudflare", "created_at": None}
    return copy.deepcopy(stored)


def get_config(ctx):
    return 200, _config_result(ctx, _get(ctx, live=True)), None


def config_error(message: str) -> ApiError:
    return ApiError(400, CONFIG_ERROR, f"Bad Configuration: Validation failed: {message}\n")


def _go_quote(text: str) -> str:
    """Go's strconv.Quote for the ASCII cases that matter here."""
    return json.dumps(text)


def _check_duration(value, where: str) -> None:
    if value is None:  # JSON null leaves the pointer field unset
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raw = json.dumps(value, separators=(",", ":"))
        raise config_error(f"strconv.ParseInt: parsing {_go_quote(raw)}: invalid syntax ({where})")


def _check_origin_request(origin, where: str) -> None:
    if origin is None:
        return
    if not isinstance(origin, dict):
        raise config_error(f"{where} must be an object")
    for key in ORIGIN_DURATIONS:
        _check_duration(origin.get(key), f"{where}.{key}")


def _split_host_port(hostport: str):
    """Go's net.SplitHostPort: (host, port) or None when it fails."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or not hostport[end + 1 :].startswith(":") or ":" in hostport[end + 2 :]:
            return None
        return hostport[1:end], hostport[end + 2 :]
    if hostport.count(":") != 1:
        return None
    host, _sep, port = hostport.partition(":")
    return host, port


def _check_service(service) -> None:
    """cloudflared's URL-service checks (url.Parse, then scheme+hostname, then no path)."""
    text = service if isinstance(service, str) else ""
    m = URL_SCHEME.match(text)
    if not m:  # no scheme: url.Parse gives Scheme == "" (e.g. "localhost:8080" parses as scheme "localhost")
        raise config_error(f"{text} is an invalid address, please make sure it has a scheme and a hostname")
    rest = text[m.end() :]
    if not rest.startswith("//"):  # opaque URL: no hostname
        raise config_error(f"{text} is an invalid address, please make sure it has a scheme and a hostname")
    rest = rest[2:]
    cut = min([i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0] or [len(rest)])
    authority, remainder = rest[:cut], rest[cut:]
    hostport = authority.rpartition("@")[2]
    host = hostport
    if ":" in hostport and not (hostport.startswith("[") and hostport.endswith("]")):
        host, _sep, port = hostport.rpartition(":")
        if port and not port.isdigit():
            raise config_error(f'parse "{text}": invalid port ":{port}" after host')
    host = host.strip("[]")
    if not host:
        raise config_error(f"{text} is an invalid address, please make sure it has a scheme and a hostname")
    path = remainder.split("?", 1)[0].split("#", 1)[0]
    if path:
        raise config_error(
            f"{text} is an invalid address, ingress rules don't support proxying to a different path on the "
            "origin service. The path will be the same as the eyeball request's path"
        )


def _check_http_status(service: str) -> None:
    code = service[len("http_status:") :]
    if not re.fullmatch(r"[+-]?[0-9]+", code):
        raise config_error(f"invalid HTTP status code: strconv.Atoi: parsing {_go_quote(code)}: invalid syntax")
    status = int(code)
    if status < 100 or status > 999:
        raise config_error(f"invalid HTTP status code: {status}")


def _check_hostname(rule: dict, index: int, total: int) -> None:
    hostname = rule.get("hostname") or ""
    path = rule.get("path") or ""
    if _split_host_port(hostname) is not None:
        raise config_error(ERR_HOST_PORT)
    if hostname.rfind("*") > 0:
        raise config_error(ERR_BAD_WILDCARD)
    catch_all = hostname in ("", "*") and path == ""
    last = index == total - 1
    if last and not catch_all:
        raise config_error(LAST_RULE_MSG)
    if not last and catch_all:
        raise config_error(
            f"Rule #{index + 1} is matching the hostname '{hostname}', but this will match every hostname, "
            "meaning the rules which follow it will never be triggered."
        )


def validate_config(config) -> None:
    if not isinstance(config, dict):
        raise config_error("config must be an object")
    _check_origin_request(config.get("originRequest"), "originRequest")
    warp = config.get("warp-routing")
    if warp is not None:
        if not isinstance(warp, dict):
            raise config_error("warp-routing must be an object")
        for key in WARP_DURATIONS:
            _check_duration(warp.get(key), f"warp-routing.{key}")
    ingress = config.get("ingress")
    if ingress is not None and not isinstance(ingress, list):
        raise config_error("ingress must be a list of rules")
    if not ingress:
        raise config_error(ERR_NO_RULES)
    for i, rule in enumerate(ingress):
        if not isinstance(rule, dict):
            raise config_error(f"ingress rule #{i + 1} must be an object")
        for key in ("hostname", "path", "service"):
            if rule.get(key) is not None and not isinstance(rule[key], str):
                raise config_error(f"ingress rule #{i + 1}: {key} must be a string")
        origin = rule.get("originRequest")
        _check_origin_request(origin, f"ingress rule #{i + 1} originRequest")
        origin = origin or {}
        service = rule.get("service") or ""
        if service.startswith(("unix:", "unix+tls:")) or service in HELLO_WORLD or service == "socks-proxy":
            pass
        elif service.startswith("http_status:"):
            _check_http_status(service)
        elif service == "bastion" or origin.get("bastionMode"):
            pass
        else:
            _check_service(service)
        access = origin.get("access")
        if isinstance(access, dict) and access.get("required"):
            if not access.get("teamName") and access.get("audTag"):
                raise config_error("access.TeamName cannot be blank when access.audTags are present")
        _check_hostname(rule, i, len(ingress))
        path = rule.get("path")
        if path:
            try:
                re.compile(path)
            except re.error as exc:
                raise config_error(f"Rule #{i + 1} has an invalid regex: error parsing regexp: {exc}") from None


def put_config(ctx):
    body = require_object(ctx.body)
    tun = _get(ctx, live=True)
    if "config" not in body:
        raise config_error(ERR_NO_RULES)
    validate_config(body["config"])
    previous = ctx.store.data["tunnel_configs"].get(tun["id"])
    stored = {
        "tunnel_id": tun["id"],
        "account_id": tun["account_tag"],
        "version": (previous or {}).get("version", 0) + 1,
        "config": copy.deepcopy(body["config"]),
        "source": "cloudflare",
        "created_at": now_iso(),
    }
    ctx.store.data["tunnel_configs"][tun["id"]] = stored
    return 200, copy.deepcopy(stored), None


BASE = "/accounts/{account}/cfd_tunnel"
ROUTES = [
    ("GET", BASE, list_tunnels, "tunnel:read"),
    ("POST", BASE, create_tunnel, "tunnel:edit"),
    ("GET", BASE + "/{id}", get_tunnel, "tunnel:read"),
    ("PATCH", BASE + "/{id}", patch_tunnel, "tunnel:edit"),
    ("DELETE", BASE + "/{id}", delete_tunnel, "tunnel:edit"),
    ("GET", BASE + "/{id}/connections", list_connections, "tunnel:read"),
    ("DELETE", BASE + "/{id}/connections", delete_connections, "tunnel:edit"),
    ("GET", BASE + "/{id}/token", get_token, "tunnel:read"),
    ("GET", BASE + "/{id}/configurations", get_config, "tunnel:read"),
    ("PUT", BASE + "/{id}/configurations", put_config, "tunnel:edit"),
]
