# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The private Cloudflare client: retries, back-off, retry-after, pagination, errors (no network)."""

from __future__ import annotations

import base64
import json
import random

import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _cloudflare as cf
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _diff as diff
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _errors as errors
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _http as http
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _tunnel as tunnel


class FakeTransport:
    """Answers from a script; each entry is (status, body[, headers]) or a _TransportError."""

    def __init__(self, script):
        self.script = list(script)
        self.sent = []

    def request(self, method, path, body, headers):
        self.sent.append(
            {"method": method, "path": path, "body": json.loads(body) if body else None, "headers": headers}
        )
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        status, payload = item[0], item[1]
        headers_out = item[2] if len(item) > 2 else {}
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        return status, headers_out, data

    def close(self):
        pass


def ok(result, **info):
    body = {"success": True, "errors": [], "messages": [], "result": result}
    if info:
        body["result_info"] = info
    return (200, body)


def err(status, code, message, chain=None, headers=None):
    e = {"code": code, "message": message}
    if chain:
        e["error_chain"] = chain
    return (status, {"success": False, "errors": [e], "messages": [], "result": None}, headers or {})


def make(script, sleeps=None, **params):
    base = {"api_token": "tok-123", "max_retries": 5, "max_retry_wait": 120}
    base.update(params)
    sleeps = [] if sleeps is None else sleeps
    client = cf.CloudflareClient(base, transport=FakeTransport(script), sleep=sleeps.append, rng=random.Random(1))
    return client, sleeps


# ---------------------------------------------------------------------------- basics


def test_get_returns_result_and_sends_bearer():
    client, _unused = make([ok({"id": "z1"})])
    assert client.get("/zones/z1") == {"id": "z1"}
    sent = client.transport.sent[0]
    assert sent["headers"]["Authorization"] == "Bearer tok-123" and sent["path"] == "/zones/z1"
    assert client.requests_made == 1


def test_legacy_key_headers():
    client, _unused = make([ok({})], api_token=None, api_email="me@example.com", api_key="k")
    client.get("/user")
    headers = client.transport.sent[0]["headers"]
    assert headers["X-Auth-Email"] == "me@example.com" and headers["X-Auth-Key"] == "k"
    assert "Authorization" not in headers


def test_build_path_encodes_params():
    assert (
        cf.CloudflareClient.build_path("zones", {"name": "a b", "x": None, "flag": True}) == "/zones?name=a+b&flag=true"
    )


def test_check_credentials_messages():
    assert cf.check_credentials({"api_token": "t"}) is None
    assert cf.check_credentials({"api_email": "e", "api_key": "k"}) is None
    assert "needs api_email" in cf.check_credentials({"api_key": "k"})
    assert "no Cloudflare credentials" in cf.check_credentials({})


def test_check_mode_blocks_writes():
    client = cf.CloudflareClient({"api_token": "t"}, check_mode=True, transport=FakeTransport([]))
    with pytest.raises(errors.CloudflareError, match="check mode"):
        client.post("/zones/z/dns_records", json={})


def test_bad_base_url_names_option():
    with pytest.raises(errors.CloudflareInputError, match=r"^api_base_url: must be an http"):
        cf.CloudflareClient({"api_token": "t", "api_base_url": "ftp://x"})


# ---------------------------------------------------------------------------- retries


def test_429_honours_retry_after():
    client, sleeps = make([err(429, 971, "Please wait", headers={"retry-after": "3"}), ok({"a": 1})])
    assert client.get("/x") == {"a": 1}
    assert sleeps == [3.0] and client.requests_made == 2 and client.retries_made == 1


def test_retry_after_is_capped():
    client, sleeps = make([err(429, 971, "wait", headers={"retry-after": "500"}), ok(1)], max_retry_wait=1000)
    client.get("/x")
    assert sleeps == [60.0]


