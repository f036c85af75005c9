# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The cloudflare_access_* modules through ansible-playbook against the emulator.

One module-scoped sequence (check on empty -> apply -> repeat -> check update -> update -> repeat ->
teardown) is run once and its snapshots are asserted by several tests; bad input,
the secret scan at -vvv and the fault run are separate runs.
"""

from __future__ import annotations

import hashlib

import pytest
from conftest import write_requests

ACCESS_KINDS = ("service_tokens", "access_groups", "access_policies", "access_apps")
VOLATILE = {"id", "aud", "created_at", "updated_at", "expires_at", "client_id", "last_seen_at", "app_count"}


def access_objects(emulator):
    state = emulator.state()
    return {kind: state.get(kind, []) for kind in ACCESS_KINDS}


def comparable(objects):
    """Access state with ids replaced by the names they point to (so two runs compare equal)."""
    names = {}
    for kind in ACCESS_KINDS:
        for obj in objects[kind]:
            names[obj["id"]] = "%s:%s" % (kind, obj["name"])

    def scrub(value):
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in sorted(value.items()) if k not in VOLATILE and not k.startswith("_")}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    return {kind: sorted((scrub(o) for o in objects[kind]), key=lambda o: o["name"]) for kind in ACCESS_KINDS}


def names(objects, kind):
    return sorted(o["name"] for o in objects[kind])


def run_step(runner, emulator, snapshots, key, playbook, **kwargs):
    emulator.clear_requests()
    result = runner(playbook, **kwargs)
    snapshots[key] = {"result": result, "requests": emulator.requests(), "objects": access_objects(emulator)}
    return result


@pytest.fixture(scope="module")
def lifecycle(_runner, emulator, tmp_path_factory):
    emulator.reset()
    emulator.clear_faults()
    secret_dir = tmp_path_factory.mktemp("access-secrets")
    base = {"access_secret_dir": str(secret_dir)}
    update = dict(base, access_phase="update")
    snaps = {"secret_dir": secret_dir}
    steps = [
        ("check_empty", "access_lifecycle.yml", dict(extra_vars=base, check=True, diff=True)),
        ("apply", "access_lifecycle.yml", dict(extra_vars=base, diff=True)),
        ("repeat", "access_lifecycle.yml", dict(extra_vars=base)),
        ("check_update", "access_lifecycle.yml", dict(extra_vars=update, check=True, diff=True)),
        ("update", "access_lifecycle.yml", dict(extra_vars=update, diff=True)),
        ("update_repeat", "access_lifecycle.yml", dict(extra_vars=update)),
        ("teardown", "access_teardown.yml", {}),
    ]
    for key, playbook, kwargs in steps:
        result = run_step(_runner, emulator, snaps, key, playbook, **kwargs)
        assert result.rc == 0, "%s failed:\n%s" % (key, result.output[-4000:])
    return snaps


def test_check_mode_on_empty_account_writes_nothing(lifecycle):
    snap = lifecycle["check_empty"]
    res = snap["result"]
    assert write_requests(snap["requests"]) == []
    assert all(not objs for objs in snap["objects"].values())
    for task in ("Service token claude-desktop", "Group admins", "Policy owner", "Policy mcp-clients"):
        assert res[task]["changed"] is True, task
    app = res["Application time"]
    assert app["changed"] is True and app["id"] is None and app["aud"] is None
    # Names created by earlier (pretend) tasks are warned about, not fatal, in check mode.
    assert any("check mode assumes an earlier task creates it" in w for w in res["Policy mcp-clients"]["warnings"])
    assert app["diff"]["before"] == {} and app["diff"]["after"]["domain"] == "time.example.com"


def test_apply_creates_everything(lifecycle):
    snap = lifecycle["apply"]
    res, objs = snap["result"], snap["objects"]
    assert names(objs, "service_tokens") == ["ci", "claude-desktop"]
    assert names(objs, "access_groups") == ["admins"]
    assert names(objs, "access_policies") == ["mcp-clients", "owner"]
    assert names(objs, "access_apps") == ["n8n", "time"]
    ids = {o["name"]: o["id"] for kind in objs.values() for o in kind}
    owner = next(p for p in objs["access_policies"] if p["name"] == "owner")
    assert owner["include"] == [{"email": {"email": "me@example.com"}}, {"group": {"id": ids["admins"]}}]
    assert owner["require"] == [{"login_method": {"id": "10000000-0000-4000-8000-000000000002"}}]
    mcp = next(p for p in objs["access_policies"] if p["name"] == "mcp-clients")
    assert mcp["include"] == [
        {"service_token": {"token_id": ids["claude-desktop"]}},
        {"service_token": {"token_id": ids["ci"]}},
    ]
    time_app = next(a for a in objs["access_apps"] if a["name"] == "time")
    assert [p["id"] for p in sorted(time_app["policies"], key=lambda p: p["precedence"])] == [
        ids["owner"],
        ids["mcp-clients"],
    ]
    result = res["Application time"]
    assert result["changed"] is True and result["aud"] == time_app["aud"] and result["id"] == time_app["id"]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["policies"] == [ids["owner"], ids["mcp-clients"]]
    n8n = next(a for a in objs["access_apps"] if a["name"] == "n8n")
    assert [d["uri"] for d in n8n["destinations"]] == ["n8n.example.com", "n8n.example.com/webhook"]
    idps = res["Identity providers"]["identity_providers"]
    assert idps == [{"id": "10000000-0000-4000-8000-000000000002", "name": "GitHub", "type": "github"}]
    # Secret-returning tasks are censored in the output, but their secrets reached the files.
    assert res["Service token claude-desktop"]["changed"] is True
    assert "client_secret" not in res["Service token claude-desktop"]
    for tok in objs["service_tokens"]:
        secret = (lifecycle["secret_dir"] / ("%s.secret" % tok["name"])).read_text()
        assert hashlib.sha256(secret.encode()).hexdigest() == tok["_client_secret_sha256"]


def test_repeat_changes_nothing_with_reads_only(lifecycle):
    snap = lifecycle["repeat"]
    res = snap["result"]
    assert write_requests(snap["requests"]) == []
    assert res.changed == 0, res.stats
    assert comparable(snap["objects"]) == comparable(lifecycle["apply"]["objects"])
    # Fewest calls: one listing per resource kind a task needs (account id given).
    expected = {
        "Group admins": 1,  # groups
        "Policy owner": 3,  # policies, groups, identity providers
        "Policy mcp-clients": 2,  # policies, service tokens
        "Application time": 3,  # app by name, identity providers, policies
        "Application n8n": 2,  # app by name, policies
        "Identity providers": 1,
    }
    for task, count in expected.items():
        assert res[task]["api_requests"] == count, (task, res[task]["api_requests"])
    assert all(r["method"] == "GET" for r in snap["requests"])
    assert len(snap["requests"]) == sum(expected.values()) + 2  # + one listing per service token task


def test_check_mode_update_reports_and_writes_nothing(lifecycle):
    snap = lifecycle["check_update"]
    res = snap["result"]
    assert write_requests(snap["requests"]) == []
    assert comparable(snap["objects"]) == comparable(lifecycle["apply"]["objects"])
    assert res["Group admins"]["changed"] is True
    assert res["Group admins"]["diff"]["after"]["exclude"] == [{"geo": {"country_code": "KP"}}]
    assert res["Policy owner"]["changed"] is True
    assert res["Policy mcp-clients"]["changed"] is False
    assert res["Application time"]["changed"] is True
    assert res["Service token ci"]["changed"] is True
    assert res["Service token claude-desktop"]["changed"] is False  # expiry is a year away


def test_update_changes_only_what_was_asked(lifecycle):
    snap = lifecycle["update"]
    res, objs = snap["result"], snap["objects"]
    ids = {o["name"]: o["id"] for kind in objs.values() for o in kind}
    assert [(r["method"], r["route"]) for r in write_requests(snap["requests"])] == [
        ("PUT", "PUT /accounts/:id/access/service_tokens/:id"),
        ("PUT", "PUT /accounts/:id/access/groups/:id"),
        ("PUT", "PUT /accounts/:id/access/policies/:id"),
        ("PUT", "PUT /accounts/:id/access/apps/:id"),
        ("PUT", "PUT /accounts/:id/access/apps/:id"),
    ]
    owner = next(p for p in objs["access_policies"] if p["name"] == "owner")
    assert owner["session_duration"] == "12h"  # left out: kept
    assert owner["include"][1] == {"email_domain": {"domain": "example.org"}}
    diff = res["Policy owner"]["diff"]
    assert diff["before"]["include"] != diff["after"]["include"] and diff["before"]["decision"] == "allow"
    time_app = next(a for a in objs["access_apps"] if a["name"] == "time")
    assert [p["id"] for p in sorted(time_app["policies"], key=lambda p: p["precedence"])] == [
        ids["mcp-clients"],
        ids["owner"],
    ]
    assert time_app["custom_deny_message"] == "Ask the owner" and time_app["tags"] == ["mcp"]
    n8n = next(a for a in objs["access_apps"] if a["name"] == "n8n")
    assert n8n["domain"] == "automation.example.com"
    assert [d["uri"] for d in n8n["destinations"]] == ["automation.example.com", "n8n.example.com/webhook"]
    assert next(t for t in objs["service_tokens"] if t["name"] == "ci")["duration"] == "8760h"
    again = lifecycle["update_repeat"]
    assert write_requests(again["requests"]) == [] and again["result"].changed == 0


def test_teardown(lifecycle):
    snap = lifecycle["teardown"]
    assert all(not objs for objs in snap["objects"].values())
    assert [r["method"] for r in write_requests(snap["requests"])] == ["DELETE"] * 7


def test_bad_input_fails_cleanly(run_playbook, emulator):
    res = run_playbook("access_errors.yml")
    assert "Traceback" not in res.output
    expected = {
        "Unknown service token": "include[1].service_token: no service token named 'no-such-token'; existing: 'robot'",
        "Bad email": "include[0].email: 'not-an-email' is not an email address",
        "Bad CIDR": "include[0].ip: '10.0.0.1/8' has host bits set; did you mean 10.0.0.0/8?",
        "Bad country": "exclude[0].geo: 'Germany' is not a country code (expected a two-letter ISO 3166-1",
        "Unknown rule type": "include[0]: unknown rule type 'mail'; friendly rule types are any_valid_service_token",
        "Bad decision": "value of decision must be one of: allow, deny, non_identity, bypass, got: permit",
        "Policy without decision": "policy 'p6' does not exist yet; to create it, give decision (one of allow, deny",
        "Unknown policy for application": "policies[1]: no reusable Access policy named 'nobody'; existing: 'robots'",
        "Unknown identity provider": "allowed_idps[0]: no identity provider named 'Okta'; existing: 'GitHub', 'One",
        "Delete linked policy": "policy 'robots' is still linked to application(s) 'bots'",
        "Token without no_log": "creating service token 'leaky' returns its client_secret, and this task would print",
        "Bad refresh window": "refresh_if_expires_within: 'soon' is not a duration (expected e.g. 720h or 30d)",
        "Domain outside the account": "does not belong to a zone of this account",
    }
    for task, message in expected.items():
        result = res[task]
        assert result.get("failed") is True, task
        assert message in result["msg"], (task, result["msg"])
    objs = access_objects(emulator)
    assert names(objs, "service_tokens") == ["robot"]
    assert names(objs, "access_policies") == ["robots"]
    assert names(objs, "access_groups") == []
    assert names(objs, "access_apps") == ["bots"]


def test_secrets_never_printed_even_at_vvv(run_playbook, emulator, tmp_path):
    res = run_playbook(
        "access_secrets.yml", extra_vars={"access_secret_dir": str(tmp_path)}, verbosity=3, json_output=False
    )
    assert res.rc == 0, res.output[-3000:]
    client_id, created = (tmp_path / "created").read_text().split()
    client_id2, rotated = (tmp_path / "rotated").read_text().split()
    assert client_id == client_id2 and created != rotated and len(rotated) >= 32
    for secret in (created, rotated):
        assert secret not in res.output
    assert "has_secret=False" in res.output and client_id in res.output  # the client id is not a secret
    [tok] = emulator.state()["service_tokens"]
    assert hashlib.sha256(rotated.encode()).hexdigest() == tok["_client_secret_sha256"]
    assert "the output has been hidden" in res.output


def test_fault_run_ends_in_the_same_state(_runner, emulator, lifecycle, tmp_path):
    emulator.reset()
    emulator.clear_faults()
    emulator.faults(rate_429=0.3, rate_5xx=0.1, rate_5xx_after_write=0.05, retry_after=1, seed=11)
    try:
        res = _runner("access_lifecycle.yml", extra_vars={"access_secret_dir": str(tmp_path)})
        faults = emulator.counters()["faults"]
    finally:
        emulator.clear_faults()
    assert res.rc == 0, res.output[-4000:]
    assert faults > 0
    objs = access_objects(emulator)
    for kind in ACCESS_KINDS:
        assert len(names(objs, kind)) == len(set(names(objs, kind))), "duplicate %s" % kind
    assert comparable(objs) == comparable(lifecycle["apply"]["objects"])
    for tok in objs["service_tokens"]:  # every secret written is the valid one
        secret = (tmp_path / ("%s.secret" % tok["name"])).read_text()
        assert hashlib.sha256(secret.encode()).hexdigest() == tok["_client_secret_sha256"]
