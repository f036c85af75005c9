# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The firewall role's network lists: checked, split by family and collapsed (private).

Every network the firewall role is given (``firewall_admin_networks``, each
``firewall_allowed_inbound[].sources`` and ``firewall_allowed_outbound[].destinations``) must be a
network in strict CIDR notation: an address with host bits set is refused with the network it
probably meant, since a firewall rule that silently covers more than was written is a surprise.
(The container egress policy in ``_egress`` is looser on purpose: there ``to`` may be a single
address or a host name.)

Pure Python standard library: ``ipaddress`` parses IPv4 and IPv6 alike, with no netaddr on the
controller. The ``firewall_network_check`` filter is the entry point (roles/firewall/vars/main.yml).
"""

from __future__ import annotations

import ipaddress


def _type_name(value):
    """The built-in type a value is (``str`` for Ansible's tagged or unsafe strings too)."""
    return next(cls.__name__ for cls in type(value).__mro__ if cls.__module__ == "builtins")


def parse_networks(name, value, problems):
    """The networks of one list named ``name``; each problem is appended to ``problems``.

    ``None`` is an empty list. An entry that is not a string, is not a network, or has host
    bits set is reported as ``name[index]: ...`` and left out.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{name} must be a list of networks in CIDR notation, got {_type_name(value)} {value!r}")
        return []
    networks = []
    for index, entry in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(entry, str) or not entry:
            problems.append(f"{where}: {entry!r} is not a network in CIDR notation (a string like 192.0.2.0/24)")
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError as strict_error:
            try:
                loose = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                problems.append(f"{where}: {entry!r} is not a valid IPv4 or IPv6 network ({strict_error})")
            else:
                problems.append(f"{where}: {entry!r} has host bits set; did you mean '{loose}'?")
    return networks


def split_networks(networks):
    """``{"ipv4": [...], "ipv6": [...]}``, each collapsed (overlapping and adjacent networks merged),
    so nftables interval sets never see overlapping elements."""
    result = {}
    for family, version in (("ipv4", 4), ("ipv6", 6)):
        same = [net for net in networks if net.version == version]
        result[family] = [net.with_prefixlen for net in ipaddress.collapse_addresses(same)]
    return result


def controller_allowed(address, networks):
    """``{"address", "allowed"}``: whether the controller's address lies in one of ``networks``.

    An IPv6 zone (``fe80::1%eth0``) is dropped and an IPv4-mapped address is taken as IPv4.
    ``allowed`` is ``None`` (nothing to check) for no address or one that does not parse.
    """
    if not address:
        return {"address": "", "allowed": None}
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return {"address": address, "allowed": None}
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return {"address": str(ip), "allowed": any(ip in net for net in networks if net.version == ip.version)}


def check_networks(lists, admin="", controller=""):
    """Check every network list at once.

    ``lists`` maps a variable path (how messages name the list) to its value; ``admin`` is the path
    of the list the controller must be in; ``controller`` its address as the host sees it ('' when
    unknown). Returns::

        {"problems": ["<variable path>[i]: ...", ...],
         "lists": {"<variable path>": {"ipv4": [...], "ipv6": [...]}},
         "controller": {"address": "<ip or ''>", "allowed": True | False | None}}
    """
    problems = []
    parsed = {name: parse_networks(name, value, problems) for name, value in (lists or {}).items()}
    return {
        "problems": problems,
        "lists": {name: split_networks(networks) for name, networks in parsed.items()},
        "controller": controller_allowed(str(controller or ""), parsed.get(admin or "", [])),
    }
