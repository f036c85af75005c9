# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The edge role's tunnel health alert (cloudflare_edge_tunnel_alerts) through ansible-playbook (edge.yml).

One module-scoped sequence against the emulator: the role without alerts (no Notifications request at
all, so a token without that permission keeps working), with alerts (the policy watches the site's
tunnel, notifies the addresses and the site-prefixed webhook), repeated (0 writes), fewer statuses (one
update in place), teardown (policy and webhook gone). Bad settings fail before any request, and the
webhook's secret appears in no output, not even at -vvv.
"""

from __future__ import annotations

import pytest
from conftest import write_requests

SECRET = "cf-webhook-s3cr3t-5f0e2a9c71d84b36"
ALERTS = {
    "emails": ["ops@example.com"],
    "webhooks": [{"name": "ntfy", "url": "https://ntfy.example.net/homelab", "secret": SECRET}],
    "statuses": ["down", "degraded", "healthy"],
}


def alerting(requests):
    return [r for r in requests if "/alerting/" in r["path"]]


@pytest.fixture(scope="module")
def runs(_runner, emulator, tmp_path_factory):
    emulator.reset()
    emulator.clear_faults()
    base = {"edge_secrets_dir": str(tmp_path_factory.mktemp("alerts") / "secrets")}
    steps = [
        ("without", dict(extra_vars=base)),
        ("with", dict(extra_vars=dict(base, cloudflare_edge_tunnel_alerts=ALERTS), verbosity=3, json_output=False)),
        ("again", dict(extra_vars=dict(base, cloudflare_edge_tunnel_alerts=ALERTS))),
        ("fewer", dict(extra_vars=dict(base, cloudflare_edge_tunnel_alerts=dict(ALERTS, statuses=["down"])))),
        (
            "teardown",
            dict(
                extra_vars=dict(
                    base, edge_state="absent", cloudflare_edge_tunnel_alerts=dict(ALERTS, statuses=["down"])
                )
            ),
        ),
    ]
    out = {}
    for name, kwargs in steps:
        emulator.clear_requests()
        result = _runner("edge.yml", **kwargs)
        assert result.rc == 0, "%s failed:\n%s" % (name, result.output[-4000:])
        result.assert_no_traceback()
        out[name] = {"result": result, "requests": emulator.requests(), "state": emulator.state()}
    return out


def test_without_alerts_the_role_sends_no_notification_request(runs):
    assert alerting(runs["without"]["requests"]) == []
    assert runs["without"]["state"]["alerting_policies"] == []


def test_the_policy_watches_the_sites_tunnel_and_notifies_both_ways(runs):
    state = runs["with"]["state"]
    (tunnel,) = [t for t in state["tunnels"] if not t.get("deleted_at")]
    (hook,) = state["alerting_webhooks"]
    (policy,) = state["alerting_policies"]
    assert hook["name"] == "home: ntfy" and hook["url"] == ALERTS["webhooks"][0]["url"]
    assert policy["name"] == "home: tunnel health"
    assert policy["alert_type"] == "tunnel_health_event" and policy["enabled"] is True
    assert policy["filters"]["tunnel_id"] == [tunnel["id"]]
    assert sorted(policy["filters"]["new_status"]) == sorted(
        ["TUNNEL_STATUS_TYPE_DOWN", "TUNNEL_STATUS_TYPE_DEGRADED", "TUNNEL_STATUS_TYPE_HEALTHY"]
    )
    assert policy["mechanisms"]["email"] == [{"id": "ops@example.com"}]
    assert policy["mechanisms"]["webhooks"] == [{"id": hook["id"]}]
    assert "managed-by: homelab.mcp_edge home" in policy["description"]
    # Two writes for the alert: the webhook, then the policy.
    assert [r["route"] for r in write_requests(alerting(runs["with"]["requests"]))] == [
        "POST /accounts/:id/alerting/v3/destinations/webhooks",
        "POST /accounts/:id/alerting/v3/policies",
    ]


def test_the_webhook_secret_is_in_no_output(runs):
    result = runs["with"]["result"]
    assert SECRET not in result.output
    assert "ntfy" in result.output  # the loop label still says which webhook


def test_a_repeat_writes_nothing(runs):
    again = runs["again"]
    assert again["result"].changed == 0
    assert write_requests(again["requests"]) == []
    # One webhook: its task lists the destinations, the policy task lists the policies and the destinations.
    assert [r["route"] for r in alerting(again["requests"])] == [
        "GET /accounts/:id/alerting/v3/destinations/webhooks",
        "GET /accounts/:id/alerting/v3/policies",
        "GET /accounts/:id/alerting/v3/destinations/webhooks",
    ]


def test_fewer_statuses_update_the_policy_in_place(runs):
    before = runs["again"]["state"]["alerting_policies"][0]
    (after,) = runs["fewer"]["state"]["alerting_policies"]
    assert after["id"] == before["id"]
    assert after["filters"]["new_status"] == ["TUNNEL_STATUS_TYPE_DOWN"]
    assert [r["route"] for r in write_requests(runs["fewer"]["requests"])] == [
        "PUT /accounts/:id/alerting/v3/policies/:id"
    ]


def test_teardown_removes_the_policy_and_the_webhook(runs):
    state = runs["teardown"]["state"]
    assert state["alerting_policies"] == [] and state["alerting_webhooks"] == []


@pytest.mark.parametrize(
    ("alerts", "expect"),
    [
        (
            dict(ALERTS, webhooks=[dict(ALERTS["webhooks"][0], url="https://ntfy.example.net:8443/x")]),
            "cloudflare_edge_tunnel_alerts.webhooks[0].url: Cloudflare sends notifications to port 80 or 443 only",
        ),
        (dict(ALERTS, emails=["ops"]), "cloudflare_edge_tunnel_alerts.emails[0]: 'ops' is not an e-mail address"),
        (dict(ALERTS, statuses=["offline"]), "cloudflare_edge_tunnel_alerts.statuses must be a non-empty list"),
        (
            dict(ALERTS, email=["ops@example.com"]),
            "cloudflare_edge_tunnel_alerts.email. Supported parameters include: emails, statuses, webhooks",
        ),
    ],
)
def test_bad_alert_settings_fail_before_any_request(_runner, reset_emulator, tmp_path, alerts, expect):
    result = _runner(
        "edge.yml", extra_vars={"edge_secrets_dir": str(tmp_path / "s"), "cloudflare_edge_tunnel_alerts": alerts}
    )
    assert result.rc != 0
    result.assert_no_traceback()
    assert reset_emulator.requests() == []
    assert expect in result.output
    assert SECRET not in result.output


def test_a_webhook_cloudflare_refuses_says_why_and_not_the_secret(_runner, reset_emulator, tmp_path):
    # Passes preflight (https, port 443) but Cloudflare's test message cannot reach a private address.
    hook = dict(ALERTS["webhooks"][0], url="https://192.168.1.10/hook")
    result = _runner(
        "edge.yml",
        extra_vars={
            "edge_secrets_dir": str(tmp_path / "s"),
            "cloudflare_edge_tunnel_alerts": dict(ALERTS, webhooks=[hook]),
        },
        verbosity=3,
        json_output=False,
    )
    assert result.rc != 0
    result.assert_no_traceback()
    assert "failed to send the test message to the webhook" in result.output
    assert SECRET not in result.output
    assert not reset_emulator.state()["alerting_policies"]
