#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_token_permissions_info
short_description: Check, read-only, that the API token is active and holds each permission the roles need
version_added: 0.3.0
description:
  - Verifies the API token (active, not disabled, not expired), finds the zone, then probes each permission the
    collection's roles use with one read-only C(GET) request (6 at most) and reports, for each, whether the token
    holds it, named as the Cloudflare dashboard names it (for example C(Account > Cloudflare Tunnel > Edit)).
  - Never writes. A C(GET) proves read access only; for a permission the roles need with C(Edit), a granted
    probe means the token holds at least C(Read) of it.
  - The permission list is the collection's one list (also in C(docs/getting-started.md), step 3).
    O(features) says which of them the inventory needs; RV(problems) names each needed one that is missing,
    with the dashboard path where it is added.
  - A token that Cloudflare refuses, a missing zone or a missing permission does not fail the module; they
    are reported in RV(problems), so a playbook can list every problem at once. Only a failure to reach
    the API fails it.
  - The playbook C(homelab.mcp_edge.doctor) runs it.
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.info_module
options:
  zone:
    description:
      - Name of the zone (domain) the roles manage, for example C(example.com).
      - Without it the zone permissions are not probed.
    type: str
  features:
    description:
      - What the inventory uses, which decides which permissions are needed.
      - V(edge) (the role C(cloudflare_edge) runs) needs Zone, DNS, Cloudflare Tunnel and Access Apps and Policies;
        V(service_tokens) (C(homelab_access_service_tokens) is not empty) needs Access Service Tokens;
        V(team_name_lookup) (origin access on and no C(cloudflare_edge_team_name)) and V(rule_names) (a policy rule
        names a login method or an Access group) need Access Organizations, Identity Providers, and Groups;
        V(tunnel_alerts) (C(cloudflare_edge_tunnel_alerts) is set) needs Notifications.
    type: list
    elements: str
    choices: [edge, service_tokens, team_name_lookup, rule_names, tunnel_alerts]
    default: [edge]
"""

EXAMPLES = r"""
- name: Is the token fit for the site?
  homelab.mcp_edge.cloudflare_token_permissions_info:
    zone: example.com
    features: [edge, service_tokens, team_name_lookup]
  delegate_to: localhost
  register: cf_permissions

- name: Stop with every problem named
  ansible.builtin.assert:
    that: cf_permissions.problems | length == 0
    fail_msg: "{{ cf_permissions.problems }}"
    quiet: true
"""

RETURN = r"""
token:
  description: The token's verification.
  returned: always
  type: dict
  contains:
    status:
      description:
        - V(active), V(disabled) or V(expired) as Cloudflare answers; V(invalid) when Cloudflare does not accept it
          at all; V(legacy_key) for the global API key.
      type: str
    active:
      description: Whether requests made with these credentials are accepted.
      type: bool
    id:
      description: The token's id (not its value).
      type: str
    expires_on:
      description: When the token expires (absent when it never does).
      type: str
    kind:
      description: V(user) (made under My Profile), V(account) (made under Manage Account, value starts C(cfat_)) or
        V(legacy_key).
      type: str
    message:
      description: Why the token is not usable and where to fix it; empty when it is active.
      type: str
  sample:
    status: expired
    active: false
    id: ed17574386854bf78a67040be0a770b0
    expires_on: "2025-01-01T00:00:00Z"
    kind: user
    message: "The API token expired on 2025-01-01T00:00:00Z: ..."
zone:
  description: The zone, when the token could look it up and it exists.
  returned: always
  type: dict
  contains:
    name:
      description: The name asked for.
      type: str
    found:
      description: Whether the zone was found.
      type: bool
    id:
      description: Zone ID.
      type: str
    status:
      description: V(active), V(pending), ...
      type: str
    plan:
      description: The plan's name.
      type: str
    limits:
      description: What the plan allows the DNS records (C(comment) characters, C(tags), C(batch) changes, C(records)).
      type: dict
    account_id:
      description: The account that owns the zone.
      type: str
    message:
      description: Why it was not found, or why its account is not the one O(account_id) names.
      type: str
  sample:
    name: example.com
    found: true
    id: 023e105f4ecef8ad9ca31a8372d0c353
    status: active
    plan: Free Website
    limits: {comment: 100, tags: false, batch: 200, records: 1000}
    account_id: 01a7362d577a6c3019a474fd6f485823
account_id:
  description: The account the account permissions were probed in (the zone's, the option's or the token's only one).
  returned: always
  type: str
  sample: 01a7362d577a6c3019a474fd6f485823
permissions:
  description: Every permission of the collection's list, in the order of the dashboard table.
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description:
        - Short key, V(tunnel), V(access_apps), V(access_service_tokens), V(access_organization), V(zone) or V(dns).
      type: str
    name:
      description: The dashboard's words, C(type > permission > access).
      type: str
    scope:
      description: V(account) or V(zone).
      type: str
    needed:
      description: Whether one of O(features) needs it.
      type: bool
    granted:
      description: V(true) when the probe answered, V(false) when Cloudflare refused it for want of the permission,
        null when it could not be probed (token refused, no zone).
      type: bool
    probe:
      description: The request that probed it.
      type: str
    message:
      description: What is missing and where to add it, or why it was not probed; empty when granted.
      type: str
  sample:
    - key: tunnel
      name: Account > Cloudflare Tunnel > Edit
      scope: account
      needed: true
      granted: false
      probe: GET /accounts/01a7362d577a6c3019a474fd6f485823/cfd_tunnel?is_deleted=false&per_page=1
      message: "The API token lacks the permission Account > Cloudflare Tunnel > Edit ..."
problems:
  description: One message per thing that stops a run of the site (token not usable, zone missing, needed permission
    missing); empty when the token is fit.
  returned: always
  type: list
  elements: str
  sample: []
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 7
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule
from ansible_collections.homelab.mcp_edge.plugins.module_utils._permissions import FEATURES
from ansible_collections.homelab.mcp_edge.plugins.module_utils._token_check import TokenCheck


def main():
    argument_spec = dict(
        zone=dict(type="str"),
        features=dict(type="list", elements="str", choices=list(FEATURES), default=["edge"]),
    )
    CloudflareModule(argument_spec=argument_spec, supports_check_mode=True).run(TokenCheck)


if __name__ == "__main__":
    main()
