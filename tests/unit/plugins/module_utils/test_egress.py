# SPDX-License-Identifier: GPL-3.0-or-later
"""The container egress policy: checks of egress values and the nft rules they become."""

from __future__ import annotations

import ipaddress

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.filter.egress import FilterModule
from ansible_collections.homelab.mcp_edge.plugins.module_utils._egress import (
    BLOCKED_NETWORKS,
    egress_hostnames,
    egress_problems,
    egress_rules,
    is_host_name,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import (
    ServiceModelError,
    normalize_services,
)

FILTERS = FilterModule().filters()


@pytest.mark.parametrize(
    "value",
    [
        None,
        "none",
        [],
        [{"to": "192.168.1.20"}],
        [{"to": "nas.lan", "ports": [443, 5432]}],
        [{"to": "fd00::/64", "proto": "udp"}],
        [{"to": "nas"}],
    ],
)
def test_valid_egress_values_have_no_problems(value):
    assert egress_problems(value, "s") == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("all", "'egress' must be a list of destinations"),
        ({"to": "1.2.3.4"}, "'egress' must be a list of destinations"),
        (["1.2.3.4"], "must be a mapping with 'to'"),
        ([{"to": "10.0.0.300"}], ".to must be an address, a CIDR network"),
        ([{"to": "-bad-.lan"}], ".to must be an address, a CIDR network"),
        ([{"to": "192.168.1.0/33"}], ".to must be an address, a CIDR network"),
        ([{}], ".to must be an address"),
        ([{"to": "1.2.3.4", "ports": []}], ".ports must be a non-empty list"),
        ([{"to": "1.2.3.4", "ports": [0]}], ".ports must be a non-empty list"),
        ([{"to": "1.2.3.4", "ports": ["443"]}], ".ports must be a non-empty list"),
        ([{"to": "1.2.3.4", "ports": [True]}], ".ports must be a non-empty list"),
        ([{"to": "1.2.3.4", "proto": "icmp"}], ".proto must be one of tcp, udp"),
        ([{"to": "1.2.3.4", "port": 443}], "unknown key(s) port"),
    ],
)
def test_invalid_egress_values_are_named(value, expected):
    problems = egress_problems(value, "homelab_services[0]")
    assert problems and all(p.startswith("homelab_services[0]: 'egress") for p in problems)
    assert any(expected in p for p in problems), problems


def test_blocked_ranges_cover_the_threats():
    nets = [ipaddress.ip_network(n) for n in BLOCKED_NETWORKS]
    for address in (
        "192.168.1.1",
        "10.1.2.3",
        "172.20.0.2",
        "169.254.169.254",
        "100.100.100.100",
        "127.0.0.1",
        "fd12::1",
        "fe80::1",
        "::1",
        "::ffff:192.168.1.1",
        "224.0.0.251",
    ):
        assert any(ipaddress.ip_address(address) in n for n in nets), address
    for address in ("1.1.1.1", "8.8.8.8", "104.16.0.1", "2606:4700::1111"):
        assert not any(ipaddress.ip_address(address) in n for n in nets), address


def test_rules_for_addresses_names_ports_and_protocols():
    value = [
        {"to": "lan-router", "ports": [8001]},
        {"to": "fd00::/64"},
        {"to": "10.1.2.3", "proto": "udp"},
        {"to": "dual", "ports": [53], "proto": "udp"},
    ]
    resolved = {"lan-router": ["172.17.0.3"], "dual": ["192.0.2.7", "2001:db8::7"]}
    assert egress_hostnames(value) == ["lan-router", "dual"]
    assert egress_rules("br-0123456789ab", value, resolved) == [
        'iifname "br-0123456789ab" ip daddr { 172.17.0.3/32 } tcp dport { 8001 } accept comment "egress: lan-router"',
        'iifname "br-0123456789ab" ip6 daddr { fd00::/64 } accept comment "egress: fd00::/64"',
        'iifname "br-0123456789ab" ip daddr { 10.1.2.3/32 } meta l4proto udp accept comment "egress: 10.1.2.3"',
        'iifname "br-0123456789ab" ip daddr { 192.0.2.7/32 } udp dport { 53 } accept comment "egress: dual"',
        'iifname "br-0123456789ab" ip6 daddr { 2001:db8::7/128 } udp dport { 53 } accept comment "egress: dual"',
    ]


