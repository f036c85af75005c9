# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The Cloudflare API token's permissions, in one place, and messages that say why a call was refused.

PRIVATE: an implementation detail of homelab.mcp_edge, free to change in any release.
Pure Python standard library and ``_errors.error_codes`` (``_errors`` imports nothing of the
collection), so the module glue in ``_cloudflare`` can use it without an import cycle.

* ``PERMISSIONS``: every permission the roles need, named as the Cloudflare dashboard names it
  (type, permission, access), with its scope, the read-only GET that proves the token has it and
  the inventory features that need it. The doctor (``cloudflare_token_permissions_info``) probes
  them; ``docs/getting-started.md`` lists them (a unit test keeps the two equal).
* ``needed_permissions(features)``: the ones an inventory needs.
* ``permission_for_path(path)``: which permission a request path needs.
* ``is_account_token(token)``: an account-owned token (``cfat_`` prefix) rather than a user's.
* ``token_status_message(...)``: the message for a token that is not active (expired, disabled).
* ``explain_auth_error(status, errors, method, path)``: the message for a refused call (codes 1000,
  6111, 9103, 9106, 9109, 10000, ...): what is wrong, which permission is missing and where in the
  dashboard to grant it. Never a secret: it only reads codes, messages and the path.
"""

from __future__ import annotations

import re

from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import error_codes

# Where tokens are made and changed in the dashboard.
USER_TOKENS_PATH = "My Profile > API Tokens"
ACCOUNT_TOKENS_PATH = "Manage Account > Account API Tokens"
ACCOUNT_TOKEN_PREFIX = "cfat_"  # noqa: S105 - the prefix Cloudflare gives account-owned tokens


def is_account_token(token):
    """Whether ``token`` was made under Manage Account (verified under ``/accounts/{id}/tokens/verify``)."""
    return isinstance(token, str) and token.startswith(ACCOUNT_TOKEN_PREFIX)


# Inventory features (what the doctor derives from the inventory) and what each means.
FEATURES = {
    "edge": "the cloudflare_edge role runs (homelab_manage_cloudflare, the default)",
    "service_tokens": "the inventory declares service tokens (homelab_access_service_tokens)",
    "team_name_lookup": "origin access is on and cloudflare_edge_team_name is empty: the team name is read",
    "rule_names": "a policy rule names a login method or an Access group (login_method:, group:)",
    "tunnel_alerts": "Cloudflare's tunnel health alert is on (cloudflare_edge_tunnel_alerts)",
}

# Every permission the collection's roles use. ``probe`` is a GET (placeholders {zone}, {zone_id},
# {account_id}) that answers 403 / code 10000 without it; ``paths`` are the request paths (regular
# expressions on the path below /client/v4, without the query) that need it.
PERMISSIONS = (
    {
        "key": "tunnel",
        "type": "Account",
        "permission": "Cloudflare Tunnel",
        "access": "Edit",
        "scope": "account",
        "probe": "/accounts/{account_id}/cfd_tunnel?is_deleted=false&per_page=1",
        "paths": (r"^/accounts/[^/]+/cfd_tunnel(/.*)?$",),
        "features": ("edge",),
        "purpose": "create or find the tunnel, read its credentials, delete it at teardown",
    },
    {
        "key": "access_apps",
        "type": "Account",
        "permission": "Access: Apps and Policies",
        "access": "Edit",
        "scope": "account",
        "probe": "/accounts/{account_id}/access/apps?per_page=1",
        "paths": (
            r"^/(accounts|zones)/[^/]+/access/apps(/.*)?$",
            r"^/accounts/[^/]+/access/(policies|tags)(/.*)?$",
        ),
        "features": ("edge",),
        "purpose": "one Access application per service, the reusable policies, the site's Access tag",
    },
    {
        "key": "access_service_tokens",
        "type": "Account",
        "permission": "Access: Service Tokens",
        "access": "Edit",
        "scope": "account",
        "probe": "/accounts/{account_id}/access/service_tokens?per_page=1",
        "paths": (r"^/(accounts|zones)/[^/]+/access/service_tokens(/.*)?$",),
        "features": ("service_tokens",),
        "purpose": "the service tokens MCP clients log in with (`homelab_access_service_tokens`)",
    },
    {
        "key": "access_organization",
        "type": "Account",
        "permission": "Access: Organizations, Identity Providers, and Groups",
        "access": "Read",
        "scope": "account",
        "probe": "/accounts/{account_id}/access/identity_providers?per_page=1",
        "paths": (
            r"^/accounts/[^/]+/access/organizations(/.*)?$",
            r"^/(accounts|zones)/[^/]+/access/(identity_providers|groups)(/.*)?$",
        ),
        "features": ("team_name_lookup", "rule_names"),
        "purpose": "the Zero Trust team name; names in policy rules (`login_method:`, `group:`)",
    },
    {
        "key": "notifications",
        "type": "Account",
        "permission": "Notifications",
        "access": "Edit",
        "scope": "account",
        "probe": "/accounts/{account_id}/alerting/v3/policies",
        "paths": (r"^/accounts/[^/]+/alerting(/.*)?$",),
        "features": ("tunnel_alerts",),
        "purpose": "Cloudflare's tunnel health alert and its webhooks (`cloudflare_edge_tunnel_alerts`)",
    },
    {
        "key": "zone",
        "type": "Zone",
        "permission": "Zone",
        "access": "Read",
        "scope": "zone",
        "probe": "/zones?name={zone}",
        "paths": (r"^/zones$", r"^/zones/[^/]+$"),
        "features": ("edge",),
        "purpose": "find the zone by name, and its account",
    },
    {
        "key": "dns",
        "type": "Zone",
        "permission": "DNS",
        "access": "Edit",
        "scope": "zone",
        "probe": "/zones/{zone_id}/dns_records?per_page=1",
        "paths": (r"^/zones/[^/]+/dns_records(/.*)?$",),
        "features": ("edge",),
        "purpose": "one proxied CNAME per service",
    },
)

_BY_KEY = {p["key"]: p for p in PERMISSIONS}

# Cloudflare's answers about the credentials (docs/cloudflare-api-facts.md, the emulator's README).
CODE_INVALID_TOKEN = 1000  # "Invalid API Token" (unknown, disabled or expired token)
CODE_BAD_AUTH_HEADER = 6111  # "Invalid format for Authorization header"
CODE_BAD_KEY = 9103  # "Unknown X-Auth-Key or X-Auth-Email"
CODE_MISSING_CREDENTIALS = 9106  # "Missing X-Auth-Key, X-Auth-Email or Authorization headers"
CODE_INVALID_ACCESS_TOKEN = 9109  # "Invalid access token"
CODE_NO_PERMISSION = 10000  # "Authentication error": the token lacks a permission (or the resource)
AUTH_CODES = frozenset(
    (
        CODE_INVALID_TOKEN,
        CODE_BAD_AUTH_HEADER,
        CODE_BAD_KEY,
        CODE_MISSING_CREDENTIALS,
        CODE_INVALID_ACCESS_TOKEN,
        CODE_NO_PERMISSION,
    )
)


def get_permission(key):
    """The entry of ``PERMISSIONS`` called ``key``."""
    return _BY_KEY[key]


def permission_name(perm):
    """``Account > Cloudflare Tunnel > Edit``: the three columns of the dashboard's permission row."""
    return "%s > %s > %s" % (perm["type"], perm["permission"], perm["access"])


