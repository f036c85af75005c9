#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_dns_record
short_description: Manage one DNS record in a Cloudflare zone
version_added: 0.1.0
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
  - homelab.mcp_edge.cloudflare.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
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

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import (
    SOLO_DEFAULT_TYPES,
    CloudflareInputError,
    CloudflareModule,
    create_dns_record,
    dns_limit_problems,
    dns_records_path,
    find_dns_records,
    record_changes,
    record_create_body,
    record_identity,
    record_view,
    validate_record,
)


class DnsRecordManager:
    def __init__(self, cf):
        self.cf = cf
        self.client = cf.client
        self.params = cf.params
        self.changed = False

    def run(self):
        p = self.params
        zone = self.client.resolve_zone(p["zone"], p["zone_id"])
        self.zone = zone
        self.zone_id = zone["id"]
        present = p["state"] == "present"
        desired = validate_record(p, zone["name"], require_value=present)
        solo = p["solo"] if p["solo"] is not None else desired["type"] in SOLO_DEFAULT_TYPES
        group = find_dns_records(self.client, self.zone_id, desired["type"], desired["name"])
        before = sorted((record_view(r) for r in group), key=_key)
        result = {"changed": False, "record": {}, "deleted": []}
        if present:
            after_group = self.present(desired, group, solo, result)
        else:
            after_group = self.absent(desired, group, result)
        after = sorted((record_view(r) for r in after_group), key=_key)
        result["changed"] = self.changed
        if self.cf.diff_mode:
            header = "%s %s" % (desired["type"], desired["name"])
            # Mappings, not bare lists: Ansible's callbacks render only text or mappings as a diff.
            result["diff"] = {
                "before": {"records": before},
                "after": {"records": after},
                "before_header": header,
                "after_header": header,
            }
        return result

    def present(self, desired, group, solo, result):
        ident = record_identity(desired)
        keep = next((r for r in group if record_identity(r) == ident), None)
        if keep is None and solo and group:
            keep = group[0]  # change in place instead of adding another
        others = [r for r in group if r is not keep] if solo else []
        after_group = [r for r in group if r not in others]
        for rec in others:
            self.delete(rec)
            result["deleted"].append(record_view(rec))
        if keep is None:
            record = self.create(record_create_body(desired))
            after_group.append(record)
        else:
            changes = record_changes(keep, desired)
            record = self.update(keep, changes) if changes else keep
            after_group = [record if r is keep else r for r in after_group]
        result["record"] = record
        return after_group

    def absent(self, desired, group, result):
        has_value = desired.get("content") is not None or desired.get("data") is not None
        ident = record_identity(desired) if has_value else None
        remaining = []
        for rec in group:
            if has_value and record_identity(rec) != ident:
                remaining.append(rec)
                continue
            self.delete(rec)
            result["deleted"].append(record_view(rec))
        return remaining

    # -- writes: check mode is decided here ---------------------------------------------------

    def check_limits(self, body):
        """The zone plan's limits (comment length, tags) before the write, not after a refusal."""
        problems = dns_limit_problems(self.zone, [body])
        if problems:
            raise CloudflareInputError("; ".join(problems), option="comment" if "comment" in problems[0] else "tags")

    def create(self, body):
        self.check_limits(body)
        self.changed = True
        if self.cf.check_mode:
            return dict(body)
        return create_dns_record(self.client, self.zone_id, body)

    def update(self, current, changes):
        after = dict(current)
        after.update(changes)
        self.check_limits(after)
        self.changed = True
        if self.cf.check_mode:
            return after
        return self.client.patch(dns_records_path(self.zone_id, current["id"]), json=changes)

    def delete(self, record):
        self.changed = True
        if not self.cf.check_mode:
            self.client.delete(dns_records_path(self.zone_id, record["id"]))


def _key(view):
    return (str(view.get("content") or view.get("data")), view.get("id") or "")


def main():
    argument_spec = dict(
        zone=dict(type="str"),
        zone_id=dict(type="str"),
        type=dict(
            type="str",
            required=True,
            choices=["A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS", "PTR", "HTTPS", "SVCB"],
        ),
        name=dict(type="str", required=True),
        content=dict(type="str"),
        data=dict(type="dict"),
        ttl=dict(type="int"),
        proxied=dict(type="bool"),
        comment=dict(type="str"),
        tags=dict(type="list", elements="str"),
        priority=dict(type="int"),
        settings=dict(type="dict"),
        solo=dict(type="bool"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    cf = CloudflareModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("zone", "zone_id")],
        mutually_exclusive=[("content", "data")],
    )
    cf.run(DnsRecordManager(cf).run)


if __name__ == "__main__":
    main()
