#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_access_organization_info
short_description: Read the Zero Trust organization of a Cloudflare account and its team name
version_added: 0.3.0
description:
  - Reads the account's Zero Trust organization (C(GET /accounts/{account_id}/access/organizations), one request)
    and returns its name, its team domain (C(auth_domain), C(<team>.cloudflareaccess.com)) and the team name.
  - The team name is what cloudflared's C(originRequest.access.teamName) takes, so that cloudflared checks each
    request's Access token (see O(homelab.mcp_edge.cloudflare_tunnel_config#module:rules[].origin_request)).
  - An account without a Zero Trust organization is not an error here; RV(exists) is V(false). Create one in the
    Cloudflare dashboard (Zero Trust, where you choose the team name).
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.info_module
options: {}
notes:
  - >-
    The token needs C(Account: Access: Organizations, Identity Providers, and Groups: Read); without it the
    module fails and says so.
seealso:
  - module: homelab.mcp_edge.cloudflare_tunnel_config
  - module: homelab.mcp_edge.cloudflare_access_application
  - name: Zero Trust organization API
    description: Cloudflare's reference for the organization endpoints.
    link: https://developers.cloudflare.com/api/resources/zero_trust/subresources/organizations/
"""

EXAMPLES = r"""
- name: Read the Zero Trust team name
  homelab.mcp_edge.cloudflare_access_organization_info:
    account_id: "{{ cloudflare_account_id }}"
  delegate_to: localhost
  register: zero_trust

- name: Stop when the account has no Zero Trust organization
  ansible.builtin.assert:
    that: zero_trust.exists
    fail_msg: Create a Zero Trust organization (choose a team name) in the Cloudflare dashboard first.

- name: The application cloudflared admits requests for
  homelab.mcp_edge.cloudflare_access_application:
    name: time
    domain: time.example.com
  delegate_to: localhost
  register: app

- name: A remote-managed tunnel
  homelab.mcp_edge.cloudflare_tunnel:
    name: edge
    config_src: cloudflare
  delegate_to: localhost
  no_log: true        # the result holds the tunnel's token

- name: Let cloudflared check the Access token of the application
  homelab.mcp_edge.cloudflare_tunnel_config:
    tunnel: edge
    rules:
      - hostname: time.example.com
        service: http://127.0.0.1:3001
        origin_request:
          access:
            required: true
            team_name: "{{ zero_trust.team_name }}"
            aud_tag: ["{{ app.aud }}"]
  delegate_to: localhost
"""

RETURN = r"""
exists:
  description: Whether the account has a Zero Trust organization.
  returned: always
  type: bool
  sample: true
team_name:
  description:
    - The team name, the C(<team>) of RV(organization.auth_domain); empty when there is no organization, or when
      its team domain is not C(<team>.cloudflareaccess.com).
  returned: always
  type: str
  sample: myteam
organization:
  description: The organization's settings (empty when there is none).
  returned: always
  type: dict
  contains:
    name:
      description: Name of the organization.
      type: str
    auth_domain:
      description: The team domain, C(<team>.cloudflareaccess.com).
      type: str
    session_duration:
      description: Default session duration of the applications.
      type: str
    auto_redirect_to_identity:
      description: Whether users skip the identity provider choice.
      type: bool
    is_ui_read_only:
      description: Whether the dashboard shows the settings read-only.
      type: bool
    created_at:
      description: When the organization was created.
      type: str
    updated_at:
      description: When it was last changed.
      type: str
  sample:
    name: myteam
    auth_domain: myteam.cloudflareaccess.com
    session_duration: 24h
    auto_redirect_to_identity: false
    is_ui_read_only: false
    created_at: "2026-01-01T00:00:00Z"
    updated_at: "2026-01-01T00:00:00Z"
account_id:
  description: The account that was read.
  returned: always
  type: str
  sample: 01a7362d577a6c3019a474fd6f485823
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_organization import OrganizationInfoManager
from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule


def main():
    CloudflareModule(argument_spec={}, supports_check_mode=True).run(OrganizationInfoManager)


if __name__ == "__main__":
    main()
