#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_dns_record
short_description: Manage one DNS record in a Cloudflare zone
version_added: 0.3.0
description:
  - Creates, updates in place or deletes one DNS record of a Cloudflare zone.
  - Options left out (O(proxied), O(ttl), O(comment), O(tags), O(priority), O(settings)) leave the record's
    current values alone; they are not reset to defaults.
  - "How records are matched: records are grouped by type and name. Within that group a record is identified
    by its O(content) (for SRV: target and port; CAA: tag and value; HTTPS/SVCB: priority and target)."
  - With O(solo=true) the record is the only one of its type at that name. A record with the same identity is
    updated, otherwise an existing record of the group is changed in place (it keeps its ID); any other record
    of the group is deleted.
  - With O(solo=false) records of the group with another identity are left alone; a record is created when
    none has the same identity. Use it for round-robin A records, several MX, TXT or CAA records at a name.
  - For many records at once, M(homelab.mcp_edge.cloudflare_dns_records) is much faster (one listing, batched writes).
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.zone
  - homelab.mcp_edge.dns
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.full_support
options:
  solo:
    description:
      - Whether this is the only record of its type at its name; see the description.
      - Default V(true) for A, AAAA and CNAME, V(false) for the other types.
    type: bool
  state:
    description:
      - V(present) makes sure the record exists as described; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: homelab.mcp_edge.cloudflare_dns_records
"""

EXAMPLES = r"""
- name: The tunnel the hostname points at
  homelab.mcp_edge.cloudflare_tunnel:
    name: home
  delegate_to: localhost
  no_log: true        # the result holds the tunnel's credentials
  register: tunnel

- name: Point a tunnel hostname at the tunnel
  homelab.mcp_edge.cloudflare_dns_record:
    zone: example.com
    type: CNAME
    name: n8n
    content: "{{ tunnel.tunnel.id }}.cfargotunnel.com"
    proxied: true
  delegate_to: localhost

- name: Two MX records (solo=false is the default for MX)
  homelab.mcp_edge.cloudflare_dns_record:
    zone: example.com
    type: MX
    name: "@"
    content: "{{ item.host }}"
    priority: "{{ item.pref }}"
  loop:
    - {host: mx1.example.net, pref: 10}
    - {host: mx2.example.net, pref: 20}
  delegate_to: localhost

- name: An SRV record
  homelab.mcp_edge.cloudflare_dns_record:
    zone: example.com
    type: SRV
    name: _sip._tcp
    data: {priority: 10, weight: 5, port: 5060, target: sip.example.com}
  delegate_to: localhost

- name: Change only the TTL of an existing record, leaving proxied/comment/tags alone
  homelab.mcp_edge.cloudflare_dns_record:
    zone: example.com
    type: A
    name: home
    content: 203.0.113.10
    ttl: 300
  delegate_to: localhost

- name: Remove every TXT record at _acme-challenge
  homelab.mcp_edge.cloudflare_dns_record:
    zone: example.com
    type: TXT
    name: _acme-challenge
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
record:
  description:
    - The record after the run, as the API describes it. Empty after O(state=absent).
    - In check mode, a record that would be created has no C(id).
  returned: always
  type: dict
  sample:
    id: 372e67954025e0ba6aaa6d586b9e0b59
    type: A
    name: home.example.com
    content: 203.0.113.10
    ttl: 300
    proxied: false
    comment: null
    tags: []
deleted:
  description: The records deleted (O(state=absent), or extras removed by O(solo=true)).
  returned: always
  type: list
  elements: dict
  sample: []
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule, zone_argument_spec
from ansible_collections.homelab.mcp_edge.plugins.module_utils._dns import record_argument_spec
from ansible_collections.homelab.mcp_edge.plugins.module_utils._dns_records import DnsRecordManager


def main():
    argument_spec = dict(zone_argument_spec(), solo=dict(type="bool"), **record_argument_spec())
    module = CloudflareModule(
        argument_spec=argument_spec,
        required_one_of=[("zone", "zone_id")],
        mutually_exclusive=[("content", "data")],
    )
    module.run(DnsRecordManager)


if __name__ == "__main__":
    main()
