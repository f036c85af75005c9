# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The emulator's account notifications (``/accounts/{a}/alerting/v3/...``): answer shapes, the Notifications
permission, and each refusal by HTTP status, code and message (sources in docs/cloudflare-api-facts.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inprocess import DEFAULT_SEED, InProcessEmulator

TOKEN = "emulator-token-all-0000000000000000000000"
EDGE_TOKEN = "emulator-token-edge-000000000000000000000"  # zone, dns, tunnel, access: no notifications
ACCOUNT = "a0000000000000000000000000000001"
FREE_ACCOUNT = "a0000000000000000000000000000002"  # only a free zone: not entitled to webhooks
BASE = "/accounts/%s/alerting/v3" % ACCOUNT
POLICIES = BASE + "/policies"
WEBHOOKS = BASE + "/destinations/webhooks"
SECRET = "webhook-secret-9f8e7d6c5b4a"
TUNNEL = "7d2e1b4c-5a6f-4e8d-9c0b-1a2b3c4d5e6f"
NOTIFY_TOKENS = {"notify-read-token": ["notifications:read"], "notify-edit-token": ["notifications:edit"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    seed = json.loads(Path(DEFAULT_SEED).read_text(encoding="utf-8"))
    for value, permissions in NOTIFY_TOKENS.items():
        seed["tokens"].append({"value": value, "permissions": permissions})
    seed["accounts"].append({"id": FREE_ACCOUNT, "name": "Free only"})
    seed["zones"].append({"id": "c" + "0" * 30 + "9", "name": "free.example", "account_id": FREE_ACCOUNT})
    path = tmp_path_factory.mktemp("seed") / "seed.json"
    path.write_text(json.dumps(seed))
    emu = InProcessEmulator(str(path))
    yield emu
    emu.close()


def call(emu, method, path, body=None, token=TOKEN):
    return emu.api(method, path, body, token=token)


def refused(result, status, code, message):
    got_status, payload = result
    assert got_status == status and payload["success"] is False, result
    assert payload["errors"][0]["code"] == code, payload
    assert message in payload["errors"][0]["message"], payload
    return payload


def new_webhook(emu, **kw):
    body = {"name": "home-alerts", "url": "https://alerts.example.net/cloudflare", "secret": SECRET}
    body.update(kw)
    status, payload = call(emu, "POST", WEBHOOKS, body)
    assert status == 200 and payload["success"], payload
    return payload["result"]["id"]


def policy_body(**kw):
    body = {
        "name": "tunnel down",
        "alert_type": "tunnel_health_event",
        "enabled": True,
        "mechanisms": {"email": [{"id": "ops@example.com"}]},
        "filters": {"tunnel_id": [TUNNEL], "new_status": ["TUNNEL_STATUS_TYPE_DOWN"]},
    }
    body.update(kw)
    return body


# --------------------------------------------------------------------------- shapes


def test_policy_create_answers_the_id_only_and_the_list_is_one_page(emu):
    hook = new_webhook(emu)
    body = policy_body(mechanisms={"email": [{"id": "ops@example.com"}], "webhooks": [{"id": hook}]})
    status, payload = call(emu, "POST", POLICIES, body)
    assert status == 200 and list(payload["result"]) == ["id"]
    policy_id = payload["result"]["id"]
    status, listing = call(emu, "GET", POLICIES)
    assert status == 200 and listing["result_info"]["total_pages"] == 1 and listing["result_info"]["count"] == 1
    [policy] = listing["result"]
    assert policy["id"] == policy_id and policy["mechanisms"]["webhooks"] == [{"id": hook}]
    assert set(policy) == {
        "id",
        "name",
        "alert_type",
        "enabled",
        "description",
        "filters",
        "mechanisms",
        "created",
        "modified",
    }
    status, one = call(emu, "GET", POLICIES + "/" + policy_id)
    assert status == 200 and one["result"] == policy


def test_a_put_replaces_the_policy_and_a_delete_answers_no_result(emu):
    policy_id = call(emu, "POST", POLICIES, policy_body(description="first", alert_interval="30m"))[1]["result"]["id"]
    status, payload = call(emu, "PUT", POLICIES + "/" + policy_id, policy_body(enabled=False))
    assert status == 200 and payload["result"] == {"id": policy_id}
    policy = call(emu, "GET", POLICIES + "/" + policy_id)[1]["result"]
    # What the PUT left out is reset, as a replacement does.
    assert policy["enabled"] is False and policy["description"] == "" and "alert_interval" not in policy
    status, payload = call(emu, "DELETE", POLICIES + "/" + policy_id)
    assert status == 200 and payload["success"] is True and payload["result"] is None
    refused(call(emu, "GET", POLICIES + "/" + policy_id), 404, 17404, "Policy not found")


def test_webhook_answers_never_carry_the_secret(emu):
    hook = new_webhook(emu)
    listing = call(emu, "GET", WEBHOOKS)[1]
    one = call(emu, "GET", WEBHOOKS + "/" + hook)[1]
    assert listing["result"] == [one["result"]]
    assert set(one["result"]) == {"id", "name", "url", "type", "created_at", "last_success", "last_failure"}
    assert one["result"]["type"] == "generic"
    dump = json.dumps(emu.ctl("GET", "/state"))
    assert SECRET not in json.dumps(listing) + json.dumps(one) + dump
    stored = emu.ctl("GET", "/state")["alerting_webhooks"][0]
    assert stored["_secret_sha256"] and stored["_secret_sha256"] != SECRET


def test_a_webhook_put_without_a_secret_drops_it(emu):
    hook = new_webhook(emu)
    status, payload = call(emu, "PUT", WEBHOOKS + "/" + hook, {"name": "home-alerts", "url": "https://b.example.net/"})
    assert status == 200 and payload["result"] == {"id": hook}
    stored = emu.ctl("GET", "/state")["alerting_webhooks"][0]
    assert stored["url"] == "https://b.example.net/" and stored["_secret_sha256"] is None


def test_a_slack_url_gives_up_its_secret_part(emu):
    hook = new_webhook(emu, url="https://hooks.slack.com/services/T000/B000/XXXX", secret=None)
    one = call(emu, "GET", WEBHOOKS + "/" + hook)[1]["result"]
    assert (one["type"], one["url"]) == ("slack", "https://hooks.slack.com/services/T000/B000")
    assert emu.ctl("GET", "/state")["alerting_webhooks"][0]["_secret_sha256"]


def test_available_alerts_group_the_types_by_category(emu):
    status, payload = call(emu, "GET", BASE + "/available_alerts")
    assert status == 200
    tunnel = {a["type"]: a["display_name"] for a in payload["result"]["Tunnel"]}
    assert tunnel == {
        "tunnel_health_event": "Tunnel Health Alert",
        "tunnel_update_event": "Tunnel Creation or Deletion Event",
    }
    assert {a["type"] for a in payload["result"]["Access"]} == {
        "expiring_service_token_alert",
        "access_custom_certificate_expiration_type",
    }


def test_alerting_requests_are_logged_and_counted(emu):
    emu.ctl("DELETE", "/requests")
    new_webhook(emu)
    call(emu, "GET", POLICIES)
    call(emu, "POST", POLICIES, policy_body(alert_type="bogus"))
    log = emu.ctl("GET", "/requests")
    assert [(e["method"], e["route"], e["status"]) for e in log] == [
        ("POST", "POST /accounts/:id/alerting/v3/destinations/webhooks", 200),
        ("GET", "GET /accounts/:id/alerting/v3/policies", 200),
        ("POST", "POST /accounts/:id/alerting/v3/policies", 400),
    ]
    counters = emu.ctl("GET", "/counters")
    assert counters["writes"] == 2 and counters["reads"] == 1
    assert counters["by_route"]["POST /accounts/:id/alerting/v3/policies"] == 1


# --------------------------------------------------------------------------- the Notifications permission


def test_a_token_without_notifications_is_refused(emu):
    refused(call(emu, "GET", POLICIES, token=EDGE_TOKEN), 403, 10000, "Authentication error")
    refused(call(emu, "GET", WEBHOOKS, token="emulator-token-readonly-0000000000000000"), 403, 10000, "")


def test_notifications_read_lists_and_edit_writes(emu):
    assert call(emu, "GET", POLICIES, token="notify-read-token")[0] == 200
    refused(call(emu, "POST", POLICIES, policy_body(), token="notify-read-token"), 403, 10000, "Authentication error")
    assert call(emu, "POST", POLICIES, policy_body(), token="notify-edit-token")[0] == 200
    assert call(emu, "GET", BASE + "/available_alerts", token="notify-edit-token")[0] == 200


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"alert_type": "tunnel_down_alert"}, 17001, "Invalid alert type: 'tunnel_down_alert'"),
        ({"alert_type": None}, 17000, "alert_type is required"),
        ({"name": ""}, 17000, "name is required"),
        ({"enabled": "yes"}, 17000, "enabled is required"),
        ({"mechanisms": None}, 17000, "mechanisms is required"),
        ({"mechanisms": {"email": []}}, 17004, "at least one destination"),
        ({"mechanisms": {"email": [{"id": "not-an-address"}]}}, 17004, "Invalid email address: 'not-an-address'"),
        ({"mechanisms": {"email": [{"id": "a@b"}]}}, 17004, "Invalid email address"),
        ({"mechanisms": {"webhooks": [{"id": "nope"}]}}, 17004, "webhook destination 'nope' does not exist"),
        ({"mechanisms": {"sms": [{"id": "1"}]}}, 17004, "mechanisms.sms is not a delivery mechanism"),
        ({"filters": {"new_status": ["DOWN"]}}, 17003, "Invalid object selections"),
        ({"filters": {"tunnel": [TUNNEL]}}, 17003, "Invalid object selections"),
        ({"filters": {"tunnel_id": TUNNEL}}, 17000, "filters.tunnel_id must be a list of strings"),
    ],
)
def test_policy_refusals(emu, change, code, message):
    body = policy_body(**change)
    body = {k: v for k, v in body.items() if v is not None}
    refused(call(emu, "POST", POLICIES, body), 400, code, message)
    assert emu.ctl("GET", "/state")["alerting_policies"] == []


