# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reusable Access policies: the logic behind cloudflare_access_policy and cloudflare_access_config (private)."""

from __future__ import annotations

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access import (
    AccessManager,
    policy_ids_in_order,
    translate_rule_options,
    upsert_named,
    view,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_rules import (
    DECISIONS,
    POLICY_SETTINGS,
    RULE_OPTIONS,
    RULE_OPTIONS_SPEC,
    AccessError,
    decision_problem,
    durations_equal,
    rules_comparators,
    validate_duration,
)

VIEW_FIELDS = ("id", "name", "decision", *RULE_OPTIONS, *POLICY_SETTINGS, "app_count")
# What a PUT carries over from the policy as read (the API replaces the whole object).
WRITABLE = (
    "name",
    "decision",
    *RULE_OPTIONS,
    *POLICY_SETTINGS,
    "approval_groups",
    "isolation_required",
    "connection_rules",
    "mfa_config",
)
COMPARATORS = dict(rules_comparators(), session_duration=lambda have, want: durations_equal(want, have))
SPEC = {"view_fields": VIEW_FIELDS, "writable": WRITABLE, "comparators": COMPARATORS}
# The options of a policy (cloudflare_access_policy; each item of cloudflare_access_config's policies).
POLICY_OPTIONS = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    decision=dict(type="str", choices=list(DECISIONS)),
    **RULE_OPTIONS_SPEC,
    session_duration=dict(type="str"),
    approval_required=dict(type="bool"),
    purpose_justification_required=dict(type="bool"),
    purpose_justification_prompt=dict(type="str"),
)


class PolicyManager(AccessManager):
    def desired(self):
        """The options the user gave, validated, rules translated (None = leave alone)."""
        p = self.params
        want = {
            "decision": p.get("decision"),
            "session_duration": None,
            "approval_required": p.get("approval_required"),
            "purpose_justification_required": p.get("purpose_justification_required"),
            "purpose_justification_prompt": p.get("purpose_justification_prompt"),
        }
        if p.get("session_duration") is not None:
            want["session_duration"] = validate_duration(p["session_duration"], "session_duration")
        want.update(translate_rule_options(p, self.task.directory, RULE_OPTIONS))
        return want

    def apply(self):
        name = self.params["name"]
        existing = self.task.find_by_name("policy", name)
        renamed = False
        former = self.params.get("former_name")
        if existing is None and former and self.params.get("adopt"):
            # Adopted under an earlier name (release 0.2 named policies without the site prefix): the same
            # policy, renamed, so the applications linking it and its id stay.
            existing = self.task.find_by_name("policy", former)
            renamed = existing is not None
        if self.params["state"] == "absent":
            return self.absent(existing)
        return self.present(name, existing, renamed)

    def absent(self, existing):
        if existing is None:
            return self.outcome("none", None, None, id=None, policy={})
        if existing.get("app_count") != 0:
            apps = [
                a.get("name") or a.get("id")
                for a in self.task.directory.list("application")
                if existing["id"] in policy_ids_in_order(a)
            ]
            if apps:
                msg = (
                    "state=absent: policy %r is still linked to application(s) %s; remove it from their "
                    "policies (homelab.mcp_edge.cloudflare_access_application) first"
                    % (existing["name"], ", ".join(repr(a) for a in sorted(apps)))
                )
                if not self.task.check_mode:
                    raise AccessError(msg)
                # An earlier task of this run may only have pretended to unlink or delete them.
                self.cf.module.warn(msg + " (check mode: a real run fails unless an earlier task does that)")
        self.task.remove("policy", existing["id"])
        before = view(existing, VIEW_FIELDS)
        return self.outcome("delete", before, {}, id=None, policy=before)

    def present(self, name, existing, renamed=False):
        want = self.desired()
        if renamed:
            want["name"] = name
        current = existing or {}
        decision = want["decision"] or current.get("decision")
        rules = {o: want[o] if want.get(o) is not None else current.get(o) for o in RULE_OPTIONS}
        problem = decision_problem(decision, rules)
        if problem:
            raise AccessError("policy %r: %s" % (name, problem))
        if existing is None:
            missing = []
            if not want["decision"]:
                missing.append("decision (one of %s)" % ", ".join(DECISIONS))
            if not want["include"]:
                missing.append("include (at least one rule)")
            if missing:
                raise AccessError("policy %r does not exist yet; to create it, give %s" % (name, " and ".join(missing)))
        action, policy_id, before, after = upsert_named(self.task, "policy", name, existing, want, SPEC)
        return self.outcome(action, before, after, id=policy_id, policy=after)
