# SPDX-License-Identifier: GPL-3.0-or-later
"""Friendly Access rules: translation, validation, comparison and name resolution (no network)."""

from __future__ import annotations

import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access import (
    AccessDirectory,
    merge_body,
    policy_ids_in_order,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_rules import (
    AccessError,
    duration_seconds,
    durations_equal,
    is_duration,
    kind_label,
    normalize_rule,
    policy_problems,
    rule_problems,
    rules_comparators,
    rules_equal,
    translate_rules,
    validate_duration,
)

TOKENS = [
    {"id": "11111111-1111-1111-1111-111111111111", "name": "claude-desktop", "client_id": "x.access"},
    {"id": "22222222-2222-2222-2222-222222222222", "name": "ci", "client_id": "y.access"},
]
GROUPS = [{"id": "33333333-3333-3333-3333-333333333333", "name": "admins"}]
IDPS = [
    {"id": "44444444-4444-4444-4444-444444444444", "name": "One-time PIN", "type": "onetimepin"},
    {"id": "55555555-5555-5555-5555-555555555555", "name": "GitHub", "type": "github"},
]


class CountingLoader:
    def __init__(self):
        self.calls = []

    def __call__(self, kind):
        self.calls.append(kind)
        return {"service_token": TOKENS, "group": GROUPS, "identity_provider": IDPS}.get(kind, [])


@pytest.fixture
def directory():
    return AccessDirectory(CountingLoader())


def test_friendly_scalars(directory):
    rules = [
        {"email": "Me@Example.com"},
        {"email_domain": "example.com"},
        {"everyone": True},
        {"geo": "us"},
        {"ip": "192.0.2.0/24"},
        {"ip": "2001:db8::1"},
        {"any_valid_service_token": True},
        {"auth_method": "mfa"},
        {"email_list": "abcd"},
        {"certificate": True},
    ]
    assert translate_rules(rules, "include", directory.resolve) == [
        {"email": {"email": "Me@Example.com"}},
        {"email_domain": {"domain": "example.com"}},
        {"everyone": {}},
        {"geo": {"country_code": "US"}},
        {"ip": {"ip": "192.0.2.0/24"}},
        {"ip": {"ip": "2001:db8::1/128"}},
        {"any_valid_service_token": {}},
        {"auth_method": {"auth_method": "mfa"}},
        {"email_list": {"id": "abcd"}},
        {"certificate": {}},
    ]
    assert directory._loader.calls == []  # nothing to resolve, nothing read


def test_names_resolved_each_kind_read_once(directory):
    rules = [
        {"service_token": "claude-desktop"},
        {"service_token": "ci"},
        {"service_token": TOKENS[0]["id"]},  # an id is accepted too
        {"group": "admins"},
        {"login_method": "GitHub"},
        {"login_method": "One-time PIN"},
    ]
    out = translate_rules(rules, "include", directory.resolve)
    assert out == [
        {"service_token": {"token_id": TOKENS[0]["id"]}},
        {"service_token": {"token_id": TOKENS[1]["id"]}},
        {"service_token": {"token_id": TOKENS[0]["id"]}},
        {"group": {"id": GROUPS[0]["id"]}},
        {"login_method": {"id": IDPS[1]["id"]}},
        {"login_method": {"id": IDPS[0]["id"]}},
    ]
    assert sorted(directory._loader.calls) == ["group", "identity_provider", "service_token"]


def test_list_value_expands_in_place(directory):
    out = translate_rules([{"email": ["a@example.com", "b@example.com"]}, {"everyone": True}], "include")
    assert out == [{"email": {"email": "a@example.com"}}, {"email": {"email": "b@example.com"}}, {"everyone": {}}]


def test_raw_form_passes_and_is_checked(directory):
    raw = [
        {"email": {"email": "me@example.com"}},
        {"service_token": {"token_id": "whatever-id"}},
        {"everyone": {}},
        {"okta": {"name": "eng", "identity_provider_id": "x"}},
        {"github-organization": {"name": "acme", "identity_provider_id": "y"}},
    ]
    assert translate_rules(raw, "require", directory.resolve) == raw
    assert directory._loader.calls == []  # raw ids are trusted, not looked up
    with pytest.raises(AccessError, match=r"require\[0\]\.email\.email: 'nope' is not an email"):
        translate_rules([{"email": {"email": "nope"}}], "require")
    with pytest.raises(AccessError, match=r"API form of a geo rule is \{geo: \{country_code"):
        translate_rules([{"geo": {"country": "US"}}], "require")


def test_github_friendly(directory):
    out = translate_rules(
        [{"github_organization": {"name": "acme", "team": "ops", "identity_provider": "GitHub"}}],
        "include",
        directory.resolve,
    )
    assert out == [{"github-organization": {"name": "acme", "team": "ops", "identity_provider_id": IDPS[1]["id"]}}]
    with pytest.raises(AccessError, match="identity_provider"):
        translate_rules([{"github-organization": {"name": "acme"}}], "include", directory.resolve)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"email": "not-an-email"}, r"include\[0\]\.email: 'not-an-email' is not an email address"),
        ({"email": "a@b"}, "is not an email address"),
        ({"email_domain": "@example.com"}, "without '@'"),
        ({"email_domain": "exa mple"}, "is not a domain name"),
        ({"geo": "USA"}, "two-letter ISO 3166-1"),
        ({"geo": 12}, "is not a country code"),
        ({"ip": "10.0.0.1/8"}, "has host bits set; did you mean 10.0.0.0/8"),
        ({"ip": "300.1.1.1"}, "is not an IP address or CIDR range"),
        ({"everyone": False}, "expected 'true'"),
        ({"auth_method": "MFA!"}, "such as mfa"),
        ({"email": []}, "non-empty list"),
        ({"email": "a@example.com", "geo": "US"}, "exactly one key, got email, geo"),
        ("email", "a mapping with one key"),
        ({"colour": "blue"}, "unknown rule type 'colour'; friendly rule types are any_valid_service_token"),
    ],
)
def test_bad_values_name_the_rule_and_what_is_valid(rule, message):
    with pytest.raises(AccessError, match=message):
        translate_rules([rule], "include")


