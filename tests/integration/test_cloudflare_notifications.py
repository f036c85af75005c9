# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""cloudflare_notification_webhook and cloudflare_notification_policy through ansible-playbook against the emulator.

One module-scoped sequence (check on an empty account -> apply -> repeat -> check a changed filter -> change it ->
repeat -> delete) is run once and its snapshots are asserted by several tests; a foreign policy, bad input and the
-vvv secret scan are separate runs.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request

import pytest
from conftest import write_requests

PLAYBOOK = "notifications.yml"
POLICY = "Policy tunnel down"
WEBHOOK = "Webhook alerts"
POLICY_NAME = "home: tunnel down"
SECRET = "s3cr3t-webhook-value-0a1b2c3d"  # the playbook's default secret
MARK = "managed-by: homelab.mcp_edge home"
POLICIES_ROUTE = "/accounts/:id/alerting/v3/policies"
WEBHOOKS_ROUTE = "/accounts/:id/alerting/v3/destinations/webhooks"


def routes(requests):
    """``METHOD route`` of each request, in order (ids as ``:id``)."""
    return [r["route"] for r in requests]


def alerting_state(emulator):
    state = emulator.state()
    return {"policies": state["alerting_policies"], "webhooks": state["alerting_webhooks"]}


def run_step(runner, emulator, snapshots, key, **kwargs):
    emulator.clear_requests()
    result = runner(PLAYBOOK, **kwargs)
    snapshots[key] = {"result": result, "requests": emulator.requests(), "state": alerting_state(emulator)}
    return result


@pytest.fixture(scope="module")
def lifecycle(_runner, emulator):
    emulator.reset()
    emulator.clear_faults()
    changed = {"notif_new_status": ["down"]}
    steps = [
        ("check_empty", dict(check=True, diff=True)),
        ("apply", dict(diff=True)),
        ("repeat", {}),
        ("check_change", dict(extra_vars=changed, check=True, diff=True)),
        ("change", dict(extra_vars=changed, diff=True)),
        ("change_repeat", dict(extra_vars=changed)),
        ("absent", dict(extra_vars={"notif_state": "absent"}, diff=True)),
    ]
    snaps = {}
    for key, kwargs in steps:
        result = run_step(_runner, emulator, snaps, key, **kwargs)
        assert result.rc == 0, "%s failed:\n%s" % (key, result.output[-4000:])
        result.assert_no_traceback()
    return snaps


def test_check_mode_on_an_empty_account_writes_nothing_and_reports_changes(lifecycle):
    snap = lifecycle["check_empty"]
    res = snap["result"]
    assert write_requests(snap["requests"]) == []
    assert snap["state"] == {"policies": [], "webhooks": []}
    assert res[WEBHOOK]["changed"] is True and res[POLICY]["changed"] is True
    assert res[POLICY]["id"] is None and res[POLICY]["diff"]["before"] == {}
    after = res[POLICY]["diff"]["after"]
    assert after["filters"]["new_status"] == ["TUNNEL_STATUS_TYPE_DEGRADED", "TUNNEL_STATUS_TYPE_DOWN"]
    # The webhook the previous (pretend) task would create is a warning, not a failure, in check mode.
    assert any("check mode assumes an earlier task creates it" in w for w in res[POLICY]["warnings"])


def test_the_first_run_creates_both_with_one_write_each(lifecycle):
    snap = lifecycle["apply"]
    res, state = snap["result"], snap["state"]
    assert routes(snap["requests"]) == [
        "GET " + WEBHOOKS_ROUTE,
        "POST " + WEBHOOKS_ROUTE,
        "GET " + POLICIES_ROUTE,
        "GET " + WEBHOOKS_ROUTE,
        "POST " + POLICIES_ROUTE,
    ]
    assert res[WEBHOOK]["api_requests"] == 2 and res[POLICY]["api_requests"] == 3
    [hook] = state["webhooks"]
    [policy] = state["policies"]
    assert hook["name"] == "home-alerts" and hook["_secret_sha256"] == hashlib.sha256(SECRET.encode()).hexdigest()
    assert policy["name"] == POLICY_NAME and policy["alert_type"] == "tunnel_health_event"
    assert policy["description"] == "The home tunnel lost connectors; " + MARK
    assert policy["mechanisms"] == {"email": [{"id": "ops@example.com"}], "webhooks": [{"id": hook["id"]}]}
    assert policy["filters"]["new_status"] == ["TUNNEL_STATUS_TYPE_DEGRADED", "TUNNEL_STATUS_TYPE_DOWN"]
    assert res[POLICY]["id"] == policy["id"] and res[WEBHOOK]["id"] == hook["id"]
    assert res[POLICY]["diff"]["before"] == {} and res[POLICY]["diff"]["after"]["id"] == policy["id"]


