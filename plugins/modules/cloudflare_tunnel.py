#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_tunnel
short_description: Create, update and delete Cloudflare Tunnels
version_added: 0.3.0
description:
  - Makes sure a Cloudflare Tunnel (C(cfd_tunnel)) with a given name exists or does not exist in an account.
  - Returns what C(cloudflared) needs to run it, also when the tunnel already existed, so a rerun can
    still write the credentials file. For a locally managed tunnel (O(config_src=local)) that is
    RV(credentials), the content of C(<tunnel-id>.json); for a remote-managed one (O(config_src=cloudflare))
    it is RV(token), for C(cloudflared tunnel run --token).
  - Can rotate the tunnel secret, and remove live connections before deleting.
  - "With O(owner_id) (the site), the tunnel is this owner's only if this module created it for that owner:
    Cloudflare's tunnel API has no field for labels, so the owner is recorded in the tunnel secret (32 random
    bytes, then a 16-byte HMAC-SHA256 tag of them keyed by the owner id; it labels, it does not protect). A live
    tunnel of the wanted name without that tag (made by hand, by another site, or by release 0.2 of this
    collection) fails the task, naming it, unless O(adopt=true); O(state=absent) leaves it alone with a warning."
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.account_zone
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.full_support
attributes:
  idempotent:
    support: partial
    details:
      - The module is idempotent unless O(rotate_secret=true), which changes the secret on every run.
options:
  name:
    description:
      - Name of the tunnel; unique among the account's live tunnels.
    type: str
    required: true
  state:
    description:
      - V(present) creates the tunnel when it is missing; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  config_src:
    description:
      - Where the tunnel's ingress configuration lives. V(local) is a C(config.yml) next to C(cloudflared)
        (see the C(homelab.mcp_edge.cloudflared) role); V(cloudflare) is remote-managed (see
        M(homelab.mcp_edge.cloudflare_tunnel_config)).
      - Only used when the tunnel is created (default V(local) then). The API cannot change it afterwards,
        so giving a different value for an existing tunnel is an error.
    type: str
    choices: [local, cloudflare]
  tunnel_secret:
    description:
      - Base64 of at least 32 random bytes, for example from C(openssl rand -base64 32).
      - When creating, the secret of the new tunnel; default is 32 fresh random bytes.
      - For an existing tunnel whose secret differs, the secret is replaced.
      - Ansible masks this value wherever it appears in the output, including inside RV(credentials).
    type: str
  rotate_secret:
    description:
      - Replace the secret of an existing tunnel with O(tunnel_secret), or with 32 fresh random bytes
        when O(tunnel_secret) is not set. Running C(cloudflared) instances need the new credentials.
    type: bool
    default: false
  cleanup_connections:
    description:
      - With O(state=absent), remove the tunnel's live connections first; the API refuses to delete a
        tunnel that still has connections.
    type: bool
    default: false
  owner_id:
    description:
      - The site this tunnel belongs to (the role C(homelab.mcp_edge.cloudflare_edge) passes C(homelab_site)).
      - A tunnel created with it carries the owner's tag in its secret (see the description); an existing tunnel
        whose secret lacks the tag is refused (O(state=present)) or left alone (O(state=absent)) unless
        O(adopt=true). A secret given in O(tunnel_secret) is stored followed by the tag, and compared without it.
      - Left out, any tunnel of the name is taken as is (the behaviour of release 0.2).
      - Letters, digits, C(.), C(_) and C(-), at most 40 characters.
    type: str
    version_added: 0.3.0
  adopt:
    description:
      - Take over a tunnel of the wanted name that does not carry O(owner_id)'s tag.
      - With O(state=present) its secret is replaced by one that carries the tag (O(tunnel_secret), or 32 fresh
        random bytes), so running C(cloudflared) connectors need the new RV(credentials) or RV(token), as after
        O(rotate_secret); the role C(homelab.mcp_edge.cloudflare_edge) hands them over in the same run. With
        O(state=absent) it is deleted.
    type: bool
    default: false
    version_added: 0.3.0
notes:
  - RV(credentials) and RV(token) are secrets. With O(state=present) the module refuses to run, before
    any API call, unless the task sets C(no_log=true); register the result to use them
    (the role C(homelab.mcp_edge.cloudflare_edge) does).
seealso:
  - module: homelab.mcp_edge.cloudflare_tunnel_info
  - module: homelab.mcp_edge.cloudflare_tunnel_config