def test_retry_after_http_date_is_understood():
    assert cf._parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert cf._parse_retry_after("2.5") == 2.5
    assert cf._parse_retry_after("soon") is None


def test_5xx_backoff_is_jittered_and_bounded():
    script = [err(503, 10013, "unavailable")] * 5 + [ok("fine")]
    client, sleeps = make(script, max_retries=5)
    assert client.get("/x") == "fine"
    ceilings = [0.5, 1.0, 2.0, 4.0, 8.0]
    assert len(sleeps) == 5 and all(0 <= s <= c for s, c in zip(sleeps, ceilings, strict=True))


def test_gives_up_after_max_retries():
    client, sleeps = make([err(500, 10010, "boom")] * 3, max_retries=2)
    with pytest.raises(errors.CloudflareRetryError) as info:
        client.get("/x")
    assert "gave up after 2 retries" in str(info.value) and "[10010] boom" in str(info.value)
    assert client.requests_made == 3 and len(sleeps) == 2


def test_total_wait_is_bounded():
    script = [err(429, 971, "wait", headers={"retry-after": "50"})] * 4
    client, sleeps = make(script, max_retries=10, max_retry_wait=120)
    with pytest.raises(errors.CloudflareRetryError, match="max_retry_wait=120"):
        client.get("/x")
    assert sum(sleeps) <= 120 and client.requests_made == 3


def test_connection_error_retried_for_get():
    client, sleeps = make([http.TransportError("reset", sent=True), ok("x")])
    assert client.get("/x") == "x" and len(sleeps) == 1


def test_html_502_is_readable():
    client, _unused = make([(502, "<html><title>502 Bad Gateway</title></html>")], max_retries=0)
    with pytest.raises(errors.CloudflareRetryError) as info:
        client.get("/x")
    assert "HTTP 502" in str(info.value) and "non-JSON answer" in str(info.value)


def test_4xx_is_not_retried_and_typed():
    client, sleeps = make([err(403, 10000, "Authentication error")])
    with pytest.raises(errors.CloudflareAuthError) as info:
        client.get("/x")
    assert info.value.status == 403 and info.value.codes == [10000] and sleeps == []


# ---------------------------------------------------------------------------- non-idempotent writes


def test_post_5xx_without_recover_is_not_resent():
    client, _unused = make([err(500, 10010, "boom")])
    with pytest.raises(errors.CloudflareAmbiguousWriteError, match="not re-sending it blindly"):
        client.post("/things", json={"name": "a"})
    assert client.requests_made == 1


def test_post_5xx_recover_finds_applied_write():
    client, _unused = make([err(500, 10010, "boom")])
    found = client.post("/things", json={"name": "a"}, recover=lambda: {"id": "t1", "name": "a"})
    assert found == {"id": "t1", "name": "a"} and client.requests_made == 1


def test_post_5xx_recover_not_applied_resends():
    client, _unused = make([err(502, 10012, "bad gateway"), ok({"id": "t2"})])
    assert client.post("/things", json={"name": "a"}, recover=lambda: None) == {"id": "t2"}
    assert [s["method"] for s in client.transport.sent] == ["POST", "POST"]


def test_conflict_on_resent_create_recovers():
    calls = []

    def recover():
        calls.append(1)
        return None if len(calls) == 1 else {"id": "t3"}

    script = [http.TransportError("dropped", sent=True), err(409, 1013, "You already have a tunnel with this name")]
    client, _unused = make(script)
    assert client.post("/tunnels", json={"name": "a"}, recover=recover) == {"id": "t3"}


def test_post_429_is_retried_without_recover():
    client, _unused = make([err(429, 971, "wait", headers={"retry-after": "0"}), ok({"id": "x"})])
    assert client.post("/things", json={}) == {"id": "x"}


def test_post_connect_failure_before_sending_is_retried():
    client, _unused = make([http.TransportError("refused", sent=False), ok({"id": "x"})])
    assert client.post("/things", json={}) == {"id": "x"}


