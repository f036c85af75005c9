# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The alert rules, proven by `promtool test rules` on synthetic series (rules_test.yml): each alert fires when
it should, only after its `for:`, with its labels and annotations, and stays quiet when it should."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from .conftest import HOSTS, run

SOURCE = Path(__file__).with_name("rules_test.yml")
GROUPS = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))["tests"]
# The role's defaults: the for: of each alert the cases assume. A group with `variant: full` runs against the
# `full` rendering instead (the tunnel status alerts exist only there; it overrides TunnelDown's for:).
VARIANT = "minimal"


def _group_id(group: dict) -> str:
    return "+".join(dict.fromkeys(case["alertname"] for case in group["alert_rule_test"]))


def _promtool_file(group: dict, rendered) -> dict:
    """One group of rules_test.yml as a promtool test file (see the header of rules_test.yml)."""
    group = copy.deepcopy(group)
    variant = group.pop("variant", VARIANT)
    static = {
        name: {key: text for key, text in rule["annotations"].items() if "{{" not in text}
        for name, rule in rendered[variant].alerts().items()
    }
    group.setdefault("external_labels", {"host": HOSTS[variant]})
    for case in group["alert_rule_test"]:
        for alert in case.get("exp_alerts") or []:
            alert["exp_annotations"] = {**static[case["alertname"]], **alert.get("exp_annotations", {})}
    prometheus = rendered[variant].load("prometheus.yml")
    return {
        "rule_files": [str(rendered[variant].files["homelab.rules.yml"])],
        # promtool takes it per file; a group may give its own (the 26h of BackupStale).
        "evaluation_interval": group.pop("evaluation_interval", prometheus["global"]["evaluation_interval"]),
        "tests": [group],
    }


def test_every_alert_has_a_firing_and_a_quiet_case(rendered):
    alerts = set(rendered[VARIANT].alerts()) | set(rendered["full"].alerts())
    cases = [case for group in GROUPS for case in group["alert_rule_test"]]
    assert {case["alertname"] for case in cases} == alerts
    assert {case["alertname"] for case in cases if case.get("exp_alerts")} == alerts, "an alert never fires"
    assert {case["alertname"] for case in cases if not case.get("exp_alerts")} == alerts, "an alert is never quiet"


@pytest.mark.parametrize("group", GROUPS, ids=[_group_id(group) for group in GROUPS])
def test_promtool_test_rules(group, rendered, prom_tools, tmp_path):
    test_file = tmp_path / "rules_test.yml"
    test_file.write_text(yaml.safe_dump(_promtool_file(group, rendered), sort_keys=False), encoding="utf-8")
    result = run([prom_tools["promtool"], "test", "rules", test_file])
    assert "SUCCESS" in result.stdout
