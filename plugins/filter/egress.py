# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Filters of the container egress policy (the docker role's ``egress`` entry point).

``egress_hostnames`` lists the host names a set of ``egress`` values needs resolved on the host;
``egress_problems`` checks one egress value (as a service's ``egress:`` is checked);
``egress_blocked`` lists the ranges no container reaches by default;
``egress_rules`` turns ``[{bridge, egress}]`` plus those resolutions into the nft rules of the
docker role's ``egress_allow`` chain. The rules themselves live in ``module_utils/_egress``.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._egress import (
    BLOCKED_NETWORKS,
    as_network,
    egress_hostnames,
    egress_problems,
    egress_rules,
)


def _egress_hostnames(values):
    names = []
    for value in values or []:
        names += [name for name in egress_hostnames(value) if name not in names]
    return names


def bridge_name(network):
    """The bridge interface of a Docker network, from its inspect data."""
    options = network.get("Options") or {}
    return options.get("com.docker.network.bridge.name") or "br-" + network["Id"][:12]


def _egress_rules(networks, resolved=None, inspected=None):
    """Rules for ``networks`` ([{network, egress}] or [{bridge, egress}]); ``inspected`` is Docker's
    inspect data of the named networks, which gives their bridges."""
    bridges = {net["Name"]: bridge_name(net) for net in inspected or []}
    rules = []
    for network in networks or []:
        name = network.get("network")
        bridge = network.get("bridge")
        if bridge is None and name is not None:
            if name not in bridges:
                raise AnsibleFilterError(f"network {name}: no such Docker network on the host")
            bridge = bridges[name]
        try:
            rules += egress_rules(bridge, network.get("egress"), resolved or {})
        except ValueError as exc:
            raise AnsibleFilterError(f"{network.get('label') or name or bridge}: {exc}") from None
    return rules


def _egress_blocked(family):
    return [net for net in BLOCKED_NETWORKS if as_network(net).version == int(family)]


class FilterModule:
    def filters(self):
        return {
            "egress_hostnames": _egress_hostnames,
            "egress_rules": _egress_rules,
            "egress_blocked": _egress_blocked,
            "egress_problems": egress_problems,
        }
