# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Where a container of this collection may open connections to: the egress policy (private).

The docker role's nftables table (``inet homelab_mcp_edge_containers``) drops every new
connection a container opens towards a private, loopback, link-local, CGNAT, multicast or
reserved address (``BLOCKED_NETWORKS``); the public internet and the host's DNS resolvers stay
reachable. A service entry may widen that with ``egress:`` (a list of ``{to, ports, proto}``)
or close it completely with ``egress: none``. This module checks those entries and turns
them into the nft rules of the table's ``egress_allow`` chain, matched on the bridge of the
service's own Docker network.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import DNS_NAME_MAX, is_dns_name, is_port

EGRESS_KEYS = ("to", "ports", "proto")
EGRESS_PROTOS = ("tcp", "udp")
EGRESS_NONE = "none"
# Never reachable from a container unless a service's egress allows it. IPv4 then IPv6.
BLOCKED_NETWORKS = (
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # private
    "100.64.0.0/10",  # CGNAT (carrier-grade NAT, Tailscale)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
    "172.16.0.0/12",  # private
    "192.0.0.0/24",  # IETF protocol assignments
    "192.168.0.0/16",  # private
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, broadcast
    "::/128",  # unspecified
    "::1/128",  # loopback
    "::ffff:0:0/96",  # IPv4-mapped (would reach the IPv4 ranges above)
    "64:ff9b:1::/48",  # local-use NAT64
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local
    "ff00::/8",  # multicast
)


def as_network(text):
    """``ipaddress`` network for an address or CIDR string (host bits allowed), else ``None``."""
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def is_host_name(text):
    """A DNS host name (one label or more; the last is not all digits, so 10.0.0.300 is not one)."""
    if "\n" in text or len(text) > DNS_NAME_MAX:  # the 253 count the absolute form's trailing dot
        return False
    name = text[:-1] if text.endswith(".") else text
    return is_dns_name(name) and not name.rsplit(".", 1)[-1].isdigit()


def egress_problems(value, where):
    """Every problem of one service's ``egress`` value, as messages naming ``where``."""
    if value is None or value == EGRESS_NONE:
        return []
    example = "[{to: 192.168.1.20, ports: [5432]}] or none"
    if not isinstance(value, list):
        return [f"{where}: 'egress' must be a list of destinations such as {example}, got {value!r}."]
    problems = []
    for index, entry in enumerate(value):
        here = f"{where}: 'egress[{index}]'"
        if not isinstance(entry, dict):
            problems.append(f"{here} must be a mapping with 'to' (and optional 'ports', 'proto'), got {entry!r}.")
            continue
        unknown = sorted(set(entry) - set(EGRESS_KEYS), key=str)
        if unknown:
            problems.append(f"{here}: unknown key(s) {', '.join(map(str, unknown))}; valid: {', '.join(EGRESS_KEYS)}.")
        target = entry.get("to")
        if not isinstance(target, str) or not (as_network(target) or is_host_name(target)):
            problems.append(
                f"{here}.to must be an address, a CIDR network (192.168.1.0/24, fd00::/64) or a host name "
                f"resolved on the host when the role runs, got {target!r}."
            )
        ports = entry.get("ports")
        if ports is not None and not (isinstance(ports, list) and ports and all(is_port(p) for p in ports)):
            problems.append(f"{here}.ports must be a non-empty list of integers from 1 to 65535, got {ports!r}.")
        proto = entry.get("proto", "tcp")
        if proto not in EGRESS_PROTOS:
            problems.append(f"{here}.proto must be one of {', '.join(EGRESS_PROTOS)}, got {proto!r}.")
    return problems


def egress_hostnames(value):
    """Host names (not addresses) in one service's ``egress``: what must be resolved first."""
    if not isinstance(value, list):
        return []
    names = []
    for entry in value:
        target = entry.get("to") if isinstance(entry, dict) else None
        if isinstance(target, str) and as_network(target) is None and target not in names:
            names.append(target)
    return names


def egress_rules(bridge, value, resolved):
    """The nft rules (``egress_allow`` chain) for a container network's bridge interface (or all of them).

    ``value`` is the service's ``egress``; ``resolved`` maps each host name of it to the list
    of addresses the host resolved. A name that resolved to nothing raises ``ValueError``:
    an allowance that silently allows nothing would look like a firewall bug.
    """
    # No bridge: an allowance for every container network (the chain only sees their traffic).
    iif = 'iifname "%s" ' % bridge if bridge else ""
    if value == EGRESS_NONE:
        return [f'{iif}counter drop comment "egress: none"']
    rules = []
    for entry in value or []:
        target = entry["to"]
        network = as_network(target)
        if network is not None:
            networks = [network]
        else:
            addresses = (resolved or {}).get(target) or []
            networks = [as_network(address) for address in addresses]
            networks = [net for net in networks if net is not None]
            if not networks:
                raise ValueError(f"egress host name {target!r} did not resolve to any address on the host")
        # Ports need a protocol (tcp unless said); without ports, only an explicit proto narrows it.
        ports = entry.get("ports")
        if ports:
            proto_match = " %s dport { %s }" % (entry.get("proto", "tcp"), ", ".join(str(p) for p in ports))
        elif "proto" in entry:
            proto_match = " meta l4proto %s" % entry["proto"]
        else:
            proto_match = ""
        for family, label in ((4, "ip"), (6, "ip6")):
            nets = sorted({str(net) for net in networks if net.version == family})
            if nets:
                rules.append(
                    f'{iif}{label} daddr {{ {", ".join(nets)} }}{proto_match} accept comment "egress: {target}"'
                )
    return rules
