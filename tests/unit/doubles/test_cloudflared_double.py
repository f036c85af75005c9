# SPDX-License-Identifier: GPL-3.0-or-later
"""The cloudflared TEST DOUBLE (tests/doubles/cloudflared): does it say what the real cloudflared says?

Ground truth: the real binary's verdicts on a corpus of configs (verdicts.json, routing.json) and
cloudflared's Go source. The double's ingress model shares no code with plugins/ (checked here too).
"""

from __future__ import annotations

import ast
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import ingress_model as model
import pytest

REPO = Path(__file__).resolve().parents[3]
DOUBLE_DIR = REPO / "tests" / "doubles" / "cloudflared"
DOUBLE = DOUBLE_DIR / "cloudflared_double.py"
MODEL = DOUBLE_DIR / "ingress_model.py"
BUILD = DOUBLE_DIR / "build.py"
# The real cloudflared's verdicts (a copy of shared/reference/cloudflared-ingress-corpus, kept with
# the double so every checkout can run these tests).
CORPUS = DOUBLE_DIR / "corpus"

VERDICTS = json.loads((CORPUS / "verdicts.json").read_text())
ROUTING = json.loads((CORPUS / "routing.json").read_text())
assert len(VERDICTS) == 25 and len(ROUTING) == 8, "the corpus copy is incomplete"


def words(text):
    return " ".join(text.split())


def config(service="http://localhost:3001", hostname="a.example.com", path=None, origin="", top=""):
    """A config with one rule (given) and the catch-all."""
    lines = [top + "ingress:", f"  - hostname: {json.dumps(hostname)}"]
    if path is not None:
        lines.append(f"    path: {json.dumps(path)}")
    lines.append(f"    service: {json.dumps(service)}")
    if origin:
        lines += ["    originRequest:", *(f"      {line}" for line in origin.splitlines())]
    return "\n".join([*lines, "  - service: http_status:404", ""])


def validate(text):
    return model.validate_config(text, "/etc/cloudflared/t.yml")


# --------------------------------------------------------------------------------------------------
# The corpus: every verdict and every routing pick of the real binary
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_corpus_verdict(name):
    real = VERDICTS[name]
    source = (CORPUS / "configs" / f"{name}.yml").read_text()
    ok, errors, _warnings = model.validate_config(source, f"/x/{name}.yml")
    assert ok is real["valid"], (name, errors)
    code, out, err = model.cli_validate(source, f"/x/{name}.yml")
    assert code == (0 if real["valid"] else 1)
    assert out[0] == f"Validating rules from /x/{name}.yml"
    # What the real binary printed after "Validating rules from": OK, the warning, or the error.
    assert words(" ".join(out[1:] + err)) == words(real["message"])
    if not real["valid"]:
        assert words(real["message"]) in words(errors[0])


def test_corpus_is_complete():
    assert len(VERDICTS) == 25 == len(list((CORPUS / "configs").glob("*.yml")))
    assert ROUTING


@pytest.mark.parametrize("case", sorted(ROUTING))
def test_corpus_routing(case):
    name, url = case.split(" ")
    source = (CORPUS / "configs" / f"{name}.yml").read_text()
    assert model.match_rule(source, url) == ROUTING[case]
    code, out, _err = model.cli_rule(source, "/x.yml", url)
    assert code == 0 and out[1] == f"Matched rule #{ROUTING[case]}"


# --------------------------------------------------------------------------------------------------
# Services (ingress/ingress.go validateIngress, ingress/origin_service.go)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "service",
    [
        "socks-proxy",
        "hello-world",
        "hello_world",
        "bastion",
        "unix:/run/app.sock",
        "unix+tls:/run/app.sock",
        "tcp://localhost:5432",
        "ssh://localhost",
        "rdp://localhost:3389",
        "smb://localhost",
        "https://localhost:3001",
        "ws://localhost:3001",
        "http://[::1]:3001",
        "http://localhost:3001?x=1",
        "ftp://localhost:21",
        "http_status:404",
        "http_status:+404",
    ],
)
def test_services_cloudflared_accepts(service):
    assert validate(config(service)) == (True, [], [])


