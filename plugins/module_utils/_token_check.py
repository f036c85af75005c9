# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The read-only check behind ``cloudflare_token_permissions_info`` (the doctor's token check).

PRIVATE: an implementation detail of homelab.mcp_edge, free to change in any release.

``TokenCheck`` (a ``_diff.Manager``) verifies the token, finds the zone, then probes each entry of
``_permissions.PERMISSIONS`` with its one GET and returns an ``Outcome`` with the action ``none``:
``token``, ``zone``, ``account_id``, ``permissions`` and ``problems`` (one message per thing that
stops a run of the site). Only GET requests; a refusal is reported, never raised, so a playbook
can list every problem at once. The data and the messages are ``_permissions``'s; this file only
sends the probes and sorts the answers.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import api_path
from ansible_collections.homelab.mcp_edge.plugins.module_utils._diff import Manager, Outcome
from ansible_collections.homelab.mcp_edge.plugins.module_utils._dns import dns_plan_limits
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareError, CloudflareInputError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._permissions import (
    ACCOUNT_TOKENS_PATH,
    PERMISSIONS,
    USER_TOKENS_PATH,
    explain_auth_error,
    get_permission,
    is_account_token,
    is_auth_error,
    needed_permissions,
    permission_name,
    token_status_message,
)


def _why(exc, account_token):
    """A message for a failed call: the credentials' story when it is about them, else Cloudflare's own words."""
    if is_auth_error(exc.status, exc.errors):
        message = explain_auth_error(exc.status, exc.errors, exc.method, exc.path, account_token=account_token)
        if message:
            return message
    return str(exc)


def _skipped(why):
    return {"granted": None, "probe": "", "message": "not checked: " + why}


class TokenCheck(Manager):
    """Token, zone and permission probes; GETs only (see the module's RETURN for the fields)."""

    def __init__(self, cf):
        super().__init__(cf)
        self.token = self.params.get("api_token")
        self.account_token = is_account_token(self.token)
        self.problems = []

    def verify(self):
        """The token's status; a token Cloudflare does not accept at all gets status ``invalid``."""
        if not self.token:
            self.client.get("/accounts", params={"per_page": 5})
            return {"status": "legacy_key", "active": True, "kind": "legacy_key", "message": ""}
        kind = "account" if self.account_token else "user"
        try:
            if self.account_token:
                account_id = self.params.get("account_id") or self.client.resolve_account_id()
                path = api_path("accounts", account_id, "tokens", "verify")
            else:
                path = "/user/tokens/verify"
            found = self.client.get(path) or {}
        except CloudflareError as exc:
            if not is_auth_error(exc.status, exc.errors):
                raise
            return {"status": "invalid", "active": False, "kind": kind, "message": _why(exc, self.account_token)}
        except CloudflareInputError as exc:  # an account token and no account to verify it in
            return {"status": "invalid", "active": False, "kind": kind, "message": str(exc)}
        status = found.get("status") or "unknown"
        token = {"status": status, "active": status == "active", "kind": kind, "id": found.get("id")}
        if found.get("expires_on"):
            token["expires_on"] = found["expires_on"]
        token["message"] = token_status_message(status, found.get("expires_on"), account_token=self.account_token) or ""
        return token

    def probe(self, perm, values):
        """``(entry, answer)``: granted True (answered), False (refused for want of it) or None (not checked)."""
        path = perm["probe"].format(**{k: quote(v, safe="") for k, v in values.items()})
        entry = {"probe": "GET " + path}
        try:
            answer = self.client.get(path)
        except CloudflareError as exc:
            if exc.status == 403 or exc.has_code(10000):
                entry.update(granted=False, message=_why(exc, self.account_token))
            else:
                entry.update(granted=None, message="not checked: %s" % _why(exc, self.account_token))
            return entry, None
        entry.update(granted=True, message="")
        return entry, answer

    def check_zone(self, zone, values, account_id, results):
        """Probe Zone > Read by looking the zone up; fill ``zone`` and ``values``; return the account id."""
        zone_name = zone["name"]
        if not zone_name:
            results["zone"] = _skipped("no zone given")
            return account_id
        entry, answer = self.probe(get_permission("zone"), values)
        results["zone"] = entry
        matches = [z for z in answer or [] if (z.get("name") or "").lower() == zone_name]
        if entry["granted"] and matches:
            found = matches[0]
            limits = dns_plan_limits(found)
            zone.update(
                found=True,
                id=found.get("id"),
                status=found.get("status"),
                plan=limits.pop("plan"),
                limits=limits,
                account_id=(found.get("account") or {}).get("id") or "",
            )
            values["zone_id"] = zone["id"]
            if account_id and zone["account_id"] and account_id != zone["account_id"]:
                zone["message"] = (
                    "The zone %s belongs to account %s, but account_id (cloudflare_edge_account_id or "
                    "CLOUDFLARE_ACCOUNT_ID) is %s: set it to %s, or leave it out (the zone's account is then "
                    "used)." % (zone_name, zone["account_id"], account_id, zone["account_id"])
                )
                self.problems.append(zone["message"])
            return zone["account_id"] or account_id
        if entry["granted"]:
            zone["message"] = (
                "The zone %s was not found with this token: add the domain to Cloudflare (dashboard: Add a "
                "domain), fix homelab_domain, or include the zone in the token's Zone Resources (%s)."
                % (zone_name, ACCOUNT_TOKENS_PATH if self.account_token else USER_TOKENS_PATH)
            )
        return account_id

    def probe_all(self, zone, values, account_id):
        """Every permission's result by key, the zone's first (it gives the zone id and, usually, the account)."""
        results = {}
        account_id = self.check_zone(zone, values, account_id, results)
        if "zone_id" in values:
            results["dns"] = self.probe(get_permission("dns"), values)[0]
        else:
            results["dns"] = _skipped("the zone was not found" if zone["name"] else "no zone given")
        why = ""
        if not account_id:
            try:
                account_id = self.client.resolve_account_id()
            except (CloudflareError, CloudflareInputError) as exc:
                account_id = ""
                why = str(exc)
        values["account_id"] = account_id
        for perm in PERMISSIONS:
            if perm["scope"] == "account":
                results[perm["key"]] = self.probe(perm, values)[0] if account_id else _skipped("no account: %s" % why)
        return results, account_id

    def apply(self):
        features = self.params["features"]
        needed = {p["key"] for p in needed_permissions(features)}
        zone_name = (self.params.get("zone") or "").strip().rstrip(".").lower()
        token = self.verify()
        zone = {"name": zone_name, "found": False}
        account_id = self.params.get("account_id") or ""
        if token["active"]:
            results, account_id = self.probe_all(zone, {"zone": zone_name}, account_id)
            if zone_name and not zone["found"] and zone.get("message"):
                self.problems.append(zone["message"])
        else:
            self.problems.append(token["message"])
            results = {perm["key"]: _skipped("the token is not usable") for perm in PERMISSIONS}
        permissions = []
        for perm in PERMISSIONS:
            entry = {
                "key": perm["key"],
                "name": permission_name(perm),
                "scope": perm["scope"],
                "needed": perm["key"] in needed,
                "needed_by": [f for f in perm["features"] if f in features],
            }
            entry.update(results[perm["key"]])
            if entry["needed"] and entry["granted"] is False:
                self.problems.append(entry["message"])
            permissions.append(entry)
        return Outcome(
            "none", token=token, zone=zone, account_id=account_id, permissions=permissions, problems=self.problems
        )
