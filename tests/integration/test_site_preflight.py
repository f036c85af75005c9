# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""site.yml's preflight against the catalogue of invalid inventories (site/invalid_inventories.yml).

Each case must fail in the preflight play with a message naming the variable and what is valid,
before any change: no task reports a change, the host (whose Python does not exist) runs nothing,
and the Cloudflare API emulator receives no request at all.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent / "site"
INVENTORY = HERE / "inventory.yml"
CATALOGUE = yaml.safe_load((HERE / "invalid_inventories.yml").read_text(encoding="utf-8"))
SITE = Path(__file__).resolve().parents[2] / "playbooks" / "site.yml"
PREFLIGHT_PLAY = "Preflight | every layer's settings, before anything changes anywhere"


def failure_messages(result):
    out = []
    for play in (result.data or {}).get("plays", []):
        for task in play["tasks"]:
            for host_result in task["hosts"].values():
                if host_result.get("failed"):
                    out.append((play["play"]["name"], task["task"]["name"], host_result.get("msg", "")))
    return out


def changed_tasks(result):
    return [
        task["task"]["name"]
        for play in (result.data or {}).get("plays", [])
        for task in play["tasks"]
        for host_result in task["hosts"].values()
        if host_result.get("changed")
    ]


@pytest.fixture(scope="module")
def catalogue_results(_runner, emulator):
    emulator.reset()
    emulator.clear_requests()

    def run(case):
        return case, _runner(SITE, inventory=INVENTORY, extra_vars=case["vars"], drop_env=case.get("drop_env", ()))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, CATALOGUE))
    return {"results": results, "requests": emulator.requests()}


def test_catalogue_has_at_least_80_cases():
    assert len(CATALOGUE) >= 80
    assert len({c["name"] for c in CATALOGUE}) == len(CATALOGUE)


def test_valid_inventory_passes_preflight(_runner, emulator):
    emulator.clear_requests()
    # With an unknown tag only what is tagged 'always' runs: the preflight play, then the later
    # plays' fact gathering, which fails on the host that does not exist (and so proves nothing
    # there could have run).
    result = _runner(SITE, inventory=INVENTORY, args=["--tags", "preflight-only"])
    plays = (result.data or {}).get("plays", [])
    assert plays and plays[0]["play"]["name"] == PREFLIGHT_PLAY, result.output[-3000:]
    preflight_tasks = [t["task"]["name"] for t in plays[0]["tasks"]]
    assert len(preflight_tasks) >= 6
    failures = failure_messages(result)
    assert all(play != PREFLIGHT_PLAY for play, _task, _msg in failures), failures
    assert all(task == "Gathering Facts" for _play, task, _msg in failures), failures
    assert emulator.requests() == []


@pytest.mark.parametrize("index", range(len(CATALOGUE)), ids=[c["name"] for c in CATALOGUE])
def test_invalid_inventory_fails_in_preflight(catalogue_results, index):
    case, result = catalogue_results["results"][index]
    result.assert_no_traceback()
    assert result.rc != 0, f"{case['name']}: site.yml did not fail"
    failures = failure_messages(result)
    assert failures, result.output[-3000:]
    play, task, msg = failures[0]
    assert play == PREFLIGHT_PLAY, f"{case['name']}: failed in {play} / {task}: {msg}"
    assert case["expect"] in msg, f"{case['name']}: {msg!r}"
    # The cause is named: never Ansible's "Unknown error" or only a no_log "censored" notice.
    assert "Unknown error" not in msg and "censored" not in msg, f"{case['name']}: {msg!r}"
    # A message about one setting names only that one (e.g. not the role's every rule).
    for other in case.get("not_named", []):
        assert other not in msg, f"{case['name']}: {other} named in {msg!r}"
    assert changed_tasks(result) == []


def test_no_case_reached_the_api(catalogue_results):
    assert catalogue_results["requests"] == []