def test_helloworld_without_separator_is_just_a_bad_address():
    ok, errors, _warnings = validate(config("helloworld"))
    assert not ok
    assert "helloworld is an invalid address, please make sure it has a scheme and a hostname" in errors[0]


def test_bastion_mode_needs_no_service_url():
    assert validate(config("not a url", origin="bastionMode: true"))[0] is True


@pytest.mark.parametrize("service", ["http://localhost:3001/", "http://localhost:3001/v1", "https://localhost/x/"])
def test_service_url_with_a_path_is_refused(service):
    ok, errors, _warnings = validate(config(service))
    assert not ok
    assert errors == [
        f"Validation failed: {service} is an invalid address, ingress rules don't support proxying to a "
        "different path on the origin service. The path will be the same as the eyeball request's path"
    ]


@pytest.mark.parametrize("service", ["http://", "http://:3001", "localhost:3001", "", "/run/x", "http:/run/x"])
def test_service_without_host_is_refused(service):
    ok, errors, _warnings = validate(config(service))
    assert not ok
    assert " is an invalid address, please make sure it has a scheme and a hostname" in errors[0]


def test_service_url_go_cannot_parse():
    ok, errors, _warnings = validate(config("http://a b:80"))
    assert not ok and errors == ['Validation failed: parse "http://a b:80": invalid character " " in host name']
    # no scheme (a digit cannot start one), so url.Parse sees a relative path with a colon
    ok, errors, _warnings = validate(config("127.0.0.1:3001"))
    assert not ok
    assert errors == ['Validation failed: parse "127.0.0.1:3001": first path segment in URL cannot contain colon']


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("99", "invalid HTTP status code: 99"),
        ("1000", "invalid HTTP status code: 1000"),
        ("abc", 'invalid HTTP status code: strconv.Atoi: parsing "abc": invalid syntax'),
        ("", 'invalid HTTP status code: strconv.Atoi: parsing "": invalid syntax'),
        ("4\u00b24", 'invalid HTTP status code: strconv.Atoi: parsing "4\u00b24": invalid syntax'),  # 4²4
        ("\uff14\uff10\uff14", "invalid syntax"),  # fullwidth digits
        ("\u0664\u0660\u0664", "invalid syntax"),  # Arabic-Indic digits
        (" 404", "invalid syntax"),
        ("4_04", "invalid syntax"),
        ("99999999999999999999", "value out of range"),
    ],
)
def test_http_status_is_parsed_like_strconv_atoi(status, message):
    ok, errors, _warnings = validate(config(f"http_status:{status}"))
    assert not ok
    assert errors[0].startswith("Validation failed: invalid HTTP status code")
    assert message in errors[0]


def test_socks_proxy_ip_rules():
    rules = "ipRules:\n  - prefix: 10.0.0.0/8\n    ports: [80, 443]\n    allow: true"
    assert validate(config("socks-proxy", origin=rules))[0] is True
    for bad, message in [
        ("  - prefix: 10.0.0.0/33", "unable to parse cidr: 10.0.0.0/33"),
        ("  - ports: [80]", "no prefix provided"),
        ("  - prefix: 10.0.0.0/8\n    ports: [0]", "invalid port 0, needs to be between 1 and 65535"),
    ]:
        ok, errors, _warnings = validate(config("socks-proxy", origin="ipRules:\n" + bad))
        assert not ok and errors == [f"Validation failed: unable to create ip rule for socks-proxy: {message}"]


def test_access_needs_a_team_name_with_aud_tags():
    ok, errors, _warnings = validate(config(origin="access:\n  required: true\n  audTag: [abc]"))
    assert not ok and errors == ["Validation failed: access.TeamName cannot be blank when access.audTags are present"]
    assert validate(config(origin="access:\n  required: true"))[0] is True


# --------------------------------------------------------------------------------------------------
# Hostnames and the catch-all (validateHostname)
# --------------------------------------------------------------------------------------------------


