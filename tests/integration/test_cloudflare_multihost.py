# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Several home servers, one site: the edge runs once per site, through the cloudflare_edge role (edge.yml).

Three hosts in one inventory: ``alpha`` and ``beta`` serve site ``home``, ``gamma`` site ``cabin``. The
API requests of the three-host run are exactly those of one run per site (the same count as two one-host
runs), every host gets its site's tunnel, and a second run writes nothing. A host that gives its site
different edge settings stops the run before any request, naming the host and the variable.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

import pytest
from conftest import write_requests

SERVICES = [
    {"name": "time", "kind": "mcp", "port": 8101, "access": ["owner", "mcp-clients"]},
    {"name": "n8n", "kind": "n8n", "port": 5678, "access": ["owner"]},
]


def cabin_services():
    return [dict(s, hostname=s["name"] + "-cabin.example.com") for s in SERVICES]


def inventory(tmp_path, secrets, beta_services=None):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    hosts = {
        "alpha": dict(local, homelab_site="home", edge_tunnel="home", edge_services=SERVICES),
        "beta": dict(local, homelab_site="home", edge_tunnel="home", edge_services=beta_services or SERVICES),
        "gamma": dict(local, homelab_site="cabin", edge_tunnel="cabin", edge_services=cabin_services()),
    }
    for host in hosts.values():
        host["edge_secrets_dir"] = str(secrets / host["homelab_site"])
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"all": {"hosts": hosts}}), encoding="utf-8")
    return path


