# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""cloudflare_notification_policy's manager against an in-memory fake of the alerting API (no network)."""

from __future__ import annotations

import pytest
from alerting_fake import ACCOUNT, BASE, FakeAlertingClient, FakeCf
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _alerting as alerting
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import (
    CloudflareInputError,
    CloudflareOwnershipError,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._notification_policy import (
    POLICY_OPTIONS,
    NotificationPolicyManager,
)
from ansible_collections.homelab.mcp_edge.plugins.modules import cloudflare_notification_policy as policy_mod

TUNNEL = "7d2e1b4c-5a6f-4e8d-9c0b-1a2b3c4d5e6f"
MARK = "managed-by: homelab.mcp_edge home"


def params(**kw):
    base = {k: v.get("default") for k, v in POLICY_OPTIONS.items()}
    base.update(name="home: tunnel down", owner_id="home")
    base.update(kw)
    return base


def run(client, check_mode=False, **kw):
    cf = FakeCf(client, params(**kw), check_mode=check_mode)
    return NotificationPolicyManager(cf).run(), cf


def ours(**kw):
    policy = {
        "id": "p1",
        "name": "home: tunnel down",
        "alert_type": "tunnel_health_event",
        "enabled": True,
        "description": "Tunnel; " + MARK,
        "filters": {"new_status": ["TUNNEL_STATUS_TYPE_DOWN"], "tunnel_id": [TUNNEL]},
        "mechanisms": {"email": [{"id": "ops@example.com"}]},
        "created": "2026-12-01T00:00:00Z",
    }
    policy.update(kw)
    return policy


WANT = dict(
    alert_type="tunnel_health_event",
    description="Tunnel",
    filters={"tunnel_id": [TUNNEL], "new_status": ["down"]},
    emails=["ops@example.com"],
)


def test_module_spec_is_the_managers():
    assert policy_mod.POLICY_OPTIONS is POLICY_OPTIONS
    assert POLICY_OPTIONS["alert_type"]["choices"] == list(alerting.ALERT_TYPES)


def test_create_sends_one_post_with_the_marker_and_the_webhook_ids():
    client = FakeAlertingClient(webhooks=[{"id": "w1", "name": "home-alerts", "url": "https://a.example.net/"}])
    result, _cf = run(client, webhooks=["home-alerts"], **WANT)
    assert result["changed"] is True and result["id"] == "id-1"
    assert client.reads() == ["policies", "destinations/webhooks"]
    [(method, path, body)] = client.writes()
    assert (method, path) == ("POST", BASE + "policies")
    assert body == {
        "name": "home: tunnel down",
        "alert_type": "tunnel_health_event",
        "enabled": True,
        "description": "Tunnel; " + MARK,
        "filters": {"new_status": ["TUNNEL_STATUS_TYPE_DOWN"], "tunnel_id": [TUNNEL]},
        "mechanisms": {"email": [{"id": "ops@example.com"}], "webhooks": [{"id": "w1"}]},
    }
    assert result["diff"]["before"] == {} and result["diff"]["after"]["id"] == "id-1"


def test_the_same_run_twice_writes_once():
    client = FakeAlertingClient()
    first, _cf = run(client, **WANT)
    second, _cf = run(client, **WANT)
    assert first["changed"] is True and second["changed"] is False
    assert len(client.writes()) == 1 and "diff" not in second


def test_only_owned_fields_are_compared():
    # The API fills in fields of its own (pagerduty, alert_interval, a filter key the module does not know).
    existing = ours(
        mechanisms={"email": [{"id": "OPS@example.com"}], "pagerduty": [{"id": "pd1"}]},
        alert_interval="30m",
        filters={"new_status": ["TUNNEL_STATUS_TYPE_DOWN"], "tunnel_id": [TUNNEL.upper()], "zones": ["z"]},
        modified="2026-12-02T00:00:00Z",
    )
    client = FakeAlertingClient(policies=[existing])
    result, _cf = run(client, **WANT)
    assert result["changed"] is False and client.writes() == []


def test_a_changed_filter_is_one_put_that_keeps_what_the_module_does_not_own():
    existing = ours(
        mechanisms={"email": [{"id": "ops@example.com"}], "pagerduty": [{"id": "pd1"}]}, alert_interval="30m"
    )
    existing["filters"]["zones"] = ["z1"]
    client = FakeAlertingClient(policies=[existing])
    want = {**WANT, "filters": {"tunnel_id": [TUNNEL], "new_status": ["degraded", "DOWN"]}}
    result, _cf = run(client, **want)
    [(method, path, body)] = client.writes()
    assert (method, path) == ("PUT", BASE + "policies/p1")
    assert body["filters"] == {
        "new_status": ["TUNNEL_STATUS_TYPE_DEGRADED", "TUNNEL_STATUS_TYPE_DOWN"],
        "tunnel_id": [TUNNEL],
        "zones": ["z1"],
    }
    assert body["mechanisms"]["pagerduty"] == [{"id": "pd1"}] and body["alert_interval"] == "30m"
    assert result["id"] == "p1" and result["diff"]["before"]["filters"]["new_status"] == ["TUNNEL_STATUS_TYPE_DOWN"]


def test_options_left_out_keep_their_values():
    client = FakeAlertingClient(policies=[ours()])
    result, _cf = run(client, enabled=False)
    [(_m, _p, body)] = client.writes()
    assert body["enabled"] is False and body["description"] == "Tunnel; " + MARK
    assert body["filters"] == ours()["filters"] and body["mechanisms"] == ours()["mechanisms"]
    assert result["policy"]["enabled"] is False


def test_check_mode_writes_nothing_and_reports_the_change():
    client = FakeAlertingClient(policies=[ours()])
    result, _cf = run(client, check_mode=True, emails=["ops@example.com", "oncall@example.com"])
    assert result["changed"] is True and client.writes() == []
    assert result["diff"]["after"]["mechanisms"]["email"] == [{"id": "ops@example.com"}, {"id": "oncall@example.com"}]


def test_check_mode_assumes_an_unknown_webhook_is_created_earlier():
    client = FakeAlertingClient()
    result, cf = run(client, check_mode=True, webhooks=["home-alerts"], **WANT)
    assert result["changed"] is True and client.writes() == []
    assert "check mode assumes an earlier task creates it" in cf.module.warnings[0]


def test_an_unknown_webhook_fails_with_the_names_that_exist():
    client = FakeAlertingClient(webhooks=[{"id": "w1", "name": "other"}])
    with pytest.raises(CloudflareInputError, match=r"webhooks\[0\]: no webhook destination is named 'nope'.*'other'"):
        run(client, webhooks=["nope"], **WANT)
    assert client.writes() == []


def test_webhooks_by_id_and_ambiguous_names():
    hooks = [{"id": "w1", "name": "dup"}, {"id": "w2", "name": "dup"}]
    client = FakeAlertingClient(webhooks=hooks)
    result, _cf = run(client, webhooks=["w2"], **WANT)
    assert client.writes()[0][2]["mechanisms"]["webhooks"] == [{"id": "w2"}] and result["changed"]
    with pytest.raises(CloudflareInputError, match=r"2 webhook destinations are named 'dup'"):
        run(FakeAlertingClient(webhooks=hooks), webhooks=["dup"], **WANT)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (dict(alert_type="bogus_alert"), r"^alert_type: 'bogus_alert' is not an alert type .*tunnel_health_event"),
        (dict(filters={"zones": ["z"]}), r"^filters: 'zones' is not a filter of alert_type tunnel_health_event"),
        (dict(filters={"new_status": ["broken"]}), r"^filters.new_status\[0\]: 'broken' is not a tunnel status"),
        (dict(filters={"tunnel_id": "home"}), r"^filters.tunnel_id\[0\]: 'home' is not a tunnel id"),
        (dict(emails=["ops@example.com", "not an address"]), r"^emails\[1\]: 'not an address' is not an e-mail"),
        (dict(description="x; managed-by: homelab.mcp_edge"), r"^description: must not hold the ownership marker"),
        (dict(owner_id="a b"), r"^owner_id: must be 1-40"),
    ],
)
def test_bad_input_fails_before_any_request(kw, message):
    client = FakeAlertingClient()
    with pytest.raises(CloudflareInputError, match=message):
        run(client, **dict(WANT, **kw))
    assert client.calls == []