def test_star_hostname_as_last_rule_is_a_catch_all_without_any_message():
    source = "ingress:\n  - hostname: a.example.com\n    service: http://localhost:3001\n"
    source += "  - hostname: '*'\n    service: http_status:404\n"
    assert validate(source) == (True, [], [])
    assert model.cli_validate(source, "/t.yml") == (0, ["Validating rules from /t.yml", "OK"], [])


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        ("a.example.com:443", "Hostname cannot contain a port"),
        ("a.*.example.com", 'Hostname patterns can have at most one wildcard character ("*")'),
        ("*.*.example.com", "at most one wildcard character"),
        ("", "Rule #1 is matching the hostname '', but this will match every hostname"),
        ("*", "Rule #1 is matching the hostname '*', but this will match every hostname"),
    ],
)
def test_bad_hostnames(hostname, message):
    ok, errors, _warnings = validate(config(hostname=hostname))
    assert not ok and message in errors[0]


def test_last_rule_must_be_a_catch_all():
    source = "ingress:\n  - hostname: a.example.com\n    service: http://127.0.0.1:3001\n"
    ok, errors, _warnings = validate(source)
    assert not ok
    assert errors == [
        "Validation failed: The last ingress rule must match all URLs "
        "(i.e. it should not have a hostname or path filter)"
    ]


def test_no_rules():
    for source in ("tunnel: x\n", "ingress: []\n", "ingress:\n"):
        assert validate(source) == (False, ["Validation failed: The config file doesn't contain any ingress rules"], [])


def test_an_empty_file_is_no_config_at_all():
    assert validate("") == (True, [], [])
    assert model.cli_validate("# nothing\n", "/t.yml") == (0, [model.NO_CONFIG], [])


# --------------------------------------------------------------------------------------------------
# YAML decoding (config/configuration.go, yaml.v3): type errors fatal, unknown keys only a warning
# --------------------------------------------------------------------------------------------------


def test_ingress_given_as_a_mapping_is_refused():
    ok, errors, _warnings = validate("ingress:\n  hostname: a.example.com\n  service: http_status:404\n")
    assert not ok
    assert errors == [
        "error parsing YAML in config file at /etc/cloudflared/t.yml: yaml: unmarshal errors:\n"
        "  line 2: cannot unmarshal !!map into []config.UnvalidatedIngressRule"
    ]
    code, out, err = model.cli_validate("ingress:\n  a: b\n", "/t.yml")
    assert code == 1 and out == [] and "cannot unmarshal !!map into []config.UnvalidatedIngressRule" in err[0]


DURATION_FIELDS = ["connectTimeout", "tlsTimeout", "tcpKeepAlive", "keepAliveTimeout"]


@pytest.mark.parametrize("field", DURATION_FIELDS)
@pytest.mark.parametrize("value", ["30s", "1m30s", "1.5h", "300ms", "2h45m", "-1.5h", "1\u00b5s", "'0'", "'10s'"])
def test_durations_accepted(field, value):
    assert validate(config(origin=f"{field}: {value}")) == (True, [], [])
    assert validate(config(top=f"originRequest:\n  {field}: {value}\n")) == (True, [], [])


@pytest.mark.parametrize("field", DURATION_FIELDS)
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("30", "!!int `30`"),
        ("0", "!!int `0`"),
        ("1.5", "!!float `1.5`"),
        ("true", "!!bool `true`"),
        ("'30'", "!!str `30`"),
        ("30 s", "!!str `30 s`"),
        ("1d", "!!str `1d`"),
        ("30sec", "!!str `30sec`"),
    ],
)
def test_durations_must_be_go_duration_strings(field, value, shown):
    ok, errors, _warnings = validate(config(origin=f"{field}: {value}"))
    assert not ok
    assert errors == [
        "error parsing YAML in config file at /etc/cloudflared/t.yml: yaml: unmarshal errors:\n"
        f"  line 5: cannot unmarshal {shown} into time.Duration"
    ]


@pytest.mark.parametrize("field", ["connectTimeout", "tcpKeepAlive"])
def test_warp_routing_durations_too(field):
    assert validate(config(top=f"warp-routing:\n  {field}: 5s\n"))[0] is True
    ok, errors, _warnings = validate(config(top=f"warp-routing:\n  {field}: 5\n"))
    assert not ok and "line 2: cannot unmarshal !!int `5` into time.Duration" in errors[0]


