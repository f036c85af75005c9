#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_access_service_token
short_description: Manage Cloudflare Zero Trust Access service tokens
version_added: 0.3.0
description:
  - Makes sure an account-level Access service token with a given name exists, or does not exist.
  - >-
    Machines (MCP clients, scripts) present a service token as the C(CF-Access-Client-Id) and
    C(CF-Access-Client-Secret) headers; a policy with
    O(homelab.mcp_edge.cloudflare_access_policy#module:decision=non_identity)
    and the rule C(service_token: NAME) lets them in.
  - The client secret exists only in the answer to the create or rotate call. The module returns it
    (RV(client_secret)) only in the run that creates or rotates the token, never otherwise.
  - Can rotate the secret and extend the expiry (refresh), always or only when the token expires soon.
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.full_support
attributes:
  idempotent:
    support: partial
    details:
      - Idempotent unless O(rotate=true) or O(refresh=true), which act on every run. Use
        O(refresh_if_expires_within) for a refresh that only happens when it is due.
options:
  name:
    description:
      - Name of the token; identifies it within the account.
    type: str
    required: true
  state:
    description:
      - V(present) creates the token when it is missing; V(absent) deletes it (clients using it are locked out).
    type: str
    choices: [present, absent]
    default: present
  duration:
    description:
      - How long the token is valid after it is created or refreshed, for example V(8760h) (a year, the
        API's default) or V(forever).
      - Changing it on an existing token takes effect at the next refresh.
    type: str
  rotate:
    description:
      - Replace the client secret of an existing token; RV(client_secret) holds the new one. The old one
        stops working. Happens on every run with V(true).
    type: bool
    default: false
  refresh:
    description:
      - Extend the expiry of an existing token by its duration, on every run (always reports a change).
      - Takes precedence over O(refresh_if_expires_within).
    type: bool
    default: false
  refresh_if_expires_within:
    description:
      - Extend the expiry of an existing token only when it expires within this time from now, for example
        V(720h) or V(30d). A token that does not expire that soon is left alone (no change).
    type: str
notes:
  - B(Secrets.) Creating or rotating a token returns RV(client_secret). To keep Ansible from printing it
    (it shows results with C(-v)), the task that may create or rotate a token B(must) set C(no_log=true);
    without it the module fails before changing anything. Register the result to use the secret in a
    later task (for example to write it to a file with mode C(0600)), also with C(no_log=true).
  - Reads the account's service tokens with one listing (filtered by name).
seealso:
  - module: homelab.mcp_edge.cloudflare_access_policy
  - name: Service tokens
    description: Cloudflare's documentation of service tokens.
    link: https://developers.cloudflare.com/cloudflare-one/identity/service-tokens/
"""

EXAMPLES = r"""
- name: A token for the MCP client (the secret is only returned now)
  homelab.mcp_edge.cloudflare_access_service_token:
    name: claude-desktop
    duration: 8760h
  delegate_to: localhost
  no_log: true
  register: token

- name: A private directory for the MCP client's secrets
  ansible.builtin.file:
    path: ~/.config/mcp
    state: directory
    mode: "0700"
  delegate_to: localhost

- name: Keep the secret where the MCP client can read it
  ansible.builtin.copy:
    dest: ~/.config/mcp/claude-desktop.env
    content: |
      CF_ACCESS_CLIENT_ID={{ token.client_id }}
      CF_ACCESS_CLIENT_SECRET={{ token.client_secret }}
    mode: "0600"
  delegate_to: localhost
  no_log: true
  when: token.client_secret is defined

- name: Extend the expiry when less than 30 days are left
  homelab.mcp_edge.cloudflare_access_service_token:
    name: claude-desktop
    refresh_if_expires_within: 30d
  delegate_to: localhost

- name: Rotate the secret
  homelab.mcp_edge.cloudflare_access_service_token:
    name: claude-desktop
    rotate: true
  delegate_to: localhost
  no_log: true
  register: rotated

- name: Delete the token
  homelab.mcp_edge.cloudflare_access_service_token:
    name: claude-desktop
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
id:
  description:
    - ID of the token (used by policy rules).
    - V(null) when it does not exist, or would be created in check mode.
  returned: always
  type: str
  sample: 0f2d8f1e-8c6a-4a5b-9d8e-6a1f0c3b2a10
client_id:
  description: The value for the C(CF-Access-Client-Id) header. Not a secret.
    V(null) when the token does not exist, or would be created in check mode.
  returned: always
  type: str
  sample: 88bf3b6d86161464f6509f7219099e57.access
client_secret:
  description:
    - The value for the C(CF-Access-Client-Secret) header. B(Sensitive.)
    - Only returned by the run that creates the token or rotates its secret (not in check mode);
      Cloudflare cannot show it again.
  returned: when the token was created or rotated
  type: str
  sample: "<secret>"
expires_at:
  description:
    - When the token expires.
    - Cloudflare's answer to a create carries no expiry, so a run that creates the token returns none; the
      next run does (a rotation keeps the expiry it had).
  returned: when the token exists and Cloudflare reported its expiry
  type: str
  sample: "2027-01-01T00:00:00Z"
service_token:
  description: The token after the task (before it, for O(state=absent)); never contains the secret.
  returned: always
  type: dict
  contains:
    id:
      description: Token ID.
      type: str
    name:
      description: Name.
      type: str
    client_id:
      description: Client ID.
      type: str
    duration:
      description: Duration.
      type: str
    expires_at:
      description: Expiry time.
      type: str
  sample:
    id: 0f2d8f1e-8c6a-4a5b-9d8e-6a1f0c3b2a10
    name: claude-desktop
    client_id: 88bf3b6d86161464f6509f7219099e57.access
    duration: 8760h
    expires_at: "2027-01-01T00:00:00Z"
rotated:
  description: Whether the secret was (or in check mode would be) rotated.
  returned: always
  type: bool
refreshed:
  description: Whether the expiry was (or in check mode would be) extended.
  returned: always
  type: bool
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_service_token import (
    TOKEN_OPTIONS,
    ServiceTokenManager,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule


def main():
    argument_spec = dict(TOKEN_OPTIONS, refresh=dict(type="bool", default=False))
    CloudflareModule(argument_spec=argument_spec, supports_check_mode=True).run(ServiceTokenManager)


if __name__ == "__main__":
    main()