def test_unknown_name_lists_existing(directory):
    with pytest.raises(AccessError) as err:
        translate_rules([{"everyone": True}, {"service_token": "nope"}], "include", directory.resolve)
    msg = str(err.value)
    assert msg.startswith("include[1].service_token: no service token named 'nope'")
    assert "'ci', 'claude-desktop'" in msg


def test_unknown_name_when_none_exist():
    d = AccessDirectory(lambda kind: [])
    with pytest.raises(AccessError, match="no Access group named 'x'; existing: none"):
        d.resolve("group", "x", "exclude[0].group")


def test_ambiguous_name():
    d = AccessDirectory(lambda kind: [{"id": "a", "name": "dup"}, {"id": "b", "name": "dup"}])
    with pytest.raises(AccessError, match="2 service tokens are named 'dup'"):
        d.resolve("service_token", "dup", "include[0].service_token")


def test_not_a_list():
    with pytest.raises(AccessError, match="include: expected a list of rules"):
        translate_rules({"email": "a@example.com"}, "include")
    assert translate_rules(None, "include") is None


def test_normalise_for_comparison():
    # the API may add fields, change case, or write a host address with its prefix length
    desired = [{"email": {"email": "Me@Example.com"}}, {"ip": {"ip": "192.0.2.7/32"}}, {"everyone": {}}]
    answered = [
        {"email": {"email": "me@example.com", "extra": 1}},
        {"ip": {"ip": "192.0.2.7"}},
        {"everyone": {"note": None}},
    ]
    assert rules_equal(desired, answered)
    assert not rules_equal(desired, list(reversed(answered)))  # order is kept by Cloudflare
    assert not rules_equal(desired, answered[:2])
    assert rules_equal(None, [])
    assert normalize_rule({"okta": {"name": "x", "nothing": None}}) == {"okta": {"name": "x"}}
    assert not rules_equal(
        [{"github-organization": {"name": "a", "identity_provider_id": "i"}}],
        [{"github-organization": {"name": "a", "team": "t", "identity_provider_id": "i"}}],
    )


def test_durations():
    assert duration_seconds("1h30m") == 5400
    assert duration_seconds("30d") == 30 * 86400
    assert duration_seconds("forever") is None
    assert durations_equal("24h", "1440m")
    assert not durations_equal("24h", "25h")
    assert durations_equal("forever", "forever")
    assert validate_duration("forever", "duration", allow=("forever",)) == "forever"
    with pytest.raises(AccessError, match=r"duration: '1 day' is not a duration \(expected e.g. 24h"):
        validate_duration("1 day", "duration")


def test_policy_order_and_helpers():
    app = {"policies": [{"id": "b", "precedence": 2}, {"id": "a", "precedence": 1}, {"id": "c"}]}
    assert policy_ids_in_order(app) == ["a", "b", "c"]
    assert policy_ids_in_order({}) == []
    assert merge_body(
        {"name": "x", "id": "i", "tags": None, "domain": "d"}, {"domain": "e", "x": None}, ["name", "tags", "domain"]
    ) == {
        "name": "x",
        "domain": "e",
    }


def test_directory_reads_once_and_forgets():
    calls = []

    def loader(kind):
        calls.append(kind)
        return TOKENS

    d = AccessDirectory(loader)
    d.resolve("service_token", "ci", "w")
    d.resolve("service_token", "claude-desktop", "w")
    assert calls == ["service_token"]
    d.forget("service_token")
    d.list("service_token")
    assert calls == ["service_token", "service_token"]