def test_a_put_is_validated_like_a_create(emu):
    policy_id = call(emu, "POST", POLICIES, policy_body())[1]["result"]["id"]
    refused(call(emu, "PUT", POLICIES + "/" + policy_id, {"enabled": False}), 400, 17000, "name is required")
    refused(call(emu, "PUT", POLICIES + "/unknown", policy_body()), 404, 17404, "Policy not found")


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"url": "https://alerts.example.net:8443/x"}, 17300, "port 80 or 443 only, not 8443"),
        ({"url": "http://192.168.1.10/hook"}, 17300, "192.168.1.10 is not a public address"),
        ({"url": "https://localhost/hook"}, 17300, "localhost is not a publicly resolvable host"),
        ({"url": "https://alerts.invalid/hook"}, 17300, "alerts.invalid is not a publicly resolvable host"),
        ({"url": "ftp://alerts.example.net/"}, 17000, "url must be an http or https URL"),
        ({"url": None}, 17000, "url is required"),
        ({"name": " "}, 17000, "name is required"),
        ({"secret": 5}, 17000, "secret must be a string"),
    ],
)
def test_webhook_refusals(emu, change, code, message):
    body = {"name": "home-alerts", "url": "https://alerts.example.net/cloudflare", **change}
    body = {k: v for k, v in body.items() if v is not None}
    refused(call(emu, "POST", WEBHOOKS, body), 400, code, message)
    assert emu.ctl("GET", "/state")["alerting_webhooks"] == []


def test_webhooks_need_a_pro_zone_in_the_account(emu):
    path = "/accounts/%s/alerting/v3/destinations/webhooks" % FREE_ACCOUNT
    body = {"name": "x", "url": "https://alerts.example.net/"}
    refused(call(emu, "POST", path, body), 400, 17200, "not entitled to webhook destinations")
    # Policies need no plan.
    assert call(emu, "POST", "/accounts/%s/alerting/v3/policies" % FREE_ACCOUNT, policy_body())[0] == 200


def test_objects_of_another_account_are_not_found(emu):
    hook = new_webhook(emu)
    other = "/accounts/%s/alerting/v3/destinations/webhooks/%s" % (FREE_ACCOUNT, hook)
    refused(call(emu, "GET", other), 404, 17404, "Webhook not found")
    body = policy_body(mechanisms={"webhooks": [{"id": hook}]})
    refused(call(emu, "POST", "/accounts/%s/alerting/v3/policies" % FREE_ACCOUNT, body), 400, 17004, "does not exist")
