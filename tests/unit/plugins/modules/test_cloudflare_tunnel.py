# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""cloudflare_tunnel and cloudflare_tunnel_config managers against an in-memory fake client."""

from __future__ import annotations

import base64

import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _errors as errors
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _tunnel as tunnel
from ansible_collections.homelab.mcp_edge.plugins.modules import cloudflare_tunnel as tunnel_mod
from ansible_collections.homelab.mcp_edge.plugins.modules import cloudflare_tunnel_config as config_mod

ACCOUNT = "acc1"


class FakeTunnelClient:
    def __init__(self):
        self.tunnels = []
        self.configs = {}
        self.calls = []

    def resolve_account_id(self, zone=None):
        return ACCOUNT

    def paginate(self, path, params=None, per_page=None):
        self.calls.append(("LIST", path))
        return [dict(t) for t in self.tunnels if not params or t["name"] == params.get("name")]

    def get(self, path, params=None):
        self.calls.append(("GET", path))
        tid = path.split("/")[4]
        tun = next(t for t in self.tunnels if t["id"] == tid)
        if path.endswith("/token"):
            return tunnel.encode_tunnel_token(ACCOUNT, tid, tun["secret"])
        if path.endswith("/configurations"):
            return self.configs.get(tid, {"config": None, "version": 0})
        return dict(tun)

    def post(self, path, json=None, recover=None):
        self.calls.append(("POST", path))
        tun = {"id": "t%d" % (len(self.tunnels) + 1), "name": json["name"], "account_tag": ACCOUNT}
        tun.update(remote_config=json["config_src"] == "cloudflare", secret=json["tunnel_secret"], deleted_at=None)
        self.tunnels.append(tun)
        out = {k: v for k, v in tun.items() if k != "secret"}
        out["credentials_file"] = {"TunnelSecret": tun["secret"]}
        out["token"] = tunnel.encode_tunnel_token(ACCOUNT, tun["id"], tun["secret"])
        return out

    def patch(self, path, json=None):
        self.calls.append(("PATCH", path))
        tun = next(t for t in self.tunnels if t["id"] == path.split("/")[4])
        tun["secret"] = json["tunnel_secret"]
        return {k: v for k, v in tun.items() if k != "secret"}

    def put(self, path, json=None):
        self.calls.append(("PUT", path))
        tid = path.split("/")[4]
        version = self.configs.get(tid, {}).get("version", 0) + 1
        self.configs[tid] = {"config": json["config"], "version": version}
        return self.configs[tid]

    def delete(self, path):
        self.calls.append(("DELETE", path))
        if not path.endswith("/connections"):
            self.tunnels = [t for t in self.tunnels if t["id"] != path.split("/")[4]]

    def writes(self):
        return [c for c in self.calls if c[0] in ("POST", "PATCH", "PUT", "DELETE")]


class FakeModule:
    def __init__(self, no_log):
        self.no_log = no_log


class FakeCF:
    def __init__(self, client, check_mode=False, diff_mode=True, no_log=True, **params):
        self.client = client
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.module = FakeModule(no_log)
        self.params = params


def tunnel_params(**kw):
    base = dict(name="home", state="present", config_src=None, tunnel_secret=None, rotate_secret=False)
    base.update(cleanup_connections=False, zone=None)
    base.update(kw)
    return base


def run_tunnel(client, check_mode=False, no_log=True, **kw):
    return tunnel_mod.TunnelManager(FakeCF(client, check_mode, no_log=no_log, **tunnel_params(**kw))).run()


@pytest.mark.parametrize("check_mode", [False, True])
def test_present_without_no_log_is_refused_before_any_request(check_mode):
    client = FakeTunnelClient()
    with pytest.raises(errors.CloudflareInputError, match="set no_log: true on the task"):
        run_tunnel(client, check_mode=check_mode, no_log=False)
    assert client.calls == []


def test_absent_needs_no_no_log():
    client = FakeTunnelClient()
    run_tunnel(client)
    out = run_tunnel(client, no_log=False, state="absent")
    assert out["changed"] and "credentials" not in out and "token" not in out


def test_create_then_rerun_returns_same_credentials():
    client = FakeTunnelClient()
    first = run_tunnel(client)
    assert first["changed"] and first["tunnel"]["config_src"] == "local" and "credentials_file" not in first["tunnel"]
    again = run_tunnel(client)
    assert not again["changed"] and again["credentials"] == first["credentials"]
    assert len(base64.b64decode(first["credentials"]["TunnelSecret"])) == 32
    assert client.writes() == [("POST", "/accounts/acc1/cfd_tunnel")]


