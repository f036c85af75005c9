# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Tests for the local Cloudflare API emulator (tests/cloudflare_emulator), run as a subprocess."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
EMULATOR = REPO / "tests" / "cloudflare_emulator" / "emulator.py"
SEED = REPO / "tests" / "cloudflare_emulator" / "seed.example.json"

T_ALL = "emulator-token-all-0000000000000000000000"
T_EDGE = "emulator-token-edge-000000000000000000000"
T_RO = "emulator-token-readonly-0000000000000000"
T_DNS = "emulator-token-dns-only-0000000000000000"
T_DISABLED = "emulator-token-disabled-0000000000000000"
T_EXPIRED = "emulator-token-expired-00000000000000000"
T_ACCOUNT = "cfat_emulator-account-token-000000000000"
ACCOUNT = "a0000000000000000000000000000001"
ZONE = "c0000000000000000000000000000001"  # example.com, free plan
ZONE_PRO = "c0000000000000000000000000000002"  # example.org, pro plan
IDP_OTP = "10000000-0000-4000-8000-000000000001"
SECRET32 = base64.b64encode(b"s" * 32).decode()


class Emu:
    """One emulator subprocess."""

    def __init__(self, tmp: Path, *extra: str):
        tmp.mkdir(parents=True, exist_ok=True)
        port_file = tmp / "port"
        self.stderr_path = tmp / "stderr.log"
        self._stderr = self.stderr_path.open("w")
        cmd = [sys.executable, str(EMULATOR), "--host", "127.0.0.1", "--port", "0", "--seed", str(SEED)]
        self.proc = subprocess.Popen(
            [*cmd, "--port-file", str(port_file), *extra], stdout=subprocess.DEVNULL, stderr=self._stderr
        )
        deadline = time.monotonic() + 10
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("emulator did not start: " + self.stderr_path.read_text())
            time.sleep(0.02)
        self.root = f"http://127.0.0.1:{int(port_file.read_text())}"

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=10)
        self._stderr.close()
        return code

    def raw(self, method, url, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + url, data=data, method=method)  # noqa: S310 - loopback http only
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
                status, hdrs, payload = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            status, hdrs, payload = exc.code, exc.headers, exc.read()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode()
        return status, hdrs, parsed

    def api(self, method, path, body=None, token=T_ALL, headers=None):
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        status, _unused, payload = self.raw(method, "/client/v4" + path, body, hdrs)
        return status, payload

    def ctl(self, method, path, body=None):
        return self.raw(method, "/__emulator" + path, body)[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    emu = Emu(tmp_path_factory.mktemp("emu"))
    yield emu
    assert emu.stop() == 0


@pytest.fixture
def emu(server):
    server.ctl("POST", "/reset")
    return server


def ok(result):
    status, payload = result
    assert payload["success"] is True, payload
    assert status in (200, 201, 202), (status, payload)
    return payload["result"]


def err(result, status, code):
    got_status, payload = result
    assert got_status == status, payload
    assert payload["success"] is False and payload["result"] is None
    codes = [e["code"] for e in payload["errors"]]
    assert code in codes, payload
    return payload["errors"]


def dns(emu, body, zone=ZONE, token=T_ALL):
    return emu.api("POST", f"/zones/{zone}/dns_records", body, token)


# --------------------------------------------------------------------------- envelope, paging


def test_envelope_and_zone_lookup(emu):
    status, payload = emu.api("GET", "/zones?name=EXAMPLE.com")
    assert status == 200
    assert set(payload) == {"success", "errors", "messages", "result", "result_info"}
    assert payload["result_info"] == {"page": 1, "per_page": 20, "count": 1, "total_count": 1, "total_pages": 1}
    zone = payload["result"][0]
    assert zone["id"] == ZONE and zone["account"]["id"] == ACCOUNT and zone["name_servers"]
    assert ok(emu.api("GET", f"/zones/{ZONE_PRO}"))["plan"]["legacy_id"] == "pro"
    assert len(ok(emu.api("GET", f"/zones?account.id={ACCOUNT}"))) == 2
    err(emu.api("GET", "/zones/ffffffffffffffffffffffffffffffff"), 404, 7003)
    errors = err(emu.api("GET", "/zones/not-an-id/dns_records"), 400, 7003)
    assert "perhaps your object identifier is invalid" in errors[0]["message"]
    err(emu.api("GET", "/zones?per_page=51"), 400, 1001)
    err(emu.api("GET", "/nowhere"), 404, 7000)
    err(emu.api("PATCH", "/zones"), 405, 7001)


def test_pagination_page_past_end_and_empty(emu):
    _unused, empty = emu.api("GET", f"/zones/{ZONE_PRO}/dns_records")
    assert empty["result"] == [] and empty["result_info"]["total_pages"] == 1
    assert empty["result_info"]["per_page"] == 100
    for i in range(5):
        ok(dns(emu, {"type": "TXT", "name": f"t{i}", "content": f"v{i}"}))
    _unused, page = emu.api("GET", f"/zones/{ZONE}/dns_records?per_page=2&page=3")
    assert page["result_info"] == {"page": 3, "per_page": 2, "count": 1, "total_count": 5, "total_pages": 3}
    _unused, past = emu.api("GET", f"/zones/{ZONE}/dns_records?per_page=2&page=9")
    assert past["success"] is True and past["result"] == [] and past["result_info"]["count"] == 0
    _unused, past_zones = emu.api("GET", "/zones?page=5&per_page=5")
    assert past_zones["result"] == [] and past_zones["result_info"]["total_count"] == 2
    err(emu.api("GET", f"/zones/{ZONE}/dns_records?per_page=5000001"), 400, 1001)


# --------------------------------------------------------------------------- auth


def test_auth_failures(emu):
    err(emu.api("GET", "/zones", token=None), 400, 9106)
    err(emu.api("GET", "/zones", token="nope"), 400, 9109)
    err(emu.api("GET", "/zones", token=T_DISABLED), 403, 1000)
    err(emu.api("GET", "/zones", token=T_EXPIRED), 403, 1000)
    errors = err(dns(emu, {"type": "TXT", "name": "x", "content": "y"}, token=T_RO), 403, 10000)
    assert errors[0]["message"] == "Authentication error"
    ok(emu.api("GET", f"/zones/{ZONE}/dns_records", token=T_RO))
    err(emu.api("GET", f"/accounts/{ACCOUNT}/cfd_tunnel", token=T_DNS), 403, 10000)
    ok(emu.api("GET", f"/accounts/{ACCOUNT}/access/apps", token=T_EDGE))
    legacy = {"X-Auth-Email": "owner@example.com", "X-Auth-Key": "emulator-global-key-0000000000000000000"}
    ok(emu.api("GET", "/zones", token=None, headers=legacy))
    err(emu.api("GET", "/zones", token=None, headers={**legacy, "X-Auth-Key": "wrong"}), 403, 9103)


def test_token_verify(emu):
    assert ok(emu.api("GET", "/user/tokens/verify")) == {"id": "e0000000000000000000000000000001", "status": "active"}
    assert ok(emu.api("GET", "/user/tokens/verify", token=T_DISABLED))["status"] == "disabled"
    err(emu.api("GET", "/user/tokens/verify", token="bogus"), 401, 1000)
    err(emu.api("GET", "/user/tokens/verify", token=T_ACCOUNT), 401, 1000)
    assert ok(emu.api("GET", f"/accounts/{ACCOUNT}/tokens/verify", token=T_ACCOUNT))["status"] == "active"
    err(emu.api("GET", f"/accounts/{ACCOUNT}/tokens/verify", token=T_ALL), 401, 1000)
    err(emu.api("GET", "/accounts/ffffffffffffffffffffffffffffffff/tokens/verify", token=T_ACCOUNT), 404, 7003)
    ok(emu.api("GET", "/zones", token=T_ACCOUNT))


# --------------------------------------------------------------------------- DNS


def test_dns_create_normalises(emu):
    rec = ok(dns(emu, {"type": "a", "name": "WWW", "content": "192.0.2.10", "proxied": True, "ttl": 300}))
    assert rec["name"] == "www.example.com" and rec["type"] == "A" and rec["ttl"] == 1
    assert rec["comment"] is None and rec["tags"] == [] and rec["settings"] == {} and rec["proxiable"] is True
    for key in ("id", "created_on", "modified_on", "meta"):
        assert key in rec
    apex = ok(dns(emu, {"type": "TXT", "name": "@", "content": "hello", "comment": ""}))
    assert apex["name"] == "example.com" and apex["comment"] is None and apex["ttl"] == 1
    fqdn = ok(dns(emu, {"type": "CNAME", "name": "App.Example.com.", "content": "Target.Example.net."}))
    assert fqdn["name"] == "app.example.com" and fqdn["content"] == "target.example.net"
    v6 = ok(dns(emu, {"type": "AAAA", "name": "v6", "content": "2001:DB8:0:0::1", "ttl": 120}))
    assert v6["content"] == "2001:db8::1" and v6["ttl"] == 120 and v6["proxied"] is False
    mx = ok(dns(emu, {"type": "MX", "name": "@", "content": "mail.example.com", "priority": 10}))
    assert mx["priority"] == 10 and mx["proxiable"] is False
    srv = ok(
        dns(
            emu, {"type": "SRV", "name": "_sip._tcp", "data": {"priority": 1, "weight": 5, "port": 5060, "target": "s"}}
        )
    )
    assert srv["content"] == "1 5 5060 s" and "priority" not in srv
    caa = ok(dns(emu, {"type": "CAA", "name": "@", "data": {"flags": 0, "tag": "issue", "value": "ca.example.net"}}))
    assert caa["content"] == '0 issue "ca.example.net"'
    assert ok(emu.api("GET", f"/zones/{ZONE}/dns_records/{rec['id']}")) == rec


@pytest.mark.parametrize(
    ("body", "chain"),
    [
        ({"type": "A", "name": "x", "content": "999.1.1.1"}, 9005),
        ({"type": "A", "name": "x", "content": "2001:db8::1"}, 9005),
        ({"type": "AAAA", "name": "x", "content": "192.0.2.1"}, 9005),
        ({"type": "A", "name": "x", "content": "192.0.2.1", "ttl": 30}, 9021),
        ({"type": "A", "name": "x", "content": "192.0.2.1", "ttl": 90000}, 9021),
        ({"type": "TXT", "name": "x", "content": "v", "proxied": True}, 9041),
        ({"type": "MX", "name": "x", "content": "mail.example.com"}, 9101),
        ({"type": "A", "name": "x", "content": "192.0.2.1", "comment": "c" * 101}, 9100),
        ({"type": "TXT", "name": "x", "content": "v", "tags": ["owner:me"]}, 9300),
    ],
)
def test_dns_validation(emu, body, chain):
    errors = err(dns(emu, body), 400, 1004)
    assert errors[0]["message"] == "DNS Validation Error"
    assert errors[0]["error_chain"][0]["code"] == chain


def test_dns_paid_plan_allows_tags_and_long_comment(emu):
    rec = ok(
        dns(emu, {"type": "TXT", "name": "x", "content": "v", "tags": ["owner:me"], "comment": "c" * 150}, ZONE_PRO)
    )
    assert rec["tags"] == ["owner:me"] and rec["name"] == "x.example.org"


def test_dns_conflicts(emu):
    ok(dns(emu, {"type": "A", "name": "host", "content": "192.0.2.1"}))
    err(dns(emu, {"type": "A", "name": "host", "content": "192.0.2.1"}), 400, 81058)
    err(dns(emu, {"type": "A", "name": "host", "content": "192.0.2.1", "ttl": 300}), 400, 81057)
    ok(dns(emu, {"type": "A", "name": "host", "content": "192.0.2.2"}))  # round robin is fine
    err(dns(emu, {"type": "CNAME", "name": "host", "content": "elsewhere.example.net"}), 400, 81053)
    ok(dns(emu, {"type": "CNAME", "name": "alias", "content": "elsewhere.example.net"}))
    err(dns(emu, {"type": "A", "name": "alias", "content": "192.0.2.1"}), 400, 81054)
    err(dns(emu, {"type": "TXT", "name": "alias", "content": "x"}), 400, 81054)
    err(dns(emu, {"type": "CNAME", "name": "alias", "content": "other.example.net"}), 400, 81053)


def test_dns_update_delete_and_filters(emu):
    rec = ok(dns(emu, {"type": "A", "name": "svc", "content": "192.0.2.1", "comment": "managed-by: homelab"}))
    ok(dns(emu, {"type": "TXT", "name": "svc", "content": "Hello World"}))
    ok(dns(emu, {"type": "CNAME", "name": "other", "content": "x.example.net"}))
    base = f"/zones/{ZONE}/dns_records"

    def names(query):
        return sorted((r["type"], r["name"]) for r in ok(emu.api("GET", base + query)))

    assert names("?type=a") == [("A", "svc.example.com")]
    assert names("?name=SVC.example.com") == [("A", "svc.example.com"), ("TXT", "svc.example.com")]
    assert names("?name.exact=svc.example.com&type=TXT") == [("TXT", "svc.example.com")]
    assert names("?name.contains=oth") == [("CNAME", "other.example.com")]
    assert names("?content=hello%20world") == [("TXT", "svc.example.com")]
    assert names("?comment.contains=homelab") == [("A", "svc.example.com")]
    assert names("?comment=managed-by:%20homelab") == [("A", "svc.example.com")]
    assert len(names("?type=CNAME&name=svc.example.com&match=any")) == 3
    patched = ok(emu.api("PATCH", f"{base}/{rec['id']}", {"content": "192.0.2.9", "proxied": True}))
    assert patched["content"] == "192.0.2.9" and patched["comment"] == "managed-by: homelab" and patched["ttl"] == 1
    assert patched["created_on"] == rec["created_on"]
    err(emu.api("PUT", f"{base}/{rec['id']}", {"content": "192.0.2.1"}), 400, 1004)
    put = ok(emu.api("PUT", f"{base}/{rec['id']}", {"type": "A", "name": "svc", "content": "192.0.2.3"}))
    assert put["comment"] is None and put["proxied"] is False
    assert ok(emu.api("DELETE", f"{base}/{rec['id']}")) == {"id": rec["id"]}
    err(emu.api("GET", f"{base}/{rec['id']}"), 404, 81044)
    err(emu.api("DELETE", f"{base}/{rec['id']}"), 404, 81044)
    tagged = ok(dns(emu, {"type": "TXT", "name": "t", "content": "v", "tags": ["owner:homelab", "env:lab"]}, ZONE_PRO))
    pro = f"/zones/{ZONE_PRO}/dns_records"
    assert [r["id"] for r in ok(emu.api("GET", pro + "?tag=owner:homelab"))] == [tagged["id"]]
    assert [r["id"] for r in ok(emu.api("GET", pro + "?tag.present=env"))] == [tagged["id"]]
    assert ok(emu.api("GET", pro + "?tag.absent=env")) == []


# --------------------------------------------------------------------------- batch


def test_batch_order_and_result(emu):
    a = ok(dns(emu, {"type": "A", "name": "web", "content": "192.0.2.1"}))
    t = ok(dns(emu, {"type": "TXT", "name": "note", "content": "old"}))
    body = {
        # the CNAME post only works because the delete of the A record runs first
        "posts": [{"type": "CNAME", "name": "web", "content": "tunnel.cfargotunnel.com", "proxied": True}],
        "puts": [{"id": t["id"], "type": "TXT", "name": "note", "content": "put"}],
        "patches": [{"id": t["id"], "content": "patched"}],
        "deletes": [{"id": a["id"]}],
    }
    res = ok(emu.api("POST", f"/zones/{ZONE}/dns_records/batch", body))
    assert [r["id"] for r in res["deletes"]] == [a["id"]]
    assert res["patches"][0]["content"] == "patched" and res["puts"][0]["content"] == "put"
    assert res["posts"][0]["type"] == "CNAME" and res["posts"][0]["ttl"] == 1
    recs = ok(emu.api("GET", f"/zones/{ZONE}/dns_records"))
    assert sorted((r["type"], r["content"]) for r in recs) == [("CNAME", "tunnel.cfargotunnel.com"), ("TXT", "put")]
    assert ok(emu.api("POST", f"/zones/{ZONE}/dns_records/batch", {})) == {
        "deletes": [],
        "patches": [],
        "puts": [],
        "posts": [],
    }


def test_batch_is_all_or_nothing(emu):
    a = ok(dns(emu, {"type": "A", "name": "keep", "content": "192.0.2.1"}))
    before = emu.ctl("GET", "/state")["dns_records"]
    body = {
        "deletes": [{"id": a["id"]}],
        "posts": [
            {"type": "A", "name": "new", "content": "192.0.2.5"},
            {"type": "A", "name": "bad", "content": "not-an-ip"},
        ],
        "patches": [{"id": "0" * 32, "content": "x"}],
    }
    status, payload = emu.api("POST", f"/zones/{ZONE}/dns_records/batch", body)
    assert status == 400 and payload["success"] is False
    pointers = {e["source"]["pointer"]: e["code"] for e in payload["errors"]}
    assert pointers == {"/posts/1": 1004, "/patches/0": 81044}
    assert emu.ctl("GET", "/state")["dns_records"] == before


def test_batch_limits(emu):
    posts = [{"type": "TXT", "name": f"n{i}", "content": "v"} for i in range(201)]
    err(emu.api("POST", f"/zones/{ZONE}/dns_records/batch", {"posts": posts}), 400, 81063)
    assert ok(emu.api("GET", f"/zones/{ZONE}/dns_records")) == []
    res = ok(emu.api("POST", f"/zones/{ZONE_PRO}/dns_records/batch", {"posts": posts}))
    assert len(res["posts"]) == 201


# --------------------------------------------------------------------------- tunnels


def test_tunnel_lifecycle(emu):
    base = f"/accounts/{ACCOUNT}/cfd_tunnel"
    tun = ok(emu.api("POST", base, {"name": "home", "config_src": "cloudflare", "tunnel_secret": SECRET32}))
    assert tun["status"] == "inactive" and tun["deleted_at"] is None and tun["remote_config"] is True
    assert tun["tun_type"] == "cfd_tunnel" and tun["account_tag"] == ACCOUNT and tun["connections"] == []
    assert tun["credentials_file"] == {
        "AccountTag": ACCOUNT,
        "TunnelID": tun["id"],
        "TunnelName": "home",
        "TunnelSecret": SECRET32,
    }
    token = json.loads(base64.b64decode(ok(emu.api("GET", f"{base}/{tun['id']}/token"))))
    assert token == {"a": ACCOUNT, "t": tun["id"], "s": SECRET32} and tun["token"]
    assert "credentials_file" not in ok(emu.api("GET", f"{base}/{tun['id']}"))
    err(emu.api("POST", base, {"name": "home", "tunnel_secret": SECRET32}), 409, 1013)
    err(emu.api("POST", base, {"name": "short", "tunnel_secret": base64.b64encode(b"x" * 16).decode()}), 400, 1001)
    err(emu.api("POST", base, {"name": "bad", "tunnel_secret": "%%%"}), 400, 1001)
    err(emu.api("GET", f"{base}/00000000-0000-4000-8000-000000000000"), 404, 1002)

    hooked = emu.ctl("POST", f"/tunnels/{tun['id']}/connections", {"count": 4})
    assert hooked["status"] == "healthy" and len(hooked["connections"]) == 4
    clients = ok(emu.api("GET", f"{base}/{tun['id']}/connections"))
    assert len(clients[0]["conns"]) == 4
    err(emu.api("DELETE", f"{base}/{tun['id']}"), 400, 1022)
    ok(emu.api("DELETE", f"{base}/{tun['id']}/connections"))
    assert ok(emu.api("GET", f"{base}/{tun['id']}"))["status"] == "down"
    deleted = ok(emu.api("DELETE", f"{base}/{tun['id']}"))
    assert deleted["deleted_at"]
    assert [t["id"] for t in ok(emu.api("GET", f"{base}?name=home"))] == [tun["id"]]
    assert ok(emu.api("GET", f"{base}?name=home&is_deleted=false")) == []
    again = ok(emu.api("POST", base, {"name": "home", "tunnel_secret": SECRET32}))
    assert again["id"] != tun["id"] and again["remote_config"] is False
    _unused, listing = emu.api("GET", f"{base}?per_page=1&page=2")
    assert listing["result_info"]["total_count"] == 2 and len(listing["result"]) == 1
    renamed = ok(emu.api("PATCH", f"{base}/{again['id']}", {"name": "home2", "tunnel_secret": SECRET32}))
    assert renamed["name"] == "home2"


def test_tunnel_configuration(emu):
    base = f"/accounts/{ACCOUNT}/cfd_tunnel"
    tun = ok(emu.api("POST", base, {"name": "cfg", "config_src": "cloudflare", "tunnel_secret": SECRET32}))
    url = f"{base}/{tun['id']}/configurations"
    assert ok(emu.api("GET", url))["version"] == 0
    config = {
        "ingress": [
            {"hostname": "time.example.com", "service": "http://127.0.0.1:3001"},
            {"hostname": "n8n.example.com", "path": "^/webhook/.*", "service": "http://127.0.0.1:5678"},
            {"service": "http_status:404"},
        ],
        "warp-routing": {"enabled": False},
    }
    first = ok(emu.api("PUT", url, {"config": config}))
    assert first["version"] == 1 and first["config"] == config and first["tunnel_id"] == tun["id"]
    assert ok(emu.api("PUT", url, {"config": config}))["version"] == 2
    assert ok(emu.api("GET", url))["version"] == 2
    bad = {"ingress": [{"hostname": "time.example.com", "service": "http://127.0.0.1:3001"}]}
    errors = err(emu.api("PUT", url, {"config": bad}), 400, 1056)
    assert "last ingress rule must match all URLs" in errors[0]["message"]
    err(emu.api("PUT", url, {"config": {"ingress": [{"service": "http://localhost:1/x"}]}}), 400, 1056)
    assert ok(emu.api("GET", url))["version"] == 2


# --------------------------------------------------------------------------- access


def test_access_objects(emu):
    acc = f"/accounts/{ACCOUNT}/access"
    idps = ok(emu.api("GET", f"{acc}/identity_providers"))
    assert {i["type"] for i in idps} == {"onetimepin", "github"}
    created = emu.api("POST", f"{acc}/service_tokens", {"name": "claude-desktop", "duration": "8760h"})
    assert created[0] == 201
    tok = ok(created)
    assert tok["client_id"].endswith(".access") and len(tok["client_secret"]) >= 32
    listed = ok(emu.api("GET", f"{acc}/service_tokens"))
    assert "client_secret" not in listed[0] and "client_secret" not in ok(
        emu.api("GET", f"{acc}/service_tokens/{tok['id']}")
    )
    rotated = ok(emu.api("POST", f"{acc}/service_tokens/{tok['id']}/rotate"))
    assert rotated["client_secret"] != tok["client_secret"]
    assert "expires_at" not in tok and "expires_at" not in rotated  # read the token for its expiry
    before = ok(emu.api("GET", f"{acc}/service_tokens/{tok['id']}"))["expires_at"]
    refreshed = ok(emu.api("POST", f"{acc}/service_tokens/{tok['id']}/refresh"))
    assert "client_secret" not in refreshed and refreshed["expires_at"] >= before
    dump = json.dumps(emu.ctl("GET", "/state"))
    assert rotated["client_secret"] not in dump and "_client_secret_sha256" in dump

    grp = ok(emu.api("POST", f"{acc}/groups", {"name": "admins", "include": [{"email": {"email": "me@example.com"}}]}))
    pol_body = {
        "name": "owner",
        "decision": "allow",
        "include": [{"group": {"id": grp["id"]}}, {"login_method": {"id": IDP_OTP}}],
    }
    created_pol = emu.api("POST", f"{acc}/policies", pol_body)
    assert created_pol[0] == 201
    owner = ok(created_pol)
    assert owner["reusable"] is True and owner["app_count"] == 0 and owner["exclude"] == []
    svc = ok(
        emu.api(
            "POST",
            f"{acc}/policies",
            {"name": "mcp", "decision": "non_identity", "include": [{"service_token": {"token_id": tok["id"]}}]},
        )
    )
    err(emu.api("POST", f"{acc}/policies", {**pol_body, "include": [{"service_token": {"token_id": "x"}}]}), 400, 12130)
    err(emu.api("POST", f"{acc}/policies", {**pol_body, "include": [{"wizard": {}}]}), 400, 12130)
    err(
        emu.api("POST", f"{acc}/policies", {**pol_body, "include": [{"everyone": {}, "email": {"email": "a@b"}}]}),
        400,
        12130,
    )
    err(emu.api("POST", f"{acc}/policies", {**pol_body, "decision": "maybe"}), 400, 12130)

    app_body = {
        "type": "self_hosted",
        "name": "time",
        "domain": "time.example.com",
        "session_duration": "24h",
        "allowed_idps": [IDP_OTP],
        "policies": [{"id": owner["id"], "precedence": 1}, {"id": svc["id"], "precedence": 2}],
    }
    created_app = emu.api("POST", f"{acc}/apps", app_body)
    assert created_app[0] == 201
    app = ok(created_app)
    assert len(app["aud"]) == 64 and app["destinations"] == [{"type": "public", "uri": "time.example.com"}]
    assert [(p["id"], p["precedence"], p["decision"]) for p in app["policies"]] == [
        (owner["id"], 1, "allow"),
        (svc["id"], 2, "non_identity"),
    ]
    assert ok(emu.api("GET", f"{acc}/policies/{owner['id']}"))["app_count"] == 1
    err(emu.api("POST", f"{acc}/apps", app_body), 400, 12130)  # same domain twice
    err(emu.api("POST", f"{acc}/apps", {**app_body, "domain": "time.elsewhere.net"}), 400, 12130)
    err(
        emu.api("POST", f"{acc}/apps", {**app_body, "domain": "x.example.com", "session_duration": "1 day"}), 400, 12130
    )
    assert [a["id"] for a in ok(emu.api("GET", f"{acc}/apps?name=time&exact=true"))] == [app["id"]]
    assert ok(emu.api("GET", f"{acc}/apps?domain=nothing.example.com")) == []
    assert [a["id"] for a in ok(emu.api("GET", f"{acc}/apps?aud={app['aud']}"))] == [app["id"]]
    put = ok(emu.api("PUT", f"{acc}/apps/{app['id']}", {**app_body, "policies": [svc["id"]]}))
    assert [p["id"] for p in put["policies"]] == [svc["id"]] and put["aud"] == app["aud"]

    err(emu.api("DELETE", f"{acc}/policies/{svc['id']}"), 400, 12130)  # in use
    err(emu.api("DELETE", f"{acc}/groups/{grp['id']}"), 400, 12130)  # used by the owner policy
    status, payload = emu.api("DELETE", f"{acc}/apps/{app['id']}")
    assert status == 202 and payload["result"] == {"id": app["id"]}
    assert emu.api("DELETE", f"{acc}/policies/{svc['id']}")[0] == 202
    assert emu.api("DELETE", f"{acc}/service_tokens/{tok['id']}")[0] == 200
    err(emu.api("GET", f"{acc}/apps/{app['id']}"), 404, 12130)

    zacc = f"/zones/{ZONE}/access"
    zapp = ok(emu.api("POST", f"{zacc}/apps", {"type": "self_hosted", "name": "z", "domain": "z.example.com"}))
    assert [a["id"] for a in ok(emu.api("GET", f"{zacc}/apps"))] == [zapp["id"]]
    assert ok(emu.api("GET", f"{acc}/apps")) == []
    err(emu.api("POST", f"{zacc}/apps", {"type": "self_hosted", "name": "z", "domain": "z.example.org"}), 400, 12130)


def test_zero_trust_organization_from_the_seed_and_the_control_api(emu):
    url = f"/accounts/{ACCOUNT}/access/organizations"
    org = ok(emu.api("GET", url))  # one object, not a list
    assert org["auth_domain"] == "homelab-demo.cloudflareaccess.com" and org["name"] == "homelab-demo"
    assert not any(key.startswith("_") for key in org)
    assert ok(emu.api("GET", url, token=T_RO)) == org  # access:read is enough
    err(emu.api("GET", url, token=T_DNS), 403, 10000)
    err(emu.api("GET", "/accounts/ffffffffffffffffffffffffffffffff/access/organizations"), 404, 7003)
    # Seeding "no organization" (the error path of the edge role), and another team.
    assert emu.ctl("POST", f"/organizations/{ACCOUNT}", {"team_name": None}) == {
        "account_id": ACCOUNT,
        "team_name": None,
    }
    err(emu.api("GET", url), 404, 12130)
    emu.ctl("POST", f"/organizations/{ACCOUNT}", {"team_name": "other-team"})
    assert ok(emu.api("GET", url))["auth_domain"] == "other-team.cloudflareaccess.com"
    assert "error" in emu.ctl("POST", f"/organizations/{ACCOUNT}", {"team_name": "Not A Label"})
    emu.ctl("POST", "/reset")
    assert ok(emu.api("GET", url))["auth_domain"] == "homelab-demo.cloudflareaccess.com"


# --------------------------------------------------------------------------- faults, rate limits


def test_fault_429_and_5xx_leave_state_alone(emu):
    emu.ctl("POST", "/faults", {"rate_429": 1.0, "retry_after": 3})
    status, headers, payload = emu.raw(
        "POST",
        f"/client/v4/zones/{ZONE}/dns_records",
        {"type": "TXT", "name": "x", "content": "y"},
        {"Authorization": f"Bearer {T_ALL}"},
    )
    assert status == 429 and headers["retry-after"] == "3" and payload["errors"][0]["code"] == 971
    assert emu.ctl("GET", "/health")["status"] == "ok"  # control paths are never faulted
    emu.ctl("POST", "/faults", {"rate_429": 0.0, "rate_5xx": 1.0, "html_502": False})
    statuses = {emu.api("GET", "/zones")[0] for _unused in range(12)}
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    emu.ctl("DELETE", "/faults")
    assert ok(emu.api("GET", f"/zones/{ZONE}/dns_records")) == []
    faults = [r["fault"] for r in emu.ctl("GET", "/requests")]
    assert faults[0] == "429" and faults.count("5xx") == 12 and faults[-1] is None
    assert emu.ctl("GET", "/counters")["faults"] == 13


def test_fault_drop_and_after_write(emu):
    emu.ctl("POST", "/faults", {"rate_drop": 1.0})
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        emu.api("GET", "/zones")
    emu.ctl("POST", "/faults", {"rate_drop": 0.0, "rate_5xx_after_write": 1.0})
    ok(emu.api("GET", "/zones"))  # reads are not affected
    status, payload = dns(emu, {"type": "TXT", "name": "x", "content": "y"})
    assert status == 500 and payload["success"] is False
    emu.ctl("DELETE", "/faults")
    assert len(ok(emu.api("GET", f"/zones/{ZONE}/dns_records"))) == 1  # the write happened anyway
    assert [r["fault"] for r in emu.ctl("GET", "/requests")][:3] == ["drop", None, "5xx_after_write"]


def test_faults_are_deterministic(emu):
    def run():
        emu.ctl("POST", "/faults", {"rate_429": 0.3, "rate_5xx": 0.2, "html_502": False, "seed": 7})
        return [emu.api("GET", "/zones")[0] for _unused in range(20)]

    first, second = run(), run()
    assert first == second and 200 in first and 429 in first


def test_fault_latency_delays_api_answers_only(emu):
    latency_ms = 400

    def timed(call):
        t0 = time.monotonic()
        result = call()
        return result, time.monotonic() - t0

    settings = emu.ctl("POST", "/faults", {"latency_ms": latency_ms})
    assert settings["latency_ms"] == latency_ms and emu.ctl("GET", "/faults")["latency_ms"] == latency_ms
    (status, zones), slow = timed(lambda: emu.api("GET", "/zones"))
    assert status == 200 and zones["result"][0]["id"] == ZONE  # delayed, not failed
    assert slow >= latency_ms / 1000
    health, control = timed(lambda: emu.ctl("GET", "/health"))  # control paths are never delayed
    assert health["status"] == "ok" and control < latency_ms / 1000
    emu.ctl("DELETE", "/faults")
    assert emu.ctl("GET", "/faults")["latency_ms"] == 0
    (status, _unused), fast = timed(lambda: emu.api("GET", "/zones"))
    assert status == 200 and fast < latency_ms / 1000
    # The request log measures the same on the server side.
    logged = [r for r in emu.ctl("GET", "/requests") if r["route"] == "GET /zones"]
    assert [r["fault"] for r in logged] == [None, None]
    assert logged[0]["ms"] >= latency_ms and logged[1]["ms"] < latency_ms


def test_rate_limit(tmp_path):
    emu = Emu(tmp_path, "--rate-limit", "3", "--rate-window", "60", "--quiet")
    try:
        hdrs = {"Authorization": f"Bearer {T_ALL}"}
        remaining = []
        for _unused in range(3):
            status, headers, _unused = emu.raw("GET", "/client/v4/zones", headers=hdrs)
            assert status == 200 and "retry-after" not in headers
            remaining.append(headers["Ratelimit"].split(";")[1])
        assert remaining == ["r=2", "r=1", "r=0"]
        status, headers, payload = emu.raw("GET", "/client/v4/zones", headers=hdrs)
        assert status == 429 and payload["errors"][0]["code"] == 971 and 0 < int(headers["retry-after"]) <= 60
        # another token has its own window
        assert emu.api("GET", "/zones", token=T_EDGE)[0] == 200
    finally:
        assert emu.stop() == 0


# --------------------------------------------------------------------------- persistence and control API


def test_state_persistence(tmp_path):
    state = tmp_path / "state.json"
    first = Emu(tmp_path / "a", "--state", str(state))
    rec = ok(dns(first, {"type": "A", "name": "persist", "content": "192.0.2.7"}))
    tun = ok(first.api("POST", f"/accounts/{ACCOUNT}/cfd_tunnel", {"name": "p", "tunnel_secret": SECRET32}))
    assert first.stop() == 0
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    assert T_ALL not in state.read_text()
    second = Emu(tmp_path / "b", "--state", str(state))
    try:
        assert ok(second.api("GET", f"/zones/{ZONE}/dns_records/{rec['id']}"))["content"] == "192.0.2.7"
        assert ok(second.api("GET", f"/accounts/{ACCOUNT}/cfd_tunnel/{tun['id']}/token"))
        second.ctl("POST", "/reset")
        assert json.loads(state.read_text())["dns_records"] == []
    finally:
        assert second.stop() == 0


def test_control_api(emu):
    ok(emu.api("GET", "/zones?name=example.com"))
    ok(emu.api("GET", f"/zones/{ZONE}/dns_records?type=A"))
    ok(dns(emu, {"type": "TXT", "name": "x", "content": "y"}))
    ok(emu.api("POST", f"/zones/{ZONE}/dns_records/batch", {}))
    emu.api("GET", "/zones", token=None)
    log = emu.ctl("GET", "/requests")
    assert [e["seq"] for e in log] == [1, 2, 3, 4, 5]
    assert set(log[0]) >= {"seq", "method", "path", "query", "status", "fault", "ts"}
    assert log[0]["path"] == "/client/v4/zones" and log[0]["query"] == {"name": "example.com"}
    assert log[4]["status"] == 400 and log[2]["method"] == "POST"
    counters = emu.ctl("GET", "/counters")
    assert counters["total"] == 5 and counters["reads"] == 3 and counters["writes"] == 2
    assert counters["by_method"] == {"GET": 3, "POST": 2}
    assert counters["by_route"] == {
        "GET /zones": 2,
        "GET /zones/:id/dns_records": 1,
        "POST /zones/:id/dns_records": 1,
        "POST /zones/:id/dns_records/batch": 1,
    }
    assert emu.ctl("DELETE", "/requests") == {"cleared": 5}
    assert emu.ctl("GET", "/counters")["total"] == 0
    state = emu.ctl("GET", "/state")
    assert len(state["dns_records"]) == 1 and state["zones"][0]["name"] == "example.com"
    assert T_ALL not in json.dumps(state)
    emu.ctl("POST", "/reset")
    assert emu.ctl("GET", "/state")["dns_records"] == []
    assert emu.ctl("GET", "/requests") == []
    assert emu.ctl("POST", "/rate_limit", {"limit": 1, "window": 60}) == {"limit": 1, "window": 60.0}
    ok(emu.api("GET", "/zones"))
    err(emu.api("GET", "/zones"), 429, 971)
    emu.ctl("POST", "/reset")  # back to the start-up limit
    assert emu.ctl("GET", "/rate_limit")["limit"] == 1200
    ok(emu.api("GET", "/zones"))
    emu.ctl("POST", "/tokens/e0000000000000000000000000000002", {"status": "disabled"})
    err(emu.api("GET", "/zones", token=T_EDGE), 403, 1000)
    assert emu.raw("GET", "/__emulator/nothing")[0] == 404


def test_log_never_contains_secrets(server):
    server.ctl("POST", "/reset")
    legacy = {"X-Auth-Email": "owner@example.com", "X-Auth-Key": "emulator-global-key-0000000000000000000"}
    server.api("GET", "/zones", token=None, headers=legacy)
    tok = ok(server.api("POST", f"/accounts/{ACCOUNT}/access/service_tokens", {"name": "n"}))
    time.sleep(0.1)
    text = server.stderr_path.read_text()
    assert "GET /client/v4/zones 200" in text
    for secret in (T_ALL, T_RO, "emulator-global-key", tok["client_secret"], "Bearer"):
        assert secret not in text


def test_concurrent_writes_are_serialised(emu):
    from concurrent.futures import ThreadPoolExecutor

    def create(i):
        return dns(emu, {"type": "A", "name": "rr", "content": f"192.0.2.{i}"})[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(1, 25)))
    assert statuses == [200] * 24
    assert len(ok(emu.api("GET", f"/zones/{ZONE}/dns_records?name=rr.example.com"))) == 24


def test_accounts_listing(emu):
    accounts = ok(emu.api("GET", "/accounts", token=T_RO))
    assert [a["id"] for a in accounts] == [ACCOUNT]
    assert ok(emu.api("GET", f"/accounts/{ACCOUNT}"))["name"] == "Homelab Demo Account"
    err(emu.api("GET", "/accounts", token=T_DISABLED), 403, 1000)
