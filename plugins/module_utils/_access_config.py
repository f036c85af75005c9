# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service tokens, policies and applications in one task: the logic behind cloudflare_access_config (private).

Each object is handled by its own manager (``_access_service_token``, ``_access_policy``,
``_access_application``), all sharing one ``AccessTask``, so each kind is listed once for the task.
"""

from __future__ import annotations

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access import AccessManager
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_application import (
    APPLICATION_OPTIONS,
    ApplicationManager,
    app_owned,
    check_access_owner_id,
    foreign_app_error,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_policy import POLICY_OPTIONS, PolicyManager
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_rules import AccessError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_service_token import (
    TOKEN_OPTIONS,
    ServiceTokenManager,
)

# Renaming an object made under an earlier name (release 0.2 named policies and tokens without the site prefix).
_RENAME_OPTIONS = dict(adopt=dict(type="bool", default=False), former_name=dict(type="str"))
ITEM_OPTIONS = {
    "service_token": dict(TOKEN_OPTIONS, **_RENAME_OPTIONS),
    "policy": dict(POLICY_OPTIONS, **_RENAME_OPTIONS),
    "application": dict(APPLICATION_OPTIONS),
}
# What the single-object managers read that this module does not offer per item.
ITEM_FIXED = {"service_token": {"refresh": False}, "policy": {}, "application": {}}
MANAGERS = {"service_token": ServiceTokenManager, "policy": PolicyManager, "application": ApplicationManager}
# The module's list option of each kind.
LISTS = {"service_token": "service_tokens", "policy": "policies", "application": "applications"}


def _item_list(kind, **extra):
    return dict(type="list", elements="dict", options=ITEM_OPTIONS[kind], default=[], **extra)


def argument_spec():
    """The options of cloudflare_access_config."""
    return dict(
        # Names and durations only: a secret is never an input.
        service_tokens=_item_list("service_token", no_log=False),
        policies=_item_list("policy"),
        applications=_item_list("application"),
        purge_applications_prefix=dict(type="str", default=""),
        owner_id=dict(type="str"),
    )


def option_defaults(spec):
    """The value of each option in ``spec`` when left out (what Ansible fills in for a listed item)."""
    return {k: v.get("default") for k, v in spec.items()}


class _Item:
    """What a single-object manager needs from its module: that object's options, the shared rest."""

    def __init__(self, cf, params):
        self.module = cf.module
        self.client = cf.client
        self.check_mode = cf.check_mode
        self.diff_mode = cf.diff_mode
        self.params = params


class AccessConfigManager(AccessManager):
    def __init__(self, cf, task=None):
        super().__init__(cf, task)
        self.changes = []
        self.before = {}
        self.after = {}

    def check_input(self):
        for option in LISTS.values():
            seen = {}
            for i, item in enumerate(self.params[option]):
                if item["name"] in seen:
                    raise AccessError(
                        "%s[%d]: the name %r is already used by %s[%d]; names must be unique"
                        % (option, i, item["name"], option, seen[item["name"]])
                    )
                seen[item["name"]] = i
        check_access_owner_id(self.params["owner_id"])
        prefix = self.params["purge_applications_prefix"]
        for i, app in enumerate(self.params["applications"]):
            if prefix and app["state"] == "present" and not app["name"].startswith(prefix):
                raise AccessError(
                    "applications[%d]: %r does not start with purge_applications_prefix %r; the next run could not "
                    "tell it is managed here" % (i, app["name"], prefix)
                )

    def items(self, kind, state):
        return [item for item in self.params[LISTS[kind]] if item["state"] == state]

    def apply(self):
        self.check_input()
        p = self.params
        apps = self.items("application", "present")
        # One listing per kind in use, up front: every object below is found in it.
        prefix = p["purge_applications_prefix"]
        for kind, used in (
            ("service_token", p["service_tokens"]),
            ("policy", p["policies"]),
            ("application", apps or prefix),
        ):
            if used:
                self.task.directory.list(kind)
        owner = p["owner_id"]
        if owner and apps:
            # Every application this site would take over without being asked, named at once, before any write.
            foreign = [
                existing
                for item in apps
                if not item["adopt"]
                for existing in self.task.directory.by_name("application", item["name"])
                if not app_owned(existing, owner)
            ]
            if foreign:
                raise foreign_app_error(foreign, owner)

        out = {"service_tokens": {}, "policies": {}, "applications": {}}
        for item in self.items("service_token", "present"):
            outcome = self.reconcile("service_token", item)
            fields = outcome.fields
            entry = {k: fields[k] for k in ("id", "client_id", "expires_at", "client_secret") if fields.get(k)}
            entry["created"] = outcome.action == "create"
            entry["rotated"] = bool(fields.get("rotated"))
            out["service_tokens"][item["name"]] = entry
        for item in self.items("policy", "present"):
            out["policies"][item["name"]] = {"id": self.reconcile("policy", item).fields.get("id")}
        for item in apps:
            fields = self.reconcile("application", item).fields
            app = fields.get("application") or {}
            out["applications"][item["name"]] = {
                "id": fields.get("id"),
                "aud": fields.get("aud"),
                "domain": app.get("domain"),
            }
        stale = self.items("application", "absent")
        if prefix:
            listed = {a["name"] for a in p["applications"]}
            stale += [
                dict(option_defaults(APPLICATION_OPTIONS), name=a["name"], state="absent")
                for a in self.task.directory.list("application")
                if (a.get("name") or "").startswith(prefix) and a["name"] not in listed and app_owned(a, owner)
            ]
        for item in stale:
            self.reconcile("application", item)
        for kind in ("policy", "service_token"):
            for item in self.items(kind, "absent"):
                self.reconcile(kind, item)
        for tag in sorted(self.task.tags_released):
            if self.task.drop_tag_if_unused(tag):
                self.changes.append({"kind": "tag", "name": tag, "action": "delete"})
        if self.task.tags_created:
            self.changes[:0] = [{"kind": "tag", "name": t, "action": "create"} for t in sorted(self.task.tags_created)]
        out["changes"] = self.changes
        return self.outcome("update" if self.changes else "none", self.before, self.after, **out)

    def reconcile(self, kind, params):
        """Run the manager of one object; record its change and its part of the diff."""
        item = _Item(self.cf, dict(params, owner_id=self.params["owner_id"], **ITEM_FIXED[kind]))
        outcome = MANAGERS[kind](item, task=self.task).apply()
        if outcome.changed:
            self.changes.append({"kind": kind, "name": params["name"], "action": outcome.action})
            key = "%s %s" % (kind, params["name"])
            if outcome.before:
                self.before[key] = outcome.before
            if outcome.after:
                self.after[key] = outcome.after
        return outcome