def test_a_loaded_mapping_is_checked_the_same_way():
    rules = [{"hostname": "a.example.com", "service": "http://x", "originRequest": {"connectTimeout": 30}}]
    ok, errors, _warnings = model.validate_config({"ingress": [*rules, {"service": "http_status:404"}]})
    assert not ok and "cannot unmarshal !!int `30` into time.Duration" in errors[0]
    rules[0]["originRequest"]["connectTimeout"] = "30s"
    assert model.validate_config({"ingress": [*rules, {"service": "http_status:404"}]}) == (True, [], [])


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("noTLSVerify: 1", "line 5: cannot unmarshal !!int `1` into bool"),
        ("keepAliveConnections: '5'", "line 5: cannot unmarshal !!str `5` into int"),
        ("proxyPort: -1", "line 5: cannot unmarshal !!int `-1` into uint"),
        ("httpHostHeader: [a]", "line 5: cannot unmarshal !!seq into string"),
        ("access: yes", "line 5: cannot unmarshal !!str `yes` into config.AccessConfig"),
    ],
)
def test_other_type_errors(origin, message):
    ok, errors, _warnings = validate(config(origin=origin))
    assert not ok and message in errors[0]


def test_yaml_v3_leniencies():
    # any scalar is a string, yes/no are booleans when a bool is wanted
    assert validate(config(origin="httpHostHeader: 123\nnoTLSVerify: yes"))[0] is True


def test_a_key_set_twice_is_refused():
    source = config().replace("    service:", "    hostname: b.example.com\n    service:", 1)
    ok, errors, _warnings = validate(source)
    assert not ok and "line 3: field hostname already set in type config.UnvalidatedIngressRule" in errors[0]


@pytest.mark.parametrize(
    ("source", "warning"),
    [
        (config(origin="bogus: 1"), "line 5: field bogus not found in type config.OriginRequestConfig"),
        (
            config(origin="access:\n  required: true\n  teamname: x"),
            "field teamname not found in type config.AccessConfig",
        ),
        (
            config().replace("    service:", "    foo: bar\n    service:", 1),
            "field foo not found in type config.UnvalidatedIngressRule",
        ),
        (
            config(top="warp-routing:\n  enabled: true\n"),
            "line 2: field enabled not found in type config.WarpRoutingConfig",
        ),
    ],
)
def test_unknown_keys_only_warn(source, warning):
    ok, errors, warnings = validate(source)
    assert ok and errors == [] and any(warning in line for line in warnings)
    code, out, err = model.cli_validate(source, "/t.yml")
    assert code == 0 and err == []
    assert out[1] == model.UNUSED_KEYS and out[2].startswith("yaml: unmarshal errors:\n  line ")
    assert "OK" not in out


def test_unknown_top_level_keys_are_cloudflared_flags_not_warnings():
    assert validate(config(top="metrics: 127.0.0.1:2000\nloglevel: info\nno-autoupdate: true\n")) == (True, [], [])


# --------------------------------------------------------------------------------------------------
# Path regexes: Go RE2 syntax (regexp.Compile), then matching with RE2's meaning
# --------------------------------------------------------------------------------------------------

