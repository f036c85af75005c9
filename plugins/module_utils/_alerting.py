# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Account notifications (Cloudflare's alerting API): the plumbing and the value rules the notification managers share.

PRIVATE: an implementation detail of homelab.mcp_edge, free to change in any release.

* ``AlertingTask``: one module run against ``/accounts/{account}/alerting/v3``: each kind (policies, webhook
  destinations) listed at most once, names resolved against that listing, and the writes, which decide check mode
  (in check mode they send nothing and return None);
* ``ALERT_TYPES``: the alert types the collection supports (Cloudflare Tunnel and Access) and the filter keys each
  takes; ``validate_filters``, ``validate_emails`` and ``validate_webhook_url`` check input before any request;
* ``AlertingManager``: the base of ``_notification_policy`` and ``_notification_webhook``.

API facts (with sources) are in docs/cloudflare-api-facts.md, section "Notifications": creates and updates answer
only ``{"id"}``; lists are one page (the official SDKs read them as a single page, so no paging parameters are sent);
a PUT replaces the whole object.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import api_path
from ansible_collections.homelab.mcp_edge.plugins.module_utils._diff import TaskManager
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareInputError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import is_uuid

# kind -> path segments below /accounts/{account}
KIND_PATHS = {
    "policy": ("alerting", "v3", "policies"),
    "webhook": ("alerting", "v3", "destinations", "webhooks"),
}
KIND_LABELS = {"policy": "notification policy", "webhook": "webhook destination"}

# --------------------------------------------------------------------------------------------
# The alert types the collection supports, and their filters
# --------------------------------------------------------------------------------------------

TUNNEL_STATUSES = ("TUNNEL_STATUS_TYPE_HEALTHY", "TUNNEL_STATUS_TYPE_DEGRADED", "TUNNEL_STATUS_TYPE_DOWN")
STATUS_WORDS = {s.rsplit("_", 1)[1].lower(): s for s in TUNNEL_STATUSES}  # healthy, degraded, down

# alert type -> (what the dashboard calls it, {filter key: rule}). A rule is "uuid" (each value a UUID, compared
# lower-case) or a tuple of the values the API takes. Cloudflare documents no filters for the others.
ALERT_TYPES = {
    "tunnel_health_event": ("Tunnel Health Alert", {"tunnel_id": "uuid", "new_status": TUNNEL_STATUSES}),
    "tunnel_update_event": ("Tunnel Creation or Deletion Event", {}),
    "expiring_service_token_alert": ("Expiring Access Service Token Alert", {}),
    "access_custom_certificate_expiration_type": ("Access mTLS Certificate Expiration Alert", {}),
}


def alert_type_filters(alert_type):
    """The filter keys ``alert_type`` takes ({} for types the collection does not know)."""
    return ALERT_TYPES.get(alert_type, ("", {}))[1]


def check_alert_type(alert_type, option="alert_type"):
    if alert_type not in ALERT_TYPES:
        raise CloudflareInputError(
            "%r is not an alert type this module supports; valid: %s" % (alert_type, ", ".join(ALERT_TYPES)),
            option=option,
        )


def _filter_value(rule, value, where):
    if not isinstance(value, str) or not value.strip():
        raise CloudflareInputError("expected a non-empty string, got %r" % (value,), option=where)
    text = value.strip()
    if rule == "uuid":
        if not is_uuid(text):
            raise CloudflareInputError(
                "%r is not a tunnel id (a UUID such as the id cloudflare_tunnel returns)" % value, option=where
            )
        return text.lower()
    if rule is TUNNEL_STATUSES:
        found = STATUS_WORDS.get(text.lower()) or (text.upper() if text.upper() in TUNNEL_STATUSES else None)
        if found is None:
            raise CloudflareInputError(
                "%r is not a tunnel status; valid: %s (or %s)"
                % (value, ", ".join(STATUS_WORDS), ", ".join(TUNNEL_STATUSES)),
                option=where,
            )
        return found
    return text


