# SPDX-License-Identifier: GPL-3.0-or-later
"""Ingress rules: building them from services, and every validation rule (no Ansible needed)."""

from __future__ import annotations

import ingress_model  # the cloudflared test double: no code shared with plugins/
import pytest
import yaml
from ansible_collections.homelab.mcp_edge.plugins.module_utils._ingress import (
    IngressError,
    build_ingress,
    config_problems,
    hostname_problem,
    ingress_problems,
    origin_request_to_camel,
    service_problem,
    validate_ingress,
)

CATCH_ALL = {"service": "http_status:404"}


def svc(name, port, **extra):
    return {"name": name, "hostname": f"{name}.example.com", "service_url": f"http://127.0.0.1:{port}", **extra}


def test_one_rule_per_service_and_catch_all_last():
    rules = build_ingress([svc("time", 3001), svc("n8n", 5678)])
    assert rules == [
        {"hostname": "time.example.com", "service": "http://127.0.0.1:3001"},
        {"hostname": "n8n.example.com", "service": "http://127.0.0.1:5678"},
        CATCH_ALL,
    ]


def test_path_rules_come_before_the_hostname_rule_and_inherit_origin_request():
    rules = build_ingress(
        [
            svc(
                "n8n",
                5678,
                origin_request={"no_tls_verify": True},
                paths=[
                    "^/api/",
                    {
                        "path": "^/hook/",
                        "service_url": "http://127.0.0.1:5679",
                        "origin_request": {"connect_timeout": "5s"},
                    },
                ],
            )
        ]
    )
    assert rules[0] == {
        "hostname": "n8n.example.com",
        "path": "^/api/",
        "service": "http://127.0.0.1:5678",
        "originRequest": {"noTLSVerify": True},
    }
    assert rules[1]["service"] == "http://127.0.0.1:5679"
    assert rules[1]["originRequest"] == {"noTLSVerify": True, "connectTimeout": "5s"}
    assert "path" not in rules[2] and rules[3] == CATCH_ALL


def test_exact_hostnames_before_wildcards():
    rules = build_ingress(
        [{"name": "all", "hostname": "*.example.com", "service_url": "http://127.0.0.1:1"}, svc("a", 2)]
    )
    assert [rule.get("hostname") for rule in rules] == ["a.example.com", "*.example.com", None]


def test_extra_rules_and_custom_or_no_catch_all():
    extra = [{"hostname": "ssh.example.com", "service": "ssh://127.0.0.1:22"}]
    assert build_ingress([], extra_rules=extra, catch_all="http_status:503")[-2:] == [
        extra[0],
        {"service": "http_status:503"},
    ]
    own_last = [*extra, {"service": "http_status:418"}]
    assert build_ingress([], extra_rules=own_last, catch_all=None) == own_last
    with pytest.raises(IngressError, match="last ingress rule must match all URLs"):
        build_ingress([], extra_rules=extra, catch_all=None)


def test_origin_request_snake_to_camel():
    assert origin_request_to_camel(
        {
            "connect_timeout": "30s",
            "match_sni_to_host": True,
            "http2_origin": True,
            "access": {"required": True, "team_name": "t", "aud_tag": ["x"]},
            "noTLSVerify": False,
        }
    ) == {
        "connectTimeout": "30s",
        "matchSNItoHost": True,
        "http2Origin": True,
        "access": {"required": True, "teamName": "t", "audTag": ["x"]},
        "noTLSVerify": False,
    }
    with pytest.raises(IngressError, match="unknown setting 'conect_timeout'"):
        origin_request_to_camel({"conect_timeout": "1s"})


@pytest.mark.parametrize(
    "hostname",
    [
        "a.*.example.com",
        "**.example.com",
        "*example.com",
        "a.example.com:443",
        "bad_label-.example.com",
        "*.com",
        "",
    ],
)
def test_bad_hostnames(hostname):
    assert hostname_problem(hostname)


@pytest.mark.parametrize("hostname", ["a.example.com", "*.example.com", "localhost", "A.Example.COM"])
def test_good_hostnames(hostname):
    assert hostname_problem(hostname) is None


