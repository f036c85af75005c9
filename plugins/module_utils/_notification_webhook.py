# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Notification webhook destinations: the logic behind cloudflare_notification_webhook (private).

The API keeps a webhook's name, URL and type, and its secret, which no answer ever carries: the module cannot
compare a secret, so ``update_secret`` says when one is sent. A webhook has no free-text field for an ownership
marker either: its name is the only marker (documented in the module and in docs/cloudflare-modules.md).
"""

from __future__ import annotations

from ansible_collections.homelab.mcp_edge.plugins.module_utils._alerting import (
    AlertingManager,
    one_by_name,
    validate_webhook_url,
    view,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareInputError

VIEW_FIELDS = ("id", "name", "url", "type")
WEBHOOK_OPTIONS = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    url=dict(type="str"),
    secret=dict(type="str", no_log=True),
    update_secret=dict(type="str", choices=["on_create", "always"], default="on_create", no_log=False),
)
# For these webhook types Cloudflare takes the secret out of a URL that holds it (when no secret is given), so the
# URL it keeps ends before the part given.
SECRET_IN_URL_TYPES = frozenset(("slack", "gchat", "discord", "feishu"))
# What the diff shows for a secret (never its value: no answer carries it, and the option is no_log).
SECRET_SENT = "(new secret sent)"  # noqa: S105 - a placeholder shown in the diff
SECRET_UNKNOWN = "(not readable)"  # noqa: S105 - a placeholder shown in the diff


def urls_equal(have, want, kind=None):
    """Whether the URL Cloudflare keeps (``have``) is the one given (``want``)."""
    have = (have or "").strip()
    want = (want or "").strip()
    if have.rstrip("/") == want.rstrip("/"):
        return True
    return kind in SECRET_IN_URL_TYPES and bool(have) and want.startswith(have.rstrip("/") + "/")


class NotificationWebhookManager(AlertingManager):
    def validate(self):
        p = self.params
        url = validate_webhook_url(p["url"]) if p.get("url") is not None else None
        if p.get("secret") is not None and not p["secret"].strip():
            raise CloudflareInputError(
                "must not be empty (leave it out for a webhook without a secret)", option="secret"
            )
        return url

    def apply(self):
        url = self.validate()
        name = self.params["name"]
        existing = one_by_name(self.task.by_name("webhook", name), "webhook", name)
        if self.params["state"] == "absent":
            if existing is None:
                return self.result("none", {}, {})
            self.task.remove("webhook", existing["id"])
            before = view(existing, VIEW_FIELDS)
            return self.result("delete", before, {}, shown=before)
        if existing is None:
            return self.create(name, url)
        return self.update(name, existing, url)

    def create(self, name, url):
        if url is None:
            raise CloudflareInputError("webhook %r does not exist yet; give url to create it" % name, option="url")
        body = {"name": name, "url": url}
        secret = self.params.get("secret")
        if secret is not None:
            body["secret"] = secret
        webhook_id = self.task.create("webhook", body)
        after = {"id": webhook_id, "name": name, "url": url} if webhook_id else {"name": name, "url": url}
        return self.result("create", {}, after, secret_sent=secret is not None)

    def update(self, name, existing, url):
        p = self.params
        secret = p.get("secret")
        before = view(existing, VIEW_FIELDS)
        url_changed = url is not None and not urls_equal(existing.get("url"), url, existing.get("type"))
        always = p["update_secret"] == "always"  # noqa: S105 - an option's value, not a secret
        send_secret = secret is not None and (url_changed or always)
        if not url_changed and not send_secret:
            return self.result("none", before, before)
        body = {"name": name, "url": url if url_changed else existing.get("url")}
        if send_secret:
            body["secret"] = secret
        elif url_changed:
            self.task.warn(
                "webhook %r: its URL changes and no secret is given; the update carries none, and Cloudflare may drop "
                "a secret the webhook had. Give secret to keep one." % name
            )
        self.task.replace("webhook", existing["id"], body)
        after = dict(before, url=body["url"])
        return self.result("update", before, after, secret_sent=send_secret)

    def result(self, action, before, after, shown=None, secret_sent=False):
        """``after``: the webhook after the task ({} once deleted; the return value shows ``before`` then)."""
        shown = after if shown is None else shown
        diff_before, diff_after = dict(before), dict(after)
        if secret_sent:
            diff_after["secret"] = SECRET_SENT
            if before:
                diff_before["secret"] = SECRET_UNKNOWN
        return self.outcome(
            action,
            diff_before,
            diff_after,
            id=(after or {}).get("id"),
            webhook=shown,
            secret_sent=bool(secret_sent),
        )