def validate_filters(alert_type, filters, option="filters"):
    """``filters`` (a dict of a string or a list of strings per key) in the API's form: each key a sorted list
    without duplicates, empty lists dropped. Raises ``CloudflareInputError`` naming the key and what is valid."""
    if filters is None:
        return None
    if not isinstance(filters, dict):
        raise CloudflareInputError("expected a mapping of filter keys to lists of values", option=option)
    rules = alert_type_filters(alert_type)
    out = {}
    for key, values in filters.items():
        where = "%s.%s" % (option, key)
        if key not in rules:
            if not rules:
                raise CloudflareInputError(
                    "alert_type %s takes no filters (Cloudflare documents none); remove %r" % (alert_type, key),
                    option=option,
                )
            raise CloudflareInputError(
                "%r is not a filter of alert_type %s; valid keys: %s" % (key, alert_type, ", ".join(sorted(rules))),
                option=option,
            )
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            raise CloudflareInputError("expected a list of strings, got %r" % (values,), option=where)
        cleaned = sorted({_filter_value(rules[key], v, "%s[%d]" % (where, i)) for i, v in enumerate(values)})
        if cleaned:
            out[key] = cleaned
    return out


def normalise_filters(filters, keys):
    """The ``keys`` of an API ``filters`` object as sorted lists (what the module compares), empty ones dropped."""
    out = {}
    for key in keys:
        values = (filters or {}).get(key)
        if isinstance(values, list) and values:
            out[key] = sorted({v.lower() if key == "tunnel_id" and isinstance(v, str) else v for v in values})
    return out


# A mailbox: no spaces or list separators before the "@", then a domain of two or more DNS labels.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL_RE = re.compile(r"^[^@\s,;<>\"()\[\]]+@" + _LABEL + r"(?:\." + _LABEL + r")+$")


def validate_emails(emails, option="emails"):
    """The addresses, stripped; a bad one raises ``CloudflareInputError`` naming its position."""
    if emails is None:
        return None
    out = []
    for i, address in enumerate(emails):
        text = address.strip() if isinstance(address, str) else address
        if not isinstance(text, str) or not _EMAIL_RE.match(text) or len(text) > 254:
            raise CloudflareInputError(
                "%r is not an e-mail address (expected one address such as ops@example.com)" % (address,),
                option="%s[%d]" % (option, i),
            )
        if text.lower() not in [o.lower() for o in out]:
            out.append(text)
    return out


def email_key(address):
    """How two addresses are compared: the domain is case-insensitive, and so (in practice) is the local part."""
    return address.strip().lower() if isinstance(address, str) else address


# Cloudflare delivers notifications only to public addresses on port 80 or 443 (the facts page).
WEBHOOK_PORTS = (80, 443)


def validate_webhook_url(url, option="url"):
    """The URL, stripped, when Cloudflare can deliver to it; else ``CloudflareInputError`` saying why."""
    text = url.strip() if isinstance(url, str) else url
    if not isinstance(text, str) or not text or any(c.isspace() for c in text):
        raise CloudflareInputError("%r is not a URL (expected https://host/path)" % (url,), option=option)
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CloudflareInputError("%r must be an https:// (or http://) URL with a host name" % (url,), option=option)
    try:
        port = parts.port
    except ValueError:
        raise CloudflareInputError("%r has a port that is not a number" % (url,), option=option) from None
    if port is not None and port not in WEBHOOK_PORTS:
        raise CloudflareInputError(
            "Cloudflare sends notifications to port 80 or 443 only, and %r names port %d (put a proxy, a Worker or a "
            "Cloudflare Tunnel in front of the receiver)" % (url, port),
            option=option,
        )
    return text


# --------------------------------------------------------------------------------------------
# The task: listings, name resolution, writes (check mode decided here)
# --------------------------------------------------------------------------------------------


