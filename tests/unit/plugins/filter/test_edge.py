# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The edge filters: the one problem list before any API call, and the objects derived from services."""

from __future__ import annotations

import ingress_model  # the cloudflared test double: no code shared with plugins/
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.filter.edge import (
    edge_access_config,
    edge_dns_records,
    edge_origin_access,
    edge_problems,
    edge_tunnel_rules,
)
from ansible_collections.homelab.mcp_edge.plugins.filter.services import _service_kinds
from ansible_collections.homelab.mcp_edge.plugins.module_utils._ingress import api_ingress
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import normalize_services

POLICIES = {
    "owner": {"decision": "allow", "include": [{"email": "me@example.com"}]},
    "mcp-clients": {"decision": "non_identity", "include": [{"service_token": "claude-desktop"}]},
}
TOKENS = ["claude-desktop"]
SETTINGS = {"zone": "example.com", "tunnel_name": "home", "tunnel_mode": "local", "secrets_dir": "/tmp/s"}
SERVICES = [
    {"name": "time", "port": 8101, "access": ["owner", "mcp-clients"]},
    {"name": "n8n", "kind": "n8n", "port": 5678, "access": ["owner"], "path": "/webhook"},
    {"name": "api", "port": 8102, "hostname": "api.example.com", "access": ["owner"], "path": "^/v[0-9]+/"},
]


def problems(services=None, domain="example.com", policies=None, tokens=None, **settings):
    return edge_problems(
        SERVICES if services is None else services,
        domain,
        POLICIES if policies is None else policies,
        TOKENS if tokens is None else tokens,
        dict(SETTINGS, **settings),
    )


def test_a_valid_description_has_no_problem():
    assert problems() == []


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"services": [{"name": "x", "port": 1}]}, "'access' must list at least one policy"),
        ({"services": [{"name": "x", "port": 1, "access": ["nope"]}]}, "access policy 'nope' is not in"),
        ({"services": [{"name": "x", "port": 1, "access": ["owner"], "hostname": "x.example.org"}]}, "not inside"),
        ({"policies": {"owner": {"decision": "maybe", "include": [{"everyone": True}]}}}, "'decision' must be one of"),
        ({"policies": {"owner": {"decision": "allow"}}}, "'include' must be a non-empty list"),
        ({"tokens": []}, "service token 'claude-desktop' is not in homelab_access_service_tokens"),
        ({"tokens": ["a", "a"]}, "listed twice"),
        ({"tokens": [{"name": "a", "duration": "1d"}]}, "duration must be hours"),
        ({"tunnel_mode": "both"}, "cloudflare_edge_tunnel_mode must be 'local' or 'remote'"),
        ({"origin_access": True, "team_name": "Bad Team"}, "cloudflare_edge_team_name"),
        ({"secrets_dir": "relative"}, "must be an absolute path"),
        ({"domain": "nodot", "zone": "nodot"}, "cloudflare_edge_zone must be the Cloudflare zone"),
    ],
)
def test_each_problem_names_the_variable_and_what_is_valid(kwargs, expected):
    found = problems(**kwargs)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_not_just_the_first():
    found = problems(services=[{"name": "x", "port": 1}, {"name": "y", "port": 1, "access": ["z"]}], tunnel_mode="x")
    assert len(found) >= 3, found


def test_one_proxied_cname_per_distinct_hostname():
    services = normalize_services(
        [*SERVICES, {"name": "n8n-hooks", "hostname": "n8n.example.com", "port": 5679, "path": "/x"}], "example.com"
    )
    records = edge_dns_records(services, "abc")
    assert [r["name"] for r in records] == ["time.example.com", "n8n.example.com", "api.example.com"]
    assert all(r["content"] == "abc.cfargotunnel.com" and r["proxied"] is True for r in records)


def test_access_config_one_application_per_service_with_policies_in_order():
    services = normalize_services(SERVICES, "example.com")
    config = edge_access_config(
        services,
        POLICIES,
        [*TOKENS, {"name": "ci", "duration": "720h"}],
        "home: ",
        {"session_duration": "24h", "allowed_idps": None},
    )
    assert config["service_tokens"] == [
        {"name": "claude-desktop", "rotate": False},
        {"name": "ci", "duration": "720h", "rotate": False},
    ]
    assert [p["name"] for p in config["policies"]] == ["mcp-clients", "owner"]
    apps = {a["name"]: a for a in config["applications"]}
    assert apps["home: time"] == {
        "name": "home: time",
        "domain": "time.example.com",
        "policies": ["owner", "mcp-clients"],
        "session_duration": "24h",
    }
    # A plain path narrows the application; a regular expression cannot, so the hostname is used.
    assert apps["home: n8n"]["domain"] == "n8n.example.com/webhook"
    assert apps["home: api"]["domain"] == "api.example.com"


