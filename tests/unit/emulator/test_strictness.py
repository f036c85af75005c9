# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The emulator refuses what Cloudflare refuses and answers only the shapes Cloudflare answers.

Each refusal is asserted by HTTP status, ``errors[].code`` and message; the sources of the codes and messages
are in docs/cloudflare-api-facts.md. The emulator runs in-process (tests/cloudflare_emulator/inprocess.py).
"""

from __future__ import annotations

import base64

import pytest

TOKEN = "emulator-token-all-0000000000000000000000"
ACCOUNT = "a0000000000000000000000000000001"
ZONE = "c0000000000000000000000000000001"  # example.com, free plan
ZONE_PRO = "c0000000000000000000000000000002"  # example.org, pro plan
SECRET32 = base64.b64encode(b"s" * 32).decode()
CONFIG_PREFIX = "Bad Configuration: Validation failed: "
LAST_RULE = "The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)"
ACCESS_PREFIX = "access.api.error.invalid_request: "
RECORD_KEYS = {
    "id",
    "name",
    "type",
    "content",
    "proxiable",
    "proxied",
    "ttl",
    "settings",
    "meta",
    "comment",
    "tags",
    "created_on",
    "modified_on",
}


def call(emu, method, path, body=None):
    return emu.api(method, path, body, token=TOKEN)


def ok(result):
    status, payload = result
    assert status in (200, 201, 202) and payload["success"] is True, (status, payload)
    return payload["result"]


def refused(result, status, code, message):
    """Assert one error with this status, code and exact message; return it."""
    got_status, payload = result
    assert got_status == status, payload
    assert payload["success"] is False and payload["result"] is None, payload
    assert len(payload["errors"]) == 1, payload
    error = payload["errors"][0]
    assert (error["code"], error["message"]) == (code, message), error
    return error


def dns_refused(result, chain_code, chain_message):
    """HTTP 400, code 1004 'DNS Validation Error' with one chained cause."""
    error = refused(result, 400, 1004, "DNS Validation Error")
    assert error["error_chain"] == [{"code": chain_code, "message": chain_message}], error


# --------------------------------------------------------------------------- tunnel configurations


@pytest.fixture
def config_url(emu):
    tun = ok(
        call(
            emu,
            "POST",
            f"/accounts/{ACCOUNT}/cfd_tunnel",
            {"name": "t", "config_src": "cloudflare", "tunnel_secret": SECRET32},
        )
    )
    return f"/accounts/{ACCOUNT}/cfd_tunnel/{tun['id']}/configurations"


def put_ingress(emu, url, ingress, **extra):
    return call(emu, "PUT", url, {"config": {"ingress": ingress, **extra}})


def config_refused(result, message):
    refused(result, 400, 1056, CONFIG_PREFIX + message + "\n")


CATCH_ALL = {"service": "http_status:404"}
APP = {"hostname": "app.example.com", "service": "http://localhost:8080"}


def test_config_without_ingress_is_refused(emu, config_url):
    config_refused(
        call(emu, "PUT", config_url, {"config": {"warp-routing": {"enabled": False}}}),
        "The config file doesn't contain any ingress rules",
    )


def test_config_with_empty_ingress_is_refused(emu, config_url):
    config_refused(put_ingress(emu, config_url, []), "The config file doesn't contain any ingress rules")


def test_catch_all_before_the_last_rule_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [CATCH_ALL, APP, CATCH_ALL]),
        "Rule #1 is matching the hostname '', but this will match every hostname, "
        "meaning the rules which follow it will never be triggered.",
    )


def test_wildcard_catch_all_before_the_last_rule_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [APP, {"hostname": "*", "service": "http://localhost:1"}, CATCH_ALL]),
        "Rule #2 is matching the hostname '*', but this will match every hostname, "
        "meaning the rules which follow it will never be triggered.",
    )


def test_last_rule_with_a_hostname_is_refused(emu, config_url):
    config_refused(put_ingress(emu, config_url, [APP]), LAST_RULE)


def test_last_rule_with_a_path_is_refused(emu, config_url):
    config_refused(put_ingress(emu, config_url, [APP, {"path": "^/x", "service": "http_status:404"}]), LAST_RULE)


def test_service_with_a_path_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [{"hostname": "a.example.com", "service": "http://localhost:1/x"}, CATCH_ALL]),
        "http://localhost:1/x is an invalid address, ingress rules don't support proxying to a different path "
        "on the origin service. The path will be the same as the eyeball request's path",
    )


def test_service_with_a_trailing_slash_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [{"hostname": "a.example.com", "service": "http://localhost:1/"}, CATCH_ALL]),
        "http://localhost:1/ is an invalid address, ingress rules don't support proxying to a different path "
        "on the origin service. The path will be the same as the eyeball request's path",
    )


def test_service_without_a_host_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [{"hostname": "a.example.com", "service": "http://:8080"}, CATCH_ALL]),
        "http://:8080 is an invalid address, please make sure it has a scheme and a hostname",
    )


def test_service_without_a_scheme_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [{"hostname": "a.example.com", "service": "localhost:8080"}, CATCH_ALL]),
        "localhost:8080 is an invalid address, please make sure it has a scheme and a hostname",
    )


def test_hostname_with_a_port_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [{"hostname": "a.example.com:8443", "service": "http://localhost:1"}, CATCH_ALL]),
        "Hostname cannot contain a port",
    )


def test_wildcard_inside_a_hostname_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [{"hostname": "a.*.example.com", "service": "http://localhost:1"}, CATCH_ALL]),
        'Hostname patterns can have at most one wildcard character ("*") and it can only be used for '
        'subdomains, e.g. "*.example.com"',
    )


@pytest.mark.parametrize("code", ["99", "1000"])
def test_http_status_outside_100_to_999_is_refused(emu, config_url, code):
    config_refused(
        put_ingress(emu, config_url, [{"service": f"http_status:{code}"}]), f"invalid HTTP status code: {code}"
    )


def test_http_status_that_is_not_a_number_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [{"service": "http_status:abc"}]),
        'invalid HTTP status code: strconv.Atoi: parsing "abc": invalid syntax',
    )


def test_http_status_999_and_integer_durations_are_accepted(emu, config_url):
    """cloudflared's range is 100..999, not 100..599; durations are whole seconds."""
    ingress = [{**APP, "originRequest": {"connectTimeout": 30, "keepAliveTimeout": 90}}, {"service": "http_status:999"}]
    result = ok(put_ingress(emu, config_url, ingress, originRequest={"tlsTimeout": 10}))
    assert result["config"]["ingress"][1]["service"] == "http_status:999"


