#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_access_group
short_description: Manage Cloudflare Zero Trust Access groups
version_added: 0.1.0
description:
  - Makes sure an account-level Zero Trust Access group with a given name exists with the given
    rules, or does not exist.
  - >-
    A group is a named set of rules that policies refer to with the rule C(group: NAME).
  - Rules take the same friendly or API forms as in M(homelab.mcp_edge.cloudflare_access_policy).
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
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
  include:
    description:
      - Rules of which at least one must match (OR). Required, with at least one rule, when the group is created.
      - >-
        Each rule is a mapping with one key. Friendly form
        C(email: ADDRESS), C(email_domain: DOMAIN), C(everyone: true), C(geo: COUNTRY) (two letters),
        C(ip: CIDR), C(service_token: NAME), C(any_valid_service_token: true), C(group: NAME),
        C(login_method: IDP NAME), C(auth_method: mfa), C(email_list: LIST ID), C(ip_list: LIST ID),
        C(common_name: CN), C(certificate: true),
        C(github-organization: {name: ORG, team: TEAM, identity_provider: IDP NAME});
        a friendly value can be a list, expanded into one rule per item.
      - >-
        The API form (C({email: {email: me@example.com}})) is accepted for every rule type.
      - Names are resolved to IDs; an unknown name fails and the error lists the names that exist.
      - When left out, the existing rules are kept.
    type: list
    elements: dict
  require:
    description:
      - Rules that must all match (AND), in the same forms as O(include).
      - When left out, the existing rules are kept; V([]) removes them.
    type: list
    elements: dict
  exclude:
    description:
      - Rules none of which may match (NOT), in the same forms as O(include).
      - When left out, the existing rules are kept; V([]) removes them.
    type: list
    elements: dict
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

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access import (
    AccessError,
    AccessTask,
    rules_equal,
    translate_rule_options,
    upsert_named,
    view,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import (
    CloudflareModule,
    DifferenceTracker,
)

RULE_OPTIONS = ("include", "require", "exclude")
VIEW_FIELDS = ("id", "name", *RULE_OPTIONS)
WRITABLE = ("name", *RULE_OPTIONS, "is_default")
COMPARATORS = {k: (lambda have, want: rules_equal(want, have)) for k in RULE_OPTIONS}
SPEC = {"view_fields": VIEW_FIELDS, "writable": WRITABLE, "comparators": COMPARATORS}


class GroupManager:
    def __init__(self, cf, task=None):
        self.cf = cf
        self.params = cf.params
        self.task = task
        self.tracker = DifferenceTracker()

    def run(self):
        self.task = self.task or AccessTask(self.cf)
        name = self.params["name"]
        existing = self.task.find_by_name("group", name)
        if self.params["state"] == "absent":
            if existing is None:
                return self.result(False, None, {})
            self.task.remove("group", existing["id"])
            before = view(existing, VIEW_FIELDS)
            return self.result(True, None, before, diff={"before": before, "after": {}})
        want = translate_rule_options(self.params, self.task.directory, RULE_OPTIONS)
        if existing is None and not want["include"]:
            raise AccessError("include: group %r does not exist yet; give at least one rule to create it" % name)
        changed, group_id, after, diff = upsert_named(
            self.task, "group", name, existing, want, self.tracker, SPEC, create_options={"name_filter": True}
        )
        return self.result(changed, group_id, after, diff=diff)

    def result(self, changed, group_id, group, diff=None):
        out = {"changed": changed, "id": group_id, "group": group}
        if diff is not None and self.cf.diff_mode:
            out["diff"] = diff
        return out


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        include=dict(type="list", elements="dict"),
        require=dict(type="list", elements="dict"),
        exclude=dict(type="list", elements="dict"),
    )
    cf = CloudflareModule(argument_spec=argument_spec, supports_check_mode=True)
    cf.run(GroupManager(cf).run)


if __name__ == "__main__":
    main()
