# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""cloudflare_tunnel, cloudflare_tunnel_config and cloudflare_tunnel_info through ansible-playbook."""

from __future__ import annotations

import base64
import json

import pytest


@pytest.fixture(scope="module")
def lifecycle(_runner, emulator):
    emulator.reset()
    result = _runner("tunnel.yml", extra_vars={"cf_control_url": emulator.control_url})
    assert result.rc == 0, result.output[-3000:]
    return result


def test_create_returns_credentials_and_repeat_is_idempotent(lifecycle, emulator):
    first = lifecycle["Create local tunnel"]
    again = lifecycle["Create local tunnel again"]
    assert first["changed"] is True
    assert again["changed"] is False
    tid = first["tunnel"]["id"]
    assert first["tunnel"]["config_src"] == "local"
    creds = first["credentials"]
    assert creds["TunnelID"] == tid and creds["AccountTag"] == emulator.account_id and creds["Endpoint"] == ""
    assert len(base64.b64decode(creds["TunnelSecret"])) == 32
    # A rerun still hands back the same credentials (read through the token endpoint).
    assert again["credentials"] == creds
    assert "token" not in first and "credentials_file" not in first["tunnel"]


def test_remote_tunnel_returns_token(lifecycle):
    remote = lifecycle["Create remote tunnel"]
    assert remote["changed"] is True and remote["tunnel"]["config_src"] == "cloudflare"
    decoded = json.loads(base64.b64decode(remote["token"]))
    assert decoded["t"] == remote["tunnel"]["id"]
    assert "credentials" not in remote


def test_tunnel_config(lifecycle):
    c1, c2, c3 = lifecycle["Tunnel config"], lifecycle["Tunnel config again"], lifecycle["Tunnel config change"]
    assert c1["changed"] is True
    ingress = c1["config"]["ingress"]
    assert ingress[-1] == {"service": "http_status:404"}
    assert ingress[1]["originRequest"] == {"connectTimeout": 10, "noTLSVerify": False}
    assert c1["config"]["originRequest"] == {"noHappyEyeballs": True}
    # Same rules in camelCase, by id, with an explicit catch-all: no change.
    assert c2["changed"] is False
    assert c3["changed"] is True and c3["version"] == c1["version"] + 1
    # origin_request left out keeps the global settings.
    assert c3["config"]["originRequest"] == {"noHappyEyeballs": True}


def test_tunnel_config_errors(lifecycle):
    local = lifecycle["Tunnel config on a local tunnel"]
    assert local["failed"] and "locally managed" in local["msg"] and local["msg"].startswith("tunnel:")
    bad = lifecycle["Tunnel config with bad rules"]["msg"]
    assert bad.startswith("rules: invalid ingress:")
    assert "rule #1 (hostname 'a.*.example.com'): wildcard misuse" in bad
    assert "rule #2 (service 'hello_world'): this rule has no hostname and no path" in bad
    assert "rule #3 (hostname 'x.example.com', path '([unclosed'): bad path regex" in bad
    assert "bad service URL 'ftp://nope'" in bad
    assert "rule #5 (hostname 'dup.example.com'): duplicate hostname+path" in bad


def test_info_and_rotation(lifecycle):
    tunnels = lifecycle["Tunnel info"]["tunnels"]
    assert sorted(t["name"] for t in tunnels) == ["edge", "home"]
    edge = next(t for t in tunnels if t["name"] == "edge")
    assert edge["config"]["ingress"][0]["service"] == "http://127.0.0.1:5679"
    assert all("token" not in t and "credentials_file" not in t for t in tunnels)
    assert [t["name"] for t in lifecycle["Tunnel info by name"]["tunnels"]] == ["home"]
    rotated = lifecycle["Rotate secret"]
    assert rotated["changed"] is True and rotated["secret_rotated"] is True
    old = lifecycle["Create local tunnel"]["credentials"]["TunnelSecret"]
    new = rotated["credentials"]["TunnelSecret"]
    assert new != old
    assert lifecycle["Read after rotation"]["credentials"]["TunnelSecret"] == new
    assert lifecycle["Read after rotation"]["changed"] is False


def test_bad_input_names_the_option(lifecycle):
    wrong = lifecycle["Wrong config_src"]
    assert wrong["failed"] and wrong["msg"].startswith("config_src:") and "local" in wrong["msg"]
    bad = lifecycle["Bad secret"]
    assert bad["failed"] and bad["msg"].startswith("tunnel_secret:") and "base64" in bad["msg"]
    lifecycle.assert_no_traceback()


def test_delete(lifecycle, emulator):
    busy = lifecycle["Delete without cleanup"]
    assert busy["failed"] and "1022" in busy["msg"] and "cleanup_connections" in busy["msg"]
    assert lifecycle["Delete with cleanup"]["changed"] is True
    assert lifecycle["Delete again"]["changed"] is False
    assert [t["name"] for t in emulator.tunnels()] == ["edge"]


def test_check_mode_writes_nothing(run_playbook, emulator):
    result = run_playbook("tunnel_one.yml", check=True, diff=True)
    assert result.rc == 0, result.output[-2000:]
    out = result["Tunnel"]
    assert out["changed"] is True
    assert out["diff"]["after"]["state"] == "present"
    assert emulator.writes() == [] and emulator.tunnels() == []
    # Then for real, then delete in check mode.
    assert run_playbook("tunnel_one.yml")["Tunnel"]["changed"] is True
    emulator.clear_requests()
    result = run_playbook("tunnel_one.yml", extra_vars={"tunnel_state": "absent"}, check=True, diff=True)
    out = result["Tunnel"]
    assert out["changed"] is True and out["diff"] == {
        "before": {"state": "present"},
        "after": {"state": "absent"},
        "before_header": "tunnel home",
        "after_header": "tunnel home",
    }
    assert emulator.writes() == [] and len(emulator.tunnels()) == 1


