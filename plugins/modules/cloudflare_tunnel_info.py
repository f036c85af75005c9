#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_tunnel_info
short_description: List Cloudflare Tunnels and their status
version_added: 0.3.0
description:
  - Lists the Cloudflare Tunnels of an account, optionally only the one with a given name or ID.
  - Never returns secrets; use M(homelab.mcp_edge.cloudflare_tunnel) for credentials and tokens.
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.account_zone
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.info_module
options:
  name:
    description:
      - Only the tunnel with this name.
    type: str
  tunnel_id:
    description:
      - Only the tunnel with this UUID.
    type: str
  include_deleted:
    description:
      - Also list deleted tunnels (they have RV(tunnels[].deleted_at) set).
    type: bool
    default: false
  include_config:
    description:
      - For remote-managed tunnels, also read the configuration (one more request per tunnel).
    type: bool
    default: false
seealso:
  - module: homelab.mcp_edge.cloudflare_tunnel
"""

EXAMPLES = r"""
- name: Every live tunnel of the account
  homelab.mcp_edge.cloudflare_tunnel_info:
  delegate_to: localhost
  register: info

- name: Fail when cloudflared has lost connections (a tunnel that never connected is inactive)
  ansible.builtin.assert:
    that: lost | length == 0
    fail_msg: "Tunnels with fewer than 4 connections: {{ lost }}"
  vars:
    lost: "{{ info.tunnels | selectattr('status', 'in', ['degraded', 'down']) | map(attribute='name') | list }}"

- name: The remote-managed tunnel edge and its ingress rules
  homelab.mcp_edge.cloudflare_tunnel_info:
    name: edge
    include_config: true
  delegate_to: localhost
  register: edge
"""

RETURN = r"""
tunnels:
  description: The tunnels found.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Tunnel UUID.
      type: str
    name:
      description: Tunnel name.
      type: str
    account_tag:
      description: Account ID.
      type: str
    status:
      description: V(inactive), V(down), V(degraded) or V(healthy).
      type: str
    config_src:
      description: V(local) or V(cloudflare).
      type: str
    remote_config:
      description: Whether the configuration is remote-managed.
      type: bool
    created_at:
      description: Creation time.
      type: str
    deleted_at:
      description: Deletion time, or V(null).
      type: str
    connections:
      description: Live connections (one entry per connection to Cloudflare's edge).
      type: list
      elements: dict
    config:
      description: Remote configuration, with O(include_config=true) for remote-managed tunnels.
      type: dict
      returned: when requested
  sample:
    - id: 6ff42ae2-765d-4adf-8112-31c55c1551ef
      name: home
      status: healthy
      config_src: local
      remote_config: false
      connections: []
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule
from ansible_collections.homelab.mcp_edge.plugins.module_utils._tunnel import TunnelInfoManager


def main():
    argument_spec = dict(
        name=dict(type="str"),
        tunnel_id=dict(type="str"),
        include_deleted=dict(type="bool", default=False),
        include_config=dict(type="bool", default=False),
        zone=dict(type="str"),
    )
    CloudflareModule(argument_spec=argument_spec).run(TunnelInfoManager)


if __name__ == "__main__":
    main()
