#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_tunnel_config
short_description: Manage the ingress rules of a remote-managed Cloudflare Tunnel
version_added: 0.3.0
description:
  - Sets the configuration (ingress rules, global origin request settings, WARP routing) of a
    remote-managed Cloudflare Tunnel (created with O(homelab.mcp_edge.cloudflare_tunnel#module:config_src=cloudflare)).
  - Takes the same rule format as the C(homelab.mcp_edge.cloudflared) role uses for C(config.yml), and checks it
    with the same code (C(plugins/module_utils/_ingress.py)).
  - A catch-all rule (O(catch_all)) is appended when the last rule has a hostname or a path.
  - The configuration is read once and written only when it differs.
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.account_zone
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.full_support
options:
  tunnel:
    description:
      - Name or UUID of the tunnel.
    type: str
    required: true
  rules:
    description:
      - Ingress rules, in order; the first rule that matches a request wins.
      - Only the last rule may match everything (no O(rules[].hostname), no O(rules[].path)).
    type: list
    elements: dict
    required: true
    suboptions:
      hostname:
        description:
          - Public hostname, for example C(app.example.com). May start with C(*.) (a whole leftmost label only).
        type: str
      path:
        description:
          - Regular expression the request path must match.
        type: str
      service:
        description:
          - Where to send matching requests. One of C(http://), C(https://), C(tcp://), C(ssh://), C(rdp://),
            C(smb://) URLs, C(unix:PATH), C(unix+tls:PATH), C(http_status:NNN), C(hello_world), C(bastion).
        type: str
        required: true
      origin_request:
        description:
          - Origin settings for this rule, with snake_case keys (C(connect_timeout), C(no_tls_verify),
            C(http_host_header), C(origin_server_name), C(access) with C(required), C(team_name), C(aud_tag), ...)
            or the API's camelCase keys. Durations may be whole seconds or Go duration strings such as C(30s) or
            C(1m30s) (sent as whole seconds, the only form cloudflared reads from the API).
          - The alias C(originRequest) takes rules in cloudflared's own form unchanged (as in the
            C(homelab.mcp_edge.cloudflared) role's C(cloudflared_extra_ingress)).
        type: dict
        aliases: [originRequest]
  origin_request:
    description:
      - Origin settings for all rules (same keys as O(rules[].origin_request)).
      - Left out, the tunnel's current global settings are kept; V({}) removes them.
    type: dict
  warp_routing:
    description:
      - Whether private network (WARP) routing is enabled. Left out, the current value is kept.
    type: bool
  catch_all:
    description:
      - Service of the catch-all rule appended when the last rule has a hostname or a path.
    type: str
    default: http_status:404
seealso:
  - module: homelab.mcp_edge.cloudflare_tunnel
"""

EXAMPLES = r"""
- name: A remote-managed tunnel
  homelab.mcp_edge.cloudflare_tunnel:
    name: edge
    config_src: cloudflare
  delegate_to: localhost
  no_log: true        # the result holds the tunnel's token

- name: The Access application in front of the MCP server
  homelab.mcp_edge.cloudflare_access_application:
    name: time
    domain: time.example.com
  delegate_to: localhost
  register: app

- name: Publish two services through a remote-managed tunnel
  homelab.mcp_edge.cloudflare_tunnel_config:
    tunnel: edge
    rules:
      - hostname: n8n.example.com
        service: http://127.0.0.1:5678
      - hostname: time.example.com
        path: ^/mcp
        service: http://127.0.0.1:3001
        origin_request:
          connect_timeout: 10s
          access:
            required: true
            team_name: myteam
            aud_tag: ["{{ app.application.aud }}"]
    origin_request:
      no_happy_eyeballs: true
  delegate_to: localhost
"""

RETURN = r"""
config:
  description: The tunnel configuration after the run (in check mode, what it would be), in the API's camelCase form.
  returned: always
  type: dict
  sample:
    ingress:
      - hostname: n8n.example.com
        service: http://127.0.0.1:5678
      - service: http_status:404
    warp-routing:
      enabled: false
version:
  description:
    - Configuration version after the run (increments on every write).
    - V(null) in check mode when it would change.
  returned: always
  type: int
  sample: 3
tunnel_id:
  description: UUID of the tunnel.
  returned: always
  type: str
  sample: 6ff42ae2-765d-4adf-8112-31c55c1551ef
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule
from ansible_collections.homelab.mcp_edge.plugins.module_utils._tunnel import TunnelConfigManager


def main():
    rule_options = dict(
        hostname=dict(type="str"),
        path=dict(type="str"),
        service=dict(type="str", required=True),
        origin_request=dict(type="dict", aliases=["originRequest"]),
    )
    argument_spec = dict(
        tunnel=dict(type="str", required=True),
        rules=dict(type="list", elements="dict", required=True, options=rule_options),
        origin_request=dict(type="dict"),
        warp_routing=dict(type="bool"),
        catch_all=dict(type="str", default="http_status:404"),
        zone=dict(type="str"),
    )
    CloudflareModule(argument_spec=argument_spec).run(TunnelConfigManager)


if __name__ == "__main__":
    main()