def test_the_second_run_changes_nothing_and_writes_nothing(lifecycle):
    snap = lifecycle["repeat"]
    assert snap["result"].changed == 0
    assert write_requests(snap["requests"]) == []
    # One listing per kind and task: the webhook task lists webhooks, the policy task policies and webhooks.
    assert routes(snap["requests"]) == ["GET " + WEBHOOKS_ROUTE, "GET " + POLICIES_ROUTE, "GET " + WEBHOOKS_ROUTE]
    assert snap["state"] == lifecycle["apply"]["state"]


def test_check_mode_shows_a_changed_filter_and_writes_nothing(lifecycle):
    snap = lifecycle["check_change"]
    res = snap["result"][POLICY]
    assert write_requests(snap["requests"]) == [] and snap["state"] == lifecycle["apply"]["state"]
    assert res["changed"] is True and snap["result"][WEBHOOK]["changed"] is False
    assert res["diff"]["before"]["filters"]["new_status"] == ["TUNNEL_STATUS_TYPE_DEGRADED", "TUNNEL_STATUS_TYPE_DOWN"]
    assert res["diff"]["after"]["filters"]["new_status"] == ["TUNNEL_STATUS_TYPE_DOWN"]


def test_a_changed_filter_updates_the_policy_in_place_with_one_put(lifecycle):
    snap = lifecycle["change"]
    writes = write_requests(snap["requests"])
    [before] = lifecycle["apply"]["state"]["policies"]
    assert [(w["method"], w["path"].rsplit("/", 1)[1]) for w in writes] == [("PUT", before["id"])]
    [policy] = snap["state"]["policies"]
    assert policy["id"] == before["id"] and policy["created"] == before["created"]
    assert policy["filters"] == {"new_status": ["TUNNEL_STATUS_TYPE_DOWN"], "tunnel_id": before["filters"]["tunnel_id"]}
    assert {k: v for k, v in policy.items() if k not in ("filters", "modified")} == {
        k: v for k, v in before.items() if k not in ("filters", "modified")
    }
    diff = snap["result"][POLICY]["diff"]
    assert diff["before"]["filters"]["new_status"] != diff["after"]["filters"]["new_status"]
    repeat = lifecycle["change_repeat"]
    assert repeat["result"].changed == 0 and write_requests(repeat["requests"]) == []


def test_absent_deletes_the_policy_then_the_webhook(lifecycle):
    snap = lifecycle["absent"]
    [policy] = lifecycle["change"]["state"]["policies"]
    [hook] = lifecycle["change"]["state"]["webhooks"]
    assert [(w["method"], w["path"].rsplit("/", 1)[1]) for w in write_requests(snap["requests"])] == [
        ("DELETE", policy["id"]),
        ("DELETE", hook["id"]),
    ]
    assert snap["state"] == {"policies": [], "webhooks": []}
    assert snap["result"][POLICY]["diff"] == {"before": snap["result"][POLICY]["policy"], "after": {}}


# --------------------------------------------------------------------------- foreign objects


