# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Ownership you can trust: sites in one Cloudflare account, through the cloudflare_edge role (edge.yml).

* Two sites (two ``homelab_site`` values, two tunnels, one zone, the same service, policy and token
  names, different hostnames) converge side by side; tearing one down leaves the other's objects
  byte-identical in the emulator's state.
* Objects with the names a site wants, made outside the collection (a CNAME without the marker, an
  Access application without the site's tag, a tunnel whose secret lacks it), are refused by name, one
  kind at a time, and taken over with ``cloudflare_edge_adopt``; check and diff mode see the adoption
  without writing, and a run after it changes nothing.
"""

from __future__ import annotations

import base64
import difflib
import json
import urllib.request

import pytest
from conftest import write_requests

MARK = "managed-by: homelab.mcp_edge"


def writes(requests):
    return [(r["method"], r["route"]) for r in write_requests(requests)]


def site_vars(site, tunnel, suffix, secrets, **extra):
    services = [
        {"name": "time", "kind": "mcp", "port": 8101, "access": ["owner", "mcp-clients"]},
        {"name": "n8n", "kind": "n8n", "port": 5678, "access": ["owner"]},
    ]
    for service in services:
        service["hostname"] = "%s%s.example.com" % (service["name"], suffix)
    out = {"homelab_site": site, "edge_tunnel": tunnel, "edge_services": services, "edge_secrets_dir": str(secrets)}
    out.update(extra)
    return out


def site_objects(state, site, tunnel_name):
    """Every object of ``site`` in the emulator's state, as stable JSON text (one key per line)."""
    tunnels = [t for t in state["tunnels"] if t["name"] == tunnel_name]
    tunnel_ids = {t["id"] for t in tunnels}
    tag = "mcp_edge " + site
    objects = {
        "tunnels": tunnels,
        "tunnel_configs": {k: v for k, v in (state.get("tunnel_configs") or {}).items() if k in tunnel_ids},
        "dns_records": [r for r in state["dns_records"] if (r.get("comment") or "").endswith(MARK + " " + site)],
        "access_apps": [a for a in state["access_apps"] if tag in (a.get("tags") or [])],
        "access_tags": [t for t in state.get("access_tags", []) if t["name"] == tag],
        "access_policies": [p for p in state["access_policies"] if p["name"].startswith(site + ": ")],
        "service_tokens": [t for t in state["service_tokens"] if t["name"].startswith(site + ": ")],
    }
    return json.dumps(objects, indent=1, sort_keys=True)


@pytest.fixture(scope="module")
def two_sites(_runner, emulator, tmp_path_factory):
    emulator.reset()
    emulator.clear_faults()
    secrets = tmp_path_factory.mktemp("sites")
    home = site_vars("home", "home", "", secrets / "home")
    # The second site's tunnel is remote-managed, so its ingress (kept by Cloudflare) is compared too.
    cabin = site_vars("cabin", "cabin-tunnel", "-cabin", secrets / "cabin", edge_tunnel_mode="remote")
    steps = [
        ("home_apply", home, {}),
        ("cabin_check", cabin, {"check": True, "diff": True}),
        ("cabin_apply", cabin, {}),
        ("home_repeat", home, {}),
        ("cabin_repeat", cabin, {}),
        ("home_teardown", dict(home, edge_state="absent"), {}),
        ("cabin_after", cabin, {}),
        ("cabin_teardown", dict(cabin, edge_state="absent"), {}),
    ]
    snaps = {}
    for key, extra_vars, kwargs in steps:
        emulator.clear_requests()
        result = _runner("edge.yml", extra_vars=extra_vars, **kwargs)
        assert result.rc == 0, "%s failed:\n%s" % (key, result.output[-4000:])
        result.assert_no_traceback()
        snaps[key] = {"result": result, "requests": emulator.requests(), "state": emulator.state()}
    for key in snaps:
        print("%s: %d requests, %d writes" % (key, len(snaps[key]["requests"]), len(writes(snaps[key]["requests"]))))
    return snaps


def test_two_sites_converge_side_by_side(two_sites):
    state = two_sites["cabin_apply"]["state"]
    live = {t["name"]: t["id"] for t in state["tunnels"] if not t.get("deleted_at")}
    assert sorted(live) == ["cabin-tunnel", "home"]
    records = {r["name"]: r for r in state["dns_records"] if r["type"] == "CNAME"}
    assert records["time.example.com"]["content"] == live["home"] + ".cfargotunnel.com"
    assert records["time-cabin.example.com"]["content"] == live["cabin-tunnel"] + ".cfargotunnel.com"
    assert records["time.example.com"]["comment"] == MARK + " home"
    assert records["time-cabin.example.com"]["comment"] == MARK + " cabin"
    apps = {a["name"]: a for a in state["access_apps"]}
    assert sorted(apps) == ["cabin: n8n", "cabin: time", "home: n8n", "home: time"]
    assert apps["home: time"]["tags"] == ["mcp_edge home"] and apps["cabin: time"]["tags"] == ["mcp_edge cabin"]
    assert sorted(t["name"] for t in state["access_tags"]) == ["mcp_edge cabin", "mcp_edge home"]
    assert sorted(p["name"] for p in state["access_policies"]) == [
        "cabin: mcp-clients",
        "cabin: owner",
        "home: mcp-clients",
        "home: owner",
    ]
    tokens = {t["name"]: t["id"] for t in state["service_tokens"]}
    assert sorted(tokens) == ["cabin: claude-desktop", "home: claude-desktop"]
    policies = {p["name"]: p for p in state["access_policies"]}
    assert policies["cabin: mcp-clients"]["include"] == [
        {"service_token": {"token_id": tokens["cabin: claude-desktop"]}}
    ]
    # Each site's tunnel secret carries its own tag.
    secrets = {t["name"]: base64.b64decode(t["secret"]) for t in state["tunnels"] if not t.get("deleted_at")}
    assert all(len(s) == 48 for s in secrets.values())


def test_the_second_site_in_check_mode_writes_nothing(two_sites):
    snap = two_sites["cabin_check"]
    assert writes(snap["requests"]) == [] and snap["result"].changed > 0


def test_each_site_is_idempotent_next_to_the_other(two_sites):
    for key in ("home_repeat", "cabin_repeat", "cabin_after"):
        snap = two_sites[key]
        assert snap["result"].changed == 0, key
        assert writes(snap["requests"]) == [], key
        routes = [r["route"] for r in snap["requests"]]
        assert len(routes) == len(set(routes)), routes


def test_tearing_one_site_down_leaves_the_other_byte_identical(two_sites):
    before = site_objects(two_sites["cabin_repeat"]["state"], "cabin", "cabin-tunnel")
    after = site_objects(two_sites["home_teardown"]["state"], "cabin", "cabin-tunnel")
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    print(
        "the other site's objects: %d lines before, diff after the teardown: %d lines"
        % (len(before.splitlines()), len(diff))
    )
    assert diff == [], "\n".join(diff[:80])
    # The other site really has objects of every kind in that comparison.
    objects = json.loads(before)
    assert all(objects[kind] for kind in objects), {k: len(v) for k, v in objects.items()}
    # And the torn-down site has none left.
    gone = json.loads(site_objects(two_sites["home_teardown"]["state"], "home", "home"))
    assert [t for t in gone.pop("tunnels") if not t.get("deleted_at")] == []
    assert all(not v for v in gone.values()), gone


def test_teardown_requests(two_sites):
    counted = writes(two_sites["home_teardown"]["requests"])
    print("teardown of one site: %s" % [r["route"] for r in two_sites["home_teardown"]["requests"]])
    assert ("DELETE", "DELETE /accounts/:id/access/tags/:id") in counted
    # Only the torn-down site's ids are touched.
    cabin = json.loads(site_objects(two_sites["cabin_repeat"]["state"], "cabin", "cabin-tunnel"))
    cabin_ids = {
        o["id"]
        for kind in ("tunnels", "dns_records", "access_apps", "access_policies", "service_tokens")
        for o in cabin[kind]
    }
    touched = {r["path"].rsplit("/", 1)[-1] for r in write_requests(two_sites["home_teardown"]["requests"])}
    assert not touched & cabin_ids


# ---------------------------------------------------------------------------- objects made outside the collection


def api(emulator, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(emulator.base_url + path, data=data, method=method)  # noqa: S310 - 127.0.0.1
    req.add_header("Authorization", "Bearer " + emulator.token)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - 127.0.0.1 only
        return json.loads(resp.read())["result"]


def failure(result, task):
    return result["homelab.mcp_edge.cloudflare_edge : " + task]["msg"]


def test_foreign_same_name_objects_are_refused_by_name_then_adopted(run_playbook, emulator, tmp_path):
    account, zone = emulator.account_id, emulator.zone_id
    tunnel = api(
        emulator,
        "POST",
        "/accounts/%s/cfd_tunnel" % account,
        {"name": "home", "config_src": "local", "tunnel_secret": base64.b64encode(b"m" * 32).decode()},
    )
    app = api(
        emulator,
        "POST",
        "/accounts/%s/access/apps" % account,
        {"type": "self_hosted", "name": "home: n8n", "domain": "n8n.example.com"},
    )
    cname = api(
        emulator,
        "POST",
        "/zones/%s/dns_records" % zone,
        {"type": "CNAME", "name": "time.example.com", "content": "elsewhere.example.net", "proxied": True},
    )
    base = {
        "edge_secrets_dir": str(tmp_path / "secrets"),
        "edge_services": [
            {"name": "time", "kind": "mcp", "port": 8101, "access": ["owner"]},
            {"name": "n8n", "kind": "n8n", "port": 5678, "access": ["owner"]},
        ],
    }

    def step(adopt, **kwargs):
        emulator.clear_requests()
        result = run_playbook("edge.yml", extra_vars=dict(base, cloudflare_edge_adopt=adopt), **kwargs)
        result.assert_no_traceback()
        return result, writes(emulator.requests())

    # The tunnel first (check mode alike): refused by name and id, nothing written.
    for check in (True, False):
        result, done = step([], check=check)
        assert result.rc != 0 and done == []
        msg = failure(result, "Tunnel | Why it failed (the module's message; it never holds a secret)")
        assert "tunnel 'home' (id %s) exists but was not created by owner 'home'" % tunnel["id"] in msg
        assert "cloudflare_edge_adopt: [tunnel]" in msg and "censored" not in msg

    # Check and diff mode see all three adoptions, write nothing.
    result, done = step(["tunnel", "applications", "dns"], check=True, diff=True)
    assert result.rc == 0, result.output[-3000:]
    assert done == [] and result.changed > 0

    # The tunnel adopted: the application is refused next, before any Access write.
    result, done = step(["tunnel"])
    assert result.rc != 0
    assert done == [("PATCH", "PATCH /accounts/:id/cfd_tunnel/:id")]
    msg = failure(result, "Access | Why it failed (the module's message; it never holds a secret)")
    assert (
        "Access application 'home: n8n' (id %s, domain n8n.example.com) exists but was not created by site 'home'"
        % app["id"]
        in msg
    )
    assert "cloudflare_edge_adopt: [applications]" in msg

    # Then the CNAME, before any DNS write.
    result, done = step(["tunnel", "applications"])
    assert result.rc != 0
    assert not [w for w in done if "dns_records" in w[1]]
    msg = failure(result, "DNS | Why it failed")
    assert "CNAME time.example.com (id %s): it carries no ownership marker" % cname["id"] in msg
    assert "cloudflare_edge_adopt: [dns]" in msg

    # Adopted: the same objects (same ids) now carry the site's marks.
    result, done = step(["tunnel", "applications", "dns"])
    assert result.rc == 0, result.output[-3000:]
    state = emulator.state()
    record = next(r for r in state["dns_records"] if r["id"] == cname["id"])
    assert record["comment"] == MARK + " home" and record["content"] == tunnel["id"] + ".cfargotunnel.com"
    assert next(a for a in state["access_apps"] if a["id"] == app["id"])["tags"] == ["mcp_edge home"]
    assert [t["id"] for t in state["tunnels"] if t["name"] == "home" and not t.get("deleted_at")] == [tunnel["id"]]

    # From now on they are the site's: no adopt needed, nothing changes.
    result, done = step([])
    assert result.rc == 0 and result.changed == 0 and done == []