@pytest.mark.parametrize(
    "service",
    [
        "http://127.0.0.1:8080",
        "https://localhost",
        "http://[::1]:8080",
        "unix:/run/app.sock",
        "unix+tls:/run/app.sock",
        "tcp://127.0.0.1:5432",
        "ssh://127.0.0.1:22",
        "http_status:404",
        "hello_world",
        "hello-world",
        "bastion",
        "socks-proxy",
    ],
)
def test_good_services(service):
    assert service_problem(service) is None


@pytest.mark.parametrize(
    ("service", "why"),
    [
        ("ftp://127.0.0.1:21", "scheme must be one of"),
        ("127.0.0.1:8080", "scheme must be one of"),
        ("http://127.0.0.1:8080/api", "different path"),
        # cloudflared refuses any path in a service URL, a lone "/" too.
        ("http://localhost:3001/", "different path"),
        ("http_status:4\u00b24", "3-digit"),
        ("http_status:+404", "3-digit"),
        ("http://127.0.0.1:99999", "outside 1-65535"),
        ("http://", "not a host"),
        ("http:127.0.0.1", "expected 'http://HOST"),
        ("tcp://127.0.0.1", "explicit port"),
        ("unix:relative.sock", "unix:/absolute"),
        ("http_status:42", "3-digit"),
        ("http://user@host:1", "no query, fragment or user"),
        ("", "non-empty"),
        (None, "non-empty"),
    ],
)
def test_bad_services(service, why):
    assert why in service_problem(service)


def test_every_problem_is_listed_and_names_the_rule():
    problems = ingress_problems(
        [
            {"hostname": "a.*.example.com", "service": "http://127.0.0.1:1"},
            {"hostname": "b.example.com", "path": "(", "service": "http://127.0.0.1:2"},
            {"hostname": "c.example.com", "service": "http://127.0.0.1:3/x"},
            {"hostname": "c.example.com", "service": "http://127.0.0.1:4"},
            {"service": "http://127.0.0.1:5"},
            {"hostname": "d.example.com", "service": "http://127.0.0.1:6", "originRequest": {"bogus": 1}},
            {"hostname": "e.example.com"},
            {"hostname": "e.example.com", "service": "http://127.0.0.1:7", "extra": 1},
        ]
    )
    text = "\n".join(problems)
    assert "rule #1 (hostname 'a.*.example.com'): wildcard misuse" in text
    assert "rule #2 (hostname 'b.example.com', path '('): bad path regex" in text
    assert "rule #3 (hostname 'c.example.com'): bad service URL" in text
    assert "rule #4 (hostname 'c.example.com'): duplicate hostname+path: rule #3" in text
    assert "rule #5 (service 'http://127.0.0.1:5'): this rule has no hostname and no path" in text
    assert "rule #6 (hostname 'd.example.com'): unknown originRequest setting 'bogus'" in text
    assert "rule #7 (hostname 'e.example.com'): 'service' is missing" in text
    assert "rule #8 (hostname 'e.example.com'): unknown key(s) extra" in text
    assert "rule #8 (hostname 'e.example.com'): the last ingress rule must match all URLs" in text
    assert "rule #8 (hostname 'e.example.com'): duplicate hostname+path: rule #7" in text
    assert len(problems) == 10


def test_same_hostname_with_different_paths_is_fine():
    rules = [
        {"hostname": "a.example.com", "path": "^/x", "service": "http://127.0.0.1:1"},
        {"hostname": "a.example.com", "service": "http://127.0.0.1:1"},
        CATCH_ALL,
    ]
    assert validate_ingress(rules) is rules


def test_empty_ingress():
    assert "empty" in ingress_problems([])[0]


@pytest.mark.parametrize(
    ("origin", "why"),
    [
        ({"connectTimeout": "soon"}, "duration"),
        ({"noTLSVerify": "yes"}, "true or false"),
        ({"keepAliveConnections": -1}, "non-negative integer"),
        ({"httpHostHeader": 5}, "string"),
        ({"access": {"required": True}}, "teamName"),
        ({"access": {"required": True, "teamName": "t", "audTag": "x"}}, "list of Access application AUD tags"),
        ({"access": "yes"}, "must be a mapping"),
    ],
)
def test_bad_origin_request(origin, why):
    problems = ingress_problems(
        [{"hostname": "a.example.com", "service": "http://h:1", "originRequest": origin}, CATCH_ALL]
    )
    assert any(why in problem for problem in problems), problems


