# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The firewall role's network lists: strict CIDR checks, per-family collapsed lists, the controller's way in."""

from __future__ import annotations

import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils._networks import check_networks

ADMIN = "firewall_admin_networks"


def check(admin=None, controller="", **lists):
    return check_networks({ADMIN: ["192.168.1.0/24"] if admin is None else admin, **lists}, ADMIN, controller)


def test_valid_lists_have_no_problem_and_are_split_by_family():
    result = check(["192.168.1.0/24", "2001:db8:1::/48"], **{"firewall_allowed_inbound[0].sources": ["10.0.0.0/8"]})
    assert result == {
        "problems": [],
        "lists": {
            ADMIN: {"ipv4": ["192.168.1.0/24"], "ipv6": ["2001:db8:1::/48"]},
            "firewall_allowed_inbound[0].sources": {"ipv4": ["10.0.0.0/8"], "ipv6": []},
        },
        "controller": {"address": "", "allowed": None},
    }


def test_overlapping_and_adjacent_networks_are_collapsed():
    nets = ["10.0.0.0/25", "10.0.0.128/25", "10.0.0.0/8", "192.0.2.1/32", "2001:db8::/33", "2001:db8:8000::/33"]
    assert check(nets)["lists"][ADMIN] == {"ipv4": ["10.0.0.0/8", "192.0.2.1/32"], "ipv6": ["2001:db8::/32"]}


def test_an_address_without_prefix_is_a_single_host():
    assert check(["192.0.2.7", "2001:db8::7"])["lists"][ADMIN] == {
        "ipv4": ["192.0.2.7/32"],
        "ipv6": ["2001:db8::7/128"],
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "10.0.0.300/8",
            "firewall_admin_networks[1]: '10.0.0.300/8' is not a valid IPv4 or IPv6 network "
            "('10.0.0.300/8' does not appear to be an IPv4 or IPv6 network)",
        ),
        ("10.1.2.3/8", "firewall_admin_networks[1]: '10.1.2.3/8' has host bits set; did you mean '10.0.0.0/8'?"),
        (
            "2001:db8::1/32",
            "firewall_admin_networks[1]: '2001:db8::1/32' has host bits set; did you mean '2001:db8::/32'?",
        ),
        ("", "firewall_admin_networks[1]: '' is not a network in CIDR notation (a string like 192.0.2.0/24)"),
        (10, "firewall_admin_networks[1]: 10 is not a network in CIDR notation (a string like 192.0.2.0/24)"),
        (None, "firewall_admin_networks[1]: None is not a network in CIDR notation (a string like 192.0.2.0/24)"),
        (
            {"cidr": "10.0.0.0/8"},
            "firewall_admin_networks[1]: {'cidr': '10.0.0.0/8'} is not a network in CIDR notation "
            "(a string like 192.0.2.0/24)",
        ),
        (
            " 10.0.0.0/8",
            "firewall_admin_networks[1]: ' 10.0.0.0/8' is not a valid IPv4 or IPv6 network "
            "(' 10.0.0.0/8' does not appear to be an IPv4 or IPv6 network)",
        ),
    ],
)
def test_a_bad_entry_is_named_by_variable_and_index(entry, message):
    result = check(["192.168.1.0/24", entry])
    assert result["problems"] == [message]
    assert result["lists"][ADMIN] == {"ipv4": ["192.168.1.0/24"], "ipv6": []}


def test_every_problem_of_every_list_is_reported_at_once():
    result = check(
        ["10.0.0.300/8"],
        **{
            "firewall_allowed_inbound[0].sources": ["10.1.2.3/8", "192.0.2.0/24"],
            "firewall_allowed_outbound[1].destinations": "192.0.2.0/24",
        },
    )
    assert [p.split(":")[0] for p in result["problems"]] == [
        "firewall_admin_networks[0]",
        "firewall_allowed_inbound[0].sources[0]",
        "firewall_allowed_outbound[1].destinations must be a list of networks in CIDR notation, got str '192.0.2.0/24'",
    ]
    assert result["lists"]["firewall_allowed_outbound[1].destinations"] == {"ipv4": [], "ipv6": []}


def test_a_list_that_is_not_a_list_names_its_builtin_type():
    class TaggedStr(str):  # Ansible hands filters str subclasses (tagged or unsafe text)
        pass

    for value, name in ((TaggedStr("10.0.0.0/8"), "str"), ({"a": 1}, "dict"), (5, "int"), (True, "bool")):
        assert check(**{"x": value})["problems"] == [
            f"x must be a list of networks in CIDR notation, got {name} {value!r}"
        ]


def test_null_is_an_empty_list():
    assert check(**{"firewall_allowed_inbound[0].sources": None})["lists"]["firewall_allowed_inbound[0].sources"] == {
        "ipv4": [],
        "ipv6": [],
    }


@pytest.mark.parametrize(
    ("controller", "expected"),
    [
        ("", {"address": "", "allowed": None}),
        (None, {"address": "", "allowed": None}),
        ("192.168.1.20", {"address": "192.168.1.20", "allowed": True}),
        ("192.168.2.20", {"address": "192.168.2.20", "allowed": False}),
        ("::ffff:192.168.1.20", {"address": "192.168.1.20", "allowed": True}),
        ("2001:db8:1::5", {"address": "2001:db8:1::5", "allowed": True}),
        ("fe80::1%eth0", {"address": "fe80::1", "allowed": False}),
        ("2001:DB8:1::5", {"address": "2001:db8:1::5", "allowed": True}),
        ("not-an-address", {"address": "not-an-address", "allowed": None}),
    ],
)
def test_the_controller_is_checked_against_the_admin_networks_only(controller, expected):
    result = check(
        ["192.168.1.0/24", "2001:db8:1::/48"],
        controller,
        **{"firewall_allowed_inbound[0].sources": ["192.168.2.0/24"]},
    )
    assert result["controller"] == expected


def test_no_admin_list_allows_no_controller():
    assert check_networks({"other": ["192.168.1.0/24"]}, ADMIN, "192.168.1.20")["controller"] == {
        "address": "192.168.1.20",
        "allowed": False,
    }
    assert check_networks({}, "", "")["controller"] == {"address": "", "allowed": None}
