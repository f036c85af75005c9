# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of plugins/filter/cloudflared.py: the tunnels the cloudflared role runs."""

from __future__ import annotations

import base64
import json

import ingress_model  # the cloudflared test double: no code shared with plugins/
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.filter.cloudflared import (
    FilterModule,
    cloudflared_tunnel_problems,
    cloudflared_tunnels,
    token_problem,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._ingress import (
    IngressError,
    build_ingress,
    origin_request_to_camel,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import normalize_services
from ansible_collections.homelab.mcp_edge.plugins.module_utils._tunnel import decode_tunnel_token

SECRET = base64.b64encode(b"s" * 32).decode()
TOKEN = base64.b64encode(json.dumps({"a": "acct", "t": "tid", "s": SECRET}).encode()).decode()
TUNNEL_ID = "1b7b1c64-6a52-4d8e-9a43-3c1f0f1f6a01"
DEFAULTS = {
    "config_dir": "/etc/cloudflared",
    "domain": "example.com",
    "services": [{"name": "time", "port": 3001}],
    "origin_request": {},
    "extra_ingress": [],
    "catch_all": "http_status:404",
    "metrics_port": 20241,
    "loglevel": "info",
    "protocol": "auto",
}
LOCAL = {"name": "home", "mode": "local", "tunnel_id": TUNNEL_ID, "account_tag": "0123abcd", "secret": SECRET}
REMOTE = {"name": "lab", "mode": "remote", "token": TOKEN}


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"cloudflared_tunnels", "cloudflared_tunnel_problems"}


def test_local_and_remote_tunnels_public_part():
    home, lab = cloudflared_tunnels([LOCAL, REMOTE], DEFAULTS)
    assert home["unit"] == "cloudflared@home.service"
    assert home["config"] == {
        "tunnel": TUNNEL_ID,
        "credentials-file": "/etc/cloudflared/home.json",
        "metrics": "127.0.0.1:20241",
        "loglevel": "info",
        "protocol": "auto",
        "no-autoupdate": True,
        "ingress": [
            {"hostname": "time.example.com", "service": "http://127.0.0.1:3001"},
            {"service": "http_status:404"},
        ],
    }
    assert home["env"] == {"CLOUDFLARED_TUNNEL_ARGS": ""}
    assert lab["metrics_port"] == 20242 and "ingress" not in lab["config"]
    assert lab["env"] == {"CLOUDFLARED_TUNNEL_ARGS": "--token-file /etc/cloudflared/lab.token"}
    public = json.dumps([home, lab])
    assert SECRET not in public and TOKEN not in public


def test_local_config_answers_n8n_metrics_404_on_its_hostname_and_cloudflared_agrees():
    """The locally managed path: config.yml as the role writes it, read by the cloudflared test double."""
    defaults = dict(DEFAULTS, services=[{"name": "time", "port": 3001}, {"name": "n8n", "kind": "n8n", "port": 5678}])
    (home,) = cloudflared_tunnels([LOCAL], defaults)
    metrics_404 = {"hostname": "n8n.example.com", "path": "(?i)^/metrics", "service": "http_status:404"}
    assert home["config"]["ingress"] == [
        metrics_404,
        {"hostname": "time.example.com", "service": "http://127.0.0.1:3001"},
        {"hostname": "n8n.example.com", "service": "http://127.0.0.1:5678"},
        {"service": "http_status:404"},
    ]
    # What `cloudflared tunnel --config F ingress validate` and `ingress rule URL` say (the role's checks).
    source = yaml.safe_dump(home["config"], sort_keys=False)
    assert ingress_model.validate_config(source) == (True, [], [])
    assert ingress_model.match_rule(source, "https://n8n.example.com/metrics") == 0
    assert ingress_model.match_rule(source, "https://n8n.example.com/healthz") == 2


def test_secret_part():
    home, lab = cloudflared_tunnels([LOCAL, REMOTE], DEFAULTS, part="secret")
    assert home["path"] == "/etc/cloudflared/home.json"
    assert json.loads(home["content"]) == {
        "AccountTag": "0123abcd",
        "TunnelSecret": SECRET,
        "TunnelID": TUNNEL_ID,
        "Endpoint": "",
    }
    assert lab == {"name": "lab", "mode": "remote", "path": "/etc/cloudflared/lab.token", "content": TOKEN}


def test_origin_request_and_catch_all_defaults():
    (home,) = cloudflared_tunnels(
        [dict(LOCAL, origin_request={"no_tls_verify": True}, catch_all="http_status:503")], DEFAULTS
    )
    assert home["config"]["originRequest"] == {"noTLSVerify": True}
    assert home["config"]["ingress"][-1] == {"service": "http_status:503"}


def test_problems_never_quote_secrets():
    bad_secret = "bm90LTMyLWJ5dGVz"  # base64 of 'not-32-bytes'
    bad_token = "eyJub3QiOiAidG9rZW4ifQ=="  # base64 of {"not": "token"}
    problems = cloudflared_tunnel_problems([dict(LOCAL, secret=bad_secret), dict(REMOTE, token=bad_token)], DEFAULTS)
    assert len(problems) == 2
    assert "'secret'" in problems[0] and "value not shown" in problems[0]
    assert "'token'" in problems[1] and "lacks the keys a" in problems[1]
    assert bad_secret not in "".join(problems) and bad_token not in "".join(problems)


def test_every_tunnel_problem_is_listed():
    problems = cloudflared_tunnel_problems(
        [
            dict(LOCAL, tunnel_id="nope", account_tag="", loglevel="loud", protocol="udp", typo=1),
            dict(REMOTE, name="home", metrics_port=20241),
            {"name": "Bad_Name"},
            dict(REMOTE, name="api", mode="cloud", metrics_port=3001),
        ],
        DEFAULTS,
    )
    text = "\n".join(problems)
    for fragment in (
        "cloudflared_tunnels[0] (tunnel 'home'): unknown key(s) typo",
        "needs 'tunnel_id'",
        "needs 'account_tag'",
        "'loglevel' must be one of",
        "'protocol' must be one of",
        "[1] (tunnel 'home'): the name 'home' is already used",
        "metrics port 20241 clashes with tunnel 'home'",
        "[2] (tunnel 'Bad_Name'): 'name' must be",
        "'mode' must be 'local'",
        "metrics port 3001 of tunnel 'api' clashes with the 127.0.0.1 port of",
    ):
        assert fragment in text, fragment


def test_bad_services_and_rules_name_the_tunnel():
    problems = cloudflared_tunnel_problems(
        [
            dict(
                LOCAL,
                services=[
                    {"name": "a", "port": 1, "service_url": "http://127.0.0.1:1/v1"},
                    {"name": "b", "port": 2, "paths": ["^/x", "^/x"]},
                ],
            )
        ],
        DEFAULTS,
    )
    text = "\n".join(problems)
    assert "(tunnel 'home'): ingress rule #" in text
    assert "bad service URL 'http://127.0.0.1:1/v1'" in text
    assert "duplicate hostname+path" in text
    problems = cloudflared_tunnel_problems([dict(LOCAL, services=[{"name": "a"}])], DEFAULTS)
    assert "cloudflared_tunnels[0] (tunnel 'home').services[0] (name 'a'): 'port' is required" in problems[0]


def test_no_catch_all():
    extra = [{"hostname": "x.example.com", "service": "http://127.0.0.1:9"}]
    problems = cloudflared_tunnel_problems([dict(LOCAL, catch_all="", extra_ingress=extra)], DEFAULTS)
    assert any("the last ingress rule must match all URLs" in problem for problem in problems)
    own = [*extra, {"service": "http_status:410"}]
    (home,) = cloudflared_tunnels([dict(LOCAL, catch_all="", extra_ingress=own)], DEFAULTS)
    assert home["config"]["ingress"][-1] == {"service": "http_status:410"}


def test_filter_raises_with_all_problems():
    with pytest.raises(AnsibleFilterError, match=r"2 problem\(s\) in cloudflared_tunnels"):
        cloudflared_tunnels([dict(LOCAL, tunnel_id=""), dict(REMOTE, token="")], DEFAULTS)
    with pytest.raises(AnsibleFilterError, match="non-empty list"):
        cloudflared_tunnels([], DEFAULTS)
    with pytest.raises(AnsibleFilterError, match="part must be"):
        cloudflared_tunnels([LOCAL], DEFAULTS, part="all")


def test_decode_tunnel_token():
    assert decode_tunnel_token(TOKEN)["t"] == "tid"
    assert decode_tunnel_token(TOKEN.rstrip("="))["a"] == "acct"
    assert token_problem(TOKEN) is None and token_problem(TOKEN.rstrip("=")) is None
    for bad in ("", "!!!", base64.b64encode(b"[]").decode()):
        assert decode_tunnel_token(bad) == {}
        assert token_problem(bad) == "the token is not base64-encoded JSON"
    lacking = base64.b64encode(json.dumps({"a": "acct", "t": "tid"}).encode()).decode()
    assert token_problem(lacking) == "the token's JSON lacks the keys a (account tag), t (tunnel id) and s (secret)"
    assert token_problem(None) == "the token is not base64-encoded JSON"


def test_ingress_rules_and_origin_request_of_module_utils():
    # What the ingress_rules and origin_request filters did (they had no consumer): module_utils' rules.
    assert build_ingress(normalize_services([{"name": "time", "port": 3001}], "example.com"))[0]["hostname"] == (
        "time.example.com"
    )
    with pytest.raises(IngressError, match="bad service URL"):
        build_ingress(normalize_services([{"name": "time", "service_url": "http://127.0.0.1:1/x"}], "example.com"))
    assert origin_request_to_camel({"ca_pool": "/x"}) == {"caPool": "/x"}
    with pytest.raises(IngressError):
        origin_request_to_camel({"nope": 1})


def test_single_tunnel_messages_name_the_role_variables():
    problems = cloudflared_tunnel_problems(
        [{"name": "home", "mode": "remote", "token": "", "metrics_port": 3001}], DEFAULTS, single=True
    )
    assert problems[0].startswith("tunnel 'home': a remote-managed tunnel needs cloudflared_tunnel_token,")
    assert "cloudflared_services[0] (name 'time'); pick another cloudflared_metrics_port." in problems[1]