def test_filters_of_an_alert_type_without_filters_are_refused():
    with pytest.raises(CloudflareInputError, match="takes no filters"):
        run(FakeAlertingClient(), alert_type="expiring_service_token_alert", filters={"tunnel_id": [TUNNEL]})


def test_a_new_policy_needs_an_alert_type_and_a_recipient():
    with pytest.raises(CloudflareInputError, match=r"^alert_type: policy 'home: tunnel down' does not exist yet"):
        run(FakeAlertingClient(), emails=["ops@example.com"])
    with pytest.raises(CloudflareInputError, match="a policy must notify someone"):
        run(FakeAlertingClient(), alert_type="tunnel_update_event")


def test_a_foreign_policy_of_the_wanted_name_is_not_touched():
    foreign = ours(description="made by hand")
    client = FakeAlertingClient(policies=[foreign])
    with pytest.raises(CloudflareOwnershipError) as exc:
        run(client, **WANT)
    assert "notification policy 'home: tunnel down' (id p1" in str(exc.value)
    assert "it carries no ownership marker" in str(exc.value) and "adopt: true" in str(exc.value)
    assert client.writes() == []
    # Another owner's marker is foreign too.
    other = FakeAlertingClient(policies=[ours(description="managed-by: homelab.mcp_edge cabin")])
    with pytest.raises(CloudflareOwnershipError, match="its marker names the owner 'cabin'"):
        run(other, **WANT)


