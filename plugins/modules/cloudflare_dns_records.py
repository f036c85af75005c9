#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_dns_records
short_description: Reconcile a whole set of DNS records in a Cloudflare zone in one task
version_added: 0.3.0
description:
  - Makes a Cloudflare zone hold a set of DNS records. The zone is looked up once and listed once; the
    creates, updates and deletes are computed locally and applied through the batch endpoint, in chunks of
    O(batch_size) changes (each chunk is one transaction). A run with nothing to change makes two requests.
  - Options left out of a record (O(records[].proxied), O(records[].ttl), O(records[].comment),
    O(records[].tags), O(records[].priority), O(records[].settings)) leave existing values alone.
  - "Matching: a wanted record matches an existing one with the same type, name and identity (the content;
    for SRV the target and port, CAA the tag and value, HTTPS/SVCB the priority and target), which is updated in
    place when an option differs. A wanted record with no match takes over an unmatched existing record of the
    same type and name when that record is owned (see O(ownership)) or is an A, AAAA or CNAME record, so a
    changed address updates the record instead of adding a second one. Otherwise it is created."
  - Every record written carries an ownership marker (O(ownership)) naming O(owner_id). With O(purge=true)
    records that carry the marker (and the same O(owner_id)) but are no longer wanted are deleted. A record
    without the marker is never purged.
  - "Never a silent takeover: with O(ownership=comment) or O(ownership=tag), an existing record that a wanted
    record would match or take over but that is not owned (no marker, or the marker of another O(owner_id))
    fails the task before anything is written, naming each such record (type, name, id, owner). O(adopt=true)
    takes them over instead: they get this owner's marker and are managed from then on like records this task
    created."
  - If a batch fails in a way that may have been applied (a 5xx answer, a dropped connection), the zone is
    listed again and the remaining changes recomputed before going on, so a retry cannot add duplicates.
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.zone
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.full_support
options:
  records:
    description:
      - The records the zone should hold (and, with O(records[].state=absent), not hold).
    type: list
    elements: dict
    required: true
    suboptions:
      type:
        description:
          - Record type.
        type: str
        required: true
        choices: [A, AAAA, CNAME, TXT, MX, SRV, CAA, NS, PTR, HTTPS, SVCB]
      name:
        description:
          - Name relative to the zone, C(@) for the apex, or a fully qualified name inside the zone.
        type: str
        required: true
      content:
        description:
          - Content, for every type but SRV, CAA, HTTPS and SVCB.
        type: str
      data:
        description:
          - Structured content of SRV, CAA, HTTPS and SVCB records
            (see O(homelab.mcp_edge.cloudflare_dns_record#module:data)).
        type: dict
      ttl:
        description:
          - V(1) (automatic) or 60 to 86400 seconds. New records default to V(1).
        type: int
      proxied:
        description:
          - Whether the record is proxied (A, AAAA, CNAME).
        type: bool
      comment:
        description:
          - Comment; with O(ownership=comment) the ownership marker is added after it.
        type: str
      tags:
        description:
          - Tags (C(name:value)); with O(ownership=tag) the ownership tag is added.
        type: list
        elements: str
      priority:
        description:
          - MX preference.
        type: int
      settings:
        description:
          - Record settings (C(ipv4_only), C(ipv6_only), C(flatten_cname)).
        type: dict
      state:
        description:
          - V(absent) deletes the matching records (every record of the type and name when neither
            O(records[].content) nor O(records[].data) is given), whoever owns them.
        type: str
        choices: [present, absent]
        default: present
  purge:
    description:
      - Delete records that carry this collection's ownership marker (with the same O(owner_id)) and are not in
        O(records). Records without the marker are never deleted by a purge.
      - Needs O(ownership) V(comment) or V(tag).
    type: bool
    default: false
  ownership:
    description:
      - How records written by this module are marked as owned.
      - "V(comment) adds the text C(managed-by: homelab.mcp_edge [owner_id]) to the record's comment
        (works on every plan)."
      - V(tag) adds the tag C(managed-by:homelab.mcp_edge[.owner_id]) (tags are not available on Free zones).
      - V(none) marks nothing (and O(purge) is refused).
    type: str
    choices: [comment, tag, none]
    default: comment
  owner_id:
    description:
      - Distinguishes several independent owners of records in one zone (for example one per site, that is
        per inventory). A purge only deletes records with the same owner ID, and records of another owner ID
        are not taken over unless O(adopt=true).
      - The role C(homelab.mcp_edge.cloudflare_edge) sets it to the site (C(homelab_site), by default the tunnel
        name); records of release 0.2, marked with the tunnel name, are therefore still its own.
      - Letters, digits, C(.), C(_) and C(-), at most 40 characters.
    type: str
  adopt:
    description:
      - Take over existing records that a wanted record matches (same type, name and content) or replaces (A,
        AAAA, CNAME of the same name) although they are not owned by O(owner_id); they get this owner's marker.
      - V(false) fails the task, naming each such record, before anything is written.
      - Has no effect with O(ownership=none), which has no notion of owners.
    type: bool
    default: false
    version_added: 0.3.0
  batch_size:
    description:
      - Changes per batch request. At most 200 on the Free plan, 3500 on paid plans.
    type: int
    default: 200
seealso:
  - module: homelab.mcp_edge.cloudflare_dns_record
"""

EXAMPLES = r"""
- name: The tunnel the hostnames point at
  homelab.mcp_edge.cloudflare_tunnel:
    name: home
  delegate_to: localhost
  no_log: true        # the result holds the tunnel's credentials
  register: tunnel

- name: Tunnel hostnames as proxied CNAMEs, removing this owner's records that are no longer wanted
  homelab.mcp_edge.cloudflare_dns_records:
    zone: example.com
    records:
      - {type: CNAME, name: n8n, content: "{{ tunnel.tunnel.id }}.cfargotunnel.com", proxied: true}
      - {type: CNAME, name: time, content: "{{ tunnel.tunnel.id }}.cfargotunnel.com", proxied: true}
    purge: true
    owner_id: home
  delegate_to: localhost

- name: A mixed set
  homelab.mcp_edge.cloudflare_dns_records:
    zone: example.com
    records:
      - {type: A, name: home, content: 203.0.113.10, ttl: 300}
      - {type: AAAA, name: home, content: "2001:db8::10"}
      - {type: MX, name: "@", content: mx1.example.net, priority: 10}
      - {type: TXT, name: "@", content: "v=spf1 mx -all"}
      - {type: CAA, name: "@", data: {flags: 0, tag: issue, value: letsencrypt.org}}
      - {type: TXT, name: old, state: absent}
  delegate_to: localhost
"""

RETURN = r"""
counts:
  description: How many records were (or, in check mode, would be) created, updated, deleted, left unchanged.
  returned: always
  type: dict
  sample: {created: 2, updated: 1, deleted: 0, unchanged: 40}
changes:
  description: The records created, updated (before and after) and deleted.
  returned: always
  type: dict
  contains:
    created:
      description: Records created.
      type: list
      elements: dict
    updated:
      description: C({before, after}) for each record updated in place.
      type: list
      elements: dict
    deleted:
      description: Records deleted.
      type: list
      elements: dict
  sample:
    created: [{type: A, name: home.example.com, content: 203.0.113.10, ttl: 300}]
    updated: []
    deleted: []
batches:
  description: Number of batch requests sent.
  returned: always
  type: int
  sample: 1
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule, zone_argument_spec
from ansible_collections.homelab.mcp_edge.plugins.module_utils._dns import record_argument_spec
from ansible_collections.homelab.mcp_edge.plugins.module_utils._dns_records import DnsRecordsManager


def main():
    argument_spec = dict(
        zone_argument_spec(),
        records=dict(type="list", elements="dict", required=True, options=record_argument_spec()),
        purge=dict(type="bool", default=False),
        ownership=dict(type="str", default="comment", choices=["comment", "tag", "none"]),
        owner_id=dict(type="str"),
        adopt=dict(type="bool", default=False),
        batch_size=dict(type="int", default=200),
    )
    CloudflareModule(argument_spec=argument_spec, required_one_of=[("zone", "zone_id")]).run(DnsRecordsManager)


if __name__ == "__main__":
    main()