"""

EXAMPLES = r"""
- name: Create the tunnel and keep what cloudflared needs
  homelab.mcp_edge.cloudflare_tunnel:
    name: home
    account_id: "{{ cloudflare_account_id }}"
    api_token: "{{ vault_cloudflare_api_token }}"
  delegate_to: localhost
  no_log: true
  register: tunnel

- name: The directory cloudflared reads on the host
  ansible.builtin.file:
    path: /etc/cloudflared
    state: directory
    mode: "0755"

- name: Write the credentials file on the host
  ansible.builtin.copy:
    content: "{{ tunnel.credentials | to_json }}"
    dest: "/etc/cloudflared/{{ tunnel.tunnel.id }}.json"
    mode: "0400"
  no_log: true

- name: A remote-managed tunnel, account taken from the zone
  homelab.mcp_edge.cloudflare_tunnel:
    name: edge
    config_src: cloudflare
    zone: example.com
  delegate_to: localhost
  no_log: true
  register: edge

- name: Rotate the secret
  homelab.mcp_edge.cloudflare_tunnel:
    name: home
    rotate_secret: true
  delegate_to: localhost
  no_log: true

- name: Delete the tunnel, dropping its connections first
  homelab.mcp_edge.cloudflare_tunnel:
    name: home
    state: absent
    cleanup_connections: true
  delegate_to: localhost
"""

RETURN = r"""
tunnel:
  description:
    - The tunnel as the API describes it (without secrets). Empty after O(state=absent).
    - In check mode, a tunnel that would be created has no RV(tunnel.id).
  returned: always
  type: dict
  contains:
    id:
      description: Tunnel UUID.
      type: str
      sample: 6ff42ae2-765d-4adf-8112-31c55c1551ef
    name:
      description: Tunnel name.
      type: str
      sample: home
    account_tag:
      description: Account ID the tunnel belongs to.
      type: str
      sample: 023e105f4ecef8ad9ca31a8372d0c353
    status:
      description: V(inactive), V(down), V(degraded) or V(healthy).
      type: str
      sample: inactive
    config_src:
      description: V(local) or V(cloudflare) (remote-managed).
      type: str
      sample: local
    remote_config:
      description: Whether the configuration is remote-managed.
      type: bool
      sample: false
    created_at:
      description: Creation time.
      type: str
      sample: "2026-01-01T00:00:00Z"
    connections:
      description: Live connections.
      type: list
      elements: dict
      sample: []
credentials:
  description:
    - The content of C(<tunnel-id>.json) that C(cloudflared) reads for a locally managed tunnel.
    - B(Sensitive.) Register it in a task with C(no_log=true).
  returned: when O(state=present), the tunnel is locally managed, and not in check mode for a new tunnel
  type: dict
  contains:
    AccountTag:
      description: Account ID.
      type: str
    TunnelSecret:
      description: Base64 tunnel secret.
      type: str
    TunnelID:
      description: Tunnel UUID.
      type: str
    Endpoint:
      description: Always empty.
      type: str
  sample:
    AccountTag: 023e105f4ecef8ad9ca31a8372d0c353
    TunnelSecret: "<secret>"
    TunnelID: 6ff42ae2-765d-4adf-8112-31c55c1551ef
    Endpoint: ""
token:
  description:
    - The token for C(cloudflared tunnel run --token) of a remote-managed tunnel.
    - B(Sensitive.) Register it in a task with C(no_log=true).
  returned: when O(state=present), the tunnel is remote-managed, and not in check mode for a new tunnel
  type: str
  sample: eyJhIjoi...
adopted:
  description: Whether a tunnel not carrying O(owner_id)'s tag was taken over (O(adopt=true)) in this run.
  returned: always
  type: bool
  sample: false
  version_added: 0.3.0
secret_rotated:
  description: Whether the tunnel secret was replaced in this run (also when it was adopted).
  returned: always
  type: bool
  sample: false
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule
from ansible_collections.homelab.mcp_edge.plugins.module_utils._tunnel import TunnelManager


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        config_src=dict(type="str", choices=["local", "cloudflare"]),
        tunnel_secret=dict(type="str", no_log=True),
        rotate_secret=dict(type="bool", default=False, no_log=False),
        cleanup_connections=dict(type="bool", default=False),
        zone=dict(type="str"),
        owner_id=dict(type="str"),
        adopt=dict(type="bool", default=False),
    )
    CloudflareModule(argument_spec=argument_spec).run(TunnelManager)


if __name__ == "__main__":
    main()
