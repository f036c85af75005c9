# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify what the README's quickstart built (replay.py): the example's services answer on the
target's loopback, the emulated account holds the tunnel, one proxied CNAME per hostname and one
Access application per service, and the second run, from the built tarball, changed nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "tests"))
from verify_common import PROJECT, emulator, mcp_probe, target_of

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
WORK = EPHEMERAL / "quickstart"
INVENTORY = WORK / "checkout" / "inventories" / "mine"  # the user's copy of the example, edited
VARS = yaml.safe_load((INVENTORY / "group_vars" / "homelab_servers" / "main.yml").read_text())
VAULT = yaml.safe_load((WORK / "vault-typed.yml").read_text())  # what was typed into ansible-vault create
RUNS = json.loads((WORK / "runs.json").read_text())
SERVICES = VARS["homelab_services"]
DOMAIN = VARS["homelab_domain"]
PREFIX = VARS["homelab_tunnel_name"] + ": "
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# One tool call per MCP service of the example (inventories/example), with what its answer holds.
CALLS = {
    "time": ["--call", "get_current_time", "--args", json.dumps({"timezone": "UTC"}), "--expect", "UTC"],
    "notes": ["--call", "list_notes"],
}


@pytest.fixture(scope="module")
def state():
    return emulator("state")


@pytest.fixture(scope="module")
def tunnel(state):
    live = [t for t in state["tunnels"] if t["name"] == VARS["homelab_tunnel_name"] and not t.get("deleted_at")]
    assert len(live) == 1, state["tunnels"]
    return live[0]


def test_the_example_inventory_carries_no_vault():
    """Issue 14: `cp -r` of the example leaves ansible-vault create nothing to trip over."""
    example = PROJECT / "inventories" / "example"
    assert not (example / "group_vars" / "homelab_servers" / "vault.yml").exists()
    assert [p for p in example.rglob("*") if p.is_file() and p.read_bytes().startswith(b"$ANSIBLE_VAULT")] == []
    assert (INVENTORY / "group_vars" / "homelab_servers" / "vault.yml").read_bytes().startswith(b"$ANSIBLE_VAULT")


def test_first_run_from_the_checkout_built_the_site():
    run = RUNS["checkout"]
    assert run["recap"] and all(r["failed"] == 0 and r["unreachable"] == 0 for r in run["recap"].values())
    assert any(r["changed"] for r in run["recap"].values())
    assert [r for r in run["requests"] if r["method"] in WRITES]


def test_second_run_from_the_tarball_changed_nothing():
    run = RUNS["tarball"]
    assert Path(run["installed"], "MANIFEST.json").is_file()
    assert run["recap"] and all(r == dict(r, changed=0, failed=0, unreachable=0) for r in run["recap"].values())
    assert [r for r in run["requests"] if r["method"] in WRITES] == []
    print(f"tarball run: {len(run['requests'])} API requests, 0 writes; recap {run['recap']}")


@pytest.mark.parametrize("service", [s for s in SERVICES if s["kind"] == "mcp"], ids=lambda s: s["name"])
def test_each_mcp_service_answers_a_real_client_on_loopback(host, service):
    args = ["--wait", "60", *CALLS[service["name"]]]
    if "MCP_AUTH_TOKEN" in service.get("secret_env", {}):
        args += ["--header", f"Authorization: Bearer {VAULT['vault_mcp_notes_token']}"]
    rc, out = mcp_probe(target_of(host), f"http://127.0.0.1:{service['port']}/mcp", *args)
    assert rc == 0, out


def test_n8n_is_ready_on_loopback(host):
    (n8n,) = [s for s in SERVICES if s["kind"] == "n8n"]
    url = f"http://127.0.0.1:{n8n['port']}/healthz/readiness"
    assert host.run(f"curl -s -o /dev/null -w '%{{http_code}}' {url}").stdout == "200"


def test_one_proxied_cname_per_hostname_to_the_tunnel(state, tunnel):
    zone = next(z for z in state["zones"] if z["name"] == DOMAIN)
    cnames = [r for r in state["dns_records"] if r["zone_id"] == zone["id"] and r["type"] == "CNAME"]
    assert sorted(r["name"] for r in cnames) == sorted(f"{s['name']}.{DOMAIN}" for s in SERVICES)
    for record in cnames:
        assert record["content"] == f"{tunnel['id']}.cfargotunnel.com" and record["proxied"] is True


def test_one_access_application_per_service(state):
    apps = [a for a in state["access_apps"] if a["name"].startswith(PREFIX)]
    assert sorted(a["name"] for a in apps) == sorted(PREFIX + s["name"] for s in SERVICES)
    assert {a["domain"] for a in apps} == {f"{s['name']}.{DOMAIN}" for s in SERVICES}


def test_cloudflared_serves_the_tunnel(host, tunnel):
    assert host.service(f"cloudflared@{VARS['homelab_tunnel_name']}").is_running
    creds = json.loads(host.check_output(f"cat /etc/cloudflared/{VARS['homelab_tunnel_name']}.json"))
    assert creds["TunnelID"] == tunnel["id"]
