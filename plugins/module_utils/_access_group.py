# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access groups: the logic behind cloudflare_access_group (private: no API promise)."""

from __future__ import annotations

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access import (
    AccessManager,
    translate_rule_options,
    upsert_named,
    view,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_rules import (
    RULE_OPTIONS,
    AccessError,
    rules_comparators,
)

VIEW_FIELDS = ("id", "name", *RULE_OPTIONS)
# What a PUT carries over from the group as read (the API replaces the whole object).
WRITABLE = ("name", *RULE_OPTIONS, "is_default")
SPEC = {"view_fields": VIEW_FIELDS, "writable": WRITABLE, "comparators": rules_comparators()}


class GroupManager(AccessManager):
    def apply(self):
        name = self.params["name"]
        existing = self.task.find_by_name("group", name)
        if self.params["state"] == "absent":
            if existing is None:
                return self.outcome("none", None, None, id=None, group={})
            self.task.remove("group", existing["id"])
            before = view(existing, VIEW_FIELDS)
            return self.outcome("delete", before, {}, id=None, group=before)
        want = translate_rule_options(self.params, self.task.directory, RULE_OPTIONS)
        if existing is None and not want["include"]:
            raise AccessError("include: group %r does not exist yet; give at least one rule to create it" % name)
        action, group_id, before, after = upsert_named(
            self.task, "group", name, existing, want, SPEC, create_options={"name_filter": True}
        )
        return self.outcome(action, before, after, id=group_id, group=after)
