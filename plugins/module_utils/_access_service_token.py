# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access service tokens: the logic behind cloudflare_access_service_token and cloudflare_access_config (private)."""

from __future__ import annotations

import calendar
import re

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access import AccessManager, view
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_rules import (
    AccessError,
    duration_seconds,
    durations_equal,
    validate_duration,
)

VIEW_FIELDS = ("id", "name", "client_id", "duration", "expires_at")
NEW_SECRET = "(new secret)"  # noqa: S105 - placeholder shown in the diff
SECRET = "client_secret"  # noqa: S105 - the name of the return value, not a secret
# The options of a token (cloudflare_access_service_token adds refresh; cloudflare_access_config adds the rename).
TOKEN_OPTIONS = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    duration=dict(type="str"),
    refresh_if_expires_within=dict(type="str"),
    rotate=dict(type="bool", default=False),
)


def parse_timestamp(value):
    """Seconds since the epoch of an RFC 3339 UTC timestamp (``2026-01-01T00:00:00.000Z``); None if unusable."""
    if not isinstance(value, str):
        return None
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second = (int(x) for x in m.groups()[:6])
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    tz = m.group(7)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return float(seconds)


class ServiceTokenManager(AccessManager):
    def __init__(self, cf, task=None):
        super().__init__(cf, task)
        self.created = self.rotated = self.refreshed = False

    def check_no_log(self, what):
        """Refuse to obtain a secret the callback could print: the task must set no_log."""
        if not self.cf.module.no_log:
            raise AccessError(
                "%s service token %r returns its client_secret, and this task would print it: set "
                "no_log: true on the task (and register the result to use the secret)" % (what, self.params["name"])
            )

    def validate(self):
        p = self.params
        duration = None
        if p.get("duration") is not None:
            duration = validate_duration(p["duration"], "duration", allow=("forever",))
        window = None
        if p.get("refresh_if_expires_within") is not None:
            window = duration_seconds(p["refresh_if_expires_within"])
            if window is None or window <= 0:
                raise AccessError(
                    "refresh_if_expires_within: %r is not a duration (expected e.g. 720h or 30d)"
                    % p["refresh_if_expires_within"]
                )
        return duration, window

    def find(self):
        """The token called ``name``; with ``adopt``, else the one called ``former_name`` (to be renamed)."""
        p = self.params
        existing = self.task.find_by_name("service_token", p["name"], params={"name": p["name"]})
        former = p.get("former_name")
        if existing is None and former and p.get("adopt"):
            # Adopted under an earlier name (release 0.2 named tokens without the site prefix): renamed, so
            # its id and its secret, which clients hold, stay.
            existing = self.task.find_by_name("service_token", former, params={"name": former})
        return existing

    def apply(self):
        p = self.params
        if p["state"] == "absent":
            existing = self.find()
            if existing is None:
                return self.result({}, {})
            self.task.remove("service_token", existing["id"])
            before = view(existing, VIEW_FIELDS)
            return self.result(before, {}, gone=True)
        duration, window = self.validate()
        existing = self.find()
        if existing is None:
            return self.create(duration)
        return self.update(existing, duration, window)

    def create(self, duration):
        self.check_no_log("creating")
        body = {"name": self.params["name"]}
        if duration is not None:
            body["duration"] = duration
        self.created = True
        created = self.task.create("service_token", body, name_filter=True)
        if created is None:  # check mode
            return self.result({}, dict(body), after_secret=NEW_SECRET)
        secret = created.get(SECRET)
        if not secret:
            # The create went through but its answer was lost (found again by name): only a rotation
            # can produce a secret now.
            created = self.task.action("service_token", created["id"], "rotate") or created
            secret = created.get(SECRET)
        if not secret:
            # Rotated too, and that answer was lost as well: the token exists with a secret nobody
            # has. Say so now; a later run finds the token and cannot tell (see undelivered_secret).
            raise AccessError(
                "service token %r (id %s) was created, but Cloudflare's answers carrying its secret were lost in "
                "transit (the create and a rotation): the token exists and no one has its secret. Rotate it to get "
                "a new one (rotate: true on this token%s)"
                % (
                    self.params["name"],
                    created.get("id"),
                    '; with the cloudflare_edge role, -e \'{"cloudflare_edge_rotate_service_tokens": ["%s"]}\''
                    % self.params["name"],
                )
            )
        if not created.get("expires_at"):
            # Cloudflare's create answer (ServiceTokenCreateResponse) carries no expiry; the token's own
            # record does. One read, on creation only, so the first run already reports what every
            # later run reads (the monitoring's AccessServiceTokenExpiring depends on it).
            stored = self.task.client.get(self.task.path("service_token", created["id"])) or {}
            if stored.get("expires_at"):
                created = dict(created, expires_at=stored["expires_at"])
        return self.result({}, view(created, VIEW_FIELDS), secret=secret, after_secret=NEW_SECRET)

    def update(self, existing, duration, window):
        p = self.params
        before = view(existing, VIEW_FIELDS)
        current = dict(existing)
        new_duration = duration is not None and not durations_equal(duration, existing.get("duration"))
        if new_duration or existing.get("name") != p["name"]:
            body = {"name": p["name"]}
            if duration is not None:
                body["duration"] = duration
            current = self.task.replace("service_token", existing["id"], body) or dict(current, **body)
        refresh = p["refresh"]
        if not refresh and window is not None:
            expires = parse_timestamp(existing.get("expires_at"))
            refresh = expires is not None and expires - self.task.now() <= window
        if refresh:
            self.refreshed = True
            refreshed = self.task.action("service_token", existing["id"], "refresh", idempotent=True)
            if refreshed is None:
                current = dict(current, expires_at="(extended by %s)" % current.get("duration", "its duration"))
            else:
                current = refreshed
        secret = None
        if p["rotate"]:
            self.check_no_log("rotating")
            self.rotated = True
            rotated = self.task.action("service_token", existing["id"], "rotate")
            if rotated is not None:
                secret = rotated.get(SECRET)
                # A rotation changes the secret, not the expiry (its answer carries none).
                current = dict(rotated, expires_at=rotated.get("expires_at") or current.get("expires_at"))
        after = view(current, VIEW_FIELDS)
        return self.result(before, after, secret=secret, after_secret="(rotated)" if self.rotated else None)

    def result(self, before, after, secret=None, after_secret=None, gone=False):
        if gone:
            action = "delete"
        elif self.created:
            action = "create"
        else:
            action = "update" if self.rotated or self.refreshed or before != after else "none"
        shown = after if not gone else {}
        fields = {
            "id": shown.get("id"),
            "client_id": shown.get("client_id"),
            "service_token": after or before,
            "rotated": self.rotated,
            "refreshed": self.refreshed,
        }
        if shown.get("expires_at"):
            fields["expires_at"] = shown["expires_at"]
        if secret:
            fields[SECRET] = secret
        diff_before, diff_after = dict(before), dict(after)
        if after_secret:
            diff_after[SECRET] = after_secret
            if before:
                diff_before[SECRET] = "(current secret)"
        return self.outcome(action, diff_before, diff_after, **fields)