def test_adopt_takes_a_foreign_policy_over_in_place():
    client = FakeAlertingClient(policies=[ours(description="made by hand")])
    result, _cf = run(client, adopt=True, enabled=True, alert_type="tunnel_health_event")
    [(method, path, body)] = client.writes()
    assert (method, path) == ("PUT", BASE + "policies/p1")
    assert body["description"] == "made by hand; " + MARK and result["adopted"] is True
    again, _cf = run(client, alert_type="tunnel_health_event")
    assert again["changed"] is False


def test_our_policy_is_found_next_to_a_foreign_one_of_the_same_name():
    client = FakeAlertingClient(policies=[ours(id="p0", description="by hand"), ours()])
    result, _cf = run(client, **WANT)
    assert result["changed"] is False and result["id"] == "p1"


def test_absent_deletes_ours_and_leaves_a_foreign_one_alone():
    client = FakeAlertingClient(policies=[ours()])
    result, _cf = run(client, state="absent")
    assert result["changed"] is True and client.writes() == [("DELETE", BASE + "policies/p1", None)]
    assert result["diff"] == {"before": client_view(ours()), "after": {}}
    foreign = FakeAlertingClient(policies=[ours(description="by hand")])
    result, cf = run(foreign, state="absent")
    assert result["changed"] is False and foreign.writes() == []
    assert "left alone. Set adopt: true to delete it anyway" in cf.module.warnings[0]
    gone, _cf = run(FakeAlertingClient(), state="absent")
    assert gone["changed"] is False and gone["id"] is None


def client_view(policy):
    return {k: policy[k] for k in ("id", "name", "alert_type", "enabled", "description", "filters", "mechanisms")}


def test_changing_the_alert_type_drops_the_old_types_filters():
    client = FakeAlertingClient(policies=[ours()])
    run(client, alert_type="tunnel_update_event")
    [(_m, _p, body)] = client.writes()
    assert body["alert_type"] == "tunnel_update_event" and body["filters"] == {}


def test_filters_without_alert_type_are_checked_against_the_policys_own():
    client = FakeAlertingClient(policies=[ours()])
    with pytest.raises(CloudflareInputError, match="'zones' is not a filter of alert_type tunnel_health_event"):
        run(client, filters={"zones": ["z"]})
    run(client, filters={"new_status": "healthy"})
    assert client.writes()[0][2]["filters"]["new_status"] == ["TUNNEL_STATUS_TYPE_HEALTHY"]


def test_email_comparison_ignores_case_and_order():
    client = FakeAlertingClient(
        policies=[ours(mechanisms={"email": [{"id": "b@example.com"}, {"id": "A@example.com"}]})]
    )
    result, _cf = run(client, emails=["a@example.com", "B@Example.com"])
    assert result["changed"] is False


def test_validate_filters_shapes():
    assert alerting.validate_filters("tunnel_health_event", {"new_status": "Down", "tunnel_id": []}) == {
        "new_status": ["TUNNEL_STATUS_TYPE_DOWN"]
    }
    assert alerting.validate_filters("tunnel_health_event", None) is None
    with pytest.raises(CloudflareInputError, match="expected a mapping"):
        alerting.validate_filters("tunnel_health_event", ["down"])


def test_a_create_whose_answer_is_lost_is_found_again_not_sent_twice():
    """Against the emulator with every write applied and then answered 500: the create is looked up, not re-sent."""
    from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareClient
    from ansible_collections.homelab.mcp_edge.plugins.module_utils._notification_webhook import (
        WEBHOOK_OPTIONS,
        NotificationWebhookManager,
    )
    from inprocess import InProcessEmulator

    emu = InProcessEmulator()
    try:
        emu.ctl("POST", "/faults", {"rate_5xx_after_write": 1.0})
        settings = {"api_token": "emulator-token-all-0000000000000000000000", "api_base_url": emu.base_url}
        client = CloudflareClient(dict(settings, account_id=ACCOUNT), sleep=lambda _seconds: None)
        hook_params = {k: v.get("default") for k, v in WEBHOOK_OPTIONS.items()}
        hook_params.update(name="home-alerts", url="https://alerts.example.net/cf", secret="s")
        hook = NotificationWebhookManager(FakeCf(client, hook_params)).run()
        result, _cf = run(client, webhooks=["home-alerts"], **WANT)
        state = emu.ctl("GET", "/state")
        assert [p["id"] for p in state["alerting_policies"]] == [result["id"]]
        assert [w["id"] for w in state["alerting_webhooks"]] == [hook["id"]]
        posts = [r for r in emu.ctl("GET", "/requests") if r["method"] == "POST"]
        assert len(posts) == 2 and all(r["fault"] == "5xx_after_write" for r in posts)
    finally:
        emu.close()