REFUSED = [
    ("(?=x)", "invalid or unsupported Perl syntax: `(?=`"),
    ("(?!x)", "invalid or unsupported Perl syntax: `(?!`"),
    ("(?<=x)y", "invalid named capture: `(?<=x)y`"),
    ("(?<!x)y", "invalid named capture: `(?<!x)y`"),
    (r"(a)\1", r"invalid escape sequence: `\1`"),
    ("a*+", "invalid nested repetition operator: `*+`"),
    ("a++", "invalid nested repetition operator: `++`"),
    ("a{2}+", "invalid nested repetition operator: `{2}+`"),
    ("(?>a)", "invalid or unsupported Perl syntax: `(?>`"),
    (r"a\Z", r"invalid escape sequence: `\Z`"),
    ("(?(1)a|b)", "invalid or unsupported Perl syntax: `(?(`"),
    ("(?P=n)", "invalid or unsupported Perl syntax: `(?P`"),
    ("(?#comment)", "invalid or unsupported Perl syntax: `(?#`"),
    (r"\C", r"invalid escape sequence: `\C`"),
    ("a**", "invalid nested repetition operator: `**`"),
    ("*a", "missing argument to repetition operator: `*`"),
    ("a|*", "missing argument to repetition operator: `*`"),
    ("x{1001}", "invalid repeat count: `{1001}`"),
    ("x{2,1}", "invalid repeat count: `{2,1}`"),
    ("(a{500}){3}", "invalid repeat count: `{3}`"),
    ("(", "missing closing ): `(`"),
    ("a)", "unexpected ): `a)`"),
    ("[a", "missing closing ]: `[a`"),
    ("[z-a]", "invalid character class range: `z-a`"),
    ("[[:foo:]]", "invalid character class range: `[:foo:]`"),
    (r"\pX", r"invalid character class range: `\pX`"),
    (r"\8", r"invalid escape sequence: `\8`"),
    (r"\q", r"invalid escape sequence: `\q`"),
    ("(?P<a-b>x)", "invalid named capture: `(?P<a-b>`"),
    ("a\\", "trailing backslash at end of expression: ``"),
]


@pytest.mark.parametrize(("pattern", "message"), REFUSED)
def test_path_regex_go_refuses(pattern, message):
    with pytest.raises(model.RE2Error) as caught:
        model.compile_re2(pattern)
    assert str(caught.value) == f"error parsing regexp: {message}"
    ok, errors, _warnings = validate(config(path=pattern))
    assert not ok and errors == [f"Validation failed: Rule #1 has an invalid regex: error parsing regexp: {message}"]


ACCEPTED = [
    r"^/api/.*$",
    r"\.png$",
    "(?i)^/Admin",
    r"[[:alpha:]]+\d{2,}",
    r"\pL+",
    r"\p{Greek}",
    r"\PN",
    r"[\p{Lu}\d_-]",
    "a{,5}",
    "x{1000}",
    r"\Q*+?\E",
    "(?P<name>x)(?<other>y)",
    "(?U)a+?",
    "(?s:.)",
    "(?m)^x$",
    "(?i-s:a.)",
    "^*",
    r"\bword\B",
    r"\x41\x{263a}\101\0",
    r"[]a]",
    r"[^]a]",
    r"\_",
    "a|",
    "()",
    "(?:)",
    "(?i)(?-i)",
    r"\z",
    r"\A",
]


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_path_regex_go_accepts(pattern):
    model.compile_re2(pattern)
    assert validate(config(path=pattern))[0] is True


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        (r"^/api/v1$", "/api/v1\n", False),  # $ is the end of the text in Go, not before a final newline
        (r"(?m)^/api/v1$", "/api/v1\n", True),
        (r"\d", "/\u0663", False),  # \d is ASCII only
        (r"\w", "/\u00e9", False),
        (r"\s", "\u00a0", False),
        (r"\bx", "/\u00e9x", True),  # ASCII word boundary: é is not a word character
        ("a{,5}", "/a{,5}", True),  # {,5} is literal in Go
        ("a{,5}", "/aaa", False),
        ("(?i)^/admin", "/ADMIN", True),
        (r"\.png$", "/img.png", True),
        (r"\.png$", "/img.png?x", False),
        (r"\Q.*\E", "/a.*b", True),
        (r"\Q.*\E", "/ab", False),
        (r"[^a]", "\n", True),
        (".", "\n", False),
        ("(?s).", "\n", True),
        (r"\pL", "/\u00e9", True),
        (r"\p{Greek}", "/\u03b1", True),
        ("^*/x", "/x", True),
    ],
)
def test_path_regex_matches_like_go(pattern, path, matches):
    assert (model.compile_re2(pattern).search(path) is not None) is matches