def test_access_config_absent_names_everything_for_deletion():
    services = normalize_services(SERVICES, "example.com")
    config = edge_access_config(services, POLICIES, TOKENS, "home: ", state="absent")
    assert config["applications"][0] == {"name": "home: time", "state": "absent"}
    assert {p["state"] for kind in config.values() for p in kind} == {"absent"}


def test_origin_access_sets_each_services_aud():
    services = normalize_services(SERVICES[:1], "example.com")
    out = edge_origin_access(services, {"home: time": {"aud": "aud1"}}, "home: ", "team")
    assert out[0]["origin_request"]["access"] == {"required": True, "teamName": "team", "audTag": ["aud1"]}
    assert "access" not in services[0]["origin_request"]  # the input is left alone


def test_origin_access_never_routes_a_service_unchecked():
    services = normalize_services(SERVICES[:2], "example.com")
    with pytest.raises(AnsibleFilterError, match=r"'home: n8n' of service 'n8n' has no aud tag"):
        edge_origin_access(services, {"home: time": {"aud": "aud1"}, "home: n8n": {"aud": None}}, "home: ", "team")
    # A check run before the applications exist: a placeholder that names the application.
    out = edge_origin_access(services, {"home: time": {"aud": "aud1"}}, "home: ", "team", True)
    assert out[1]["origin_request"]["access"]["audTag"] == [
        "(aud of the Access application 'home: n8n', once it exists)"
    ]
    assert out[1]["origin_request"]["access"]["required"] is True


@pytest.mark.parametrize("team", ["", None, "Bad Team", "team.cloudflareaccess.com"])
def test_origin_access_needs_a_team_name(team):
    services = normalize_services(SERVICES[:1], "example.com")
    with pytest.raises(AnsibleFilterError, match="the team name must be a Zero Trust team name"):
        edge_origin_access(services, {"home: time": {"aud": "aud1"}}, "home: ", team)


def test_origin_access_reads_the_team_name_when_none_is_given():
    assert problems(origin_access=True, team_name="") == []
    assert problems(origin_access=True, team_name="myteam") == []


def test_origin_access_refuses_a_bypass_policy_and_off_allows_it():
    policies = dict(POLICIES, lan={"decision": "bypass", "include": [{"ip": "192.168.1.0/24"}]})
    services = [{"name": "time", "port": 8101, "access": ["lan", "owner"]}]
    found = problems(services=services, policies=policies, origin_access=True)
    assert len(found) == 1, found
    assert "homelab_services[0] (name 'time'): access policy 'lan' is a bypass policy" in found[0]
    assert "cloudflare_edge_origin_access: false" in found[0]
    assert problems(services=services, policies=policies, origin_access=False) == []


def test_tunnel_rules_are_cloudflareds_rules_which_the_module_takes_unchanged():
    services = normalize_services(
        [{"name": "t", "port": 1, "access": ["o"], "origin_request": {"connect_timeout": "5s"}}], "example.com"
    )
    rules = edge_tunnel_rules(services)
    assert rules == [
        {"hostname": "t.example.com", "service": "http://127.0.0.1:1", "originRequest": {"connectTimeout": "5s"}},
        {"service": "http_status:404"},
    ]
    # cloudflare_tunnel_config writes them in the API form (durations in seconds), its catch-all not added twice.
    assert api_ingress(rules) == (
        [
            {"hostname": "t.example.com", "service": "http://127.0.0.1:1", "originRequest": {"connectTimeout": 5}},
            {"service": "http_status:404"},
        ],
        None,
    )


def test_remote_tunnel_rules_answer_n8n_metrics_404_on_its_hostname():
    """The remote-managed path: the edge's rules (origin access on), stored by cloudflare_tunnel_config."""
    services = normalize_services([SERVICES[0], {"name": "n8n", "kind": "n8n", "port": 5678}], "example.com")
    apps = {"home: time": {"aud": "aud1"}, "home: n8n": {"aud": "aud2"}}
    rules = edge_tunnel_rules(edge_origin_access(services, apps, "home: ", "team"))
    metrics_404 = {"hostname": "n8n.example.com", "path": "(?i)^/metrics", "service": "http_status:404"}
    assert rules[0] == metrics_404
    assert [r.get("hostname") for r in rules] == ["n8n.example.com", "time.example.com", "n8n.example.com", None]
    ingress = api_ingress(rules)[0]  # what cloudflare_tunnel_config writes to the API
    assert ingress[0] == metrics_404 and ingress[2]["originRequest"]["access"]["audTag"] == ["aud2"]
    # cloudflared (its test double: no code shared) reading that configuration sends /metrics to the 404.
    config = {"tunnel": "6ff42ae2-765d-4adf-8112-31c55c1551ef", "credentials-file": "/x.json", "ingress": ingress}
    assert ingress_model.match_rule(yaml.safe_dump(config), "https://n8n.example.com/Metrics") == 0
    assert ingress_model.match_rule(yaml.safe_dump(config), "https://n8n.example.com/rest/login") == 2
    # n8n published under /webhook only (SERVICES[1]): /metrics never reaches it, so no rule.
    published = edge_tunnel_rules(normalize_services(SERVICES, "example.com"))
    assert [r["service"] for r in published].count("http_status:404") == 1  # the catch-all alone


