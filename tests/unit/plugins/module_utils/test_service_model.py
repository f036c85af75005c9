# SPDX-License-Identifier: GPL-3.0-or-later
"""The one service description: validation and derived fields (no Ansible needed)."""

from __future__ import annotations

import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import (
    ServiceModelError,
    is_fqdn,
    normalize_services,
    placed_services,
)


def test_derived_fields():
    (time,) = normalize_services([{"name": "time", "port": 3001}], "Example.COM.")
    assert time["hostname"] == "time.example.com"
    assert time["service_url"] == "http://127.0.0.1:3001"
    assert time["kind"] == "mcp" and time["transport"] == "stdio"
    assert time["access"] == [] and time["paths"] == [] and time["origin_request"] == {}
    assert time["enabled"] is True


def test_explicit_hostname_and_service_url_win():
    (svc,) = normalize_services(
        [{"name": "app", "kind": "http", "hostname": "App.Other.org.", "service_url": "unix:/run/app.sock"}], None
    )
    assert svc["hostname"] == "app.other.org" and svc["service_url"] == "unix:/run/app.sock"


def test_disabled_services_are_checked_then_dropped():
    assert normalize_services([{"name": "off", "port": 1, "enabled": False}], "example.com") == []
    with pytest.raises(ServiceModelError):
        normalize_services([{"name": "off", "port": "x", "enabled": False}], "example.com")


def test_none_is_an_empty_list():
    assert normalize_services(None, "example.com") == []


def test_every_problem_is_listed():
    with pytest.raises(ServiceModelError) as info:
        normalize_services(
            [
                {"name": "Bad Name", "port": 1},
                {"name": "a", "port": 70000},
                {"name": "b", "port": 2, "kind": "ftp"},
                {"name": "c", "port": 3, "transport": "grpc"},
                {"name": "d"},
                {"name": "e", "port": 2},
                {"name": "e", "port": 4},
                {"name": "f", "port": 5, "service_url": "ftp://x"},
                {"name": "g", "port": 6, "access": "owner"},
                {"name": "h", "port": 7, "path": 5},
                {"name": "i", "port": 8, "enabled": "yes"},
                {"name": "j", "port": 9, "hostname": "not a host"},
                "just-a-string",
            ],
            "example.com",
        )
    text = "\n".join(info.value.problems)
    for fragment in (
        "[0] (name 'Bad Name'): 'name' must be",
        "(name 'a'): 'port' must be an integer from 1 to 65535",
        "(name 'b'): 'kind' must be one of",
        "(name 'c'): 'transport' must be one of",
        "(name 'd'): 'port' is required",
        "(name 'e'): port 2 is already used by homelab_services[2]",
        "(name 'e'): the name 'e' is already used",
        "(name 'f'): 'service_url' must start with",
        "(name 'g'): 'access' must be a list",
        "(name 'h'): 'path' must be a regular expression string",
        "(name 'i'): 'enabled' must be true or false",
        "(name 'j'): 'hostname' must be a fully qualified",
        "homelab_services[12] must be a mapping",
    ):
        assert fragment in text, fragment


def test_duplicate_hostname_needs_a_path():
    with pytest.raises(ServiceModelError, match=r"hostname 'a\.example\.com' is already used"):
        normalize_services(
            [{"name": "a", "port": 1}, {"name": "b", "port": 2, "hostname": "a.example.com"}], "example.com"
        )
    ok = normalize_services(
        [{"name": "a", "port": 1}, {"name": "b", "port": 2, "hostname": "a.example.com", "path": "^/b"}], "example.com"
    )
    assert [svc["hostname"] for svc in ok] == ["a.example.com", "a.example.com"]


def test_missing_domain_is_named():
    with pytest.raises(ServiceModelError, match="homelab_domain is not a valid domain"):
        normalize_services([{"name": "a", "port": 1}], "")


def test_not_a_list():
    with pytest.raises(ServiceModelError, match="must be a list"):
        normalize_services({"name": "a"}, "example.com")


@pytest.mark.parametrize(
    ("value", "wildcard", "expected"),
    [
        ("a.example.com", False, True),
        ("*.example.com", True, True),
        ("*.example.com", False, False),
        ("example", False, False),
        ("A.example.com", False, False),
        ("-a.example.com", False, False),
        ("a-.example.com", False, False),
        ("a_b.example.com", False, False),
        ("%s.example.com" % ("a" * 63), False, True),
        ("%s.example.com" % ("a" * 64), False, False),
        ("a..example.com", False, False),
        (None, False, False),
    ],
)
def test_is_fqdn(value, wildcard, expected):
    assert is_fqdn(value, allow_wildcard=wildcard) is expected


# Placement: alpha and beta in group minipcs, nas alone in group storage.
GROUPS = {"all": ["alpha", "beta", "nas"], "ungrouped": [], "minipcs": ["alpha", "beta"], "storage": ["nas"]}
PLACED = [
    {"name": "time", "port": 8101},
    {"name": "notes", "port": 8102, "hosts": ["minipcs"]},
    {"name": "n8n", "kind": "n8n", "port": 5678, "hosts": ["nas"]},
    {"name": "wiki", "kind": "http", "port": 8180, "hosts": ["beta", "storage"]},
]


@pytest.mark.parametrize(
    ("host", "names"),
    [
        ("alpha", ["time", "notes"]),
        ("beta", ["time", "notes", "wiki"]),
        ("nas", ["time", "n8n", "wiki"]),
    ],
)
def test_a_service_runs_where_its_hosts_place_it(host, names):
    assert [s["name"] for s in placed_services(PLACED, host, GROUPS)] == names


def test_placement_keeps_entries_unchanged_and_normalize_accepts_hosts():
    placed = placed_services(PLACED, "nas", GROUPS)
    assert placed[1] is PLACED[2]
    assert [s.get("hosts") for s in normalize_services(placed, "example.com")] == [None, ["nas"], ["beta", "storage"]]


def test_a_name_that_is_no_host_or_group_fails_with_a_hint():
    services = [{"name": "n8n", "kind": "n8n", "port": 5678, "hosts": ["nsa", "storage", "attic"]}]
    with pytest.raises(ServiceModelError) as err:
        placed_services(services, "alpha", GROUPS)
    assert err.value.problems == [
        "homelab_services[0] (name 'n8n'): 'hosts' names 'nsa', which is neither a host nor a group of the "
        "inventory (did you mean 'nas'?).",
        "homelab_services[0] (name 'n8n'): 'hosts' names 'attic', which is neither a host nor a group of the "
        "inventory.",
    ]


@pytest.mark.parametrize("hosts", ["nas", [], [""], [None], {"nas": 1}])
def test_malformed_hosts_are_kept_for_normalize_to_report(hosts):
    services = [{"name": "n8n", "kind": "n8n", "port": 5678, "hosts": hosts}]
    assert placed_services(services, "alpha", GROUPS) == services
    with pytest.raises(ServiceModelError) as err:
        normalize_services(services, "example.com")
    assert "'hosts' must be a non-empty list of inventory host or group names" in str(err.value)


def test_placement_of_no_list_or_no_entries():
    assert placed_services(None, "alpha", GROUPS) is None
    assert placed_services([], "alpha", GROUPS) == []
    assert placed_services(["oops"], "alpha", GROUPS) == ["oops"]
