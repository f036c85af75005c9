# SPDX-License-Identifier: GPL-3.0-or-later
"""Differential test: the collection's ingress validator against the independent cloudflared double.

The double (tests/doubles/cloudflared/ingress_model.py) is written from cloudflared's own source and
reproduces the real binary's verdicts; it shares no code with plugins/. Hypothesis generates ingress
configs in both forms:

* config.yml (YAML text, as the cloudflared role writes it), validated by the double as cloudflared
  validates its config file;
* the API form (the remote configuration's JSON), which cloudflared decodes with encoding/json:
  durations are whole seconds (strconv.ParseInt on the raw number). The double reads config files, so
  an API-form config is handed to it as the config file cloudflared would effectively run (whole
  seconds written as "Ns"); a duration ParseInt refuses makes cloudflared refuse the whole config.

The one property: the collection never accepts what cloudflared refuses. Where the collection is
stricter than cloudflared on purpose, `_ingress.DELIBERATE_STRICTNESS` says so; each entry has an
example below that the double accepts and the collection refuses, asserted as such.
"""

from __future__ import annotations

import json
from pathlib import Path

import ingress_model as cloudflared  # the double: no code shared with plugins/
import pytest
import yaml
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _ingress as ours
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]

EXAMPLES = 2000  # per form: 4,000 generated configs a run

HOSTNAMES = [
    "a.example.com", "b.example.com", "A.Example.com", "*.example.com", "*", "", "a.example.com:443",
    "*.com", "x.*.example.com", "bad_label-.example.com", "a..example.com", "xn--bcher-kva.example",
    "-a.example.com", "a" * 64 + ".example.com",
]  # fmt: skip
PATHS = [
    "^/api", "^/api/v[0-9]+$", r"\.png$", "/mcp", "(?i)^/MCP", "^/(?=api)", "(a)\\1", "a*+", "\\Z",
    "[[:alpha:]]", "a{,3}", "a{1001}", "(?P<n>x)", "(?<n>x)", "", "[", "\\u0041", "^/a b$", "(?x)a b",
    "\\pL", "\\z",
]  # fmt: skip
SERVICES = [
    "http://127.0.0.1:3001", "http://localhost:3001/", "http://localhost:3001/api", "https://localhost",
    "http://[::1]:8080", "tcp://127.0.0.1:22", "tcp://127.0.0.1", "ssh://127.0.0.1:22", "rdp://h:3389",
    "smb://h:445", "unix:/run/app.sock", "unix+tls:/run/app.sock", "unix:relative.sock",
    "http_status:404", "http_status:99", "http_status:1000", "http_status:4\u00b24", "http_status:+404",
    "http_status:abc", "hello_world", "hello-world", "helloworld", "socks-proxy", "bastion",
    "ftp://h:21", "", "http://", "127.0.0.1:80", "http://h:3001?x=1", "http://user@h:1", "http://h:99999",
    "HTTP://127.0.0.1:1",
]  # fmt: skip
DURATION_VALUES = ["30s", "1m30s", "1.5h", "0", "30", 30, 0, -1, 1.5, True, "-5s", "5 s", "", None]
ORIGIN_VALUES = {
    "connectTimeout": DURATION_VALUES,
    "tlsTimeout": DURATION_VALUES,
    "keepAliveTimeout": DURATION_VALUES,
    "noTLSVerify": [True, False, "yes", 1, "true", None],
    "httpHostHeader": ["h.example.com", 5, True, ""],
    "keepAliveConnections": [100, 0, -1, "100", 1.7, True],
    "proxyType": ["socks", "", 3],
    "access": [
        {"required": True, "teamName": "team", "audTag": ["aud1"]},
        {"required": True, "audTag": ["aud1"]},
        {"required": False},
        {"required": "yes", "teamName": "team", "audTag": ["a"]},
        {"teamName": "team", "audTag": "aud1"},
        "on",
    ],
    "noTLSverify": [True],  # a typo: cloudflared only warns
}


GOOD_HOSTNAMES = ["a.example.com", "b.example.com", "*.example.com", "mcp.example.com"]
GOOD_PATHS = ["^/api", "^/api/v[0-9]+$", r"\.png$", "/mcp", "(?i)^/MCP", "^/webhook/"]
GOOD_SERVICES = ["http://127.0.0.1:3001", "https://localhost", "http://[::1]:8080", "tcp://127.0.0.1:22",
                 "unix:/run/app.sock", "http_status:404", "hello_world", "socks-proxy"]  # fmt: skip


def mostly_good(good, odd):
    """Three in four draws from the valid pool, so many generated configs get past the validator."""
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(good), st.sampled_from(odd))


@st.composite
def origin_request(draw):
    keys = draw(st.lists(st.sampled_from(sorted(ORIGIN_VALUES)), max_size=3, unique=True))
    return {key: draw(st.sampled_from(ORIGIN_VALUES[key])) for key in keys}


@st.composite
def rule(draw):
    out = {}
    if draw(st.booleans()):
        out["hostname"] = draw(mostly_good(GOOD_HOSTNAMES, HOSTNAMES))
    if draw(st.integers(0, 3)) == 0:
        out["path"] = draw(mostly_good(GOOD_PATHS, PATHS))
    if draw(st.integers(0, 15)) > 0:
        out["service"] = draw(mostly_good(GOOD_SERVICES, SERVICES))
    if draw(st.integers(0, 5)) == 0:
        out["originRequest"] = draw(origin_request())
    return out