def short_name(perm):
    """``Account:Cloudflare Tunnel:Edit`` (``Zone:Read`` for Zone > Zone > Read), as the prose docs write it."""
    if perm["type"] == perm["permission"]:
        return "%s:%s" % (perm["type"], perm["access"])
    return "%s:%s:%s" % (perm["type"], perm["permission"], perm["access"])


def needed_permissions(features):
    """The entries of ``PERMISSIONS`` that at least one of ``features`` needs, in table order."""
    wanted = set(features or ())
    unknown = wanted - set(FEATURES)
    if unknown:
        raise ValueError("unknown feature(s): %s; known: %s" % (", ".join(sorted(unknown)), ", ".join(FEATURES)))
    return [p for p in PERMISSIONS if wanted & set(p["features"])]


def permission_for_path(path):
    """The entry of ``PERMISSIONS`` a request path needs (``/client/v4`` prefix and query ignored), or None."""
    if not path:
        return None
    path = path.split("?", 1)[0]
    if "/client/v4" in path:
        path = path.split("/client/v4", 1)[1]
    path = "/" + path.strip("/")
    for perm in PERMISSIONS:
        if any(re.match(pattern, path) for pattern in perm["paths"]):
            return perm
    return None


def grant_hint(perm, account_token=False):
    """Where in the dashboard the permission is added, and the resource it must cover."""
    where = ACCOUNT_TOKENS_PATH if account_token else USER_TOKENS_PATH
    resources = (
        "Account Resources: Include, your account"
        if perm["scope"] == "account"
        else "Zone Resources: Include, Specific zone, your zone"
    )
    row = "%s | %s | %s" % (perm["type"], perm["permission"], perm["access"])
    return "In the dashboard: %s > the token's Edit > Permissions: add the row %s (%s), then Update token." % (
        where,
        row,
        resources,
    )