def test_duration_as_a_go_string_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [CATCH_ALL], originRequest={"connectTimeout": "30s"}),
        'strconv.ParseInt: parsing "\\"30s\\"": invalid syntax (originRequest.connectTimeout)',
    )


def test_duration_with_a_fraction_is_refused(emu, config_url):
    config_refused(
        put_ingress(emu, config_url, [{**APP, "originRequest": {"tcpKeepAlive": 30.5}}, CATCH_ALL]),
        'strconv.ParseInt: parsing "30.5": invalid syntax (ingress rule #1 originRequest.tcpKeepAlive)',
    )


def test_refused_config_leaves_the_stored_one_alone(emu, config_url):
    ok(put_ingress(emu, config_url, [APP, CATCH_ALL]))
    put_ingress(emu, config_url, [APP])
    assert ok(call(emu, "GET", config_url))["version"] == 1


# --------------------------------------------------------------------------- tunnels


def test_deleted_tunnel_is_returned_with_deleted_at_and_missing_one_is_404(emu):
    base = f"/accounts/{ACCOUNT}/cfd_tunnel"
    tun = ok(call(emu, "POST", base, {"name": "gone", "tunnel_secret": SECRET32}))
    ok(call(emu, "DELETE", f"{base}/{tun['id']}"))
    deleted = ok(call(emu, "GET", f"{base}/{tun['id']}"))
    assert deleted["id"] == tun["id"] and deleted["deleted_at"]
    refused(call(emu, "GET", f"{base}/00000000-0000-4000-8000-000000000000"), 404, 1002, "Tunnel not found")