@st.composite
def ingress_config(draw):
    rules = draw(st.lists(rule(), min_size=0, max_size=4))
    if draw(st.integers(0, 4)) > 0:
        rules.append({"service": draw(st.sampled_from(["http_status:404", "hello_world", "http://127.0.0.1:9"]))})
    config = {
        "tunnel": "6ff42ae2-765d-4adf-8112-31c55c1551ef",
        "credentials-file": "/etc/cloudflared/x.json",
        "ingress": rules if draw(st.integers(0, 30)) else (rules[0] if rules else {}),
    }
    if draw(st.integers(0, 4)) == 0:
        config["originRequest"] = draw(origin_request())
    return config


def cloudflared_accepts_config_file(config):
    ok, errors, _warnings = cloudflared.validate_config(yaml.safe_dump(config, sort_keys=False))
    return ok, errors


_API_DURATIONS = ("connectTimeout", "tlsTimeout", "tcpKeepAlive", "keepAliveTimeout")


def _as_cloudflared_runs_api_json(origin):
    """encoding/json into CustomDuration (strconv.ParseInt): whole seconds only; None = refused."""
    if not isinstance(origin, dict):
        return origin
    out = dict(origin)
    for key in _API_DURATIONS:
        if key in out and out[key] is not None:
            raw = json.dumps(out[key])
            if not raw.lstrip("-").isdigit() or not raw.isascii():
                return None
            out[key] = "%ds" % int(raw)
    return out


def cloudflared_accepts_api(config):
    converted = dict(config)
    rules = config["ingress"]
    if isinstance(rules, list):
        converted["ingress"] = []
        for item in rules:
            item = dict(item)
            if "originRequest" in item:
                item["originRequest"] = _as_cloudflared_runs_api_json(item["originRequest"])
                if item["originRequest"] is None:
                    return False, ["json: cannot unmarshal into CustomDuration"]
            converted["ingress"].append(item)
    if "originRequest" in config:
        converted["originRequest"] = _as_cloudflared_runs_api_json(config["originRequest"])
        if converted["originRequest"] is None:
            return False, ["json: cannot unmarshal into CustomDuration"]
    return cloudflared_accepts_config_file(converted)


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(ingress_config())
def test_config_yml_never_accepts_what_cloudflared_refuses(config):
    if ours.config_problems(config, "config") == []:
        ok, errors = cloudflared_accepts_config_file(config)
        assert ok, f"the collection accepts a config.yml cloudflared refuses ({errors}):\n{yaml.safe_dump(config)}"


@SETTINGS
@given(ingress_config())
def test_api_form_never_accepts_what_cloudflared_refuses(config):
    if ours.config_problems(config, "api") == []:
        ok, errors = cloudflared_accepts_api(config)
        assert ok, f"the collection accepts an API config cloudflared refuses ({errors}):\n{json.dumps(config)}"


def _config(*rules, origin=None):
    config = {"tunnel": "6ff42ae2-765d-4adf-8112-31c55c1551ef", "credentials-file": "/x.json", "ingress": list(rules)}
    if origin is not None:
        config["originRequest"] = origin
    return config


CATCH_ALL = {"service": "http_status:404"}
HOST = "a.example.com"
# One example per deliberate strictness: cloudflared accepts it, the collection refuses it on purpose.
STRICTER = {
    "service scheme": _config({"hostname": HOST, "service": "ftp://127.0.0.1:21"}, CATCH_ALL),
    "service query or fragment": _config({"hostname": HOST, "service": "http://127.0.0.1:1?x=1"}, CATCH_ALL),
    "service port": _config({"hostname": HOST, "service": "tcp://127.0.0.1"}, CATCH_ALL),
    "unknown keys": _config({"hostname": HOST, "service": "http://127.0.0.1:1", "foo": 1}, CATCH_ALL),
    "hostname syntax": _config({"hostname": "bad_label-.example.com", "service": "http://127.0.0.1:1"}, CATCH_ALL),
    "duplicate hostname and path": _config(
        {"hostname": HOST, "service": "http://127.0.0.1:1"},
        {"hostname": HOST, "service": "http://127.0.0.1:2"},
        CATCH_ALL,
    ),
    "http_status code": _config({"hostname": HOST, "service": "http_status:+404"}, CATCH_ALL),
    "path regex": _config({"hostname": HOST, "path": "a{,3}", "service": "http://127.0.0.1:1"}, CATCH_ALL),
    "negative durations": _config(CATCH_ALL, origin={"connectTimeout": "-5s"}),
    "rule types": _config(CATCH_ALL, origin={"noTLSVerify": "yes"}),
}


def test_every_deliberate_strictness_has_an_example():
    assert sorted(STRICTER) == sorted(ours.DELIBERATE_STRICTNESS)


@pytest.mark.parametrize("name", sorted(STRICTER))
def test_deliberate_strictness_is_deliberate(name):
    config = STRICTER[name]
    ok, errors = cloudflared_accepts_config_file(config)
    assert ok, f"cloudflared refuses the example for {name!r} too ({errors}): not a strictness"
    assert ours.config_problems(config, "config"), f"the collection accepts the example for {name!r}"


def test_the_cloudflared_role_docs_list_every_deliberate_strictness():
    docs = (REPO / "docs" / "role-cloudflared.md").read_text(encoding="utf-8")
    for name in ours.DELIBERATE_STRICTNESS:
        assert f"| {name} |" in docs, name
