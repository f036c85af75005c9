#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_access_application
short_description: Manage self-hosted Cloudflare Zero Trust Access applications
version_added: 0.3.0
description:
  - Makes sure a self-hosted Zero Trust Access application with a given name exists in the account
    with the given settings, or does not exist.
  - >-
    Links reusable policies (see M(homelab.mcp_edge.cloudflare_access_policy)) in the order given: the
    first policy has precedence 1.
  - Returns the application's RV(aud) tag, which C(cloudflared) needs to check Access tokens at the origin.
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.full_support
options:
  name:
    description:
      - Name of the application; identifies it within the account.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the application; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  domain:
    description:
      - The host name (and optional path) the application protects, for example V(mcp.example.com) or
        V(example.com/admin). No scheme.
      - One of O(domain) and O(destinations) is required when the application is created.
      - When only O(domain) changes and the application's first public destination was the old domain,
        that destination follows.
    type: str
  destinations:
    description:
      - All the destinations the application protects; the first public one is the primary domain.
      - >-
        Each item is a host name (and optional path), taken as a public destination, or a mapping in the
        API form such as C({type: public, uri: mcp.example.com}) or C({type: private, hostname: nas.lan}).
      - Compared in order.
    type: list
    elements: raw
  session_duration:
    description:
      - How long a session lasts before users must log in again, for example V(24h) or V(30m).
    type: str
  allowed_idps:
    description:
      - Identity providers users may log in with, by name (as in
        M(homelab.mcp_edge.cloudflare_access_identity_provider_info)) or ID. V([]) allows all of them.
      - Compared as a set.
    type: list
    elements: str
  auto_redirect_to_identity:
    description:
      - Skip the identity provider selection page when only one provider is allowed.
    type: bool
  app_launcher_visible:
    description:
      - Whether the application shows in the App Launcher.
    type: bool
  policies:
    description:
      - Reusable policies linked to the application, by name or ID, in precedence order (the first one is
        evaluated first). V([]) unlinks them all. Every name must exist; the error lists those that do.
    type: list
    elements: str
  tags:
    description:
      - Access tags of the application (compared as a set). The API refuses a tag that does not exist in the
        account, so a missing one is created first (one request each; none when the application or, in
        M(homelab.mcp_edge.cloudflare_access_config), another listed application already carries it).
    type: list
    elements: str
  custom_deny_message:
    description:
      - The message users see when they are denied.
    type: str
  owner_id:
    description:
      - The site this application belongs to. The application is tagged with the Access tag C(mcp_edge <owner_id>)
        (created first when no application carries it yet). An existing application of this name without that
        tag (made by hand, by another site, or by release 0.2 of this collection) fails the task unless
        O(adopt=true); with O(state=absent) it is left alone, with a warning.
      - Left out, the application is found by name alone (the behaviour of release 0.2).
      - Letters, digits, C(.), C(_) and C(-), at most 26 characters (an Access tag name holds at most 35).
    type: str
    version_added: 0.3.0
  adopt:
    description:
      - Take over an application of this name that does not carry O(owner_id)'s tag; it gets the tag. With
        O(state=absent), delete it.
    type: bool
    default: false
    version_added: 0.3.0
notes:
  - Options that are left out keep the values the application has; only differences are written (one C(PUT)).
  - The module reads the application by name once per task, the policies once when O(policies) has names,
    and the identity providers once when O(allowed_idps) has names.
seealso:
  - module: homelab.mcp_edge.cloudflare_access_policy
  - module: homelab.mcp_edge.cloudflare_access_identity_provider_info
  - name: Self-hosted applications
    description: Cloudflare's documentation of self-hosted Access applications.
    link: https://developers.cloudflare.com/cloudflare-one/applications/configure-apps/self-hosted-public-app/
"""

EXAMPLES = r"""
- name: The reusable policies an application links to must exist first
  homelab.mcp_edge.cloudflare_access_policy:
    name: "{{ item.name }}"
    decision: "{{ item.decision }}"
    include: "{{ item.include }}"
  loop:
    - {name: owner, decision: allow, include: [{email: me@example.com}]}
    - {name: mcp-clients, decision: non_identity, include: [{any_valid_service_token: true}]}
  delegate_to: localhost

- name: Protect the MCP server; owner first, then the service tokens
  homelab.mcp_edge.cloudflare_access_application:
    name: time
    domain: time.example.com
    session_duration: 24h
    allowed_idps: [GitHub]
    auto_redirect_to_identity: true
    policies: [owner, mcp-clients]
  delegate_to: localhost
  register: app

- name: cloudflared checks the Access token with the application's aud tag
  ansible.builtin.debug:
    msg: "audTag: {{ app.aud }}"

- name: Several destinations
  homelab.mcp_edge.cloudflare_access_application:
    name: n8n
    destinations:
      - n8n.example.com
      - n8n.example.com/webhook-test
    policies: [owner]
  delegate_to: localhost

- name: Delete the application
  homelab.mcp_edge.cloudflare_access_application:
    name: time
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
id:
  description: ID of the application. V(null) when it does not exist, or would be created in check mode.
  returned: always
  type: str
  sample: 1f1c5a2e-54a0-4c6e-9a8b-3c0f7c7d1e21
aud:
  description: The application's audience (AUD) tag, for C(originRequest.access.audTag) in C(cloudflared).
    V(null) when it does not exist, or would be created in check mode.
  returned: always
  type: str
  sample: 737646a56ab1df6ec9bddc7e5ca84eaf3b0768850f3ffb5d74f1534911fe3893
application:
  description: The application after the task (before it, for O(state=absent)).
  returned: always
  type: dict
  contains:
    id:
      description: Application ID.
      type: str
    aud:
      description: Audience tag.
      type: str
    name:
      description: Name.
      type: str
    type:
      description: Always V(self_hosted) for applications this module creates.
      type: str
    domain:
      description: Primary domain.
      type: str
    destinations:
      description: Destinations.
      type: list
      elements: dict
    session_duration:
      description: Session duration.
      type: str
    allowed_idps:
      description: IDs of the allowed identity providers.
      type: list
      elements: str
    auto_redirect_to_identity:
      description: Whether the IdP selection is skipped.
      type: bool
    app_launcher_visible:
      description: Whether it shows in the App Launcher.
      type: bool
    policies:
      description: IDs of the linked policies, in precedence order.
      type: list
      elements: str
    tags:
      description: Tags.
      type: list
      elements: str
    custom_deny_message:
      description: Deny message.
      type: str
  sample:
    id: 1f1c5a2e-54a0-4c6e-9a8b-3c0f7c7d1e21
    aud: 737646a56ab1df6ec9bddc7e5ca84eaf3b0768850f3ffb5d74f1534911fe3893
    name: time
    type: self_hosted
    domain: time.example.com
    destinations:
      - type: public
        uri: time.example.com
    session_duration: 24h
    allowed_idps: []
    policies: [f174e90a-fafe-4643-bbbc-4a0ed4fc8415]
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_application import (
    APPLICATION_OPTIONS,
    ApplicationManager,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule


def main():
    argument_spec = dict(APPLICATION_OPTIONS, owner_id=dict(type="str"))
    CloudflareModule(argument_spec=argument_spec, supports_check_mode=True).run(ApplicationManager)


if __name__ == "__main__":
    main()