# --------------------------------------------------------------------------- Access


def test_non_identity_policy_with_an_email_rule_is_refused(emu):
    body = {"name": "svc", "decision": "non_identity", "include": [{"email": {"email": "me@example.com"}}]}
    refused(
        call(emu, "POST", f"/accounts/{ACCOUNT}/access/policies", body),
        400,
        12130,
        ACCESS_PREFIX + "include[0]: 'email' is an identity rule; a non_identity (Service Auth) policy accepts "
        "only non-identity rules such as service_token or any_valid_service_token",
    )


def test_non_identity_policy_requiring_a_login_method_is_refused(emu):
    body = {
        "name": "svc",
        "decision": "non_identity",
        "include": [{"any_valid_service_token": {}}],
        "require": [{"login_method": {"id": "10000000-0000-4000-8000-000000000001"}}],
    }
    refused(
        call(emu, "POST", f"/accounts/{ACCOUNT}/access/policies", body),
        400,
        12130,
        ACCESS_PREFIX + "require[0]: 'login_method' is an identity rule; a non_identity (Service Auth) policy "
        "accepts only non-identity rules such as service_token or any_valid_service_token",
    )


def test_access_lists_page_25_by_default(emu):
    acc = f"/accounts/{ACCOUNT}/access"
    for i in range(27):
        ok(call(emu, "POST", f"{acc}/service_tokens", {"name": f"t{i:02d}"}))
    status, first = call(emu, "GET", f"{acc}/service_tokens")
    assert status == 200 and len(first["result"]) == 25
    assert first["result_info"] == {"page": 1, "per_page": 25, "count": 25, "total_count": 27, "total_pages": 2}
    _unused, second = call(emu, "GET", f"{acc}/service_tokens?page=2")
    assert [t["name"] for t in second["result"]] == ["t25", "t26"]


# --------------------------------------------------------------------------- DNS records


def dns(emu, body, zone=ZONE):
    return call(emu, "POST", f"/zones/{zone}/dns_records", body)


def test_srv_given_only_as_content_is_refused(emu):
    dns_refused(
        dns(emu, {"type": "SRV", "name": "_sip._tcp", "content": "1 5 5060 sip.example.com"}),
        9101,
        "priority is a required data field.",
    )


def test_caa_given_only_as_content_is_refused(emu):
    dns_refused(
        dns(emu, {"type": "CAA", "name": "@", "content": '0 issue "letsencrypt.org"'}),
        9101,
        "tag is a required data field.",
    )


def test_srv_data_missing_a_field_is_refused(emu):
    dns_refused(
        dns(emu, {"type": "SRV", "name": "_sip._tcp", "data": {"priority": 1, "weight": 5, "target": "sip"}}),
        9101,
        "port is a required data field.",
    )


def test_tag_without_a_colon_is_refused(emu):
    dns_refused(
        dns(emu, {"type": "TXT", "name": "x", "content": "v", "tags": ["owner"]}, ZONE_PRO),
        9102,
        "Invalid tag 'owner': a tag has the form name:value, and the name consists of only letters, numbers, "
        "underscores and hyphens.",
    )


def test_tags_on_a_free_zone_are_refused_by_quota(emu):
    dns_refused(
        dns(emu, {"type": "TXT", "name": "x", "content": "v", "tags": ["owner:me", "env:lab"]}),
        9300,
        "DNS record has 2 tags, exceeding the quota of 0.",
    )


def test_flatten_cname_on_a_proxied_record_is_refused(emu):
    body = {"type": "CNAME", "name": "www", "content": "t.example.net", "proxied": True}
    dns_refused(
        dns(emu, {**body, "settings": {"flatten_cname": True}}),
        9103,
        "flatten_cname is unavailable for proxied records: a proxied CNAME record is always flattened.",
    )


