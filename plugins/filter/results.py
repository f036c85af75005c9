# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Why a task failed, from its result, for tasks whose output ``no_log`` hides."""

from __future__ import annotations


def failure_reasons(result):
    """The ``msg`` of a failed result, or of each failed loop item as ``LABEL: msg``, joined by ``; ``.

    Only the module's message and the loop label are read: neither holds the content a task wrote
    (labels are chosen to be safe to show; ``loop_control.label`` where an item holds a secret).
    """
    if not isinstance(result, dict):
        return "no result"
    items = result.get("results")
    if isinstance(items, list):
        reasons = [
            "%s: %s" % (item.get("_ansible_item_label", "?"), item.get("msg") or "failed, no message")
            for item in items
            if isinstance(item, dict) and item.get("failed")
        ]
        if reasons:
            return "; ".join(reasons)
    return str(result.get("msg") or "failed, no message")


class FilterModule:
    def filters(self):
        return {"failure_reasons": failure_reasons}
