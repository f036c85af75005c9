# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify the whole site: the emulator holds exactly what the service list asks for, cloudflared
routes each hostname to its port, nothing but SSH answers from another container, each MCP server
answers a real MCP handshake on 127.0.0.1, and a second run sent no API write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "tests"))
from verify_common import PROJECT, decrypt, emulator, load_vars, mcp_probe, target_of

SCENARIO = Path(__file__).resolve().parents[1]
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
WRITES = ("POST", "PUT", "PATCH", "DELETE")
GROUP_VARS = SCENARIO / "group_vars" / "homelab_servers"
VARS = load_vars(GROUP_VARS / "main.yml")
VAULT = load_vars(GROUP_VARS / "vault.yml")
SERVICES = VARS["site_test_services"]
DOMAIN = VARS["homelab_domain"]
PREFIX = VARS["homelab_tunnel_name"] + ": "
MCP = [s for s in SERVICES if s["kind"] == "mcp"]


@cache
def secret(name):
    return decrypt(SCENARIO, VAULT[name])


@pytest.fixture(scope="module")
def state():
    return emulator("state")


@pytest.fixture(scope="module")
def tunnel(state):
    live = [t for t in state["tunnels"] if t["name"] == "home" and not t.get("deleted_at")]
    assert len(live) == 1, state["tunnels"]
    return live[0]


@pytest.fixture(scope="module")
def target(host):
    return target_of(host)


