#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_zone_info
short_description: Look up Cloudflare zones
version_added: 0.3.0
description:
  - Lists the zones the credentials can read, or looks one up by name.
  - Handy to find a zone's ID, its account and its name servers.
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.info_module
options:
  name:
    description:
      - Only the zone with this name, for example C(example.com).
    type: str
  status:
    description:
      - Only zones in this status.
    type: str
    choices: [active, pending, initializing, moved, deleted, deactivated]
"""

EXAMPLES = r"""
- name: Find the zone and its account
  homelab.mcp_edge.cloudflare_zone_info:
    name: example.com
  delegate_to: localhost
  register: zone

- name: Show the name servers to set at the registrar
  ansible.builtin.debug:
    msg: "{{ zone.zones[0].name_servers }}"
"""

RETURN = r"""
zones:
  description: The zones found (an empty list when O(name) matches none).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Zone ID.
      type: str
    name:
      description: Zone name.
      type: str
    status:
      description: Zone status.
      type: str
    account:
      description: The owning account, C({id, name}).
      type: dict
    name_servers:
      description: Cloudflare name servers assigned to the zone.
      type: list
      elements: str
  sample:
    - id: 023e105f4ecef8ad9ca31a8372d0c353
      name: example.com
      status: active
      account: {id: 01a7362d577a6c3019a474fd6f485823, name: Home}
      name_servers: [ada.ns.cloudflare.com, bob.ns.cloudflare.com]
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule
from ansible_collections.homelab.mcp_edge.plugins.module_utils._diff import Manager, Outcome
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import normalise_name

ZONE_STATUSES = ["active", "pending", "initializing", "moved", "deleted", "deactivated"]


class ZoneInfoManager(Manager):
    def apply(self):
        params = self.params
        query = {}
        if params["name"]:
            query["name"] = normalise_name(params["name"])
        if params["status"]:
            query["status"] = params["status"]
        if params["account_id"]:
            query["account.id"] = params["account_id"]
        zones = self.client.paginate("/zones", params=query, per_page=50)
        if params["name"]:
            zones = [z for z in zones if normalise_name(z.get("name")) == query["name"]]
        if params["status"]:
            zones = [z for z in zones if z.get("status") == params["status"]]
        return Outcome("none", zones=zones)


def main():
    argument_spec = dict(name=dict(type="str"), status=dict(type="str", choices=ZONE_STATUSES))
    CloudflareModule(argument_spec=argument_spec).run(ZoneInfoManager)


if __name__ == "__main__":
    main()
