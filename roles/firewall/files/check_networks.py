# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Check and normalise the firewall role's network lists, on the controller (tasks/preflight.yml).

Ansible's core filters cannot parse an IPv6 network, and ansible.utils' ipaddr needs netaddr on the
controller; the standard library's ipaddress module needs nothing.

Input, argv[1] (JSON):
    {"lists": {"<variable path>": [cidr, ...], ...}, "admin": "<variable path>", "controller": "<ip or ''>"}
Output, stdout (JSON):
    {"problems": ["<variable path>[i]: ...", ...],
     "lists": {"<variable path>": {"ipv4": [...], "ipv6": [...]}},
     "controller": {"address": "<ip or ''>", "allowed": true | false | null}}
Each list comes back split by family and collapsed (overlapping and adjacent networks merged), so
nftables interval sets never see overlapping elements.
"""

from __future__ import annotations

import ipaddress
import json
import sys


def _networks(name: str, value: object, problems: list[str]) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{name} must be a list of networks in CIDR notation, got {type(value).__name__} {value!r}")
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


def _split(networks: list) -> dict[str, list[str]]:
    result = {}
    for family, version in (("ipv4", 4), ("ipv6", 6)):
        same = [net for net in networks if net.version == version]
        result[family] = [net.with_prefixlen for net in ipaddress.collapse_addresses(same)]
    return result


def _controller(address: str, networks: list) -> dict:
    if not address:
        return {"address": "", "allowed": None}
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return {"address": address, "allowed": None}
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return {"address": str(ip), "allowed": any(ip in net for net in networks if net.version == ip.version)}


def main(argv: list[str]) -> int:
    request = json.loads(argv[1])
    problems: list[str] = []
    parsed = {name: _networks(name, value, problems) for name, value in request.get("lists", {}).items()}
    admin = parsed.get(request.get("admin", ""), [])
    answer = {
        "problems": problems,
        "lists": {name: _split(networks) for name, networks in parsed.items()},
        "controller": _controller(str(request.get("controller") or ""), admin),
    }
    print(json.dumps(answer, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
