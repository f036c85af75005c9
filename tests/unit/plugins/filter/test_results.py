# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ansible_collections.homelab.mcp_edge.plugins.filter.results import failure_reasons


def test_single_result_gives_its_message():
    assert failure_reasons({"failed": True, "msg": "Destination directory /x does not exist"}) == (
        "Destination directory /x does not exist"
    )


def test_loop_names_each_failed_item_by_label_only():
    result = {
        "failed": True,
        "msg": "One or more items failed",
        "results": [
            {"failed": False, "_ansible_item_label": "/ok", "item": {"content": "SECRET-1"}},
            {
                "failed": True,
                "_ansible_item_label": "/x/a",
                "msg": "Permission denied",
                "item": {"content": "SECRET-2"},
            },
            {"failed": True, "_ansible_item_label": "/x/b", "item": {"content": "SECRET-3"}},
        ],
    }
    reasons = failure_reasons(result)
    assert reasons == "/x/a: Permission denied; /x/b: failed, no message"
    assert "SECRET" not in reasons


def test_odd_input():
    assert failure_reasons(None) == "no result"
    assert failure_reasons({"failed": True}) == "failed, no message"
    assert failure_reasons({"failed": True, "msg": "boom", "results": [{"failed": False}]}) == "boom"
