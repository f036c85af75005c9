# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access identity providers (login methods), read only: behind cloudflare_access_identity_provider_info (private)."""

from __future__ import annotations

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access import AccessManager

# The fields shown; an identity provider's config (which may hold a client secret) never is.
VIEW_FIELDS = ("id", "name", "type")


class IdentityProviderInfoManager(AccessManager):
    def apply(self):
        name = self.params.get("name")
        kind = self.params.get("type")
        found = [
            {k: idp.get(k) for k in VIEW_FIELDS}
            for idp in self.task.directory.list("identity_provider")
            if isinstance(idp, dict)
            and (name is None or idp.get("name") == name)
            and (kind is None or idp.get("type") == kind)
        ]
        return self.outcome("none", None, None, identity_providers=found)