def handoffs(result):
    """host -> the tunnel id and hostnames the play's last task shows for it."""
    out = {}
    for play in result.data["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == "What the host would get":
                for host, res in task["hosts"].items():
                    msg = res.get("msg") or {}
                    if msg:
                        out[host] = (msg["tunnel_id"], sorted(s["hostname"] for s in msg["services"]))
    return out


@pytest.fixture(scope="module")
def three_hosts(_runner, emulator, tmp_path_factory):
    emulator.reset()
    emulator.clear_faults()
    tmp = tmp_path_factory.mktemp("multihost")
    secrets = tmp / "secrets"
    inv = inventory(tmp, secrets)
    runs = {}
    # One host per site first: the yardstick for "one run per site".
    for key, limit in (("alpha_alone", "alpha"), ("gamma_alone", "gamma")):
        emulator.clear_requests()
        result = _runner("edge.yml", extra_vars={"edge_hosts": "all"}, inventory=inv, args=["--limit", limit])
        assert result.rc == 0, "%s failed:\n%s" % (key, result.output[-4000:])
        runs[key] = {"result": result, "requests": emulator.requests()}
    emulator.reset()
    for key in ("together", "again"):
        emulator.clear_requests()
        result = _runner("edge.yml", extra_vars={"edge_hosts": "all"}, inventory=inv)
        assert result.rc == 0, "%s failed:\n%s" % (key, result.output[-4000:])
        result.assert_no_traceback()
        runs[key] = {"result": result, "requests": emulator.requests(), "state": emulator.state()}
    for key, run in runs.items():
        print("%s: %d requests, %d writes" % (key, len(run["requests"]), len(write_requests(run["requests"]))))
    return runs


def test_the_edge_runs_once_per_site(three_hosts):
    together = three_hosts["together"]["requests"]
    alone = three_hosts["alpha_alone"]["requests"] + three_hosts["gamma_alone"]["requests"]
    assert len(together) == len(alone)
    assert len(write_requests(together)) == len(write_requests(alone))
    state = three_hosts["together"]["state"]
    assert sorted(t["name"] for t in state["tunnels"] if not t.get("deleted_at")) == ["cabin", "home"]
    names = sorted(r["name"] for r in state["dns_records"] if r["type"] == "CNAME")
    assert names == ["n8n-cabin.example.com", "n8n.example.com", "time-cabin.example.com", "time.example.com"]


def test_every_host_gets_its_sites_tunnel(three_hosts):
    state = three_hosts["together"]["state"]
    ids = {t["name"]: t["id"] for t in state["tunnels"] if not t.get("deleted_at")}
    got = handoffs(three_hosts["together"]["result"])
    assert got["alpha"] == got["beta"] == (ids["home"], ["n8n.example.com", "time.example.com"])
    assert got["gamma"] == (ids["cabin"], ["n8n-cabin.example.com", "time-cabin.example.com"])


def test_every_host_learns_when_its_sites_service_tokens_expire(three_hosts):
    # For the monitoring role's AccessServiceTokenExpiring: names and times, from the site's leader.
    # The same on the run that creates the tokens as on the next (Cloudflare's create answer carries no
    # expiry: the module reads it), or the monitoring's textfile would change on the second run.
    for run in ("together", "again"):
        state = three_hosts[run]["state"]
        expiry = {t["name"]: t["expires_at"] for t in state["service_tokens"]}
        shown = {}
        for play in three_hosts[run]["result"].data["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == "What the host would get":
                    shown.update({host: res["msg"]["token_expiry"] for host, res in task["hosts"].items()})
        assert set(shown) == {"alpha", "beta", "gamma"}, run
        for host, tokens in shown.items():
            assert tokens and all(expiry[name] == at for name, at in tokens.items()), (run, host, tokens, expiry)
            assert not any("secret" in str(v) for v in tokens.values())


def test_a_second_run_of_several_hosts_writes_nothing(three_hosts):
    again = three_hosts["again"]
    assert again["result"].changed == 0
    assert write_requests(again["requests"]) == []
    # Each site reads each kind once: every route exactly twice (two sites), not three times (three hosts).
    routes = Counter(r["route"] for r in again["requests"])
    assert set(routes.values()) == {2}, routes


def test_a_host_that_disagrees_with_its_site_stops_the_run_before_any_request(_runner, reset_emulator, tmp_path):
    other = [dict(s, port=s["port"] + 1) for s in SERVICES]
    inv = inventory(tmp_path, tmp_path / "secrets", beta_services=other)
    result = _runner("edge.yml", extra_vars={"edge_hosts": "all"}, inventory=inv)
    assert result.rc != 0
    result.assert_no_traceback()
    assert reset_emulator.requests() == []
    assert "beta differs from alpha in: cloudflare_edge_services" in result.output
    assert "homelab_site" in result.output


# One service description for the whole homelab, each service placed with `hosts:` (a group, a host).
PLACED = [
    {"name": "time", "kind": "mcp", "port": 8101, "access": ["owner", "mcp-clients"], "hosts": ["minipcs"]},
    {"name": "n8n", "kind": "n8n", "port": 5678, "access": ["owner"], "hosts": ["gamma"]},
]


def placed_inventory(tmp_path, services):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    sites = {"alpha": "home", "beta": "home", "gamma": "cabin"}
    hosts = {
        name: dict(
            local,
            homelab_site=site,
            edge_tunnel=site,
            edge_services=services,
            edge_secrets_dir=str(tmp_path / "secrets" / site),
        )
        for name, site in sites.items()
    }
    inv = {"all": {"hosts": hosts, "children": {"minipcs": {"hosts": {"alpha": {}, "beta": {}}}}}}
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps(inv), encoding="utf-8")
    return path


def test_each_site_routes_only_the_services_placed_on_its_hosts(_runner, reset_emulator, tmp_path):
    result = _runner("edge.yml", extra_vars={"edge_hosts": "all"}, inventory=placed_inventory(tmp_path, PLACED))
    assert result.rc == 0, result.output[-4000:]
    state = reset_emulator.state()
    ids = {t["name"]: t["id"] for t in state["tunnels"] if not t.get("deleted_at")}
    got = handoffs(result)
    assert got["alpha"] == got["beta"] == (ids["home"], ["time.example.com"])
    assert got["gamma"] == (ids["cabin"], ["n8n.example.com"])
    # Each hostname points at the tunnel of the site that runs its service, and nowhere else.
    cnames = {r["name"]: r["content"] for r in state["dns_records"] if r["type"] == "CNAME"}
    assert cnames == {
        "time.example.com": ids["home"] + ".cfargotunnel.com",
        "n8n.example.com": ids["cabin"] + ".cfargotunnel.com",
    }


def test_a_site_whose_hosts_run_different_services_stops_before_any_request(_runner, reset_emulator, tmp_path):
    split = [dict(PLACED[0], hosts=["alpha"]), PLACED[1]]
    result = _runner("edge.yml", extra_vars={"edge_hosts": "all"}, inventory=placed_inventory(tmp_path, split))
    assert result.rc != 0
    result.assert_no_traceback()
    assert reset_emulator.requests() == []
    assert "Service 'time' runs on alpha but not on beta." in result.output
    assert "give the hosts that run different services their own homelab_site" in result.output


def test_a_placement_on_an_unknown_host_stops_before_any_request(_runner, reset_emulator, tmp_path):
    typo = [PLACED[0], dict(PLACED[1], hosts=["gama"])]
    result = _runner("edge.yml", extra_vars={"edge_hosts": "all"}, inventory=placed_inventory(tmp_path, typo))
    assert result.rc != 0
    result.assert_no_traceback()
    assert reset_emulator.requests() == []
    assert "'hosts' names 'gama', which is neither a host nor a group of the inventory (did you mean 'gamma'?)" in (
        result.output
    )
