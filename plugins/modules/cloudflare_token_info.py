#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_token_info
short_description: Check that the Cloudflare API token works before anything is changed
version_added: 0.3.0
description:
  - Verifies the API token (C(GET /user/tokens/verify), or C(/accounts/{account_id}/tokens/verify) for
    account-owned tokens, whose value starts with C(cfat_)) and returns its id, status and expiry.
  - A playbook can run it first and stop with one clear message when the token is wrong, disabled or
    expired, instead of failing halfway through.
  - A disabled or expired token does not fail the module (the playbook decides); the result's RV(msg) then
    says why the token is not usable and where in the dashboard to fix it. A token Cloudflare does not
    know at all fails the module with such a message.
  - With the legacy O(api_email) and O(api_key) there is no token to verify; the module reads the user
    accounts (C(GET /accounts)) to prove the key works and returns C(status=legacy_key).
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.info_module
options: {}
"""

EXAMPLES = r"""
- name: Stop early when the token does not work
  homelab.mcp_edge.cloudflare_token_info:
  delegate_to: localhost
  register: cf_token
  failed_when: not cf_token.active
"""

RETURN = r"""
id:
  description: The token's id (not its value).
  returned: when a token is used
  type: str
  sample: ed17574386854bf78a67040be0a770b0
status:
  description: C(active), C(disabled) or C(expired); C(legacy_key) for the global API key.
  returned: always
  type: str
  sample: active
active:
  description: Whether requests made with these credentials are accepted.
  returned: always
  type: bool
  sample: true
expires_on:
  description: When the token expires (absent when it never does).
  returned: when the token has an expiry
  type: str
  sample: "2027-01-01T00:00:00Z"
msg:
  description: Why the token is not usable and where to fix it (never the token itself).
  returned: when the token is not active
  type: str
  sample: "The API token expired on 2025-01-01T00:00:00Z: Cloudflare refuses every request made with it. ..."
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule, api_path
from ansible_collections.homelab.mcp_edge.plugins.module_utils._diff import Manager, Outcome
from ansible_collections.homelab.mcp_edge.plugins.module_utils._permissions import (
    is_account_token,
    token_status_message,
)


class TokenInfoManager(Manager):
    def apply(self):
        token = self.params.get("api_token")
        if not token:
            self.client.get("/accounts", params={"per_page": 5})
            return Outcome("none", status="legacy_key", active=True)
        if is_account_token(token):
            account_id = self.params.get("account_id") or self.client.resolve_account_id()
            path = api_path("accounts", account_id, "tokens", "verify")
        else:
            path = "/user/tokens/verify"
        found = self.client.get(path) or {}
        fields = {"id": found.get("id"), "status": found.get("status"), "active": found.get("status") == "active"}
        if found.get("expires_on"):
            fields["expires_on"] = found["expires_on"]
        if not fields["active"]:
            fields["msg"] = token_status_message(
                found.get("status") or "unknown", found.get("expires_on"), account_token=is_account_token(token)
            )
        return Outcome("none", **fields)


def main():
    CloudflareModule(argument_spec={}).run(TokenInfoManager)


if __name__ == "__main__":
    main()