def test_listing_with_an_unknown_type_is_refused(emu):
    refused(
        call(emu, "GET", f"/zones/{ZONE}/dns_records?type=BOGUS"),
        400,
        1001,
        "Invalid value for query parameter 'type': 'BOGUS' is not a DNS record type",
    )


def test_listing_with_an_unknown_order_is_refused(emu):
    refused(
        call(emu, "GET", f"/zones/{ZONE}/dns_records?order=created_on"),
        400,
        1001,
        "Invalid value for query parameter 'order': 'created_on' is not one of type, name, content, ttl, proxied",
    )


@pytest.mark.parametrize("per_page", ["0", "5000001"])
def test_listing_per_page_outside_the_documented_range_is_refused(emu, per_page):
    refused(
        call(emu, "GET", f"/zones/{ZONE}/dns_records?per_page={per_page}"),
        400,
        1001,
        "Invalid value for query parameter 'per_page': must be between 1 and 5000000",
    )


def test_listing_comes_in_type_name_content_order(emu):
    for body in (
        {"type": "TXT", "name": "b", "content": "2"},
        {"type": "A", "name": "z", "content": "192.0.2.1"},
        {"type": "TXT", "name": "b", "content": "1"},
        {"type": "TXT", "name": "a", "content": "9"},
        {"type": "CNAME", "name": "c", "content": "t.example.net"},
    ):
        ok(dns(emu, body))
    listed = ok(call(emu, "GET", f"/zones/{ZONE}/dns_records"))
    assert [(r["type"], r["name"].split(".")[0], r["content"]) for r in listed] == [
        ("A", "z", "192.0.2.1"),
        ("CNAME", "c", "t.example.net"),
        ("TXT", "a", "9"),
        ("TXT", "b", "1"),
        ("TXT", "b", "2"),
    ]
    by_name = ok(call(emu, "GET", f"/zones/{ZONE}/dns_records?order=name&direction=desc"))
    assert [r["name"].split(".")[0] for r in by_name] == ["z", "c", "b", "b", "a"]


def test_records_carry_only_the_record_schema_fields(emu):
    a = ok(dns(emu, {"type": "A", "name": "a", "content": "192.0.2.1"}))
    assert set(a) == RECORD_KEYS  # no zone_id, zone_name, locked, priority or data
    commented = ok(dns(emu, {"type": "TXT", "name": "t", "content": "v", "comment": "c", "tags": ["k:v"]}, ZONE_PRO))
    assert set(commented) == RECORD_KEYS | {"comment_modified_on", "tags_modified_on"}
    srv = ok(
        dns(emu, {"type": "SRV", "name": "_s._tcp", "data": {"priority": 1, "weight": 2, "port": 3, "target": "h"}})
    )
    assert set(srv) == RECORD_KEYS | {"data"}
    mx = ok(dns(emu, {"type": "MX", "name": "@", "content": "mail.example.com", "priority": 10}))
    assert set(mx) == RECORD_KEYS | {"priority"}
    for rec in ok(call(emu, "GET", f"/zones/{ZONE}/dns_records")):
        assert "zone_id" not in rec and "zone_name" not in rec
    batch = ok(
        call(
            emu,
            "POST",
            f"/zones/{ZONE}/dns_records/batch",
            {"posts": [{"type": "A", "name": "b", "content": "192.0.2.2"}]},
        )
    )
    assert set(batch["posts"][0]) == RECORD_KEYS


def test_ipv4_only_is_accepted_on_any_type(emu):
    """The record schema gives every type settings.ipv4_only/ipv6_only (only flatten_cname is CNAME-only)."""
    mx = ok(
        dns(
            emu, {"type": "MX", "name": "@", "content": "m.example.com", "priority": 1, "settings": {"ipv4_only": True}}
        )
    )
    assert mx["settings"] == {"ipv4_only": True}
