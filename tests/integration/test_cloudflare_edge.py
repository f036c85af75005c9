# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The cloudflare_edge role (site.yml's controller play) through ansible-playbook against the emulator.

One module-scoped sequence: check on an empty account, apply, repeat, drop a service, origin
access turned off, a team name given, teardown, teardown again. Each step's requests are kept, so the
tests can count writes and listings, not only look at results. Origin access is on by default: the
team name comes from the emulator's account (its seed's Zero Trust organization).
"""

from __future__ import annotations

import json

import pytest
from conftest import write_requests

ORGANIZATION_READ = "GET /accounts/:id/access/organizations"
# The emulator's seeded Zero Trust organization: homelab-demo.cloudflareaccess.com.
SEED_TEAM = "homelab-demo"
SERVICES = [
    {"name": "time", "kind": "mcp", "port": 8101, "access": ["owner", "mcp-clients"]},
    {"name": "notes", "kind": "mcp", "port": 8102, "access": ["mcp-clients"]},
    {"name": "n8n", "kind": "n8n", "port": 5678, "access": ["owner"]},
]


def writes(requests):
    return [(r["method"], r["route"]) for r in write_requests(requests)]


def host_view(result):
    """What the role handed to the host (the debug task's message)."""
    return result["What the host would get"]["msg"]


def organization_team(state):
    """The team name of the emulated account's Zero Trust organization, as the emulator holds it."""
    (org,) = state["access_organizations"]
    return org["auth_domain"].removesuffix(".cloudflareaccess.com")


def assert_each_rule_checks_its_apps_token(rules, state, team, prefix="home: "):
    """Every hostname's rule carries originRequest.access with the team and its own application's aud
    (a rule that answers itself, n8n's local-only /metrics with 404, reaches no origin: it needs none)."""
    auds = {a["domain"]: a["aud"] for a in state["access_apps"] if a["name"].startswith(prefix)}
    hosts = [r for r in rules if r.get("hostname") and not (r.get("service") or "").startswith("http_status:")]
    assert hosts and {r["hostname"] for r in hosts} == set(auds), (hosts, auds)
    for rule in hosts:
        origin = rule.get("origin_request") or rule.get("originRequest") or {}
        assert origin.get("access") == {"required": True, "teamName": team, "audTag": [auds[rule["hostname"]]]}, rule


@pytest.fixture(scope="module")
def edge(_runner, emulator, tmp_path_factory):
    emulator.reset()
    secrets = tmp_path_factory.mktemp("edge-secrets") / "secrets"
    base = {"edge_secrets_dir": str(secrets)}
    two = dict(base, edge_services=[s for s in SERVICES if s["name"] != "notes"])
    steps = [
        ("check_empty", dict(extra_vars=base, check=True, diff=True)),
        ("apply", dict(extra_vars=base, diff=True)),
        ("repeat", dict(extra_vars=base)),
        ("check_repeat", dict(extra_vars=base, check=True)),
        ("drop_notes", dict(extra_vars=two)),
        ("origin_access_off", dict(extra_vars=dict(two, cloudflare_edge_origin_access=False))),
        ("team_given", dict(extra_vars=dict(two, cloudflare_edge_team_name="homelab"))),
        ("teardown", dict(extra_vars=dict(base, edge_state="absent"))),
        ("teardown_again", dict(extra_vars=dict(base, edge_state="absent"))),
    ]
    snaps = {"secrets": secrets}
    for key, kwargs in steps:
        emulator.clear_requests()
        result = _runner("edge.yml", **kwargs)
        assert result.rc == 0, "%s failed:\n%s" % (key, result.output[-4000:])
        result.assert_no_traceback()
        snaps[key] = {"result": result, "requests": emulator.requests(), "state": emulator.state()}
    return snaps


def test_check_mode_on_an_empty_account_writes_nothing(edge):
    snap = edge["check_empty"]
    assert writes(snap["requests"]) == []
    assert snap["result"].changed > 0
    assert snap["state"]["access_apps"] == [] and not [t for t in snap["state"]["tunnels"] if t["name"] == "home"]


def test_apply_builds_tunnel_dns_and_access(edge):
    state = edge["apply"]["state"]
    tunnel = next(t for t in state["tunnels"] if t["name"] == "home" and not t.get("deleted_at"))
    target = tunnel["id"] + ".cfargotunnel.com"
    cnames = sorted(r["name"] for r in state["dns_records"] if r["type"] == "CNAME" and r["content"] == target)
    assert cnames == ["n8n.example.com", "notes.example.com", "time.example.com"]
    assert sorted(a["name"] for a in state["access_apps"]) == ["home: n8n", "home: notes", "home: time"]
    view = host_view(edge["apply"]["result"])
    assert view["tunnel_id"] == tunnel["id"]
    assert [s["hostname"] for s in view["services"]] == ["time.example.com", "notes.example.com", "n8n.example.com"]


def test_apply_uses_the_batch_endpoint_and_few_writes(edge):
    counted = writes(edge["apply"]["requests"])
    # tunnel + 1 DNS batch + token + 2 policies + the site's Access tag + 3 applications
    assert len(counted) == 9, counted
    assert [r for r in counted if "dns_records" in r[1]] == [("POST", "POST /zones/:id/dns_records/batch")]
    # Writes keep the listings current: every kind is still read once, even after creating into it.
    reads = [r["route"] for r in edge["apply"]["requests"] if r["method"] == "GET"]
    assert len(reads) == len(set(reads)), reads
    # The reads (with the Zero Trust organization, for the team name, and the new token's expiry, which
    # its create answer lacks) and the 9 writes.
    assert len(edge["apply"]["requests"]) == 19, edge["apply"]["requests"]


def test_new_service_token_secret_is_written_0600_and_never_printed(edge):
    path = edge["secrets"] / "claude-desktop.env"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    lines = path.read_text().splitlines()
    secret = next(ln.split("=", 1)[1] for ln in lines if ln.startswith("CF_ACCESS_CLIENT_SECRET="))
    for key in ("apply", "repeat", "drop_notes"):
        assert secret not in edge[key]["result"].output


@pytest.mark.parametrize("key", ["repeat", "check_repeat"])
def test_second_run_no_change_no_write_each_kind_read_once(edge, key):
    snap = edge[key]
    assert snap["result"].changed == 0
    assert writes(snap["requests"]) == []
    routes = [r["route"] for r in snap["requests"]]
    assert len(routes) == len(set(routes)), routes
    assert len(routes) <= 10, routes
    assert ORGANIZATION_READ in routes  # the team name, read once


def test_dropping_a_service_removes_its_record_and_application(edge):
    snap = edge["drop_notes"]
    assert sorted(writes(snap["requests"])) == [
        ("DELETE", "DELETE /accounts/:id/access/apps/:id"),
        ("POST", "POST /zones/:id/dns_records/batch"),
    ]
    assert "notes.example.com" not in {r["name"] for r in snap["state"]["dns_records"]}
    assert "home: notes" not in {a["name"] for a in snap["state"]["access_apps"]}


def test_origin_access_is_on_by_default_with_the_team_read_from_the_account(edge):
    """No team name in the inventory: every service handed to cloudflared (local mode) requires the
    Access token of its own application, for the team the account's Zero Trust organization names."""
    for key in ("apply", "repeat", "drop_notes"):
        snap = edge[key]
        assert organization_team(snap["state"]) == SEED_TEAM
        assert_each_rule_checks_its_apps_token(host_view(snap["result"])["services"], snap["state"], SEED_TEAM)
        assert [r["route"] for r in snap["requests"]].count(ORGANIZATION_READ) == 1


def test_check_mode_before_the_applications_exist_shows_a_placeholder_aud(edge):
    services = host_view(edge["check_empty"]["result"])["services"]
    for service in services:
        access = service["origin_request"]["access"]
        assert access["required"] is True and access["teamName"] == SEED_TEAM
        assert access["audTag"] == ["(aud of the Access application 'home: %s', once it exists)" % service["name"]]


def test_origin_access_off_hands_no_access_block_and_reads_no_team(edge):
    snap = edge["origin_access_off"]
    services = host_view(snap["result"])["services"]
    assert [s["name"] for s in services] == ["time", "n8n"]
    assert all("access" not in (s.get("origin_request") or {}) for s in services), services
    assert ORGANIZATION_READ not in [r["route"] for r in snap["requests"]]
    assert writes(snap["requests"]) == []  # local mode: only the host's config.yml changes


def test_a_team_name_given_wins_and_saves_the_read(edge):
    snap = edge["team_given"]
    assert_each_rule_checks_its_apps_token(host_view(snap["result"])["services"], snap["state"], "homelab")
    assert ORGANIZATION_READ not in [r["route"] for r in snap["requests"]]


def test_teardown_removes_everything_the_role_created(edge):
    state = edge["teardown"]["state"]
    assert state["access_apps"] == [] and state["access_policies"] == [] and state["service_tokens"] == []
    assert [r for r in state["dns_records"] if r["type"] == "CNAME" and "cfargotunnel" in r["content"]] == []
    assert [t for t in state["tunnels"] if t["name"] == "home" and not t.get("deleted_at")] == []
    again = edge["teardown_again"]
    assert again["result"].changed == 0 and writes(again["requests"]) == []


def test_no_secret_in_verbose_output(_runner, emulator, tmp_path):
    emulator.reset()
    result = _runner("edge.yml", extra_vars={"edge_secrets_dir": str(tmp_path / "s")}, verbosity=3, json_output=False)
    assert result.rc == 0, result.output[-3000:]
    state = emulator.state()
    tunnel = next(t for t in state["tunnels"] if t["name"] == "home" and not t.get("deleted_at"))
    secret = tunnel.get("tunnel_secret") or tunnel.get("secret")
    assert secret and secret not in result.output
    assert json.dumps(secret)[1:-1] not in result.output


def test_remote_managed_tunnel_gets_its_ingress_from_the_api(_runner, emulator, tmp_path):
    # A fresh account: the hostnames must not be held by the records of the local tunnel 'home'.
    emulator.reset()
    base = {"edge_secrets_dir": str(tmp_path / "s"), "edge_tunnel": "remote-home", "edge_tunnel_mode": "remote"}
    first = _runner("edge.yml", extra_vars=base)
    assert first.rc == 0, first.output[-3000:]
    view = host_view(first)
    assert view["has_token"] is True
    state = emulator.state()
    ingress = state["tunnel_configs"][view["tunnel_id"]]["config"]["ingress"]
    hostnames = ["n8n.example.com", "time.example.com", "notes.example.com", "n8n.example.com", None]
    assert [r.get("hostname") for r in ingress] == hostnames
    # n8n's metrics (on its 127.0.0.1 port for Prometheus) answer 404 on its public hostname, before its own rule.
    assert ingress[0] == {"hostname": "n8n.example.com", "path": "(?i)^/metrics", "service": "http_status:404"}
    assert ingress[1]["service"] == "http://127.0.0.1:8101" and ingress[-1]["service"] == "http_status:404"
    # Origin access by default: the stored rules carry the account's team and each application's aud.
    assert_each_rule_checks_its_apps_token(ingress, state, organization_team(state), prefix="remote-home: ")
    assert "originRequest" not in ingress[-1]
    emulator.clear_requests()
    again = _runner("edge.yml", extra_vars=base)
    assert again.rc == 0 and again.changed == 0
    assert writes(emulator.requests()) == []
    # Turned off explicitly: the rules are rewritten once, without any access block.
    emulator.clear_requests()
    off = _runner("edge.yml", extra_vars=dict(base, cloudflare_edge_origin_access=False))
    assert off.rc == 0, off.output[-3000:]
    assert writes(emulator.requests()) == [("PUT", "PUT /accounts/:id/cfd_tunnel/:id/configurations")]
    ingress = emulator.state()["tunnel_configs"][view["tunnel_id"]]["config"]["ingress"]
    assert len(ingress) == 5 and all("access" not in (r.get("originRequest") or {}) for r in ingress), ingress
    gone = _runner("edge.yml", extra_vars=dict(base, edge_state="absent"))
    assert gone.rc == 0, gone.output[-3000:]


def account_view(state):
    """What the edge role leaves in the account, by name (ids and the tunnel's id left out)."""
    live = {t["id"]: t["name"] for t in state["tunnels"] if not t.get("deleted_at")}
    records = sorted(
        (
            r["type"],
            r["name"],
            # The CNAME target is the tunnel's id: compare the tunnel's name instead.
            live.get(r["content"].removesuffix(".cfargotunnel.com"), r["content"]),
            r.get("proxied"),
            r.get("comment"),
        )
        for r in state["dns_records"]
    )
    policy_names = {p["id"]: p["name"] for p in state["access_policies"]}
    apps = sorted(
        (a["name"], a["domain"], tuple(policy_names.get(p.get("id"), p.get("id")) for p in a.get("policies") or []))
        for a in state["access_apps"]
    )
    return {
        "tunnels": sorted(live.values()),
        "records": records,
        "apps": apps,
        "policies": sorted((p["name"], p["decision"]) for p in state["access_policies"]),
        "tokens": sorted(t["name"] for t in state["service_tokens"]),
    }


def test_edge_role_under_faults_with_the_default_retry_budget(_runner, emulator, tmp_path):
    """30 % 429 + 10 % 5xx with the modules' default retries (8, 120 s): same account, nothing twice."""
    emulator.reset()
    emulator.clear_faults()
    base = {"edge_secrets_dir": str(tmp_path / "calm")}
    calm = _runner("edge.yml", extra_vars=base, drop_env=("CLOUDFLARE_MAX_RETRIES", "CLOUDFLARE_MAX_RETRY_WAIT"))
    assert calm.rc == 0, calm.output[-3000:]
    expected = account_view(emulator.state())
    assert len(expected["apps"]) == 3 and expected["tunnels"] == ["home"]

    emulator.reset()
    emulator.faults(rate_429=0.3, rate_5xx=0.1, retry_after=0, seed=13)
    try:
        stormy = {"edge_secrets_dir": str(tmp_path / "stormy")}
        drop = ("CLOUDFLARE_MAX_RETRIES", "CLOUDFLARE_MAX_RETRY_WAIT")
        result = _runner("edge.yml", extra_vars=stormy, drop_env=drop)
        assert result.rc == 0, result.output[-4000:]
        result.assert_no_traceback()
        faults = emulator.counters()["faults"]
        print("faults injected on the edge role's first run: %s" % faults)
        assert faults > 0, "the fault mix injected nothing"
        assert account_view(emulator.state()) == expected
        again = _runner("edge.yml", extra_vars=stormy, drop_env=drop)
        assert again.rc == 0, again.output[-4000:]
        assert again.changed == 0
        assert account_view(emulator.state()) == expected
    finally:
        emulator.clear_faults()


def test_a_token_whose_secret_never_arrived_fails_until_rotated(run_playbook, emulator, tmp_path):
    """The token exists in Cloudflare but this controller has no secret for it (here: another secrets
    directory, as after a create whose answer was lost): every run says so, naming the way out;
    rotating writes a new secret and the next run is quiet again."""
    first = tmp_path / "first"
    other = tmp_path / "other"
    assert run_playbook("edge.yml", extra_vars={"edge_secrets_dir": str(first)}).rc == 0
    for _attempt in range(2):
        emulator.clear_requests()
        result = run_playbook("edge.yml", extra_vars={"edge_secrets_dir": str(other)})
        assert result.rc != 0
        failed = result[
            "homelab.mcp_edge.cloudflare_edge : Access | Every existing service token's secret reached this controller"
        ]
        assert (
            "Service token(s) claude-desktop exist in Cloudflare, but this controller never received" in failed["msg"]
        )
        assert '"cloudflare_edge_rotate_service_tokens": ["claude-desktop"]' in failed["msg"]
        assert [r for r in emulator.requests() if r["method"] != "GET"] == []
    old_secret = (first / "claude-desktop.env").read_text()
    rotate = {"edge_secrets_dir": str(other), "cloudflare_edge_rotate_service_tokens": ["claude-desktop"]}
    rotated = run_playbook("edge.yml", extra_vars=rotate)
    assert rotated.rc == 0, rotated.output[-3000:]
    new_env = (other / "claude-desktop.env").read_text()
    assert oct((other / "claude-desktop.env").stat().st_mode & 0o777) == "0o600"
    assert "CF_ACCESS_CLIENT_SECRET=" in new_env and new_env.split("SECRET=")[1] != old_secret.split("SECRET=")[1]
    assert json.loads((other / "claude-desktop.delivered").read_text())["name"] == "claude-desktop"
    assert new_env.split("SECRET=")[1].strip() not in rotated.output
    emulator.clear_requests()
    again = run_playbook("edge.yml", extra_vars={"edge_secrets_dir": str(other)})
    assert again.rc == 0 and again.changed == 0
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []


@pytest.mark.parametrize("mode", ["local", "remote"])
def test_access_before_publish_a_failed_access_step_publishes_nothing(run_playbook, emulator, tmp_path, mode):
    """A token without Access permission: the Access step fails, and no DNS record and no ingress
    rule points any hostname at the tunnel (the applications come first)."""
    token = emulator.token_with("zone:read", "dns:edit", "tunnel:edit")
    # The team name given, so the run gets past the Zero Trust organization read (which this token
    # may not do either) to the Access step.
    extra = {"edge_secrets_dir": str(tmp_path / "secrets"), "edge_tunnel_mode": mode, "cloudflare_edge_team_name": "t"}
    result = run_playbook("edge.yml", extra_vars=extra, env=emulator.env(token))
    assert result.rc != 0
    result.assert_no_traceback()
    failed = result[
        "homelab.mcp_edge.cloudflare_edge : Access | Why it failed (the module's message; it never holds a secret)"
    ]
    assert "censored" not in json.dumps(failed) and failed["msg"], failed
    state = emulator.state()
    assert state["access_apps"] == []
    assert [r for r in state["dns_records"] if r["type"] == "CNAME"] == []
    tunnel = next(t for t in state["tunnels"] if t["name"] == "home" and not t.get("deleted_at"))
    configs = list((state.get("tunnel_configs") or {}).values())
    assert not any(rule.get("hostname") for c in configs for rule in (c.get("config") or {}).get("ingress", [])), (
        configs
    )
    assert tunnel["id"]
    writes_done = [(r["method"], r["route"]) for r in write_requests(emulator.requests())]
    assert all("dns_records" not in route and "configurations" not in route for _method, route in writes_done), (
        writes_done
    )


@pytest.mark.parametrize("mode", ["local", "remote"])
def test_an_account_without_zero_trust_organization_fails_before_any_write(run_playbook, emulator, tmp_path, mode):
    """Origin access on (the default), no team name given, and the account has no Zero Trust
    organization: the run stops with the way out, before the tunnel, any record, application or rule."""
    emulator.organization(None)
    extra = {"edge_secrets_dir": str(tmp_path / "secrets"), "edge_tunnel_mode": mode}
    result = run_playbook("edge.yml", extra_vars=extra)
    assert result.rc != 0
    result.assert_no_traceback()
    failed = result["homelab.mcp_edge.cloudflare_edge : Team | The account has a Zero Trust organization"]
    msg = failed["msg"]
    assert "Account %s has no Zero Trust organization." % emulator.account_id in msg, msg
    assert "open Zero Trust and choose a team name" in msg and "cloudflare_edge_origin_access: false" in msg, msg
    assert "Nothing has been written." in msg
    requests = emulator.requests()
    assert write_requests(requests) == []
    assert [r["route"] for r in requests][-1] == ORGANIZATION_READ
    state = emulator.state()
    assert state["access_apps"] == [] and state["dns_records"] == [] and state["tunnels"] == []
    assert state["tunnel_configs"] == {}
    # The way out the message names: origin access off explicitly builds the edge without the check.
    off = run_playbook("edge.yml", extra_vars=dict(extra, cloudflare_edge_origin_access=False))
    assert off.rc == 0, off.output[-3000:]
    assert all("access" not in (s.get("origin_request") or {}) for s in host_view(off)["services"])


def test_a_token_that_cannot_read_the_organization_fails_naming_the_permission(run_playbook, emulator, tmp_path):
    token = emulator.token_with("zone:read", "dns:edit", "tunnel:edit")
    result = run_playbook("edge.yml", extra_vars={"edge_secrets_dir": str(tmp_path / "s")}, env=emulator.env(token))
    assert result.rc != 0
    result.assert_no_traceback()
    failed = result["homelab.mcp_edge.cloudflare_edge : Team | Read the Zero Trust team name from the account"]
    assert "Organizations, Identity Providers, and Groups: Read" in failed["msg"], failed
    assert write_requests(emulator.requests()) == []


def test_check_mode_on_an_empty_account_with_a_remote_managed_tunnel(run_playbook, emulator, tmp_path):
    """--check before the tunnel exists: the tunnel's configuration is a warning, not a failure."""
    result = run_playbook(
        "edge.yml", extra_vars={"edge_secrets_dir": str(tmp_path / "s"), "edge_tunnel_mode": "remote"}, check=True
    )
    assert result.rc == 0, result.output[-3000:]
    assert write_requests(emulator.requests()) == []
