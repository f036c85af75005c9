# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The requests transport (loopback only): what counts as 'not sent', proxies with credentials,
validate_certs against a CA bundle variable; and the small shared pieces around it (api_path,
the manager contract's Outcome, the value rules)."""

from __future__ import annotations

import socket
import threading

import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _cloudflare as cf
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _diff as diff
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _http as http
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _values as values


@pytest.fixture
def hang_up_server():
    """A server that reads one request and closes the connection without answering; yields its port
    and the raw requests it read."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    seen = []

    def serve():
        while True:
            try:
                conn, _addr = server.accept()
            except OSError:
                return
            seen.append(conn.recv(65536))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], seen
    server.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dropped_after_sending_may_have_been_applied(hang_up_server, monkeypatch):
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    port, seen = hang_up_server
    transport = http.Transport("http://127.0.0.1:%d/client/v4" % port, timeout=5)
    with pytest.raises(http.TransportError) as info:
        transport.request("POST", "/zones/z/dns_records", b"{}", {"Content-Type": "application/json"})
    assert info.value.sent is True
    assert seen and seen[0].startswith(b"POST /client/v4/zones/z/dns_records HTTP/1.1")


def test_proxy_gets_the_credentials_of_its_url_and_a_drop_there_is_ambiguous(hang_up_server, monkeypatch):
    port, seen = hang_up_server
    monkeypatch.setenv("HTTP_PROXY", "http://user:s3cret@127.0.0.1:%d" % port)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    transport = http.Transport("http://api.example.test/client/v4", timeout=5)
    with pytest.raises(http.TransportError) as info:
        transport.request("POST", "/x", b"{}", {"Authorization": "Bearer tok"})
    assert info.value.sent is True  # urllib3 calls it a proxy error; the request had gone out
    head = seen[0].decode().split("\r\n")
    assert head[0] == "POST http://api.example.test/client/v4/x HTTP/1.1"
    assert "Proxy-Authorization: Basic dXNlcjpzM2NyZXQ=" in head  # user:s3cret
    assert "Authorization: Bearer tok" in head


def test_unreachable_proxy_means_not_sent(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:%d" % free_port())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    transport = http.Transport("http://api.example.test/client/v4", timeout=5)
    with pytest.raises(http.TransportError) as info:
        transport.request("POST", "/x", b"{}", {})
    assert info.value.sent is False


def test_netrc_does_not_replace_the_token(tmp_path, monkeypatch, hang_up_server):
    port, seen = hang_up_server
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    transport = http.Transport("http://127.0.0.1:%d/client/v4" % port, timeout=5)
    with pytest.raises(http.TransportError):
        transport.request("GET", "/x", None, {"Authorization": "Bearer tok"})
    assert b"Authorization: Bearer tok" in seen[0]


def test_validate_certs_false_wins_over_a_ca_bundle_variable(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    transport = http.Transport("https://127.0.0.1:%d/client/v4" % free_port(), validate_certs=False)
    seen = {}

    class Session:
        def request(self, method, url, **kwargs):
            seen.update(kwargs, method=method, url=url)
            raise http.requests.exceptions.ConnectTimeout("no")

        def close(self):
            pass

    transport._session = Session()
    with pytest.raises(http.TransportError) as info:
        transport.request("GET", "/zones", None, {})
    assert seen["verify"] is False and seen["url"].endswith("/client/v4/zones") and info.value.sent is False
    transport = http.Transport("https://api.example.test/client/v4")
    transport._session = Session()
    with pytest.raises(http.TransportError):
        transport.request("GET", "/zones", None, {})
    assert seen["verify"] is None  # the session's CA store, or the bundle variable when set


# ---------------------------------------------------------------------------- small shared pieces


def test_api_path_quotes_each_segment_and_skips_empty_ones():
    assert cf.api_path("accounts", "a/b", "cfd_tunnel", None, "") == "/accounts/a%2Fb/cfd_tunnel"
    assert cf.api_path("zones", "z", "dns_records", "batch") == "/zones/z/dns_records/batch"


def test_outcome_changed_and_diff_only_in_diff_mode():
    out = diff.Outcome("update", {"a": 1}, {"a": 2}, header="h", extra=3)
    assert out.result() == {"extra": 3, "changed": True}
    assert out.result(diff_mode=True)["diff"] == {
        "before": {"a": 1},
        "after": {"a": 2},
        "before_header": "h",
        "after_header": "h",
    }
    assert diff.Outcome("none", zones=[]).result(diff_mode=True) == {"zones": [], "changed": False}
    tracker = diff.DifferenceTracker()
    assert diff.Outcome.from_tracker(tracker, "create").changed is False
    tracker.add("state", "absent", "present")
    assert diff.Outcome.from_tracker(tracker, "create").result(True)["diff"]["after"] == {"state": "present"}
    with pytest.raises(ValueError, match="action must be one of"):
        diff.Outcome("replace")


def test_value_rules():
    assert values.is_uuid("6FF42AE2-765d-4adf-8112-31c55c1551ef") and not values.is_uuid("edge")
    assert values.is_dns_label("a-b") and not values.is_dns_label("-a") and not values.is_dns_label("a" * 64)
    assert values.is_dns_label("_dmarc", underscore=True) and not values.is_dns_label("_dmarc")
    assert values.is_dns_name("a.example.com") and not values.is_dns_name("a..example.com")
    assert values.duration_whole_seconds("1m30s") == 90 and values.duration_whole_seconds("90") == 90
    assert values.duration_whole_seconds("1.5s") is None and values.duration_whole_seconds(30) is None
    assert values.is_port(0, minimum=0) and not values.is_port(0) and not values.is_port(True)
    assert values.normalise_name("Example.COM.") == "example.com"


def test_without_requests_the_module_fails_naming_the_library(monkeypatch):
    failures = []

    class FakeAnsibleModule:
        def __init__(self, argument_spec, supports_check_mode, **kwargs):
            self.params = {k: v.get("default") for k, v in argument_spec.items()}
            self.check_mode = False

        def fail_json(self, **kwargs):
            failures.append(kwargs)
            raise SystemExit(1)

    monkeypatch.setattr(cf, "AnsibleModule", FakeAnsibleModule)
    monkeypatch.setattr(cf, "HAS_REQUESTS", False)
    monkeypatch.setattr(cf, "REQUESTS_IMPORT_ERROR", "Traceback ... ModuleNotFoundError: No module named 'requests'")
    with pytest.raises(SystemExit):
        cf.CloudflareModule({})
    assert "requests" in failures[0]["msg"] and "ModuleNotFoundError" in failures[0]["exception"]