# Patterns where Google's C++ RE2 (the oracle) and Go's regexp/syntax disagree by design.
ORACLE_DIFFERS = {
    r"\C": "C++ RE2 accepts \\C (any byte), Go refuses it",
    r"\p{Letter}": "Go 1.25 accepts Unicode category aliases and case-insensitive names",
    r"\p{greek}": "Go 1.25 accepts Unicode category aliases and case-insensitive names",
}


@pytest.mark.parametrize("pattern", [p for p, _message in REFUSED] + ACCEPTED + list(ORACLE_DIFFERS))
def test_re2_syntax_check_agrees_with_google_re2(pattern):
    re2 = pytest.importorskip("re2")
    try:
        re2.compile(pattern)
        oracle = True
    except re2.error:
        oracle = False
    try:
        model.compile_re2(pattern)
        mine = True
    except model.RE2Error:
        mine = False
    if pattern in ORACLE_DIFFERS:
        assert mine != oracle, ORACLE_DIFFERS[pattern]
    else:
        assert mine == oracle


def test_re2_matching_agrees_with_google_re2():
    re2 = pytest.importorskip("re2")
    paths = [
        "/",
        "/api/v1",
        "/api/v1\n",
        "/ADMIN/x",
        "/img.png",
        "/a.*b",
        "/\u00e9x",
        "/aaa",
        "/a{,5}",
        "/x1",
        "/\u0663",
    ]
    for pattern in [*ACCEPTED, "(?i)^/admin", r"\d", r"\w+", r"\s", r"\bx", "a{,5}", "^/api/v1$"]:
        compiled, oracle = model.compile_re2(pattern), re2.compile(pattern)
        for path in paths:
            assert (compiled.search(path) is not None) is (oracle.search(path) is not None), (pattern, path)


def test_go_parse_duration():
    assert model.go_parse_duration("1m30s") == 90 * 10**9
    assert model.go_parse_duration("1.5h") == 5400 * 10**9
    assert model.go_parse_duration("-1.5h") == -5400 * 10**9
    assert model.go_parse_duration("0") == 0
    assert model.go_parse_duration(".5s") == 5 * 10**8
    for bad in ("", "30", "1d", "s", ".s", "1.5", "30 s", "+", "9999999999999999999h"):
        assert model.go_parse_duration(bad) is None, bad


# --------------------------------------------------------------------------------------------------
# ingress rule URL (FindMatchingRule, Rule.Matches)
# --------------------------------------------------------------------------------------------------

ROUTES = """ingress:
  - hostname: a.example.com
    path: ^/api/v1$
    service: http://localhost:3001
  - hostname: "*.example.com"
    service: http://localhost:3002
  - hostname: Mixed.Example.org
    service: ssh://localhost
  - service: http_status:404
"""


@pytest.mark.parametrize(
    ("url", "index"),
    [
        ("https://a.example.com/api/v1", 0),
        ("https://a.example.com/api%2Fv1", 0),  # URL.Path is the decoded path
        ("https://a.example.com/%61pi/v1", 0),
        ("https://a.example.com:8443/api/v1?q=1#frag", 0),
        ("https://a.example.com/api/v2", 1),
        ("https://A.EXAMPLE.COM/api/v1", 3),  # the request host is compared as written
        ("https://x.y.example.com/", 1),
        ("https://example.com/", 3),
        ("https://Mixed.Example.org/", 2),
        ("https://mixed.example.org/", 2),  # the rule hostname's punycode (lower-case) form matches too
        ("https://MIXED.example.org/", 3),
        ("http://localhost:8080/", 3),
    ],
)
def test_rule_matching(url, index):
    assert model.match_rule(ROUTES, url) == index


def test_rule_output_counts_from_zero():
    code, out, err = model.cli_rule(ROUTES, "/t.yml", "https://a.example.com/api/v1")
    assert (code, err) == (0, [])
    assert out == [
        "Using rules from /t.yml",
        "Matched rule #0",
        "\thostname: a.example.com",
        "\tpath: ^/api/v1$",
        "\tservice: http://localhost:3001",
    ]
    _code, out, _err = model.cli_rule(ROUTES, "/t.yml", "https://mixed.example.org/")
    assert out[1:] == ["Matched rule #2", "\thostname: Mixed.Example.org", "\tservice: ssh://localhost:22"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://a.example.com/%zz", "https://a.example.com/%zz is not a valid URL"),
        ("a.example.com/api", "a.example.com/api doesn't have a hostname, consider adding a scheme"),
        ("", "cloudflared tunnel rule expects a single argument, the URL to test"),
    ],
)
def test_rule_refuses_urls_it_cannot_test(url, message):
    assert model.cli_rule(ROUTES, "/t.yml", url) == (1, [], [message])
    with pytest.raises(model.ConfigError, match=r"URL|hostname|argument"):
        model.match_rule(ROUTES, url)


