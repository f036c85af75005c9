# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Shared pieces of the Cloudflare API emulator: errors, ids, time, paging, the state store."""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import os
import re
import secrets
import tempfile
import threading
import uuid

HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
GO_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+$")


class ApiError(Exception):
    """An API failure answered with the Cloudflare envelope."""

    def __init__(self, status: int, code: int, message: str, chain=None, errors=None, headers=None):
        super().__init__(message)
        self.status = status
        if errors is None:
            err = {"code": code, "message": message}
            if chain:
                err["error_chain"] = [{"code": c, "message": m} for c, m in chain]
            errors = [err]
        self.errors = errors
        self.headers = headers or {}


def dns_error(code: int, message: str) -> ApiError:
    """A 400 '1004 DNS Validation Error' carrying one chained cause."""
    return ApiError(400, 1004, "DNS Validation Error", chain=[(code, message)])


def now_iso(delta_seconds: float = 0.0) -> str:
    t = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=delta_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_hex_id() -> str:
    return uuid.uuid4().hex


def new_uuid() -> str:
    return str(uuid.uuid4())


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def random_hex(nbytes: int) -> str:
    return secrets.token_hex(nbytes)


def duration_seconds(text: str) -> float:
    """Seconds in a Go duration string like '8760h' or '1h30m'."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    total = 0.0
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)", text):
        total += float(num) * units[unit]
    return total


# --------------------------------------------------------------------------- query and paging


def qget(query: dict, name: str, default=None):
    """Last value of a query parameter (parse_qs gives lists)."""
    vals = query.get(name)
    if not vals:
        return default
    return vals[-1]


def qbool(query: dict, name: str):
    val = qget(query, name)
    if val is None:
        return None
    low = val.lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise ApiError(400, 1001, f"Invalid value for query parameter '{name}': must be true or false")


def _int_param(query: dict, name: str, default: int) -> int:
    val = qget(query, name)
    if val is None or val == "":
        return default
    try:
        return int(val)
    except ValueError:
        raise ApiError(400, 1001, f"Invalid value for query parameter '{name}': must be an integer") from None


def paginate(items: list, query: dict, default: int, minimum: int, maximum: int):
    """Slice a list as Cloudflare does; returns (page_items, result_info)."""
    page = _int_param(query, "page", 1)
    per_page = _int_param(query, "per_page", default)
    if page < 1:
        raise ApiError(400, 1001, "Invalid value for query parameter 'page': must be 1 or greater")
    if per_page < minimum or per_page > maximum:
        raise ApiError(
            400, 1001, f"Invalid value for query parameter 'per_page': must be between {minimum} and {maximum}"
        )
    total = len(items)
    total_pages = max(1, (total + per_page - 1) // per_page)
    chunk = items[(page - 1) * per_page : page * per_page]
    info = {"page": page, "per_page": per_page, "count": len(chunk), "total_count": total, "total_pages": total_pages}
    return chunk, info


def require_object(body) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, 9207, "Request body is invalid: a JSON object is expected.")
    return body


# --------------------------------------------------------------------------- state store

RESOURCE_KEYS = (
    "accounts",
    "zones",
    "dns_records",
    "tunnels",
    "tunnel_configs",
    "access_apps",
    "access_policies",
    "access_groups",
    "service_tokens",
    "identity_providers",
    "access_organizations",
    "access_tags",
    "alerting_policies",
    "alerting_webhooks",
)


class Store:
    """All emulator state behind one lock; optional atomic JSON persistence."""

    def __init__(self, seed: dict, state_path: str | None = None):
        self.lock = threading.RLock()
        self.seed = seed
        self.state_path = state_path
        self.tokens = {}
        self.legacy_keys = {}
        self._load_auth(seed)
        self.data = self._fresh_from_seed()
        if state_path and os.path.exists(state_path):
            with open(state_path, encoding="utf-8") as fh:
                loaded = json.load(fh)
            for key in RESOURCE_KEYS:
                if key in loaded:
                    self.data[key] = loaded[key]
            for tid, status in loaded.get("token_status", {}).items():
                for tok in self.tokens.values():
                    if tok["id"] == tid:
                        tok["status"] = status

    # -- seed -------------------------------------------------------------------------------
    def _load_auth(self, seed: dict) -> None:
        self.tokens = {}
        for tok in seed.get("tokens", []):
            value = tok["value"]
            kind = tok.get("kind") or ("account" if value.startswith("cfat_") else "user")
            self.tokens[value] = {
                "id": tok.get("id") or new_hex_id(),
                "status": tok.get("status", "active"),
                "kind": kind,
                "permissions": list(tok.get("permissions", ["#all"])),
                "account_id": tok.get("account_id"),
                "expires_on": tok.get("expires_on"),
            }
        self.legacy_keys = {(k["email"].lower(), k["key"]): dict(k) for k in seed.get("legacy_keys", [])}

    def _fresh_from_seed(self) -> dict:
        seed = self.seed
        accounts = [{"id": a["id"], "name": a.get("name", a["id"])} for a in seed.get("accounts", [])]
        names = {a["id"]: a["name"] for a in accounts}
        zones = []
        for z in seed.get("zones", []):
            acct = z.get("account_id") or (accounts[0]["id"] if accounts else "")
            created = z.get("created_on", "2026-01-01T00:00:00.000000Z")
            zones.append(
                {
                    "id": z["id"],
                    "name": z["name"].lower().rstrip("."),
                    "status": z.get("status", "active"),
                    "paused": False,
                    "type": z.get("type", "full"),
                    "development_mode": 0,
                    "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
                    "original_name_servers": [],
                    "original_registrar": None,
                    "original_dnshost": None,
                    "account": {"id": acct, "name": names.get(acct, acct)},
                    "owner": {"id": None, "name": None, "type": "user"},
                    "permissions": ["#dns_records:edit", "#dns_records:read", "#zone:read"],
                    "plan": _plan(z.get("plan", "free")),
                    "meta": {"step": 2, "phishing_detected": False},
                    "created_on": created,
                    "modified_on": created,
                    "activated_on": created,
                }
            )
        # An identity provider seeded with `account_id` belongs to that account only; without, to every account.
        idps = [
            {"id": i["id"], "name": i.get("name", i["type"]), "type": i["type"], "config": i.get("config", {})}
            | ({"_account": i["account_id"]} if i.get("account_id") else {})
            for i in seed.get("identity_providers", [])
        ]
        # Each account's Zero Trust organization: the account's own `team_name`, else the seed's;
        # null or "" seeds an account without one.
        default_team = seed.get("team_name", "homelab-demo")
        organizations = []
        for acct in seed.get("accounts", []):
            team = acct.get("team_name", default_team)
            if team:
                organizations.append(organization(acct["id"], team))
        data = {key: [] for key in RESOURCE_KEYS}
        data.update(
            {
                "accounts": accounts,
                "zones": zones,
                "dns_records": [copy.deepcopy(r) for r in seed.get("dns_records", [])],
                "tunnel_configs": {},
                "identity_providers": idps,
                "access_organizations": organizations,
            }
        )
        return data

    def reset(self) -> None:
        with self.lock:
            self._load_auth(self.seed)
            self.data = self._fresh_from_seed()
            self.save()

    # -- persistence -------------------------------------------------------------------------
    def save(self) -> None:
        if not self.state_path:
            return
        with self.lock:
            payload = copy.deepcopy(self.data)
            payload["token_status"] = {t["id"]: t["status"] for t in self.tokens.values()}
            directory = os.path.dirname(os.path.abspath(self.state_path))
            fd, tmp = tempfile.mkstemp(prefix=".cfemu-state-", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(payload, fh, indent=1, sort_keys=True)
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.state_path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise

    def dump(self) -> dict:
        """Everything for test assertions; API token values never appear."""
        with self.lock:
            out = copy.deepcopy(self.data)
            out["api_tokens"] = [
                {"id": t["id"], "status": t["status"], "kind": t["kind"], "permissions": t["permissions"]}
                for t in self.tokens.values()
            ]
            return out

    # -- lookups -----------------------------------------------------------------------------
    def account(self, account_id: str, route: str) -> dict:
        for acct in self.data["accounts"]:
            if acct["id"] == account_id:
                return acct
        raise not_routable(account_id, route)

    def zone(self, zone_id: str, route: str) -> dict:
        for zone in self.data["zones"]:
            if zone["id"] == zone_id:
                return zone
        raise not_routable(zone_id, route)


def organization(account_id: str, team_name: str) -> dict:
    """A Zero Trust organization as the API answers it (the Organization schema), plus `_account`."""
    created = now_iso()
    return {
        "_account": account_id,
        "name": team_name,
        "auth_domain": f"{team_name}.cloudflareaccess.com",
        "allow_authenticate_via_warp": False,
        "auto_redirect_to_identity": False,
        "custom_pages": {},
        "is_ui_read_only": False,
        "login_design": {},
        "session_duration": "24h",
        "ui_read_only_toggle_reason": "",
        "user_seat_expiration_inactive_time": "730h",
        "warp_auth_session_duration": "24h",
        "created_at": created,
        "updated_at": created,
    }


def not_routable(object_id: str, route: str) -> ApiError:
    status = 404 if HEX32.match(object_id or "") else 400
    return ApiError(status, 7003, f"Could not route to {route}, perhaps your object identifier is invalid?")


def _plan(name: str) -> dict:
    name = (name or "free").lower()
    labels = {"free": "Free Website", "pro": "Pro Website", "business": "Business Website", "enterprise": "Enterprise"}
    return {
        "id": sha256(name)[:32],
        "name": labels.get(name, name.title()),
        "legacy_id": name,
        "is_subscribed": name != "free",
        "can_subscribe": False,
        "price": 0,
        "currency": "USD",
        "frequency": "",
    }


def zone_is_free(zone: dict) -> bool:
    return zone.get("plan", {}).get("legacy_id", "free") == "free"