def test_resent_delete_404_means_done():
    client, _unused = make([err(500, 10010, "boom"), err(404, 81044, "Record does not exist.")])
    assert client.delete("/zones/z/dns_records/r") is None


# ---------------------------------------------------------------------------- pagination


def test_paginate_total_pages():
    client, _unused = make(
        [ok([1, 2], page=1, per_page=2, total_pages=3), ok([3, 4], page=2, total_pages=3), ok([5], total_pages=3)]
    )
    assert client.paginate("/x", per_page=2) == [1, 2, 3, 4, 5]
    assert client.requests_made == 3
    assert "page=3" in client.transport.sent[2]["path"] and "per_page=2" in client.transport.sent[2]["path"]


def test_paginate_until_empty_page_without_result_info():
    client, _unused = make([ok([1, 2]), ok([3]), ok([])])
    assert client.paginate("/x", per_page=2) == [1, 2, 3] and client.requests_made == 3


def test_paginate_short_page_with_server_per_page():
    client, _unused = make([ok([1, 2], per_page=2), ok([3], per_page=2)])
    assert client.paginate("/x", per_page=2) == [1, 2, 3] and client.requests_made == 2


def test_paginate_empty_list_answers_one_page():
    client, _unused = make([ok([], page=1, per_page=20, count=0, total_count=0, total_pages=1)])
    assert client.paginate("/x") == [] and client.requests_made == 1


def test_paginate_non_list_result():
    client, _unused = make([ok({"config": {}})])
    assert client.paginate("/x") == {"config": {}}


# ---------------------------------------------------------------------------- errors


def test_error_string_includes_codes_and_chain():
    e = errors.CloudflareError(
        "Cloudflare API request failed",
        status=400,
        errors=[
            {
                "code": 1004,
                "message": "DNS Validation Error",
                "error_chain": [{"code": 9005, "message": "Content for A record must be a valid IPv4 address."}],
            }
        ],
        method="POST",
        path="/zones/z/dns_records",
    )
    text = str(e)
    assert text.startswith("Cloudflare API request failed (HTTP 400) on POST /zones/z/dns_records: ")
    assert "[1004] DNS Validation Error (caused by: [9005] Content for A record" in text
    assert e.codes == [1004] and e.all_codes == [1004, 9005] and e.has_code(9005)
    assert e.to_result() == {"status": 400, "errors": e.errors, "error_codes": [1004, 9005]}


def test_token_never_in_errors():
    client, _unused = make([err(400, 9109, "Invalid access token")])
    with pytest.raises(errors.CloudflareError) as info:
        client.get("/x")
    assert "tok-123" not in str(info.value) and "tok-123" not in json.dumps(info.value.to_result())


def test_input_error_prefixes_option():
    assert str(errors.CloudflareInputError("must be x", option="ttl")) == "ttl: must be x"
    assert str(errors.CloudflareInputError("ttl: already", option="ttl")) == "ttl: already"
    assert str(errors.CloudflareInputError("tunnel 'x' gone", option="tunnel")) == "tunnel: tunnel 'x' gone"


# ---------------------------------------------------------------------------- zones, accounts


def test_find_zone_is_cached_and_exact():
    zones = [{"id": "z1", "name": "example.com", "account": {"id": "acc"}}]
    client, _unused = make([ok(zones)])
    assert client.find_zone("Example.COM.")["id"] == "z1"
    assert client.find_zone("example.com")["id"] == "z1"
    assert client.requests_made == 1
    assert client.resolve_account_id(zone="example.com") == "acc" and client.requests_made == 1


def test_find_zone_missing():
    client, _unused = make([ok([])])
    with pytest.raises(errors.CloudflareNotFoundError, match=r"zone 'nope\.example' not found"):
        client.find_zone("nope.example")


