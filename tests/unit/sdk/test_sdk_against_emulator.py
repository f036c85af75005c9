# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The official ``cloudflare`` Python SDK (4.x, pinned in requirements-dev.txt) as a second client.

It drives every API route the collection's modules use against the emulator (started in-process with
tests/cloudflare_emulator/seed.example.json). The SDK builds its models without validation (Stainless
``construct``), so each answer is also validated strictly with pydantic against the SDK's own type, and
fields the SDK schema does not declare are refused unless listed in ``NOT_IN_SDK_SCHEMA`` with the reason the
API is known to send them. A failure here means the emulator answers a shape the API does not.
"""

from __future__ import annotations

import base64
from datetime import datetime

import pydantic
import pytest

cloudflare = pytest.importorskip("cloudflare", reason="the cloudflare SDK is pinned in requirements-dev.txt")

from cloudflare._models import validate_type  # noqa: E402 - after importorskip
from inprocess import InProcessEmulator  # noqa: E402 - after importorskip

TOKEN = "emulator-token-all-0000000000000000000000"
ACCOUNT_TOKEN = "cfat_emulator-account-token-000000000000"
ACCOUNT = "a0000000000000000000000000000001"
ZONE = "c0000000000000000000000000000001"  # example.com, free plan
ZONE_PRO = "c0000000000000000000000000000002"  # example.org, pro plan
IDP_OTP = "10000000-0000-4000-8000-000000000001"
SECRET32 = base64.b64encode(b"k" * 32).decode()

# Fields the emulator answers that SDK 4.3.1's schema lacks, each with why the API is known to send it.
NOT_IN_SDK_SCHEMA = {
    # cloudflared's cfapi.CreateTunnel decodes the create answer into TunnelWithToken{Tunnel, Token};
    # credentials_file is what `cloudflared tunnel create` writes (reference/cloudflare-api.md).
    "tunnel create": {"token", "credentials_file"},
}


def extras(model, path="") -> set:
    """Dotted paths of every field the validated model holds but its schema does not declare."""
    found = set()
    if isinstance(model, pydantic.BaseModel):
        for key in model.__pydantic_extra__ or {}:
            found.add(path + key)
        for name in type(model).model_fields:
            found |= extras(getattr(model, name), f"{path}{name}.")
    elif isinstance(model, list):
        for item in model:
            found |= extras(item, path)
    return found


def strict(type_, value, allowed=frozenset()):
    """Validate ``value`` strictly as ``type_``; refuse undeclared fields outside ``allowed``."""
    model = validate_type(type_=type_, value=value)
    unknown = {p.rstrip(".") for p in extras(model)} - set(allowed)
    assert not unknown, f"{type_.__name__}: fields outside the SDK schema: {sorted(unknown)}"
    return model


def without_is_default(result):
    """SDK 4.3.1 types a group's ``is_default`` as a rule list in its answers but as a bool in its own create
    params; the emulator answers the bool. Check it separately and validate the rest strictly."""
    if isinstance(result, dict) and "is_default" in result:
        assert isinstance(result["is_default"], bool), result
        return {k: v for k, v in result.items() if k != "is_default"}
    return result


def answer(raw, allowed=frozenset()):
    """(strictly validated model, raw result) of one SDK call made with ``.with_raw_response``."""
    envelope = raw.http_response.json()
    assert envelope["success"] is True and envelope["errors"] == [], envelope
    parsed = raw.parse()  # the SDK's own parsing path (envelope unwrap, construct)
    result = without_is_default(envelope["result"])
    if isinstance(result, (dict, list)) and isinstance(parsed, pydantic.BaseModel):
        return strict(type(parsed), result, allowed), result
    return validate_type(type_=type(parsed), value=result), result


def page_items(raw, allowed=frozenset()):
    """Strictly validate every item of a list answer; return (models, result_info)."""
    envelope = raw.http_response.json()
    assert envelope["success"] is True, envelope
    page = raw.parse()
    models = [
        strict(type(item), without_is_default(value), allowed)
        for item, value in zip(page.result, envelope["result"], strict=True)
    ]
    return models, envelope.get("result_info")


@pytest.fixture(scope="module")
def emu():
    server = InProcessEmulator()
    yield server
    server.close()


@pytest.fixture(scope="module")
def cf(emu):
    # The SDK's own retries (connection errors; no test here expects a 429 or 5xx): on a saturated CI
    # machine the first request to the in-process emulator was once closed unanswered (2026-12-07).
    client = cloudflare.Cloudflare(api_token=TOKEN, base_url=emu.base_url, max_retries=2)
    yield client
    client.close()


# --------------------------------------------------------------------------- tokens, accounts, zones


def test_token_verify_accounts_and_zones(emu, cf):
    emu.reset()
    verified, _raw = answer(cf.user.tokens.with_raw_response.verify())
    assert verified.status == "active" and isinstance(verified.id, str)
    with cloudflare.Cloudflare(api_token=ACCOUNT_TOKEN, base_url=emu.base_url, max_retries=2) as acct:
        by_account, _raw = answer(acct.accounts.tokens.with_raw_response.verify(account_id=ACCOUNT))
    assert by_account.status == "active"

    accounts, info = page_items(cf.accounts.with_raw_response.list(per_page=5))
    assert [a.id for a in accounts] == [ACCOUNT] and info["per_page"] == 5
    account, _raw = answer(cf.accounts.with_raw_response.get(account_id=ACCOUNT))
    assert account.name == "Homelab Demo Account"

    zones, _info = page_items(cf.zones.with_raw_response.list(name="example.com", account={"id": ACCOUNT}, per_page=50))
    assert [(z.id, z.name, z.account.id) for z in zones] == [(ZONE, "example.com", ACCOUNT)]
    zone, _raw = answer(cf.zones.with_raw_response.get(zone_id=ZONE_PRO))
    assert zone.name == "example.org" and zone.status == "active" and zone.name_servers


# --------------------------------------------------------------------------- DNS records


def test_dns_records_crud_batch_and_paging(emu, cf):
    emu.reset()
    records = cf.dns.records
    a, raw_a = answer(
        records.with_raw_response.create(zone_id=ZONE, type="A", name="www", content="192.0.2.1", ttl=300)
    )
    assert (a.name, a.content, a.ttl, a.proxied, a.comment, a.tags) == (
        "www.example.com",
        "192.0.2.1",
        300,
        False,
        None,
        [],
    )
    assert isinstance(a.created_on, datetime) and "zone_id" not in raw_a and "zone_name" not in raw_a
    srv, _raw = answer(
        records.with_raw_response.create(
            zone_id=ZONE, type="SRV", name="_sip._tcp", data={"priority": 1, "weight": 5, "port": 5060, "target": "sip"}
        )
    )
    assert srv.data.port == 5060 and srv.data.target == "sip" and srv.content == "1 5 5060 sip"
    caa, _raw = answer(
        records.with_raw_response.create(
            zone_id=ZONE, type="CAA", name="@", data={"flags": 0, "tag": "issue", "value": "letsencrypt.org"}
        )
    )
    assert caa.data.tag == "issue"
    tagged, _raw = answer(
        records.with_raw_response.create(
            zone_id=ZONE_PRO, type="TXT", name="t", content="v", comment="managed", tags=["managed-by:homelab"]
        )
    )
    assert tagged.tags == ["managed-by:homelab"] and isinstance(tagged.tags_modified_on, datetime)
    cname, _raw = answer(
        records.with_raw_response.create(
            zone_id=ZONE,
            type="CNAME",
            name="app",
            content="t.cfargotunnel.com",
            proxied=True,
            settings={"flatten_cname": False},
        )
    )
    assert cname.ttl == 1 and cname.settings.flatten_cname is False

    # SDK 4.x insists on type and name for PATCH too; the modules PATCH only the changed fields.
    patched, _raw = answer(
        records.with_raw_response.edit(
            dns_record_id=a.id, zone_id=ZONE, type="A", name="www", content="192.0.2.9", comment="c"
        )
    )
    assert patched.content == "192.0.2.9" and patched.comment == "c" and patched.ttl == 300
    put, _raw = answer(
        records.with_raw_response.update(dns_record_id=a.id, zone_id=ZONE, type="A", name="www", content="192.0.2.8")
    )
    assert put.comment is None and put.ttl == 1
    got, _raw = answer(records.with_raw_response.get(dns_record_id=a.id, zone_id=ZONE))
    assert got.id == a.id

    # What the modules send: the (type, name) filter and large pages.
    found, info = page_items(
        records.with_raw_response.list(zone_id=ZONE, type="A", name={"exact": "www.example.com"}, per_page=100)
    )
    assert [r.id for r in found] == [a.id] and info["total_count"] == 1
    listed, info = page_items(records.with_raw_response.list(zone_id=ZONE, per_page=5000))
    assert [r.type for r in listed] == ["A", "CAA", "CNAME", "SRV"]  # the API's default order: type, then name

    batch, _raw = answer(
        records.with_raw_response.batch(
            zone_id=ZONE,
            deletes=[{"id": caa.id}],
            patches=[{"id": srv.id, "comment": "patched"}],
            posts=[{"type": "TXT", "name": f"b{i}", "content": "x"} for i in range(4)],
        )
    )
    assert [r.id for r in batch.deletes] == [caa.id] and batch.patches[0].comment == "patched" and len(batch.posts) == 4
    assert batch.puts == []

    # The SDK pages by asking for page+1 until a page comes back empty.
    everything = list(records.list(zone_id=ZONE, per_page=3))
    assert len(everything) == 7 and len({r.id for r in everything}) == 7

    deleted, _raw = answer(records.with_raw_response.delete(dns_record_id=cname.id, zone_id=ZONE))
    assert deleted.id == cname.id


def test_dns_refusals_reach_the_sdk_as_typed_errors(emu, cf):
    emu.reset()
    with pytest.raises(cloudflare.BadRequestError) as caught:
        cf.dns.records.create(zone_id=ZONE, type="SRV", name="_sip._tcp", content="1 5 5060 sip.example.com")
    assert caught.value.status_code == 400
    assert caught.value.body["errors"][0]["error_chain"][0]["code"] == 9101
    with pytest.raises(cloudflare.NotFoundError):
        cf.dns.records.get(dns_record_id="0" * 32, zone_id=ZONE)


# --------------------------------------------------------------------------- tunnels


def test_tunnels_token_configuration_and_delete(emu, cf):
    emu.reset()
    tunnels = cf.zero_trust.tunnels.cloudflared
    created, raw = answer(
        tunnels.with_raw_response.create(
            account_id=ACCOUNT, name="home", config_src="cloudflare", tunnel_secret=SECRET32
        ),
        NOT_IN_SDK_SCHEMA["tunnel create"],
    )
    assert created.name == "home" and created.remote_config is True and created.status == "inactive"
    assert created.deleted_at is None and raw["token"] and raw["credentials_file"]["TunnelID"] == created.id
    listed, info = page_items(
        tunnels.with_raw_response.list(account_id=ACCOUNT, name="home", is_deleted=False, per_page=50)
    )
    assert [t.id for t in listed] == [created.id] and info["count"] == 1
    got, _raw = answer(tunnels.with_raw_response.get(tunnel_id=created.id, account_id=ACCOUNT))
    assert got.account_tag == ACCOUNT and got.tun_type == "cfd_tunnel"
    edited, _raw = answer(
        tunnels.with_raw_response.edit(tunnel_id=created.id, account_id=ACCOUNT, tunnel_secret=SECRET32)
    )
    assert edited.id == created.id

    token = tunnels.token.get(tunnel_id=created.id, account_id=ACCOUNT)
    assert isinstance(token, str) and token == raw["token"]

    configurations = tunnels.configurations
    empty, _raw = answer(configurations.with_raw_response.get(tunnel_id=created.id, account_id=ACCOUNT))
    assert empty.version == 0 and empty.config is None
    config = {
        "ingress": [
            {
                "hostname": "app.example.com",
                "service": "http://localhost:8080",
                "origin_request": {"connect_timeout": 30},
            },
            {"hostname": "app.example.com", "path": "^/hook", "service": "http://localhost:8081"},
            {"service": "http_status:404"},
        ],
        "origin_request": {"no_tls_verify": False, "keep_alive_timeout": 90},
    }
    raw_put = configurations.with_raw_response.update(tunnel_id=created.id, account_id=ACCOUNT, config=config)
    written = raw_put.http_response.json()["result"]
    assert written["config"]["ingress"][0]["originRequest"] == {"connectTimeout": 30}  # the SDK sends camelCase
    for raw_answer in (raw_put, configurations.with_raw_response.get(tunnel_id=created.id, account_id=ACCOUNT)):
        result = raw_answer.http_response.json()["result"]
        # SDK 4.3.1 declares ingress[].hostname required, but the catch-all rule has none (cloudflared's
        # remote config has it bare): validate with that one field filled in, everything else strictly.
        ingress = result["config"]["ingress"]
        assert "hostname" not in ingress[-1]
        patched = {
            **result,
            "config": {**result["config"], "ingress": [*ingress[:-1], {**ingress[-1], "hostname": ""}]},
        }
        model = strict(type(raw_answer.parse()), patched)
        assert model.version == 1 and model.config.ingress[0].origin_request.connect_timeout == 30
        assert model.config.origin_request.keep_alive_timeout == 90 and model.tunnel_id == created.id

    with pytest.raises(cloudflare.BadRequestError) as caught:
        configurations.update(
            tunnel_id=created.id,
            account_id=ACCOUNT,
            config={"ingress": [{"hostname": "a.example.com", "service": "http://x"}]},
        )
    assert caught.value.body["errors"][0]["code"] == 1056

    emu.ctl("POST", f"/tunnels/{created.id}/connections", {"count": 2})
    clients, _info = page_items(tunnels.connections.with_raw_response.get(tunnel_id=created.id, account_id=ACCOUNT))
    assert len(clients[0].conns) == 2
    tunnels.connections.delete(tunnel_id=created.id, account_id=ACCOUNT, client_id=clients[0].id)
    deleted, _raw = answer(tunnels.with_raw_response.delete(tunnel_id=created.id, account_id=ACCOUNT))
    assert isinstance(deleted.deleted_at, datetime)
    again, _raw = answer(tunnels.with_raw_response.get(tunnel_id=created.id, account_id=ACCOUNT))
    assert again.deleted_at == deleted.deleted_at
    with pytest.raises(cloudflare.NotFoundError):
        tunnels.get(tunnel_id="00000000-0000-4000-8000-000000000000", account_id=ACCOUNT)


# --------------------------------------------------------------------------- Access


def test_access_objects(emu, cf):
    emu.reset()
    access = cf.zero_trust.access
    idps, _info = page_items(cf.zero_trust.identity_providers.with_raw_response.list(account_id=ACCOUNT))
    assert {i.type for i in idps} == {"onetimepin", "github"}

    token, _raw = answer(
        access.service_tokens.with_raw_response.create(account_id=ACCOUNT, name="claude", duration="8760h")
    )
    assert token.client_id.endswith(".access") and token.client_secret and token.duration == "8760h"
    rotated, _raw = answer(
        access.service_tokens.with_raw_response.rotate(service_token_id=token.id, account_id=ACCOUNT)
    )
    assert rotated.client_secret != token.client_secret
    refreshed, _raw = answer(
        access.service_tokens.with_raw_response.refresh(service_token_id=token.id, account_id=ACCOUNT)
    )
    assert isinstance(refreshed.expires_at, datetime)
    renamed, _raw = answer(
        access.service_tokens.with_raw_response.update(service_token_id=token.id, account_id=ACCOUNT, name="claude-2")
    )
    assert renamed.name == "claude-2"
    listed, _info = page_items(access.service_tokens.with_raw_response.list(account_id=ACCOUNT))
    assert [t.id for t in listed] == [token.id]

    group, _raw = answer(
        access.groups.with_raw_response.create(
            account_id=ACCOUNT, name="admins", include=[{"email": {"email": "me@example.com"}}]
        )
    )
    group2, _raw = answer(
        access.groups.with_raw_response.update(
            group_id=group.id, account_id=ACCOUNT, name="admins", include=[{"email_domain": {"domain": "example.com"}}]
        )
    )
    assert group2.include[0].email_domain.domain == "example.com"
    groups, _info = page_items(access.groups.with_raw_response.list(account_id=ACCOUNT))
    assert [g.id for g in groups] == [group.id]

    owner, _raw = answer(
        access.policies.with_raw_response.create(
            account_id=ACCOUNT,
            name="owner",
            decision="allow",
            include=[{"group": {"id": group.id}}, {"login_method": {"id": IDP_OTP}}],
        )
    )
    assert owner.reusable is True and owner.app_count == 0 and owner.decision == "allow"
    service, _raw = answer(
        access.policies.with_raw_response.create(
            account_id=ACCOUNT, name="svc", decision="non_identity", include=[{"service_token": {"token_id": token.id}}]
        )
    )
    assert service.include[0].service_token.token_id == token.id
    with pytest.raises(cloudflare.BadRequestError) as caught:
        access.policies.create(
            account_id=ACCOUNT, name="bad", decision="non_identity", include=[{"email": {"email": "a@b.c"}}]
        )
    assert caught.value.body["errors"][0]["code"] == 12130

    app, _raw = answer(
        access.applications.with_raw_response.create(
            account_id=ACCOUNT,
            type="self_hosted",
            name="time",
            domain="time.example.com",
            session_duration="24h",
            allowed_idps=[IDP_OTP],
            policies=[{"id": owner.id, "precedence": 1}, {"id": service.id, "precedence": 2}],
        )
    )
    assert len(app.aud) == 64 and [(p.id, p.precedence) for p in app.policies] == [(owner.id, 1), (service.id, 2)]
    updated, _raw = answer(
        access.applications.with_raw_response.update(
            app_id=app.id,
            account_id=ACCOUNT,
            type="self_hosted",
            name="time",
            domain="time.example.com",
            policies=[{"id": service.id, "precedence": 1}],
        )
    )
    assert [p.id for p in updated.policies] == [service.id] and updated.aud == app.aud
    apps, _info = page_items(access.applications.with_raw_response.list(account_id=ACCOUNT, name="time"))
    assert [a.id for a in apps] == [app.id]
    fetched, _raw = answer(access.policies.with_raw_response.get(policy_id=service.id, account_id=ACCOUNT))
    assert fetched.app_count == 1
    policies, _info = page_items(access.policies.with_raw_response.list(account_id=ACCOUNT))
    assert {p.id for p in policies} == {owner.id, service.id}

    gone, _raw = answer(access.applications.with_raw_response.delete(app_id=app.id, account_id=ACCOUNT))
    assert gone.id == app.id
    for policy in (owner, service):
        assert (
            answer(access.policies.with_raw_response.delete(policy_id=policy.id, account_id=ACCOUNT))[0].id == policy.id
        )
    assert answer(access.groups.with_raw_response.delete(group_id=group.id, account_id=ACCOUNT))[0].id == group.id
    removed, _raw = answer(
        access.service_tokens.with_raw_response.delete(service_token_id=token.id, account_id=ACCOUNT)
    )
    assert removed.id == token.id


def test_zero_trust_organization(emu, cf):
    """The account's organization is one object (the SDK's ``organizations.list`` returns it, not a page)."""
    emu.reset()
    org, _raw = answer(cf.zero_trust.organizations.with_raw_response.list(account_id=ACCOUNT))
    assert org.auth_domain == "homelab-demo.cloudflareaccess.com"
    assert isinstance(org.created_at, datetime)
    emu.ctl("POST", f"/organizations/{ACCOUNT}", {"team_name": None})
    with pytest.raises(cloudflare.NotFoundError):
        cf.zero_trust.organizations.list(account_id=ACCOUNT)
    emu.reset()


def test_sdk_4_reads_only_the_first_page_of_access_lists(emu, cf):
    """SDK 4.x lists Access objects as a single page: past the API's page size (25 here) it sees no more."""
    emu.reset()
    for i in range(27):
        cf.zero_trust.access.service_tokens.create(account_id=ACCOUNT, name=f"t{i:02d}")
    seen = list(cf.zero_trust.access.service_tokens.list(account_id=ACCOUNT))
    assert len(seen) == 25


