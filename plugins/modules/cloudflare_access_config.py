#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_access_config
short_description: Reconcile Access service tokens, reusable policies and applications in one task
version_added: 0.3.0
description:
  - Makes a Zero Trust account hold a set of service tokens, reusable policies and self-hosted
    applications, in that order (policies name tokens, applications link policies), and removes the
    ones marked V(absent) in the reverse order.
  - Each kind is listed once for the whole task, so a run with nothing to change costs one request per
    kind used (service tokens, policies, applications, and identity providers when O(applications[].allowed_idps)
    names them) however many objects there are. A write re-reads only the kind it changed.
  - >-
    Every object is handled exactly like the single-object modules do it
    (M(homelab.mcp_edge.cloudflare_access_service_token), M(homelab.mcp_edge.cloudflare_access_policy),
    M(homelab.mcp_edge.cloudflare_access_application)). Options left out keep Cloudflare's values,
    rules may use the friendly form, names are resolved to ids.
  - A newly created service token's secret is returned once, in RV(service_tokens); the task must set
    C(no_log=true) when it may create one, or the module fails before writing anything.
  - With O(purge_applications_prefix), applications whose name starts with the prefix and which are not
    in O(applications) are deleted, so a service removed from the inventory loses its application.
  - "With O(owner_id) (the site), every application written carries the Access tag C(mcp_edge <owner_id>),
    created first when no application has it yet (one request) and deleted when this task deleted the last
    application carrying it. An application with a wanted name that lacks the tag (made by hand, by another site,
    or by release 0.2 of this collection) fails the task, naming it, before anything is written, unless
    O(applications[].adopt=true); a purge deletes only applications carrying the tag. Policies and service
    tokens have no tags: they belong to a site by their name (the role prefixes them with the site)."
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.full_support
options:
  service_tokens:
    description: Service tokens, by name.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the token.
        type: str
        required: true
      state:
        description: V(absent) deletes the token (after the policies marked absent).
        type: str
        choices: [present, absent]
        default: present
      duration:
        description: Lifetime such as C(8760h) or C(forever); left out keeps Cloudflare's (one year on create).
        type: str
      refresh_if_expires_within:
        description: Extend the expiry when the token expires within this duration (for example C(30d)).
        type: str
      rotate:
        description:
          - Give the token a new secret (the old one stops working). The new secret is returned once, in
            C(client_secret); the task must set C(no_log).
          - The way back when a token's secret was lost (never delivered, or leaked).
        type: bool
        default: false
      adopt:
        description:
          - With O(service_tokens[].former_name), rename the token of that name to O(service_tokens[].name) when none
            is called O(service_tokens[].name) yet; its id and its secret (which clients hold) stay.
        type: bool
        default: false
        version_added: 0.3.0
      former_name:
        description:
          - An earlier name of the token (release 0.2 of the C(homelab.mcp_edge.cloudflare_edge) role named tokens
            without the site prefix); used only with O(service_tokens[].adopt=true).
        type: str
        version_added: 0.3.0
  policies:
    description: Reusable policies, with the options of M(homelab.mcp_edge.cloudflare_access_policy).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the policy.
        type: str
        required: true
      state:
        description: V(absent) deletes the policy (after the applications are reconciled).
        type: str
        choices: [present, absent]
        default: present
      decision:
        description: V(allow), V(deny), V(non_identity) or V(bypass); required when the policy is created.
        type: str
        choices: [allow, deny, non_identity, bypass]
      include:
        description: Rules of which at least one must match; friendly or API form.
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
        description: How long a session through this policy lasts, for example C(24h).
        type: str
      approval_required:
        description: Whether an approver must allow each session.
        type: bool
      purpose_justification_required:
        description: Whether users must give a reason.
        type: bool
      purpose_justification_prompt:
        description: The question shown when a reason is required.
        type: str
      adopt:
        description:
          - With O(policies[].former_name), rename the policy of that name to O(policies[].name) when none is called
            O(policies[].name) yet; its id, and so the applications linking it, stay.
        type: bool
        default: false
        version_added: 0.3.0
      former_name:
        description:
          - An earlier name of the policy (release 0.2 of the C(homelab.mcp_edge.cloudflare_edge) role named
            policies without the site prefix); used only with O(policies[].adopt=true).
        type: str
        version_added: 0.3.0
  applications:
    description: Self-hosted applications, with the options of M(homelab.mcp_edge.cloudflare_access_application).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the application.
        type: str
        required: true
      state:
        description: V(absent) deletes the application.
        type: str
        choices: [present, absent]
        default: present
      domain:
        description: The protected hostname (and optional path); required when the application is created.
        type: str
      destinations:
        description: Public hostnames or private destinations, as in M(homelab.mcp_edge.cloudflare_access_application).
        type: list
        elements: raw
      session_duration:
        description: How long a session lasts, for example C(24h).
        type: str
      allowed_idps:
        description: Identity providers (names or ids) users may log in with; V([]) allows all.
        type: list
        elements: str
      auto_redirect_to_identity:
        description: Skip the identity provider choice when only one is allowed.
        type: bool
      app_launcher_visible:
        description: Show the application in the App Launcher.
        type: bool
      policies:
        description: Reusable policies (names or ids) linked in this order (precedence 1, 2, ...).
        type: list
        elements: str
      tags:
        description: Access tags of the application; a tag that does not exist yet is created first.
        type: list
        elements: str
      custom_deny_message:
        description: Message shown when access is denied.
        type: str
      adopt:
        description:
          - Take over an application of this name that does not carry O(owner_id)'s Access tag (made by hand, by
            another site, or by release 0.2 of this collection). It gets the tag and is managed from then on like
            one this task created. With O(applications[].state=absent), delete it.
          - V(false) fails the task for such an application (O(applications[].state=absent) leaves it alone, with a
            warning), before anything is written.
        type: bool
        default: false
        version_added: 0.3.0
  purge_applications_prefix:
    description:
      - Applications whose name starts with this prefix and which are not in O(applications) are deleted (with
        O(owner_id), only those carrying its Access tag).
      - Empty (the default) deletes nothing that is not marked V(absent).
    type: str
    default: ""
  owner_id:
    description:
      - The site these objects belong to (the role C(homelab.mcp_edge.cloudflare_edge) passes C(homelab_site)).
        Applications are marked with the Access tag C(mcp_edge <owner_id>); see the description.
      - Left out, applications are found by name alone (the behaviour of release 0.2).
      - Letters, digits, C(.), C(_) and C(-), at most 26 characters (an Access tag name holds at most 35).
    type: str
    version_added: 0.3.0