def test_config_problems():
    good = {
        "tunnel": "x",
        "credentials-file": "/etc/cloudflared/x.json",
        "metrics": "127.0.0.1:20241",
        "loglevel": "info",
        "protocol": "quic",
        "originRequest": {"connectTimeout": "30s"},
        "ingress": [CATCH_ALL],
    }
    assert config_problems(good) == []
    bad = dict(good, protocol="udp", loglevel="loud", metrics="localhost", typo=1)
    text = "\n".join(config_problems(bad))
    for fragment in ("protocol must be one of", "loglevel must be one of", "metrics must be", "unknown top-level"):
        assert fragment in text
    assert config_problems({"tunnel": "x"}) == ["the configuration has no 'ingress' rules."]
    assert "mapping" in config_problems([])[0]


# --- Where real cloudflared disagreed with this validator (issue: stand-ins that can disagree) ---


def test_star_hostname_is_a_catch_all_when_last():
    rules = [
        {"hostname": "a.example.com", "service": "http://127.0.0.1:1"},
        {"hostname": "*", "service": "http_status:404"},
    ]
    assert ingress_problems(rules) == []


def test_star_hostname_before_the_last_rule_hides_the_rest():
    rules = [{"hostname": "*", "service": "http://127.0.0.1:1"}, {"service": "http_status:404"}]
    (problem,) = ingress_problems(rules)
    assert "matches every request" in problem


def test_a_mapping_as_ingress_is_named_as_such():
    assert ingress_problems({"hostname": "a.example.com", "service": "http_status:404"}) == [
        "ingress must be a list of rules ('- hostname: ...'), got a mapping."
    ]


@pytest.mark.parametrize(
    ("value", "form", "ok"),
    [
        ("30s", "config", True),
        ("1m30s", "config", True),
        ("1.5h", "config", True),
        (30, "config", False),  # yaml.v3 refuses a number for a time.Duration
        ("30", "config", False),  # time.ParseDuration: missing unit
        ("-5s", "config", False),
        (30, "api", True),  # the API's JSON: strconv.ParseInt on the raw number
        ("30s", "api", False),
        (1.5, "api", False),
        (True, "api", False),
    ],
)
def test_durations_are_typed_per_form(value, form, ok):
    problems = ingress_problems([{"service": "http://127.0.0.1:1", "originRequest": {"connectTimeout": value}}], form)
    assert (problems == []) is ok, problems


@pytest.mark.parametrize(
    "path",
    [
        "^/(?=api)",
        "^/(?!api)",
        "(?<=a)b",
        "(?<!a)b",
        r"(a)\1",
        "(?P<x>a)(?P=x)",
        "a*+",
        "a++",
        "a?+",
        "a{2}+",
        "(?>a)",
        r"/api\Z",
        "(?x)a b",
        "(?a)a",
        "a{1001}",
        "(?#comment)a",
        "\\u0041",
        "a{,3}",
        "[[:alpha:]]",
    ],
)
def test_path_regexes_refused_by_re2(path):
    (problem,) = ingress_problems(
        [{"hostname": "a.example.com", "path": path, "service": "http://127.0.0.1:1"}, CATCH_ALL]
    )
    assert "bad path regex" in problem


@pytest.mark.parametrize(
    "path",
    [
        r"^/api/v[0-9]+$",
        r"\.png$",
        "(?i)^/MCP",
        "a{2,1000}",
        r"[\]a+]+",
        "[(?=]",
        r"\\1",
        "(?P<name>a)",
        "a*?",
        "a+?b??",
    ],
)
def test_path_regexes_re2_accepts(path):
    assert (
        ingress_problems([{"hostname": "a.example.com", "path": path, "service": "http://127.0.0.1:1"}, CATCH_ALL])
        == []
    )


# --------------------------------------------------------------------------- n8n's /metrics stays local


def n8n(**extra):
    return svc("n8n", 5678, kind="n8n", **extra)


METRICS_404 = {"hostname": "n8n.example.com", "path": "(?i)^/metrics", "service": "http_status:404"}