def test_egress_none_drops_everything_leaving_the_bridge_and_default_adds_nothing():
    assert egress_rules("br-x", "none", {}) == ['iifname "br-x" counter drop comment "egress: none"']
    assert egress_rules("br-x", None, {}) == []


def test_a_name_that_resolved_to_nothing_is_an_error_not_an_empty_allowance():
    with pytest.raises(ValueError, match=r"'nas\.lan' did not resolve"):
        egress_rules("br-x", [{"to": "nas.lan"}], {"nas.lan": []})


def test_filter_finds_bridges_from_docker_inspect_data():
    inspected = [
        {"Name": "mcp-time", "Id": "0123456789abcdef0123", "Options": {}},
        {"Name": "n8n", "Id": "fedcba", "Options": {"com.docker.network.bridge.name": "n8n0"}},
    ]
    networks = [{"network": "mcp-time", "egress": "none"}, {"network": "n8n", "egress": [{"to": "10.0.0.5"}]}]
    assert FILTERS["egress_rules"](networks, {}, inspected) == [
        'iifname "br-0123456789ab" counter drop comment "egress: none"',
        'iifname "n8n0" ip daddr { 10.0.0.5/32 } accept comment "egress: 10.0.0.5"',
    ]
    with pytest.raises(AnsibleFilterError, match="network gone: no such Docker network"):
        FILTERS["egress_rules"]([{"network": "gone", "egress": None}], {}, inspected)
    # No network and no bridge: an allowance for every container network.
    assert FILTERS["egress_rules"]([{"egress": [{"to": "10.0.0.5", "ports": [22]}]}]) == [
        'ip daddr { 10.0.0.5/32 } tcp dport { 22 } accept comment "egress: 10.0.0.5"'
    ]
    assert FILTERS["egress_blocked"](4) + FILTERS["egress_blocked"](6) == list(BLOCKED_NETWORKS)


def test_the_service_model_checks_egress_for_container_kinds_only():
    services = [
        {"name": "time", "kind": "mcp", "port": 8101, "egress": [{"to": "nas", "ports": [70000]}]},
        {"name": "flows", "kind": "n8n", "port": 5678, "egress": "everything"},
        {"name": "wiki", "kind": "http", "port": 8180, "egress": "none"},
    ]
    with pytest.raises(ServiceModelError) as exc:
        normalize_services(services, "example.com")
    text = "\n".join(exc.value.problems)
    assert "homelab_services[0] (name 'time'): 'egress[0]'.ports must be" in text
    assert "homelab_services[1] (name 'flows'): 'egress' must be a list" in text
    assert "homelab_services[2] (name 'wiki'): unknown key 'egress'" in text


LONG = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters, the most a DNS name may have


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("db", True),
        ("db.lan", True),
        ("DB.Lan", True),
        ("db.lan.", True),  # the absolute form: one trailing dot
        ("db.lan..", False),
        (".", False),
        ("", False),
        ("-db.lan", False),
        ("db-.lan", False),
        ("db_x.lan", False),
        ("10.0.0.300", False),  # the last label all digits: a mistyped address, not a name
        ("a" * 63, True),
        ("a" * 64, False),
        (LONG, True),
        (LONG + ".", False),  # the trailing dot counts in the 253
        (LONG[:-1] + ".", True),
        ("db.lan\n", False),  # a line break is never part of a name (regex '$' once let it through)
    ],
)
def test_host_names_follow_the_dns_name_rule_of_values(text, expected):
    assert is_host_name(text) is expected
