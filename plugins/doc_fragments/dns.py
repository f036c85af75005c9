# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors

from __future__ import annotations


class ModuleDocFragment:
    # The options of one DNS record (homelab.mcp_edge.cloudflare_dns_record; the argument spec is
    # record_argument_spec() in plugins/module_utils/_dns.py, and cloudflare_dns_records takes the same
    # keys in each of its records).
    DOCUMENTATION = r"""
options:
  type:
    description:
      - Record type.
    type: str
    required: true
    choices: [A, AAAA, CNAME, TXT, MX, SRV, CAA, NS, PTR, HTTPS, SVCB]
  name:
    description:
      - Record name, relative to the zone (C(www)), C(@) for the apex, or a fully qualified name inside the zone.
      - A name ending in a dot is absolute and must be inside the zone; without the dot, a name not ending in the
        zone name is taken as relative (C(host.lab) in C(example.com) is C(host.lab.example.com)).
      - A wildcard is only valid as the leftmost label (C(*.lab)).
    type: str
    required: true
  content:
    description:
      - Record content (an address for A/AAAA, a host name for CNAME/NS/PTR/MX, text for TXT).
      - Required with O(state=present) for every type but SRV, CAA, HTTPS and SVCB, which take O(data).
      - With O(state=absent), only the record with this content is deleted; left out, every record of the
        type at that name is.
    type: str
  data:
    description:
      - Structured content of SRV (C(priority), C(weight), C(port), C(target)), CAA (C(flags), C(tag),
        C(value)), HTTPS and SVCB (C(priority), C(target), C(value)) records.
    type: dict
  ttl:
    description:
      - Time to live in seconds, V(1) for automatic, else 60 to 86400.
      - Proxied records always have automatic TTL.
      - Left out, an existing record keeps its TTL; a new record gets V(1).
    type: int
  proxied:
    description:
      - Whether traffic goes through Cloudflare's proxy (A, AAAA and CNAME only).
      - Left out, an existing record keeps its setting; a new record is not proxied.
    type: bool
  comment:
    description:
      - Comment on the record (100 characters at most on the Free plan). V("") removes it.
      - Left out, an existing record keeps its comment.
    type: str
  tags:
    description:
      - Tags as C(name:value) strings (not available on Free zones). V([]) removes them.
      - Left out, an existing record keeps its tags.
    type: list
    elements: str
  priority:
    description:
      - MX preference.
    type: int
  settings:
    description:
      - Record settings such as C(ipv4_only), C(ipv6_only), C(flatten_cname). Keys left out are kept.
    type: dict
"""