class AlertingTask:
    """One module run against the account's alerting API.

    ``list(kind)`` reads a kind once (one request: these lists are not paged); ``create``, ``replace`` and
    ``remove`` write, keep the listing current, and in check mode send nothing and return None.
    """

    def __init__(self, cf, account_id=None):
        self.cf = cf
        self.client = cf.client
        self.check_mode = cf.check_mode
        self.account_id = account_id or self.client.resolve_account_id()
        self._cache = {}

    def warn(self, msg):
        warn = getattr(self.cf.module, "warn", None)
        if warn:
            warn(msg)

    def path(self, kind, obj_id=None):
        return api_path("accounts", self.account_id, *KIND_PATHS[kind], obj_id)

    def _fetch(self, kind):
        items = self.client.get(self.path(kind))
        return [o for o in items if isinstance(o, dict)] if isinstance(items, list) else []

    def list(self, kind):
        if kind not in self._cache:
            self._cache[kind] = self._fetch(kind)
        return self._cache[kind]

    def by_name(self, kind, name):
        return [o for o in self.list(kind) if o.get("name") == name]

    def resolve_ids(self, kind, values, option):
        """The ids of the ``kind`` objects named (or else with the id) ``values``; None stays None.

        An unknown name fails with the names that exist. In check mode it is a warning and a placeholder: an
        earlier task of the same run may only have pretended to create it.
        """
        if values is None:
            return None
        out = []
        for i, value in enumerate(values):
            where = "%s[%d]" % (option, i)
            named = self.by_name(kind, value)
            if len(named) > 1:
                raise CloudflareInputError(
                    "%d %ss are named %r (ids %s); refer to one by id"
                    % (len(named), KIND_LABELS[kind], value, ", ".join(o.get("id", "?") for o in named)),
                    option=where,
                )
            if named:
                out.append(named[0]["id"])
            elif any(o.get("id") == value for o in self.list(kind)):
                out.append(value)
            elif self.check_mode:
                self.warn(
                    "%s: no %s named %r exists; check mode assumes an earlier task creates it (a real run fails if it "
                    "does not exist then)" % (where, KIND_LABELS[kind], value)
                )
                out.append("(id of %s %s)" % (KIND_LABELS[kind], value))
            else:
                names = sorted({o.get("name") for o in self.list(kind) if o.get("name")})
                raise CloudflareInputError(
                    "no %s is named %r (and none has that id); existing: %s"
                    % (KIND_LABELS[kind], value, ", ".join(repr(n) for n in names) if names else "none"),
                    option=where,
                )
            if out[-1] in out[:-1]:
                raise CloudflareInputError("%r names the same %s twice" % (value, KIND_LABELS[kind]), option=where)
        return out

    def _recover(self, kind, name):
        """After an ambiguous create: the object if the create went through (a new object of that name in a fresh
        listing), else None (not applied: the create is sent again)."""
        known = {o.get("id") for o in self.list(kind)}

        def recover():
            fresh = [o for o in self._fetch(kind) if o.get("name") == name and o.get("id") not in known]
            return fresh[0] if fresh else None

        return recover

    def create(self, kind, body):
        """POST; the new object's id, or None in check mode. The answer holds only the id."""
        if self.check_mode:
            return None
        answer = self.client.post(self.path(kind), json=body, recover=self._recover(kind, body["name"]))
        obj_id = (answer or {}).get("id")
        if kind in self._cache:
            if obj_id:
                self._cache[kind].append(dict({k: v for k, v in body.items() if k != "secret"}, id=obj_id))
            else:
                self._cache.pop(kind, None)
        return obj_id

    def replace(self, kind, obj_id, body):
        """PUT (the whole object); True when sent, None in check mode."""
        if self.check_mode:
            return None
        self.client.put(self.path(kind, obj_id), json=body)
        if kind in self._cache:
            kept = {k: v for k, v in body.items() if k != "secret"}
            self._cache[kind] = [dict(o, **kept) if o.get("id") == obj_id else o for o in self._cache[kind]]
        return True

    def remove(self, kind, obj_id):
        if self.check_mode:
            return None
        self.client.delete(self.path(kind, obj_id))
        if kind in self._cache:
            self._cache[kind] = [o for o in self._cache[kind] if o.get("id") != obj_id]
        return True


def one_by_name(objects, kind, name):
    """The one object of ``objects`` (all named ``name``), None for none; more than one is an error."""
    if len(objects) > 1:
        raise CloudflareInputError(
            "%d %ss are named %r (ids %s); delete or rename the extra ones in the dashboard"
            % (len(objects), KIND_LABELS[kind], name, ", ".join(o.get("id", "?") for o in objects)),
            option="name",
        )
    return objects[0] if objects else None


def view(obj, fields):
    """The given fields of an API object (missing ones left out), for return values and diffs."""
    return {k: obj.get(k) for k in fields if k in (obj or {})}


class AlertingManager(TaskManager):
    """A ``_diff.TaskManager`` over one ``AlertingTask``."""

    task_class = AlertingTask