def test_account_from_only_account_or_error():
    client, _unused = make([ok([{"id": "only"}], total_pages=1)])
    assert client.resolve_account_id() == "only"
    client, _unused = make([ok([{"id": "a"}, {"id": "b"}], total_pages=1)])
    with pytest.raises(errors.CloudflareInputError, match=r"^account_id: account_id is required"):
        client.resolve_account_id()


# ---------------------------------------------------------------------------- differences


def test_difference_tracker_records_once():
    t = diff.DifferenceTracker()
    assert not t.has_differences
    t.add("ttl", 300, 600)
    t.add("ttl", 1, 2)
    t.add("proxied", False, True)
    assert t.has_differences and len(t) == 2 and t.paths == ["ttl", "proxied"]
    assert t.diff("h") == {
        "before": {"ttl": 300, "proxied": False},
        "after": {"ttl": 600, "proxied": True},
        "before_header": "h",
    }


def test_changed_fields_leaves_omitted_alone():
    t = diff.DifferenceTracker()
    current = {"name": "a", "ttl": 300, "comment": "x", "tags": ["b", "a"]}
    changes = diff.changed_fields(current, {"name": "a", "ttl": None, "comment": "y", "tags": ["b", "a"]}, t, "rec.")
    assert changes == {"comment": "y"} and t.paths == ["rec.comment"]
    assert diff.normalise({"b": 1, "a": None, "c": [" x "]}) == {"b": 1, "c": ["x"]}


# ---------------------------------------------------------------------------- tunnels


def test_tunnel_token_round_trip_and_credentials():
    secret = tunnel.generate_tunnel_secret()
    assert len(base64.b64decode(secret)) == 32
    token = tunnel.encode_tunnel_token("acc", "tid", secret)
    assert tunnel.decode_tunnel_token(token) == {"a": "acc", "t": "tid", "s": secret}
    assert tunnel.decode_tunnel_token(token.rstrip("=")) == {"a": "acc", "t": "tid", "s": secret}
    assert tunnel.decode_tunnel_token("not a token") == {}
    assert tunnel.tunnel_credentials("acc", "tid", secret) == {
        "AccountTag": "acc",
        "TunnelSecret": secret,
        "TunnelID": "tid",
        "Endpoint": "",
    }


def test_check_tunnel_secret():
    tunnel.check_tunnel_secret(base64.b64encode(b"x" * 32).decode())
    with pytest.raises(errors.CloudflareInputError, match=r"^tunnel_secret: .*decodes to 5 bytes"):
        tunnel.check_tunnel_secret(base64.b64encode(b"short").decode())
    with pytest.raises(errors.CloudflareInputError, match="not valid base64"):
        tunnel.check_tunnel_secret("***")


def test_create_tunnel_recovers_by_name_after_5xx_after_write():
    existing = {"id": "t1", "name": "home", "deleted_at": None}
    client, _unused = make([err(500, 10010, "boom"), ok([existing], total_pages=1)])
    assert tunnel.create_tunnel(client, "acc", "home", "local", "s") == existing
    assert [s["method"] for s in client.transport.sent] == ["POST", "GET"]


# ---------------------------------------------------------------------------- the real transport (loopback only)


def test_transport_reuses_one_connection_and_reports_refused_as_not_sent():
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    connections = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            connections.append(self.client_address)

        def do_GET(self):
            body = json.dumps({"success": True, "errors": [], "result": {"path": self.path}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = "http://127.0.0.1:%d/client/v4" % server.server_address[1]
        client = cf.CloudflareClient({"api_token": "t", "api_base_url": base})
        for i in range(3):
            assert client.get("/zones/%d" % i) == {"path": "/client/v4/zones/%d" % i}
        assert len(connections) == 1
        client.close()
    finally:
        server.shutdown()
        server.server_close()

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = http.Transport("http://127.0.0.1:%d/client/v4" % port, timeout=2)
    with pytest.raises(http.TransportError) as info:
        transport.request("POST", "/x", b"{}", {})
    assert info.value.sent is False
