# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Account notification policies: the logic behind cloudflare_notification_policy (private).

Ownership: a policy this collection writes carries the ``managed-by: homelab.mcp_edge [<owner_id>]`` marker in its
description (the same marker as DNS record comments, ``_dns.ownership_marker``). A policy of the wanted name without
this owner's marker is foreign: it is never changed or deleted unless ``adopt`` is set.
"""

from __future__ import annotations

from ansible_collections.homelab.mcp_edge.plugins.module_utils._alerting import (
    ALERT_TYPES,
    AlertingManager,
    alert_type_filters,
    check_alert_type,
    email_key,
    normalise_filters,
    one_by_name,
    validate_emails,
    validate_filters,
    view,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._dns import (
    foreign_reason,
    mark_comment,
    marker_owner,
    ownership_marker,
    split_marked_comment,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import (
    CloudflareInputError,
    CloudflareOwnershipError,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import check_owner_id

VIEW_FIELDS = ("id", "name", "alert_type", "enabled", "description", "filters", "mechanisms")
POLICY_OPTIONS = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    alert_type=dict(type="str", choices=list(ALERT_TYPES)),
    enabled=dict(type="bool", default=True),
    description=dict(type="str"),
    filters=dict(type="dict"),
    emails=dict(type="list", elements="str"),
    webhooks=dict(type="list", elements="str"),
    owner_id=dict(type="str"),
    adopt=dict(type="bool", default=False),
)


def describe_policy(policy):
    return "notification policy %r (id %s, alert type %s)" % (
        policy.get("name"),
        policy.get("id"),
        policy.get("alert_type"),
    )


def mechanism_ids(policy, kind):
    return [m.get("id") for m in ((policy or {}).get("mechanisms") or {}).get(kind) or [] if isinstance(m, dict)]


class NotificationPolicyManager(AlertingManager):
    def __init__(self, cf, task=None):
        super().__init__(cf, task)
        self.owner = self.params.get("owner_id")
        self.adopt = bool(self.params.get("adopt"))
        self.marker = ownership_marker("comment", self.owner)

    # ---------------------------------------------------------------- input, before any request

    def validate(self):
        p = self.params
        check_owner_id(self.owner)
        if p.get("alert_type") is not None:
            check_alert_type(p["alert_type"])
        description = p.get("description")
        if description is not None and marker_owner(description) is not None:
            raise CloudflareInputError(
                "must not hold the ownership marker %r: the module adds it" % self.marker, option="description"
            )
        emails = validate_emails(p.get("emails"))
        filters = None
        if p.get("filters") is not None and p.get("alert_type") is not None:
            filters = validate_filters(p["alert_type"], p["filters"])
        return emails, filters

    # ---------------------------------------------------------------- ownership

    def owned(self, policy):
        return marker_owner(policy.get("description")) == (self.owner or "")

    def find(self):
        """(the policy of the wanted name this owner manages or may adopt, whether it is foreign)."""
        name = self.params["name"]
        named = self.task.by_name("policy", name)
        ours = [p for p in named if self.owned(p)]
        if ours:
            return one_by_name(ours, "policy", name), False
        return one_by_name(named, "policy", name), bool(named)

    def foreign_error(self, policy):
        return CloudflareOwnershipError(
            "%s exists but was not created here for owner %r (%s; this owner's marker in the description is %r). "
            "Nothing was changed. To manage it here, set adopt: true (its description then gets the marker); "
            "otherwise rename or delete it, or give this policy another name."
            % (
                describe_policy(policy),
                self.owner or "",
                foreign_reason(marker_owner(policy.get("description")), self.owner),
                self.marker,
            )
        )

    # ---------------------------------------------------------------- the run

    def apply(self):
        emails, filters = self.validate()
        existing, foreign = self.find()
        if self.params["state"] == "absent":
            return self.absent(existing, foreign)
        if foreign and not self.adopt:
            raise self.foreign_error(existing)
        webhooks = self.task.resolve_ids("webhook", self.params.get("webhooks"), "webhooks")
        if existing is None:
            return self.create(emails, filters, webhooks)
        return self.update(existing, foreign, emails, filters, webhooks)

    def absent(self, existing, foreign):
        if existing is None:
            return self.outcome("none", None, None, id=None, policy={}, adopted=False)
        before = view(existing, VIEW_FIELDS)
        if foreign and not self.adopt:
            self.task.warn(
                "%s was not created here for owner %r (%s): left alone. Set adopt: true to delete it anyway."
                % (
                    describe_policy(existing),
                    self.owner or "",
                    foreign_reason(marker_owner(existing.get("description")), self.owner),
                )
            )
            return self.outcome("none", None, None, id=existing.get("id"), policy=before, adopted=False)
        self.task.remove("policy", existing["id"])
        return self.outcome("delete", before, {}, id=None, policy=before, adopted=foreign)

    def create(self, emails, filters, webhooks):
        p = self.params
        name = p["name"]
        if p.get("alert_type") is None:
            raise CloudflareInputError(
                "policy %r does not exist yet; give alert_type (one of %s) to create it"
                % (name, ", ".join(ALERT_TYPES)),
                option="alert_type",
            )
        if not emails and not webhooks:
            raise CloudflareInputError(
                "policy %r does not exist yet; give at least one address in emails or one destination in webhooks "
                "to create it (a policy must notify someone)" % name,
                option="emails",
            )
        body = {
            "name": name,
            "alert_type": p["alert_type"],
            "enabled": p["enabled"],
            "description": mark_comment(p.get("description"), self.marker),
            "mechanisms": self.mechanisms({}, emails, webhooks),
        }
        if filters:
            body["filters"] = filters
        policy_id = self.task.create("policy", body)
        after = view(dict(body, id=policy_id) if policy_id else body, VIEW_FIELDS)
        return self.outcome("create", {}, after, id=policy_id, policy=after, adopted=False)

    @staticmethod
    def mechanisms(current, emails, webhooks):
        """``current``'s mechanisms with the e-mail and webhook lists replaced where given (None: kept)."""
        out = {k: list(v) for k, v in (current or {}).items() if isinstance(v, list)}
        if emails is not None:
            out["email"] = [{"id": e} for e in emails]
        if webhooks is not None:
            out["webhooks"] = [{"id": w} for w in webhooks]
        return {k: v for k, v in out.items() if v}

    def update(self, existing, foreign, emails, filters, webhooks):
        p = self.params
        name = p["name"]
        alert_type = p.get("alert_type") or existing.get("alert_type")
        type_changed = alert_type != existing.get("alert_type")
        if p.get("filters") is not None and filters is None:
            # alert_type left out: the filters are checked against the policy's own.
            if alert_type not in ALERT_TYPES:
                check_alert_type(alert_type, option="alert_type (the policy's, as filters are given)")
            filters = validate_filters(alert_type, p["filters"])
        changed = []
        if type_changed:
            changed.append("alert_type")
        if existing.get("enabled") != p["enabled"]:
            changed.append("enabled")
        user_part = p.get("description")
        if user_part is None:
            user_part = split_marked_comment(existing.get("description"))[0]
        description = mark_comment(user_part, self.marker)
        if (existing.get("description") or "").strip() != description:
            changed.append("description")
        owned_keys = sorted(alert_type_filters(alert_type))
        current_filters = existing.get("filters") if isinstance(existing.get("filters"), dict) else {}
        new_filters = dict(current_filters)
        if type_changed:
            new_filters = dict(filters or {})
        elif filters is not None:
            for key in owned_keys:
                new_filters.pop(key, None)
            new_filters.update(filters)
        if normalise_filters(current_filters, set(current_filters) | set(new_filters)) != normalise_filters(
            new_filters, set(current_filters) | set(new_filters)
        ):
            changed.append("filters")
        if emails is not None and sorted(map(email_key, mechanism_ids(existing, "email"))) != sorted(
            map(email_key, emails)
        ):
            changed.append("emails")
        if webhooks is not None and sorted(mechanism_ids(existing, "webhooks")) != sorted(webhooks):
            changed.append("webhooks")
        before = view(existing, VIEW_FIELDS)
        if not changed:
            return self.outcome("none", before, before, id=existing.get("id"), policy=before, adopted=False)
        mechanisms = self.mechanisms(existing.get("mechanisms"), emails, webhooks)
        if not mechanisms:
            raise CloudflareInputError("policy %r would notify no one; give emails or webhooks" % name, option="emails")
        body = {
            "name": name,
            "alert_type": alert_type,
            "enabled": p["enabled"],
            "description": description,
            "filters": new_filters,
            "mechanisms": mechanisms,
        }
        if existing.get("alert_interval") is not None:
            body["alert_interval"] = existing["alert_interval"]
        self.task.replace("policy", existing["id"], body)
        after = view(dict(existing, **body), VIEW_FIELDS)
        return self.outcome("update", before, after, id=existing["id"], policy=after, adopted=foreign)
