#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_access_policy
short_description: Manage reusable Cloudflare Zero Trust Access policies
version_added: 0.3.0
description:
  - Makes sure a reusable (account-level) Zero Trust Access policy with a given name exists with the
    given decision and rules, or does not exist.
  - >-
    Rules can be written in a short, friendly form (C(email: me@example.com), C(service_token: claude-desktop),
    C(group: admins), C(login_method: GitHub) ...) or in the API form (C({email: {email: me@example.com}})).
    Names of service tokens, Access groups and identity providers are resolved to IDs; each kind is
    read at most once per task.
  - Link policies to applications with M(homelab.mcp_edge.cloudflare_access_application).
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
      - Name of the policy; identifies it within the account.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the policy; V(absent) deletes it.
      - A policy still linked to an application is not deleted; the error names the applications.
    type: str
    choices: [present, absent]
    default: present
  decision:
    description:
      - What happens to a request the rules match.
      - V(allow) lets identified users in, V(deny) blocks, V(bypass) turns Access off for the matched
        requests, V(non_identity) admits requests without a user identity (service tokens, mTLS, IP ranges).
      - Required when the policy is created.
    type: str
    choices: [allow, deny, non_identity, bypass]
  session_duration:
    description:
      - How long a session admitted by this policy lasts, for example V(24h) or V(30m). Overrides the
        application's session duration.
    type: str
  approval_required:
    description:
      - Whether an approver must confirm each access request.
    type: bool
  purpose_justification_required:
    description:
      - Whether users must give a reason before they get in.
    type: bool
  purpose_justification_prompt:
    description:
      - The question shown when O(purpose_justification_required=true).
    type: str
notes:
  - Options that are left out keep the values the policy has; only differences are written (one C(PUT)).
  - The module reads the account's policies once per task, plus one listing per kind of name it has to
    resolve (service tokens, groups, identity providers), plus the applications when deleting a linked policy.
seealso:
  - module: homelab.mcp_edge.cloudflare_access_application
  - module: homelab.mcp_edge.cloudflare_access_group
  - module: homelab.mcp_edge.cloudflare_access_service_token
  - name: Access policies
    description: Cloudflare's documentation of Access policies and rule types.
    link: https://developers.cloudflare.com/cloudflare-one/policies/access/
"""

EXAMPLES = r"""
- name: The owner may log in (friendly rule form)
  homelab.mcp_edge.cloudflare_access_policy:
    name: owner
    decision: allow
    include:
      - email: me@example.com
    require:
      - auth_method: mfa
    session_duration: 12h
  delegate_to: localhost

- name: The service tokens a policy names must exist first
  homelab.mcp_edge.cloudflare_access_service_token:
    name: "{{ item }}"
  loop: [claude-desktop, ci-runner]
  delegate_to: localhost
  no_log: true        # a new token's secret is in the result

- name: MCP clients get in with a service token, no login
  homelab.mcp_edge.cloudflare_access_policy:
    name: mcp-clients
    decision: non_identity
    include:
      - service_token: claude-desktop
      - service_token: ci-runner
  delegate_to: localhost

- name: A group to refer to
  homelab.mcp_edge.cloudflare_access_group:
    name: family
    include:
      - email_domain: example.com
  delegate_to: localhost
  register: family_group

- name: Rules in the API form
  homelab.mcp_edge.cloudflare_access_policy:
    name: family
    decision: allow
    include:
      - email_domain: {domain: example.com}
      - group: {id: "{{ family_group.id }}"}
    exclude:
      - geo: {country_code: RU}
  delegate_to: localhost

- name: Remove a policy no application uses any more
  homelab.mcp_edge.cloudflare_access_policy:
    name: old
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
id:
  description: ID of the policy. V(null) when it does not exist, or would be created in check mode.
  returned: always
  type: str
  sample: f174e90a-fafe-4643-bbbc-4a0ed4fc8415
policy:
  description: The policy after the task (before it, for O(state=absent)); rules in the API form.
  returned: always
  type: dict
  contains:
    id:
      description: Policy ID.
      type: str
    name:
      description: Policy name.
      type: str
    decision:
      description: V(allow), V(deny), V(non_identity) or V(bypass).
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
    session_duration:
      description: Session duration, when set.
      type: str
    approval_required:
      description: Whether approval is required.
      type: bool
    purpose_justification_required:
      description: Whether a justification is required.
      type: bool
    purpose_justification_prompt:
      description: The justification prompt.
      type: str
    app_count:
      description: Number of applications the policy is linked to.
      type: int
  sample:
    id: f174e90a-fafe-4643-bbbc-4a0ed4fc8415
    name: mcp-clients
    decision: non_identity
    include:
      - service_token:
            token_id: 0f2d8f1e-8c6a-4a5b-9d8e-6a1f0c3b2a10
    require: []
    exclude: []
    app_count: 2
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_policy import POLICY_OPTIONS, PolicyManager
from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule


def main():
    CloudflareModule(argument_spec=dict(POLICY_OPTIONS), supports_check_mode=True).run(PolicyManager)


if __name__ == "__main__":
    main()
