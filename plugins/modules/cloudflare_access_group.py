#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_access_group
short_description: Manage Cloudflare Zero Trust Access groups
version_added: 0.3.0
description:
  - Makes sure an account-level Zero Trust Access group with a given name exists with the given
    rules, or does not exist.
  - >-
    A group is a named set of rules that policies refer to with the rule C(group: NAME).
  - Rules take the same friendly or API forms as in M(homelab.mcp_edge.cloudflare_access_policy).
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.access_rules
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.full_support
options:
  name:
    description:
      - Name of the group; identifies it within the account.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the group; V(absent) deletes it.
      - Cloudflare refuses to delete a group a policy or another group still refers to; the error says which.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The module reads the account's groups once per task, plus one listing per other kind of name it has
    to resolve (service tokens, identity providers).
seealso:
  - module: homelab.mcp_edge.cloudflare_access_policy
"""

EXAMPLES = r"""
- name: Everyone in the family
  homelab.mcp_edge.cloudflare_access_group:
    name: family
    include:
      - email: [me@example.com, partner@example.com]
      - email_domain: kids.example.com
    exclude:
      - geo: KP
  delegate_to: localhost

- name: Refer to the group from a policy
  homelab.mcp_edge.cloudflare_access_policy:
    name: family-apps
    decision: allow
    include:
      - group: family
  delegate_to: localhost

- name: Cloudflare refuses to delete a group a policy refers to, so remove the policy first
  homelab.mcp_edge.cloudflare_access_policy:
    name: family-apps
    state: absent
  delegate_to: localhost

- name: Delete the group
  homelab.mcp_edge.cloudflare_access_group:
    name: family
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
id:
  description: ID of the group. V(null) when it does not exist, or would be created in check mode.
  returned: always
  type: str
  sample: 6d2d4b45-2f38-4cf7-8a1d-2dbb01fe1a5c
group:
  description: The group after the task (before it, for O(state=absent)); rules in the API form.
  returned: always
  type: dict
  contains:
    id:
      description: Group ID.
      type: str
    name:
      description: Group name.
      type: str
    include:
      description: Rules of which one must match.
      type: list
      elements: dict
    require:
      description: Rules that must all match.
      type: list
      elements: dict
    exclude:
      description: Rules none of which may match.
      type: list
      elements: dict
  sample:
    id: 6d2d4b45-2f38-4cf7-8a1d-2dbb01fe1a5c
    name: family
    include:
      - email:
            email: me@example.com
    require: []
    exclude: []
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_group import GroupManager
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_rules import RULE_OPTIONS_SPEC
from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **RULE_OPTIONS_SPEC,
    )
    CloudflareModule(argument_spec=argument_spec, supports_check_mode=True).run(GroupManager)


if __name__ == "__main__":
    main()
