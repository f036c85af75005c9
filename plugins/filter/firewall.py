# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Filters of the firewall role.

``firewall_network_check`` checks the role's network lists (CIDR, IPv4 and IPv6), splits each by
family, collapsed, and tells whether the controller's address is in the admin networks. The rules
live in ``module_utils/_networks``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._networks import check_networks


def firewall_network_check(lists, admin="", controller=""):
    """``{problems, lists, controller}`` of ``{variable path: list of networks}``."""
    if not isinstance(lists, Mapping):
        raise AnsibleFilterError(
            f"firewall_network_check: the input must map variable names to lists of networks, got {lists!r}"
        )
    return check_networks(dict(lists), admin, controller)


class FilterModule:
    def filters(self):
        return {"firewall_network_check": firewall_network_check}
