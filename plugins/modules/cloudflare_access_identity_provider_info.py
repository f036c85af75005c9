#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_access_identity_provider_info
short_description: List the Zero Trust identity providers of a Cloudflare account
version_added: 0.3.0
description:
  - Lists the login methods (identity providers) configured in the account's Zero Trust organization,
    with their ID, name and type.
  - >-
    Their names are what O(homelab.mcp_edge.cloudflare_access_application#module:allowed_idps) and the
    policy rule C(login_method: NAME) take.
  - Never returns a provider's configuration (it can hold client secrets).
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.info_module
options:
  name:
    description:
      - Only the identity provider with this exact name.
    type: str
  type:
    description:
      - Only identity providers of this type, for example V(onetimepin), V(github), V(google) or V(oidc).
    type: str
seealso:
  - module: homelab.mcp_edge.cloudflare_access_application
  - module: homelab.mcp_edge.cloudflare_access_policy
"""

EXAMPLES = r"""
- name: Which login methods are there?
  homelab.mcp_edge.cloudflare_access_identity_provider_info:
  delegate_to: localhost
  register: idps

- name: Show them
  ansible.builtin.debug:
    msg: "{{ idps.identity_providers | map(attribute='name') | list }}"

- name: Is GitHub login set up?
  homelab.mcp_edge.cloudflare_access_identity_provider_info:
    type: github
  delegate_to: localhost
  register: github
  failed_when: github.identity_providers | length == 0
"""

RETURN = r"""
identity_providers:
  description: The identity providers found, in the API's order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Identity provider ID.
      type: str
    name:
      description: Name shown on the login page.
      type: str
    type:
      description: Kind of provider (V(onetimepin), V(github), V(google), V(oidc), ...).
      type: str
  sample:
    - id: 10000000-0000-4000-8000-000000000001
      name: One-time PIN
      type: onetimepin
    - id: 10000000-0000-4000-8000-000000000002
      name: GitHub
      type: github
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_identity_provider import (
    IdentityProviderInfoManager,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule


def main():
    argument_spec = dict(name=dict(type="str"), type=dict(type="str"))
    CloudflareModule(argument_spec=argument_spec, supports_check_mode=True).run(IdentityProviderInfoManager)


if __name__ == "__main__":
    main()