def runs():
    lines = (EPHEMERAL / "api-runs.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


# --------------------------------------------------------------------------- Cloudflare side


def test_dns_records_are_exactly_one_proxied_cname_per_service(state, tunnel):
    zone = next(z for z in state["zones"] if z["name"] == DOMAIN)
    cnames = {r["name"]: r for r in state["dns_records"] if r["zone_id"] == zone["id"] and r["type"] == "CNAME"}
    assert set(cnames) == {f"{s['name']}.{DOMAIN}" for s in SERVICES}
    for record in cnames.values():
        assert record["content"] == f"{tunnel['id']}.cfargotunnel.com"
        assert record["proxied"] is True
        assert "homelab.mcp_edge" in record.get("comment", "")


def test_access_applications_match_the_services(state):
    policies = {p["id"]: p["name"] for p in state["access_policies"]}
    apps = {a["name"]: a for a in state["access_apps"] if a["name"].startswith(PREFIX)}
    assert set(apps) == {PREFIX + s["name"] for s in SERVICES}
    for service in SERVICES:
        app = apps[PREFIX + service["name"]]
        assert app["domain"] == f"{service['name']}.{DOMAIN}"
        assert app["type"] == "self_hosted"
        linked = [policies[p["id"]] for p in sorted(app["policies"], key=lambda p: p["precedence"])]
        # Policies carry the site's prefix in Cloudflare; the inventory names them bare.
        assert linked == [PREFIX + name for name in service["access"]]


def test_policies_and_service_token(state):
    tokens = {t["name"]: t for t in state["service_tokens"]}
    assert set(tokens) == {PREFIX + "claude-desktop"}
    policies = {p["name"]: p for p in state["access_policies"]}
    assert set(policies) == {PREFIX + "owner", PREFIX + "mcp-clients"}
    assert policies[PREFIX + "owner"]["decision"] == "allow"
    assert policies[PREFIX + "mcp-clients"]["include"] == [
        {"service_token": {"token_id": tokens[PREFIX + "claude-desktop"]["id"]}}
    ]


def test_new_service_token_secret_written_once_0600():
    path = EPHEMERAL / "secrets" / "claude-desktop.env"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    content = path.read_text()
    assert "CF_ACCESS_CLIENT_ID=" in content and "CF_ACCESS_CLIENT_SECRET=" in content


def test_second_run_sends_no_write_and_lists_each_kind_once():
    first, second, check = runs()[:3]
    assert not first["check"] and not second["check"] and check["check"]
    assert [r for r in first["requests"] if r["method"] in WRITES], "the first run created nothing?"
    for run in (second, check):
        assert [r["route"] for r in run["requests"] if r["method"] in WRITES] == []
        reads = [r["route"] for r in run["requests"]]
        assert len(reads) == len(set(reads)), reads  # each route (so each resource kind) read once
        print(f"{'check' if run['check'] else 'second'} run: {len(reads)} requests: {sorted(reads)}")


# --------------------------------------------------------------------------- the host


def test_cloudflared_runs_as_its_own_user(host, tunnel):
    unit = host.service("cloudflared@home")
    assert unit.is_running and unit.is_enabled
    creds = host.file("/etc/cloudflared/home.json")
    assert creds.user == "cloudflared" and creds.mode in (0o400, 0o600)
    assert json.loads(host.check_output("cat /etc/cloudflared/home.json"))["TunnelID"] == tunnel["id"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s["name"])
def test_cloudflared_routes_each_hostname_to_its_port(host, service):
    out = host.check_output(
        f"cloudflared tunnel --config /etc/cloudflared/home.yml ingress rule https://{service['name']}.{DOMAIN}/mcp"
    )
    assert f"service: http://127.0.0.1:{service['port']}" in out, out


def test_cloudflared_requires_each_apps_access_token(host, state):
    """Origin access by default, with no team name in the inventory: the team comes from the account."""
    assert "cloudflare_edge_team_name" not in VARS and "cloudflare_edge_origin_access" not in VARS
    seed = json.loads((PROJECT / "tests" / "cloudflare_emulator" / "seed.example.json").read_text())
    (org,) = state["access_organizations"]
    assert org["auth_domain"] == f"{seed['team_name']}.cloudflareaccess.com"  # homelab-demo
    config = yaml.safe_load(host.check_output("cat /etc/cloudflared/home.yml"))
    auds = {a["domain"]: a["aud"] for a in state["access_apps"]}
    # Each service's rule; n8n's /metrics rule answers 404 itself, reaching no origin (the next test).
    rules = [r for r in config["ingress"] if r.get("hostname") and not r["service"].startswith("http_status:")]
    assert len(rules) == len(SERVICES)
    for rule in rules:
        access = rule["originRequest"]["access"]
        assert access == {"required": True, "teamName": seed["team_name"], "audTag": [auds[rule["hostname"]]]}


@pytest.mark.parametrize("path", ["/metrics", "/METRICS", "/metrics/"])
def test_n8n_metrics_answer_404_on_the_public_hostname(host, path):
    """n8n serves /metrics on 127.0.0.1 for Prometheus (N8N_METRICS); cloudflared never forwards it."""
    config = "/etc/cloudflared/home.yml"
    out = host.check_output(f"cloudflared tunnel --config {config} ingress rule https://n8n.{DOMAIN}{path}")
    assert "service: http_status:404" in out and f"hostname: n8n.{DOMAIN}" in out, out
    # The rest of n8n is routed to n8n, and its metrics are there on loopback.
    out = host.check_output(f"cloudflared tunnel --config {config} ingress rule https://n8n.{DOMAIN}/healthz")
    assert "service: http://127.0.0.1:5678" in out, out
    assert "n8n_" in host.check_output("curl -fsS --max-time 10 http://127.0.0.1:5678/metrics")


def test_only_ssh_answers_from_another_container(host, target):
    listening = sorted(
        {
            int(line.split()[3].rsplit(":", 1)[1])
            for line in host.check_output("ss -Hltn").splitlines()
            if line.split()[3].rsplit(":", 1)[1].isdigit()
        }
        | {s["port"] for s in SERVICES}
        | {20241}
    )
    scan = (
        "import socket, sys, json\n"
        "open_ = []\n"
        "for port in json.loads(sys.argv[2]):\n"
        "    s = socket.socket(); s.settimeout(1.5)\n"
        "    if s.connect_ex((sys.argv[1], port)) == 0: open_.append(port)\n"
        "    s.close()\n"
        "print(json.dumps(open_))\n"
    )
    out = subprocess.run(
        ["docker", "run", "--rm", "homelab-mcp-edge/debian12-base:local", "python3", "-c", scan, target["ip"],
         json.dumps(listening)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout) == [22], (listening, out.stdout)


@pytest.mark.parametrize("service", MCP, ids=lambda s: s["name"])
def test_each_mcp_server_answers_a_handshake_on_loopback(target, service):
    args = []
    if service["name"] == "notes":
        args = ["--header", f"Authorization: Bearer {secret('vault_mcp_notes_token')}", "--call", "list_notes"]
    else:
        args = ["--call", "get_current_time", "--args", json.dumps({"timezone": "UTC"}), "--expect", "UTC"]
    rc, out = mcp_probe(target, f"http://127.0.0.1:{service['port']}/mcp", "--wait", "60", *args)
    assert rc == 0, out


def test_n8n_is_ready_on_loopback(host):
    assert host.check_output("curl -fsS http://127.0.0.1:5678/healthz/readiness")
    assert host.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:5678/healthz").stdout == "200"


def test_firewall_default_denies_inbound(host):
    ruleset = host.check_output("nft list ruleset")
    assert "hook input" in ruleset and "policy drop" in ruleset
    # Docker's own tables are still there: the firewall never flushes the ruleset.
    assert "DOCKER" in ruleset
