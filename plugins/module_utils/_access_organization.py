# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The account's Zero Trust organization and its team name (private: no API promise).

``GET /accounts/{account}/access/organizations`` answers one object (not a list) whose
``auth_domain`` is ``<team>.cloudflareaccess.com``; the team name is what cloudflared's
``originRequest.access.teamName`` takes. An account without a Zero Trust organization answers
404 or an empty ``result`` (which of the two is unverified), both read here as "none".
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.homelab.mcp_edge.plugins.module_utils._diff import Manager, Outcome
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import (
    CloudflareAuthError,
    CloudflareNotFoundError,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import is_dns_label

AUTH_DOMAIN_SUFFIX = ".cloudflareaccess.com"
# The organization's fields a caller may see (none of them is a secret).
VIEW_FIELDS = (
    "name",
    "auth_domain",
    "session_duration",
    "auto_redirect_to_identity",
    "is_ui_read_only",
    "created_at",
    "updated_at",
)
READ_PERMISSION = "Account: Access: Organizations, Identity Providers, and Groups: Read"
# "Could not route to ..., perhaps your object identifier is invalid?": the account itself is unknown.
CODE_NOT_ROUTABLE = 7003


def is_team_name(value):
    """Whether ``value`` is a Zero Trust team name (the ``<team>`` of ``<team>.cloudflareaccess.com``)."""
    # What cloudflared accepts as a team name: one lower-case DNS label.
    return is_dns_label(value) and value == value.lower()


def team_name_from_auth_domain(auth_domain):
    """``myteam`` for ``myteam.cloudflareaccess.com`` (any case, a scheme or a trailing dot or slash
    tolerated); ``""`` when the value is not a team domain."""
    if not isinstance(auth_domain, str):
        return ""
    text = auth_domain.strip().lower()
    for scheme in ("https://", "http://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    text = text.rstrip("/").rstrip(".")
    if not text.endswith(AUTH_DOMAIN_SUFFIX):
        return ""
    team = text[: -len(AUTH_DOMAIN_SUFFIX)]
    return team if is_team_name(team) else ""


def organization_view(organization):
    """The caller-facing fields of an organization as the API answered it ({} for none)."""
    if not isinstance(organization, dict):
        return {}
    return {k: organization[k] for k in VIEW_FIELDS if k in organization}


def organization_path(account_id):
    return "/accounts/%s/access/organizations" % quote(account_id, safe="")


def read_organization(client, account_id):
    """The account's organization as the API answered it, or None when it has none (one GET).

    An unknown account stays an error; a 403 is re-raised with the permission the token lacks named.
    """
    try:
        found = client.get(organization_path(account_id))
    except CloudflareNotFoundError as exc:
        if exc.has_code(CODE_NOT_ROUTABLE):
            raise
        return None
    except CloudflareAuthError as exc:
        exc.message = (
            "the credentials cannot read the account's Zero Trust organization (the token needs %s)" % READ_PERMISSION
        )
        raise
    if not isinstance(found, dict) or not found.get("auth_domain"):
        return None
    return found


def organization_facts(organization):
    """The module's result for an organization as read (None: the account has none)."""
    view = organization_view(organization)
    return {
        "exists": bool(view),
        "organization": view,
        "team_name": team_name_from_auth_domain(view.get("auth_domain")),
    }


class OrganizationInfoManager(Manager):
    """cloudflare_access_organization_info: the account's organization and team name (one GET)."""

    def apply(self):
        account_id = self.params.get("account_id") or self.client.resolve_account_id()
        facts = organization_facts(read_organization(self.client, account_id))
        return Outcome("none", account_id=account_id, **facts)