def api(emulator, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(emulator.base_url + path, data=data, method=method)  # noqa: S310 - 127.0.0.1
    req.add_header("Authorization", "Bearer " + emulator.token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - 127.0.0.1 only
        return json.loads(resp.read())["result"]


def make_foreign_policy(emulator):
    body = {
        "name": POLICY_NAME,
        "alert_type": "tunnel_health_event",
        "enabled": True,
        "description": "made in the dashboard",
        "mechanisms": {"email": [{"id": "someone@example.org"}]},
    }
    return api(emulator, "POST", "/accounts/%s/alerting/v3/policies" % emulator.account_id, body)["id"]


def test_a_foreign_policy_of_the_same_name_is_not_touched_unless_adopted(run_playbook, emulator):
    foreign_id = make_foreign_policy(emulator)
    [original] = alerting_state(emulator)["policies"]
    emulator.clear_requests()
    result = run_playbook(PLAYBOOK, extra_vars={"notif_webhook": False})
    assert result.rc != 0
    result.assert_no_traceback()
    msg = result[POLICY]["msg"]
    assert "notification policy 'home: tunnel down' (id %s" % foreign_id in msg
    assert "it carries no ownership marker" in msg and "adopt: true" in msg and "Nothing was changed" in msg
    assert write_requests(emulator.requests()) == []
    assert alerting_state(emulator)["policies"] == [original]

    # state=absent leaves it alone, with a warning.
    emulator.clear_requests()
    result = run_playbook(PLAYBOOK, extra_vars={"notif_webhook": False, "notif_state": "absent"})
    assert result.rc == 0 and result[POLICY]["changed"] is False
    assert any("left alone" in w for w in result[POLICY]["warnings"])
    assert write_requests(emulator.requests()) == [] and alerting_state(emulator)["policies"] == [original]

    # adopt: true takes it over in place (same id, one PUT, the marker added); the next run is a no-op.
    emulator.clear_requests()
    result = run_playbook(PLAYBOOK, extra_vars={"notif_webhook": False, "notif_adopt": True}, diff=True)
    assert result.rc == 0 and result[POLICY]["adopted"] is True
    assert [(w["method"], w["path"].rsplit("/", 1)[1]) for w in write_requests(emulator.requests())] == [
        ("PUT", foreign_id)
    ]
    [adopted] = alerting_state(emulator)["policies"]
    assert adopted["id"] == foreign_id and adopted["description"] == "The home tunnel lost connectors; " + MARK
    assert adopted["mechanisms"] == {"email": [{"id": "ops@example.com"}]}
    again = run_playbook(PLAYBOOK, extra_vars={"notif_webhook": False})
    assert again.rc == 0 and again.changed == 0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("extra_vars", "needle"),
    [
        ({"notif_alert_type": "tunnel_down_alert"}, "alert_type"),
        ({"notif_new_status": ["broken"]}, "filters.new_status[0]: 'broken' is not a tunnel status"),
        ({"notif_emails": ["ops at example.com"]}, "emails[0]: 'ops at example.com' is not an e-mail address"),
    ],
)
def test_bad_input_fails_before_any_request(run_playbook, emulator, extra_vars, needle):
    emulator.clear_requests()
    result = run_playbook(PLAYBOOK, extra_vars=dict(extra_vars, notif_webhook=False))
    assert result.rc != 0
    result.assert_no_traceback()
    msg = result[POLICY]["msg"]
    assert needle in msg, msg
    if "notif_alert_type" in extra_vars:
        assert "tunnel_health_event" in msg and "tunnel_down_alert" in msg  # names what would be valid
    assert emulator.requests() == []


def test_a_webhook_port_cloudflare_cannot_reach_fails_before_any_request(run_playbook, emulator, tmp_path):
    playbook = tmp_path / "port.yml"
    task = {
        "name": "Webhook on a port",
        "homelab.mcp_edge.cloudflare_notification_webhook": {"name": "x", "url": "https://alerts.example.net:8443/"},
    }
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
    emulator.clear_requests()
    result = run_playbook(playbook)
    assert (
        result.rc != 0
        and "url: Cloudflare sends notifications to port 80 or 443 only" in result["Webhook on a port"]["msg"]
    )
    assert emulator.requests() == []


# --------------------------------------------------------------------------- the secret


def test_the_webhook_secret_never_appears_at_vvv(run_playbook, emulator):
    secret = "Vvv-Secret-7c1f0e9d8b2a4c6e"
    extra = {"notif_secret": secret, "notif_update_secret": "always"}
    outputs = []
    for _round in range(2):  # a create, then an update that sends the secret again
        result = run_playbook(PLAYBOOK, extra_vars=extra, verbosity=3, diff=True, json_output=False)
        assert result.rc == 0, result.output[-3000:]
        outputs.append(result.output)
    assert all(secret not in out for out in outputs)
    assert "changed: [localhost]" in outputs[1]  # update_secret: always writes on every run
    state = json.dumps(emulator.state())
    assert secret not in state and hashlib.sha256(secret.encode()).hexdigest() in state


def test_a_token_without_notifications_is_told_which_permission_to_add(run_playbook, emulator):
    token = emulator.token_with("zone:read", "dns:edit", "tunnel:edit", "access:edit")
    result = run_playbook(PLAYBOOK, env={"CLOUDFLARE_API_TOKEN": token})
    assert result.rc != 0
    result.assert_no_traceback()
    msg = result[WEBHOOK]["msg"]
    assert "lacks the permission Account > Notifications > Edit" in msg and "Account | Notifications | Edit" in msg
    assert token not in result.output