def route(rules, url):
    """The rule the cloudflared test double (cloudflared's own matching, no code shared) picks for ``url``."""
    config = {"tunnel": "6ff42ae2-765d-4adf-8112-31c55c1551ef", "credentials-file": "/x.json", "ingress": rules}
    return rules[ingress_model.match_rule(yaml.safe_dump(config), url)]


def test_n8n_metrics_answer_404_on_its_hostname_before_its_own_rule():
    rules = build_ingress([svc("time", 3001), n8n()])
    assert rules == [
        METRICS_404,
        {"hostname": "time.example.com", "service": "http://127.0.0.1:3001"},
        {"hostname": "n8n.example.com", "service": "http://127.0.0.1:5678"},
        CATCH_ALL,
    ]
    # n8n's router (Express) ignores case and a trailing slash; cloudflared matches the decoded path.
    for path in ("/metrics", "/METRICS", "/Metrics/", "/metrics?x=1", "/%6detrics", "/metrics.json"):
        assert route(rules, f"https://n8n.example.com{path}") == METRICS_404, path
    for path in ("/", "/healthz", "/webhook/metrics", "/rest/metrics"):
        assert route(rules, f"https://n8n.example.com{path}")["service"] == "http://127.0.0.1:5678", path
    # Another service's /metrics is its own business.
    assert route(rules, "https://time.example.com/metrics")["service"] == "http://127.0.0.1:3001"


def test_n8n_metrics_rule_comes_before_the_services_path_rules_and_carries_no_origin_settings():
    published = {"path": "^/metrics", "service_url": "http://127.0.0.1:5678"}
    rules = build_ingress([n8n(paths=["^/webhook/", published]), svc("time", 3001)])
    assert rules[0] == METRICS_404  # before the path rule that would publish /metrics
    assert [r.get("path") for r in rules[:3]] == ["(?i)^/metrics", "^/webhook/", "^/metrics"]
    assert route(rules, "https://n8n.example.com/metrics") == METRICS_404
    # With origin access (the edge's default), the fixed answer needs none.
    access = {"access": {"required": True, "team_name": "team", "aud_tag": ["aud"]}}
    assert build_ingress([n8n(origin_request=access)])[0] == METRICS_404


@pytest.mark.parametrize(
    ("path", "blocked"),
    [
        ("^/n8n/", False),  # /metrics never reaches n8n: another service on the hostname keeps its /metrics
        ("^/(webhook|form)/", False),
        ("^/", True),
        (".*", True),
        ("/METRICS$", True),  # the router would serve /METRICS as /metrics
        ("(?i)metrics/$", True),
    ],
)
def test_n8n_published_under_a_path_gets_the_rule_only_when_that_path_reaches_metrics(path, blocked):
    rules = build_ingress([n8n(path=path), svc("other", 3001, hostname="n8n.example.com")])
    assert (METRICS_404 in rules) is blocked
    if blocked:
        assert route(rules, "https://n8n.example.com/metrics") == METRICS_404
    else:
        assert route(rules, "https://n8n.example.com/metrics")["service"] == "http://127.0.0.1:3001"


def test_one_metrics_rule_per_hostname_and_none_for_other_kinds():
    # Two n8n on one hostname (placed on different hosts, told apart by their paths): one rule.
    two = build_ingress([n8n(path="^/a"), svc("n8n-b", 5679, kind="n8n", hostname="n8n.example.com", path="^/")])
    assert two.count(METRICS_404) == 1 and two[1] == METRICS_404  # /a never reaches /metrics: after it
    both = build_ingress([n8n(path=".*"), svc("n8n-b", 5679, kind="n8n", hostname="n8n.example.com", path="^/")])
    assert both.count(METRICS_404) == 1 and both[0] == METRICS_404
    others = build_ingress([svc("time", 3001, kind="mcp"), svc("ui", 9090, kind="http")])
    assert all(rule["service"] != "http_status:404" for rule in others[:-1])


def test_n8n_metrics_rule_on_a_wildcard_hostname():
    rules = build_ingress([svc("a", 1), n8n(hostname="*.example.com")])
    assert rules[-3] == dict(METRICS_404, hostname="*.example.com")
    assert route(rules, "https://x.example.com/metrics")["service"] == "http_status:404"
    assert route(rules, "https://a.example.com/metrics")["service"] == "http://127.0.0.1:1"