def test_tunnel_rules_report_problems_as_filter_errors():
    with pytest.raises(AnsibleFilterError):
        edge_tunnel_rules([{"name": "t", "hostname": "t.example.com", "service_url": "ftp://x"}])


def test_service_kinds_skip_disabled_and_malformed_entries():
    assert _service_kinds([{"name": "a"}, {"kind": "n8n"}, {"kind": "http", "enabled": False}, "junk"]) == [
        "mcp",
        "n8n",
    ]
    assert _service_kinds({"not": "a list"}) == []


def test_access_config_rotates_the_tokens_named():
    config = edge_access_config([], {}, ["claude-desktop", {"name": "ci"}], "home: ", rotate=["ci"])
    assert config["service_tokens"] == [{"name": "claude-desktop", "rotate": False}, {"name": "ci", "rotate": True}]


def test_rotating_an_unknown_token_is_a_preflight_problem():
    settings = {"tunnel_name": "home", "tunnel_mode": "local", "rotate_tokens": ["cladue-desktop"]}
    problems = edge_problems([], "example.com", {}, ["claude-desktop"], settings)
    assert [p for p in problems if "rotate" in p] == [
        "cloudflare_edge_rotate_service_tokens: 'cladue-desktop' is not in homelab_access_service_tokens "
        "(defined: claude-desktop)."
    ]


def test_policy_rules_are_checked_by_the_modules_rule_language():
    policies = {
        "owner": {"decision": "allow", "include": [{"email": "me@example"}, {"ip": "10.0.0.1/8"}]},
        "mcp-clients": {"decision": "non_identity", "include": [{"service_token": ["claude-desktop", "ci", "cli"]}]},
    }
    found = problems(policies=policies)
    assert "homelab_access_policies['owner'].include[0].email: 'me@example' is not an email address" in found[0]
    assert "homelab_access_policies['owner'].include[1].ip: '10.0.0.1/8' has host bits set" in found[1]
    missing = [p for p in found if "is not in homelab_access_service_tokens" in p]
    assert missing == [
        f"homelab_access_policies['mcp-clients'].include[0].service_token: service token {name!r} is not in "
        "homelab_access_service_tokens (listed: claude-desktop)."
        for name in ("ci", "cli")
    ]
    # Groups and login methods are names in the account: only the module can check them.
    policies = {"owner": {"decision": "allow", "include": [{"group": "admins"}, {"login_method": "GitHub"}]}}
    assert problems(policies=dict(POLICIES, **policies)) == []


# --- Tunnel health alert (cloudflare_edge_tunnel_alerts) -----------------------------------------------
HOOK = {"name": "ntfy", "url": "https://ntfy.example.net/x", "secret": "hush-5f0e2a9c"}


def alert_problems(alerts):
    return problems(tunnel_alerts=alerts)


@pytest.mark.parametrize(
    "alerts",
    [{}, None, {"emails": ["ops@example.com"]}, {"webhooks": [HOOK], "statuses": ["down"]}, {"emails": []}],
)
def test_tunnel_alerts_accepted(alerts):
    assert alert_problems(alerts) == []


@pytest.mark.parametrize(
    ("alerts", "expect"),
    [
        ("on", "cloudflare_edge_tunnel_alerts must be a mapping with emails, webhooks, statuses"),
        ({"emails": "ops@example.com"}, "cloudflare_edge_tunnel_alerts.emails must be a list of e-mail addresses"),
        (
            {"webhooks": HOOK},
            "cloudflare_edge_tunnel_alerts.webhooks must be a list of {name, url, secret}, got a dict",
        ),
        ({"webhooks": [HOOK, HOOK]}, "cloudflare_edge_tunnel_alerts.webhooks[1]: the name 'ntfy' is used twice."),
        ({"webhooks": [dict(HOOK, secret=12)]}, "cloudflare_edge_tunnel_alerts.webhooks[0]: 'secret' must be a string"),
        ({"webhooks": [dict(HOOK, token="x")]}, "cloudflare_edge_tunnel_alerts.webhooks[0]: unknown key(s) token"),
        ({"webhooks": [dict(HOOK, name="")]}, "cloudflare_edge_tunnel_alerts.webhooks[0]: 'name' must be 1-100"),
        ({"webhooks": [dict(HOOK, url="ftp://x.example")]}, "cloudflare_edge_tunnel_alerts.webhooks[0].url: "),
        ({"statuses": []}, "cloudflare_edge_tunnel_alerts.statuses must be a non-empty list"),
    ],
)
def test_tunnel_alerts_refused_naming_the_setting_never_the_secret(alerts, expect):
    problems = alert_problems(alerts)
    assert any(expect in p for p in problems), problems
    assert not any("hush" in p for p in problems)