# --------------------------------------------------------------------------- notifications (alerting)


def envelope_only(raw, type_):
    """A delete's answer: the SDK types the whole envelope (no ``result``); every Cloudflare envelope carries one."""
    envelope = raw.http_response.json()
    assert envelope["success"] is True and envelope.get("result") is None, envelope
    return strict(type_, {k: v for k, v in envelope.items() if k != "result"})


def test_notification_webhooks_and_policies(emu, cf):
    """Creates and updates answer only the id; lists are one page; a webhook's secret is never answered."""
    from cloudflare.types.alerting import PolicyDeleteResponse
    from cloudflare.types.alerting.destinations import WebhookDeleteResponse

    emu.reset()
    alerting = cf.alerting
    hooks = alerting.destinations.webhooks
    created, raw = answer(
        hooks.with_raw_response.create(
            account_id=ACCOUNT, name="alerts", url="https://alerts.example.net/cf", secret="never-answered"
        )
    )
    assert set(raw) == {"id"} and created.id
    listed, info = page_items(hooks.with_raw_response.list(account_id=ACCOUNT))
    assert [(h.id, h.name, h.type) for h in listed] == [(created.id, "alerts", "generic")] and info["total_pages"] == 1
    updated, raw = answer(
        hooks.with_raw_response.update(
            webhook_id=created.id, account_id=ACCOUNT, name="alerts", url="https://alerts.example.net/cf2"
        )
    )
    assert set(raw) == {"id"} and updated.id == created.id
    fetched, raw = answer(hooks.with_raw_response.get(webhook_id=created.id, account_id=ACCOUNT))
    assert fetched.url == "https://alerts.example.net/cf2" and "secret" not in raw

    policy, raw = answer(
        alerting.policies.with_raw_response.create(
            account_id=ACCOUNT,
            name="tunnel down",
            alert_type="tunnel_health_event",
            enabled=True,
            mechanisms={"email": [{"id": "ops@example.com"}], "webhooks": [{"id": created.id}]},
            filters={"new_status": ["TUNNEL_STATUS_TYPE_DOWN"]},
        )
    )
    assert set(raw) == {"id"}
    policies, info = page_items(alerting.policies.with_raw_response.list(account_id=ACCOUNT))
    assert [p.id for p in policies] == [policy.id] and policies[0].filters.new_status == ["TUNNEL_STATUS_TYPE_DOWN"]
    assert isinstance(policies[0].created, datetime) and info["count"] == 1
    changed, raw = answer(
        alerting.policies.with_raw_response.update(
            policy_id=policy.id,
            account_id=ACCOUNT,
            name="tunnel down",
            alert_type="tunnel_health_event",
            enabled=False,
            mechanisms={"email": [{"id": "ops@example.com"}]},
        )
    )
    assert changed.id == policy.id
    one, _raw = answer(alerting.policies.with_raw_response.get(policy_id=policy.id, account_id=ACCOUNT))
    assert one.enabled is False and one.mechanisms.webhooks is None
    with pytest.raises(cloudflare.BadRequestError) as caught:
        alerting.policies.create(
            account_id=ACCOUNT, name="x", alert_type="tunnel_health_event", enabled=True, mechanisms={"email": []}
        )
    assert caught.value.body["errors"][0]["code"] == 17004

    available = cf.alerting.available_alerts.list(account_id=ACCOUNT)
    assert {a.type for a in available["Tunnel"]} == {"tunnel_health_event", "tunnel_update_event"}

    envelope_only(
        alerting.policies.with_raw_response.delete(policy_id=policy.id, account_id=ACCOUNT), PolicyDeleteResponse
    )
    envelope_only(hooks.with_raw_response.delete(webhook_id=created.id, account_id=ACCOUNT), WebhookDeleteResponse)
    assert list(alerting.policies.list(account_id=ACCOUNT)) == []
    assert list(hooks.list(account_id=ACCOUNT)) == []


def test_the_emulators_alert_types_and_filter_keys_are_the_sdks():
    import typing

    import cfemu_alerting
    from cloudflare.types.alerting import policy_create_params, policy_filter_param

    alert_type = typing.get_type_hints(policy_create_params.PolicyCreateParams, include_extras=True)["alert_type"]
    literal = next(a for a in typing.get_args(alert_type) if typing.get_origin(a) is typing.Literal)
    assert set(cfemu_alerting.ALERT_TYPES) == set(typing.get_args(literal))
    assert set(cfemu_alerting.FILTER_KEYS) == set(policy_filter_param.PolicyFilterParam.__annotations__)