def test_rule_on_a_config_cloudflared_refuses():
    code, out, err = model.cli_rule(config("http://localhost:3001/"), "/t.yml", "https://a.example.com/")
    assert code == 1 and out == ["Using rules from /t.yml"]
    assert err[0].startswith("Validation failed: http://localhost:3001/ is an invalid address")


# --------------------------------------------------------------------------------------------------
# The double as the role runs it: as a script and as the built zipapp, through subprocess
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zipapp(tmp_path_factory):
    output = tmp_path_factory.mktemp("double") / "cloudflared"
    subprocess.run([sys.executable, str(BUILD), "--output", str(output)], check=True, capture_output=True)
    return output


@pytest.fixture(params=["script", "zipapp"])
def run_double(request, tmp_path):
    program = DOUBLE if request.param == "script" else request.getfixturevalue("zipapp")

    def run(*args, config_text=None):
        path = tmp_path / "config.yml"
        if config_text is not None:
            path.write_text(config_text)
        argv = [a.replace("{config}", str(path)) for a in args]
        return subprocess.run(
            [sys.executable, str(program), *argv], capture_output=True, text=True, timeout=60, check=False
        )

    return run


def test_cli_version(run_double):
    result = run_double("--version")
    assert result.returncode == 0 and "test-double" in result.stdout and "NOT Cloudflare's cloudflared" in result.stdout


def test_cli_validate_ok(run_double):
    result = run_double("tunnel", "--config", "{config}", "ingress", "validate", config_text=config())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "OK" and result.stderr == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "ingress:\n  - hostname: a.example.com\n    service: http://127.0.0.1:3001\n",
            "last ingress rule must match all URLs",
        ),
        (config("http://localhost:3001/"), "ingress rules don't support proxying to a different path"),
        (
            config(path="(?=x)"),
            "Rule #1 has an invalid regex: error parsing regexp: invalid or unsupported Perl syntax",
        ),
        (config(origin="connectTimeout: 30"), "cannot unmarshal !!int `30` into time.Duration"),
        ("ingress:\n  a: b\n", "cannot unmarshal !!map into []config.UnvalidatedIngressRule"),
    ],
)
def test_cli_validate_refuses(run_double, text, message):
    result = run_double("tunnel", "--config", "{config}", "ingress", "validate", config_text=text)
    assert result.returncode != 0
    assert message in result.stderr


def test_cli_validate_warns_on_unknown_keys(run_double):
    result = run_double("tunnel", "--config", "{config}", "ingress", "validate", config_text=config(origin="bogus: 1"))
    assert result.returncode == 0 and result.stderr == ""
    assert "Warning: unused keys detected in your config file" in result.stdout
    assert "field bogus not found in type config.OriginRequestConfig" in result.stdout


def test_cli_validate_without_the_file(run_double, tmp_path):
    result = run_double("tunnel", "--config", str(tmp_path / "missing.yml"), "ingress", "validate")
    assert result.returncode == 1 and "no such file or directory" in result.stderr