"""

EXAMPLES = r"""
- name: Access for every service in one task
  homelab.mcp_edge.cloudflare_access_config:
    service_tokens:
      - name: claude-desktop
        duration: 8760h
    policies:
      - name: owner
        decision: allow
        include: [{email: me@example.com}]
      - name: mcp-clients
        decision: non_identity
        include: [{service_token: claude-desktop}]
    applications:
      - name: "home: time"
        domain: time.example.com
        policies: [owner, mcp-clients]
      - name: "home: n8n"
        domain: n8n.example.com
        policies: [owner]
    purge_applications_prefix: "home: "
  delegate_to: localhost
  no_log: true        # a new service token's secret is in the result
  register: access
"""

RETURN = r"""
service_tokens:
  description:
    - The tokens marked present, by name; C(client_secret) only for a token created or rotated by this run.
  returned: always
  type: dict
  sample:
    claude-desktop:
      id: 3537a672-e4d8-4d89-aab9-26cb622918a1
      client_id: 88bf3b6d86161464f6509f7219099e57.access
      expires_at: "2027-11-23T06:00:00Z"
      created: true
      rotated: false
      client_secret: "(only when created or rotated)"
policies:
  description: The policies marked present, by name, with their ids.
  returned: always
  type: dict
  sample: {owner: {id: f267e341-9d6a-4bd7-8f8b-7b4b1b7b0c1a}}
applications:
  description: The applications marked present, by name, with id, aud tag and domain.
  returned: always
  type: dict
  sample:
    "home: time":
      id: 0d8f5f4e-7d1f-4f57-a3b6-1bd5d7b8a3c2
      aud: 737646a56ab1df6ec9bddc7e5ca84eaf3b0768850f3ffb5d74f1534911fe3893
      domain: time.example.com
changes:
  description: One entry per object created, updated or deleted, in the order it happened.
  returned: always
  type: list
  elements: dict
  sample: [{kind: policy, name: owner, action: create}, {kind: tag, name: mcp_edge home, action: create}]
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_config import AccessConfigManager, argument_spec
from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule


def main():
    CloudflareModule(argument_spec=argument_spec(), supports_check_mode=True).run(AccessConfigManager)


if __name__ == "__main__":
    main()
