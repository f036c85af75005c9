# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The firewall role's filter: the network check the role's preflight asserts on, as Ansible calls it."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.filter.firewall import FilterModule

CHECK = FilterModule().filters()["firewall_network_check"]


def test_the_filter_returns_problems_lists_and_controller():
    lists = {"firewall_admin_networks": ["192.168.1.0/24", "10.1.2.3/8"], "firewall_allowed_inbound[0].sources": []}
    assert CHECK(lists, "firewall_admin_networks", "192.168.1.9") == {
        "problems": ["firewall_admin_networks[1]: '10.1.2.3/8' has host bits set; did you mean '10.0.0.0/8'?"],
        "lists": {
            "firewall_admin_networks": {"ipv4": ["192.168.1.0/24"], "ipv6": []},
            "firewall_allowed_inbound[0].sources": {"ipv4": [], "ipv6": []},
        },
        "controller": {"address": "192.168.1.9", "allowed": True},
    }


def test_admin_and_controller_are_optional():
    assert CHECK({"x": ["192.0.2.0/24"]})["controller"] == {"address": "", "allowed": None}


def test_tagged_values_give_the_same_messages():
    """ansible-core 2.19 hands filters tagged strings and lists: messages must read as for plain ones."""
    origin = pytest.importorskip("ansible._internal._datatag._tags").Origin(path="/inventory.yml", line_num=3)
    tagged = CHECK({"firewall_admin_networks": origin.tag("10.0.0.0/8")}, "firewall_admin_networks")
    plain = CHECK({"firewall_admin_networks": "10.0.0.0/8"}, "firewall_admin_networks")
    assert tagged == plain
    assert tagged["problems"] == [
        "firewall_admin_networks must be a list of networks in CIDR notation, got str '10.0.0.0/8'"
    ]
    entries = origin.tag([origin.tag("10.0.0.300/8")])
    assert CHECK({"a": entries})["problems"] == [
        "a[0]: '10.0.0.300/8' is not a valid IPv4 or IPv6 network ('10.0.0.300/8' does not appear to be an IPv4 or "
        "IPv6 network)"
    ]


@pytest.mark.parametrize("value", [None, ["192.0.2.0/24"], "firewall_admin_networks"])
def test_input_that_is_not_a_mapping_fails(value):
    with pytest.raises(AnsibleFilterError, match="must map variable names to lists of networks"):
        CHECK(value, "firewall_admin_networks")