def test_directory_keeps_a_loaded_listing_current_after_writes():
    calls = []

    def loader(kind):
        calls.append(kind)
        return [dict(t) for t in TOKENS]

    d = AccessDirectory(loader)
    # Nothing loaded yet: a write's answer is not a listing, so nothing is cached.
    d.remember("service_token", {"id": "n1", "name": "new"})
    assert not d.loaded("service_token")
    d.list("service_token")
    d.remember("service_token", {"id": "n1", "name": "new", "client_secret": "s3cret"})
    assert d.resolve("service_token", "new", "w") == "n1"
    assert all("client_secret" not in o for o in d.list("service_token"))
    renamed = dict(d.find_one("service_token", "ci"), name="ci-renamed")
    d.remember("service_token", renamed)
    assert d.find_one("service_token", "ci") is None
    assert d.find_one("service_token", "ci-renamed")["id"] == renamed["id"]
    d.drop("service_token", "n1")
    assert d.find_one("service_token", "new") is None
    assert calls == ["service_token"]
    # An answer without an id cannot be placed: the next lookup lists again.
    d.remember("service_token", {"name": "odd"})
    d.list("service_token")
    assert calls == ["service_token", "service_token"]


# ------------------------------------------------------------------------------------- the pure rule language


def test_rule_problems_name_every_bad_rule_not_just_the_first():
    rules = [{"email": "not-an-email"}, {"everyone": True}, {"geo": "USA"}, {"email": "a@example.com", "geo": "US"}]
    problems = rule_problems(rules, "homelab_access_policies['owner'].include")
    assert len(problems) == 3, problems
    assert problems[0].startswith("homelab_access_policies['owner'].include[0].email: 'not-an-email' is not an email")
    assert problems[1].startswith("homelab_access_policies['owner'].include[2].geo: 'USA' is not a country code")
    assert problems[2] == (
        "homelab_access_policies['owner'].include[3] must be a mapping with exactly one rule type (email, "
        "service_token, ...): a rule has exactly one key, got email, geo (use one list entry per rule)"
    )
    assert rule_problems([{"everyone": True}, {"ip": "192.0.2.0/24"}], "include") == []


def test_rule_problems_without_a_resolver_say_names_cannot_be_resolved():
    assert rule_problems([{"group": "admins"}], "include") == [
        "include[0].group: cannot resolve Access group names here"
    ]


def test_policy_problems_of_a_valid_policy_and_each_problem():
    seen = []

    def resolver(kind, name, where):
        seen.append((kind, name, where))
        return "id-" + name

    good = {"decision": "allow", "include": [{"email": "me@example.com"}], "session_duration": "24h"}
    assert policy_problems(good, "p") == []
    assert (
        policy_problems({"decision": "non_identity", "include": [{"service_token": ["a", "b"]}]}, "p", resolver) == []
    )
    assert seen == [
        ("service_token", "a", "p.include[0].service_token"),
        ("service_token", "b", "p.include[0].service_token"),
    ]
    bad = {
        "decision": "non_identity",
        "include": [{"email": "me@example.com"}],
        "require": "everyone",
        "exclude": [{"ip": "10.0.0.1/8"}],
        "session_duration": "a day",
        "colour": "blue",
    }
    assert policy_problems(bad, "p") == [
        "p: unknown key(s) colour; valid: approval_required, decision, exclude, include, purpose_justification_prompt, "
        "purpose_justification_required, require, session_duration.",
        "p: 'require' must be a list of rules, got str.",
        "p.exclude[0].ip: '10.0.0.1/8' has host bits set; did you mean 10.0.0.0/8?",
        "p.include[0]: a non_identity (Service Auth) policy admits without a login, so it cannot match by email; "
        "use decision 'allow' for people and 'non_identity' for service tokens.",
        "p: session_duration must be a duration such as '24h' or '30m', got 'a day'.",
    ]
    assert policy_problems({"decision": "permit", "include": []}, "p") == [
        "p: 'decision' must be one of allow, deny, non_identity, bypass, got 'permit'.",
        "p: 'include' must be a non-empty list of rules, such as [{email: me@example.com}].",
    ]
    assert policy_problems(["allow"], "p") == ["p must be a mapping with 'decision' and 'include', got list."]


def test_durations_follow_go():
    for good in ("24h", "1h30m", "1.5h", ".5h", "300ms", "2h45m", "0"):
        assert is_duration(good), good
    for bad in ("1y", "1d", "-1h", "24", "24 h", "", None, 24, "forever"):
        assert not is_duration(bad), bad
    assert is_duration("forever", allow=("forever",))
    assert validate_duration(" 24h ", "d") == "24h"


def test_kind_labels_and_rule_comparators():
    assert kind_label("group") == "Access group" and kind_label("policy") == "reusable Access policy"
    comparators = rules_comparators()
    assert set(comparators) == {"include", "require", "exclude"}
    assert comparators["include"]([{"email": {"email": "me@example.com"}}], [{"email": {"email": "Me@Example.com"}}])
    assert not comparators["exclude"]([], [{"everyone": {}}])
