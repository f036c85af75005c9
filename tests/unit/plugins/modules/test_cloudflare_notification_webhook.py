# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""cloudflare_notification_webhook's manager against an in-memory fake of the alerting API (no network)."""

from __future__ import annotations

import pytest
from alerting_fake import BASE, FakeAlertingClient, FakeCf
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _notification_webhook as webhook_utils
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareInputError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._notification_webhook import (
    WEBHOOK_OPTIONS,
    NotificationWebhookManager,
)
from ansible_collections.homelab.mcp_edge.plugins.modules import cloudflare_notification_webhook as webhook_mod

SECRET = "s3cr3t-value-never-shown"
URL = "https://alerts.example.net/cloudflare"


def params(**kw):
    base = {k: v.get("default") for k, v in WEBHOOK_OPTIONS.items()}
    base.update(name="home-alerts")
    base.update(kw)
    return base


def run(client, check_mode=False, **kw):
    cf = FakeCf(client, params(**kw), check_mode=check_mode)
    return NotificationWebhookManager(cf).run(), cf


def existing(**kw):
    hook = {"id": "w1", "name": "home-alerts", "url": URL, "type": "generic", "created_at": "2026-12-01T00:00:00Z"}
    hook.update(kw)
    return hook


def test_the_secret_option_is_no_log_and_update_secret_is_not():
    assert webhook_mod.WEBHOOK_OPTIONS is WEBHOOK_OPTIONS
    assert WEBHOOK_OPTIONS["secret"]["no_log"] is True
    assert WEBHOOK_OPTIONS["update_secret"]["no_log"] is False


def test_create_sends_name_url_and_secret_once():
    client = FakeAlertingClient()
    result, _cf = run(client, url=URL, secret=SECRET)
    assert client.writes() == [
        ("POST", BASE + "destinations/webhooks", {"name": "home-alerts", "url": URL, "secret": SECRET})
    ]
    assert result["changed"] is True and result["id"] == "id-1" and result["secret_sent"] is True
    assert SECRET not in repr(result)
    assert result["diff"]["after"]["secret"] == webhook_utils.SECRET_SENT
    again, _cf = run(client, url=URL, secret=SECRET)
    assert again["changed"] is False and again["secret_sent"] is False and len(client.writes()) == 1
    assert client.reads() == ["destinations/webhooks", "destinations/webhooks"]


def test_a_new_url_is_one_put_that_carries_the_secret():
    client = FakeAlertingClient(webhooks=[existing()])
    result, cf = run(client, url=URL + "/v2", secret=SECRET)
    assert client.writes() == [
        ("PUT", BASE + "destinations/webhooks/w1", {"name": "home-alerts", "url": URL + "/v2", "secret": SECRET})
    ]
    assert result["diff"]["before"]["url"] == URL and result["diff"]["after"]["url"] == URL + "/v2"
    assert result["diff"]["before"]["secret"] == webhook_utils.SECRET_UNKNOWN and not cf.module.warnings


def test_a_new_url_without_a_secret_warns():
    client = FakeAlertingClient(webhooks=[existing()])
    result, cf = run(client, url=URL + "/v2")
    assert client.writes()[0][2] == {"name": "home-alerts", "url": URL + "/v2"}
    assert result["secret_sent"] is False and "Cloudflare may drop" in cf.module.warnings[0]


def test_a_secret_alone_is_not_noticed_unless_update_secret_is_always():
    client = FakeAlertingClient(webhooks=[existing()])
    result, _cf = run(client, url=URL, secret="another")
    assert result["changed"] is False and client.writes() == []
    result, _cf = run(client, url=URL, secret="another", update_secret="always")
    assert result["changed"] is True and result["secret_sent"] is True
    assert client.writes() == [
        ("PUT", BASE + "destinations/webhooks/w1", {"name": "home-alerts", "url": URL, "secret": "another"})
    ]
    # always is always: the next run writes again.
    run(client, url=URL, secret="another", update_secret="always")
    assert len(client.writes()) == 2


def test_update_secret_always_keeps_the_url_cloudflare_has():
    client = FakeAlertingClient(webhooks=[existing(url="https://hooks.slack.com/services/T0/B0", type="slack")])
    run(client, secret="xyz", update_secret="always")
    assert client.writes()[0][2]["url"] == "https://hooks.slack.com/services/T0/B0"


def test_a_url_whose_secret_cloudflare_took_out_is_equal():
    hook = existing(url="https://hooks.slack.com/services/T0/B0", type="slack")
    client = FakeAlertingClient(webhooks=[hook])
    result, _cf = run(client, url="https://hooks.slack.com/services/T0/B0/XYZ")
    assert result["changed"] is False
    assert webhook_utils.urls_equal(URL + "/", URL)
    assert not webhook_utils.urls_equal(URL, URL + "/more", "generic")


def test_check_mode_writes_nothing():
    client = FakeAlertingClient(webhooks=[existing()])
    result, _cf = run(client, check_mode=True, url=URL + "/v2", secret=SECRET)
    assert result["changed"] is True and client.writes() == []
    created, _cf = run(FakeAlertingClient(), check_mode=True, url=URL)
    assert created["changed"] is True and created["id"] is None


def test_absent_deletes_by_name():
    client = FakeAlertingClient(webhooks=[existing()])
    result, _cf = run(client, state="absent")
    assert client.writes() == [("DELETE", BASE + "destinations/webhooks/w1", None)]
    assert result["webhook"]["id"] == "w1" and result["diff"]["after"] == {}
    gone, _cf = run(client, state="absent")
    assert gone["changed"] is False


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (dict(url="ftp://alerts.example.net/x"), r"^url: .* must be an https:// \(or http://\) URL"),
        (dict(url="https://alerts.example.net:8443/x"), r"^url: Cloudflare sends notifications to port 80 or 443 only"),
        (dict(url="https://alerts example.net/"), r"^url: .* is not a URL"),
        (dict(url=URL, secret="  "), r"^secret: must not be empty"),
        (dict(), r"^url: webhook 'home-alerts' does not exist yet; give url"),
    ],
)
def test_bad_input_fails_before_any_write(kw, message):
    client = FakeAlertingClient()
    with pytest.raises(CloudflareInputError, match=message):
        run(client, **kw)
    assert client.writes() == []


def test_two_webhooks_of_one_name_are_an_error():
    client = FakeAlertingClient(webhooks=[existing(), existing(id="w2")])
    with pytest.raises(CloudflareInputError, match=r"2 webhook destinations are named 'home-alerts' \(ids w1, w2\)"):
        run(client, url=URL)