def test_remote_tunnel_returns_token_only():
    client = FakeTunnelClient()
    out = run_tunnel(client, config_src="cloudflare")
    assert out["token"] and "credentials" not in out
    assert tunnel.decode_tunnel_token(out["token"])["t"] == out["tunnel"]["id"]


def test_check_mode_and_diff():
    client = FakeTunnelClient()
    out = run_tunnel(client, check_mode=True)
    assert (
        out["changed"] and client.writes() == [] and out["diff"]["after"] == {"state": "present", "config_src": "local"}
    )


def test_rotation_and_given_secret():
    client = FakeTunnelClient()
    first = run_tunnel(client)
    rotated = run_tunnel(client, rotate_secret=True)
    assert rotated["changed"] and rotated["secret_rotated"]
    assert rotated["credentials"]["TunnelSecret"] != first["credentials"]["TunnelSecret"]
    given = base64.b64encode(b"k" * 32).decode()
    assert run_tunnel(client, tunnel_secret=given)["changed"]
    assert not run_tunnel(client, tunnel_secret=given)["changed"]


def test_config_src_cannot_change():
    client = FakeTunnelClient()
    run_tunnel(client)
    with pytest.raises(
        errors.CloudflareInputError, match=r"^config_src: the tunnel 'home' exists with config_src=local"
    ):
        run_tunnel(client, config_src="cloudflare")


def test_absent_with_cleanup():
    client = FakeTunnelClient()
    run_tunnel(client)
    out = run_tunnel(client, state="absent", cleanup_connections=True)
    assert out["changed"] and [c[0] for c in client.writes()][-2:] == ["DELETE", "DELETE"]
    assert not run_tunnel(client, state="absent")["changed"]


# ---------------------------------------------------------------------------- tunnel configuration


def config_params(**kw):
    base = dict(tunnel="edge", rules=[], origin_request=None, warp_routing=None, catch_all="http_status:404", zone=None)
    base.update(kw)
    return base


def rule(hostname=None, service="http://127.0.0.1:8080", path=None, origin_request=None):
    return {"hostname": hostname, "path": path, "service": service, "origin_request": origin_request}


def test_build_config_converts_and_appends_catch_all():
    ingress, origin = tunnel.build_config(
        [
            rule(
                "A.example.com",
                origin_request={
                    "connect_timeout": "1m30s",
                    "access": {"aud_tag": "x", "required": True, "team_name": "t"},
                },
            )
        ],
        {"no_tls_verify": True, "tlsTimeout": "10s"},
        "http_status:404",
    )
    assert ingress == [
        {
            "hostname": "a.example.com",
            "service": "http://127.0.0.1:8080",
            "originRequest": {"connectTimeout": 90, "access": {"audTag": ["x"], "required": True, "teamName": "t"}},
        },
        {"service": "http_status:404"},
    ]
    assert origin == {"noTLSVerify": True, "tlsTimeout": 10}


def test_build_config_reports_every_problem():
    with pytest.raises(errors.CloudflareInputError) as info:
        tunnel.build_config(
            [rule("a.*.example.com"), rule(None, "hello_world"), rule("b.example.com", "ftp://x", "(")],
            {"bogus": 1},
            "http_status:404",
        )
    text = str(info.value)
    assert text.startswith("rules: invalid ingress:")
    for needle in ("wildcard misuse", "matches every request", "bad path regex", "bad service URL 'ftp://x'", "bogus"):
        assert needle in text


def test_tunnel_config_idempotent_and_diff():
    client = FakeTunnelClient()
    run_tunnel(client, name="edge", config_src="cloudflare")
    params = config_params(rules=[rule("a.example.com")], origin_request={"no_tls_verify": True})
    first = config_mod.TunnelConfigManager(FakeCF(client, **params)).run()
    assert first["changed"] and first["version"] == 1
    assert first["diff"]["before"] == {} and first["diff"]["after"]["ingress"][-1] == {"service": "http_status:404"}
    again = config_mod.TunnelConfigManager(FakeCF(client, **params)).run()
    assert not again["changed"] and again["version"] == 1
    check = config_mod.TunnelConfigManager(
        FakeCF(client, check_mode=True, **config_params(rules=[rule("b.example.com")]))
    ).run()
    assert check["changed"] and check["version"] is None and len([c for c in client.writes() if c[0] == "PUT"]) == 1
    # origin_request left out keeps the global settings.
    assert check["config"]["originRequest"] == {"noTLSVerify": True}


def test_tunnel_config_refuses_local_tunnel():
    client = FakeTunnelClient()
    run_tunnel(client, name="edge")
    with pytest.raises(errors.CloudflareInputError, match="locally managed"):
        config_mod.TunnelConfigManager(FakeCF(client, **config_params(rules=[rule("a.example.com")]))).run()