def test_cli_rule(run_double):
    result = run_double(
        "tunnel", "--config", "{config}", "ingress", "rule", "https://a.example.com/api/v1", config_text=ROUTES
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:3] == ["Matched rule #0", "\thostname: a.example.com"]
    result = run_double(
        "tunnel", "--config", "{config}", "ingress", "rule", "https://q.example.net/", config_text=ROUTES
    )
    assert result.returncode == 0 and "Matched rule #3" in result.stdout.splitlines()


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_cli_corpus(zipapp, name):
    path = CORPUS / "configs" / f"{name}.yml"
    result = subprocess.run(
        [sys.executable, str(zipapp), "tunnel", "--config", str(path), "ingress", "validate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode == 0) is VERDICTS[name]["valid"]
    shown = result.stdout.splitlines()[1:] + result.stderr.splitlines()
    assert words(" ".join(shown)) == words(VERDICTS[name]["message"])


# --------------------------------------------------------------------------------------------------
# Independence and the build
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", [DOUBLE, MODEL, BUILD])
def test_the_double_shares_no_code_with_plugins(source):
    tree = ast.parse(source.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"yaml", "ingress_model", "__future__"}
    assert imported <= allowed, imported - allowed
    text = source.read_text()
    assert "module_utils" not in text.replace("plugins/module_utils/_ingress.py", "")
    assert "ansible_collections" not in text


def test_zipapp_bundles_the_model_not_the_collection(zipapp):
    names = zipfile.ZipFile(zipapp).namelist()
    assert "ingress_model.py" in names and "__main__.py" in names
    assert not any("_ingress" in name or "plugins" in name for name in names)
    assert zipfile.ZipFile(zipapp).read("ingress_model.py") == MODEL.read_bytes()


def test_build_is_reproducible(tmp_path):
    first, second = tmp_path / "a" / "cloudflared", tmp_path / "b" / "cloudflared"
    for output in (first, second):
        subprocess.run([sys.executable, str(BUILD), "--output", str(output)], check=True, capture_output=True)
    assert first.read_bytes() == second.read_bytes()
    again = subprocess.run(
        [sys.executable, str(BUILD), "--output", str(first)], check=True, capture_output=True, text=True
    )
    assert again.stdout.startswith("unchanged:")


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")
def test_build_deb(tmp_path):
    output = tmp_path / "cloudflared"
    result = subprocess.run(
        [sys.executable, str(BUILD), "--output", str(output), "--deb"], check=True, capture_output=True, text=True
    )
    deb = tmp_path / "cloudflared_2026.0.0-test-double_all.deb"
    assert deb.is_file() and str(deb) in result.stdout
    info = subprocess.run(["dpkg-deb", "--info", str(deb)], check=True, capture_output=True, text=True).stdout
    assert "Package: cloudflared" in info and "TEST DOUBLE" in info


def _ready(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/ready" % port, timeout=2) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_run_is_not_ready_until_its_first_connection_registers():
    """CLOUDFLARED_DOUBLE_CONNECT_DELAY holds /ready at 503 (as cloudflared before it connects)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = base64.b64encode(json.dumps({"a": "acct", "t": "tunnel-id", "s": "c2VjcmV0"}).encode()).decode()
    env = dict(os.environ, CLOUDFLARED_DOUBLE_CONNECT_DELAY="2", TUNNEL_TOKEN=token)
    proc = subprocess.Popen(
        [sys.executable, str(DOUBLE), "tunnel", "--metrics", "127.0.0.1:%d" % port, "run"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        seen = []
        while time.monotonic() < deadline:
            try:
                status, body = _ready(port)
            except OSError:
                time.sleep(0.1)
                continue
            seen.append((status, body["readyConnections"]))
            if status == 200:
                break
            time.sleep(0.2)
        assert seen[0] == (503, 0), seen
        assert seen[-1] == (200, 4), seen
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "registering the first connection takes 2 s" in err
    assert err.index("takes 2 s") < err.index("Registered tunnel connection")


def test_run_refuses_a_connect_delay_that_is_not_a_number():
    token = base64.b64encode(json.dumps({"a": "acct", "t": "tunnel-id", "s": "c2VjcmV0"}).encode()).decode()
    env = dict(os.environ, CLOUDFLARED_DOUBLE_CONNECT_DELAY="soon", TUNNEL_TOKEN=token)
    result = subprocess.run(
        [sys.executable, str(DOUBLE), "tunnel", "--metrics", "127.0.0.1:0", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "CLOUDFLARED_DOUBLE_CONNECT_DELAY must be a number of seconds, got 'soon'" in result.stderr