def missing_permission_message(perm, account_token=False, what=None):
    """The message for a token that lacks ``perm``."""
    head = "The API token lacks the permission %s" % permission_name(perm)
    if what:
        head += " (%s)" % what
    return "%s, needed for: %s. %s" % (head, perm["purpose"].replace("`", ""), grant_hint(perm, account_token))


def token_status_message(status, expires_on=None, account_token=False):
    """The message for a token whose verification answered ``status`` (None when it is active)."""
    where = ACCOUNT_TOKENS_PATH if account_token else USER_TOKENS_PATH
    if status == "active":
        return None
    if status == "expired":
        when = " on %s" % expires_on if expires_on else ""
        return (
            "The API token expired%s: Cloudflare refuses every request made with it. In the dashboard: %s, "
            "edit the token and move its TTL end date (or Roll it, or create a new one with the same "
            "permissions), then put the new value in the vault (vault_cloudflare_api_token)." % (when, where)
        )
    if status == "disabled":
        return (
            "The API token is disabled: Cloudflare refuses every request made with it. In the dashboard: %s, "
            "make it active again, or create a new one with the same permissions and put it in the vault "
            "(vault_cloudflare_api_token)." % where
        )
    return (
        "The API token's status is %r, not active: Cloudflare refuses every request made with it. Check it in "
        "the dashboard: %s." % (status, where)
    )


def _messages(errors):
    return " ".join(str(e.get("message") or "") for e in errors or [] if isinstance(e, dict)).lower()


def is_auth_error(status, errors):
    """Whether an answer is about the credentials or their permissions."""
    return status in (401, 403) or bool(AUTH_CODES & set(error_codes(errors)))


def explain_auth_error(status, errors, method=None, path=None, account_token=False):
    """A message saying why Cloudflare refused the credentials, or None when the answer is not about them.

    ``errors`` is the envelope's ``errors`` list; ``path`` the request path (it tells which
    permission a 403 / code 10000 is about). The message names the cause and where to fix it,
    never the token.
    """
    codes = error_codes(errors)
    text = _messages(errors)
    where = ACCOUNT_TOKENS_PATH if account_token else USER_TOKENS_PATH
    request = ("%s %s" % (method, (path or "").split("?", 1)[0])).strip() if method else (path or "")
    on = " (on %s)" % request if request else ""
    if CODE_MISSING_CREDENTIALS in codes:
        return (
            "No Cloudflare credentials reached the API%s: set cloudflare_edge_api_token (or the module's "
            "api_token, or CLOUDFLARE_API_TOKEN)." % on
        )
    if CODE_BAD_AUTH_HEADER in codes:
        return (
            "Cloudflare cannot read the Authorization header%s: the API token holds spaces or line breaks; "
            "copy it again from the dashboard (%s)." % (on, where)
        )
    if CODE_BAD_KEY in codes:
        return (
            "Cloudflare does not accept the legacy e-mail and global API key%s. Prefer an API token "
            "(%s > Create Token); the global key is under %s > Global API Key."
            % (on, USER_TOKENS_PATH, USER_TOKENS_PATH)
        )
    if CODE_INVALID_TOKEN in codes or CODE_INVALID_ACCESS_TOKEN in codes:
        if "expired" in text:
            return token_status_message("expired", account_token=account_token)
        if "disabled" in text:
            return token_status_message("disabled", account_token=account_token)
        return (
            "Cloudflare does not accept the API token%s: it does not exist (mistyped, deleted or rolled), or it "
            "is disabled or expired (homelab.mcp_edge.doctor tells which). Check it in the dashboard: %s%s."
            % (
                on,
                where,
                ""
                if account_token
                else "; a token made under %s starts with %s" % (ACCOUNT_TOKENS_PATH, ACCOUNT_TOKEN_PREFIX),
            )
        )
    if CODE_NO_PERMISSION in codes or status == 403:
        perm = permission_for_path(path)
        if perm is not None:
            return missing_permission_message(perm, account_token, what="refused %s" % request if request else None)
        return (
            "The API token may not do this%s: it lacks the permission, or its Account/Zone Resources leave out "
            "this account or zone. Compare it with the permissions in docs/getting-started.md (step 3), in the "
            "dashboard: %s." % (on, where)
        )
    if status == 401:
        return "Cloudflare refused the credentials%s (HTTP 401). Check the token in the dashboard: %s." % (on, where)
    return None