def test_given_secret_and_request_counts(run_playbook, emulator):
    secret = base64.b64encode(bytes(range(32))).decode()
    first = run_playbook("tunnel_one.yml", extra_vars={"tunnel_secret": secret})
    assert first["Tunnel"]["changed"] is True
    counts = emulator.counters()
    assert counts["writes"] == 1  # one POST
    emulator.clear_requests()
    again = run_playbook("tunnel_one.yml", extra_vars={"tunnel_secret": secret})
    assert again["Tunnel"]["changed"] is False
    # The given secret is no_log, so Ansible masks it in the returned credentials too.
    assert again["Tunnel"]["credentials"]["TunnelSecret"] != secret
    counts = emulator.counters()
    assert counts["writes"] == 0 and counts["reads"] == 2  # list by name + token
    other = base64.b64encode(bytes(range(1, 33))).decode()
    changed = run_playbook("tunnel_one.yml", extra_vars={"tunnel_secret": other})
    assert changed["Tunnel"]["changed"] is True and changed["Tunnel"]["secret_rotated"] is True


CONFIG_ROUTE = "PUT /accounts/:id/cfd_tunnel/:id/configurations"
RULES_BEFORE = [
    {"hostname": "n8n.example.com", "service": "http://127.0.0.1:5678"},
    {"hostname": "time.example.com", "path": "^/mcp", "service": "http://127.0.0.1:3001"},
]
RULES_AFTER = [
    {"hostname": "n8n.example.com", "service": "http://127.0.0.1:5679"},
    {
        "hostname": "time.example.com",
        "path": "^/mcp",
        "service": "http://127.0.0.1:3001",
        "origin_request": {"connect_timeout": "10s", "no_tls_verify": True, "http_host_header": "time.internal"},
    },
]
# The same rules in cloudflared's own form (cloudflared_extra_ingress): originRequest with camelCase keys.
RULES_AFTER_CLOUDFLARED = [
    RULES_AFTER[0],
    {
        "hostname": "time.example.com",
        "path": "^/mcp",
        "service": "http://127.0.0.1:3001",
        "originRequest": {"connectTimeout": "10s", "noTLSVerify": True, "httpHostHeader": "time.internal"},
    },
]
INGRESS_AFTER = [
    {"hostname": "n8n.example.com", "service": "http://127.0.0.1:5679"},
    {
        "hostname": "time.example.com",
        "path": "^/mcp",
        "service": "http://127.0.0.1:3001",
        "originRequest": {"connectTimeout": 10, "noTLSVerify": True, "httpHostHeader": "time.internal"},
    },
    {"service": "http_status:404"},
]


def config_puts(emulator):
    return [r for r in emulator.requests() if r["route"] == CONFIG_ROUTE]


def stored_config(emulator):
    (stored,) = emulator.state()["tunnel_configs"].values()
    return stored


def test_config_check_diff_then_apply_and_origin_request_alias(run_playbook, emulator):
    first = run_playbook("tunnel_config.yml", extra_vars={"rule_sets": [RULES_BEFORE]})
    assert first.rc == 0, first.output[-3000:]
    (setup,) = first["Config"]["results"]
    assert setup["changed"] is True and setup["version"] == 1
    assert len(config_puts(emulator)) == 1

    # Check mode with diff: reported as changed, the diff shows the changed rule, nothing is PUT.
    emulator.clear_requests()
    result = run_playbook("tunnel_config.yml", extra_vars={"rule_sets": [RULES_AFTER]}, check=True, diff=True)
    assert result.rc == 0, result.output[-3000:]
    (check,) = result["Config"]["results"]
    assert check["changed"] is True and check["version"] is None
    assert check["diff"]["before"]["ingress"][0] == {"hostname": "n8n.example.com", "service": "http://127.0.0.1:5678"}
    assert check["diff"]["after"]["ingress"][0] == {"hostname": "n8n.example.com", "service": "http://127.0.0.1:5679"}
    assert check["diff"]["after"]["ingress"] == INGRESS_AFTER
    assert "originRequest" not in check["diff"]["before"]["ingress"][1]
    assert check["config"]["ingress"] == INGRESS_AFTER
    requests = emulator.requests()
    assert config_puts(emulator) == [] and [r for r in requests if r["method"] != "GET"] == []
    assert "GET /accounts/:id/cfd_tunnel/:id/configurations" in [r["route"] for r in requests]
    stored = stored_config(emulator)
    assert stored["version"] == 1 and stored["config"]["ingress"][0]["service"] == "http://127.0.0.1:5678"

    # For real, then the same rules again, then in cloudflared's form (originRequest alias): one PUT only.
    emulator.clear_requests()
    result = run_playbook(
        "tunnel_config.yml", extra_vars={"rule_sets": [RULES_AFTER, RULES_AFTER, RULES_AFTER_CLOUDFLARED]}
    )
    assert result.rc == 0, result.output[-3000:]
    applied, again, alias = result["Config"]["results"]
    assert applied["changed"] is True and applied["version"] == 2
    assert applied["config"]["ingress"] == INGRESS_AFTER
    assert again["changed"] is False and again["version"] == 2
    assert alias["changed"] is False and alias["version"] == 2 and alias["config"]["ingress"] == INGRESS_AFTER
    assert len(config_puts(emulator)) == 1
    stored = stored_config(emulator)
    assert stored["version"] == 2 and stored["config"]["ingress"] == INGRESS_AFTER
