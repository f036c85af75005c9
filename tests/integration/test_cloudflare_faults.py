# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Under injected 429s, 5xx answers and 5xx-after-write, the modules reach the same end state
as without faults, with no duplicate objects; a rerun under faults changes nothing."""

from __future__ import annotations

import collections

import pytest

# Generous retry budget: at 40 % failures, 30 retries make a give-up practically impossible.
RETRY_ENV = {"CLOUDFLARE_MAX_RETRIES": "30", "CLOUDFLARE_MAX_RETRY_WAIT": "300"}


def snapshot(emulator):
    """The state that matters, without ids and timestamps."""
    state = emulator.state()
    live = [t for t in state["tunnels"] if not t.get("deleted_at")]
    names = {t["id"]: t["name"] for t in live}
    records = sorted(
        (
            r["zone_id"],
            r["type"],
            r["name"],
            r.get("content"),
            repr(sorted((r.get("data") or {}).items())),
            r.get("ttl"),
            r.get("proxied"),
            r.get("priority"),
            r.get("comment"),
        )
        for r in state["dns_records"]
    )
    configs = {names[tid]: c["config"] for tid, c in state["tunnel_configs"].items() if tid in names}
    tunnels = sorted((t["name"], t["remote_config"]) for t in live)
    return {"tunnels": tunnels, "records": records, "configs": configs}


def assert_no_duplicates(snap):
    tunnel_names = collections.Counter(name for name, _unused in snap["tunnels"])
    assert all(n == 1 for n in tunnel_names.values()), tunnel_names
    records = collections.Counter(snap["records"])
    assert all(n == 1 for n in records.values()), [r for r, n in records.items() if n > 1]


@pytest.fixture(scope="module")
def baseline(_runner, emulator):
    emulator.reset()
    emulator.clear_faults()
    result = _runner("converge.yml")
    assert result.rc == 0, result.output[-3000:]
    snap = snapshot(emulator)
    assert len(snap["records"]) == 42 + 4 and len(snap["tunnels"]) == 2
    assert_no_duplicates(snap)
    return snap


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param({"rate_429": 0.3, "rate_5xx": 0.1, "retry_after": 0, "seed": 7}, id="429-and-5xx"),
        pytest.param({"rate_5xx_after_write": 0.35, "rate_drop": 0.05, "seed": 11}, id="5xx-after-write"),
    ],
)
def test_same_state_under_faults(run_playbook, emulator, baseline, faults):
    emulator.faults(**faults)
    result = run_playbook("converge.yml", env=RETRY_ENV)
    assert result.rc == 0, result.output[-4000:]
    result.assert_no_traceback()
    counters = emulator.counters()
    assert counters["faults"] > 0, "the fault mix injected nothing"
    snap = snapshot(emulator)
    assert_no_duplicates(snap)
    assert snap == baseline
    # Idempotent under faults too.
    again = run_playbook("converge.yml", env=RETRY_ENV)
    assert again.rc == 0, again.output[-4000:]
    assert again.changed == 0, [(n, r.get("changed")) for n, r in again.tasks if r.get("changed")]
    assert snapshot(emulator) == baseline


def test_gives_up_with_a_clear_message(run_playbook, emulator):
    emulator.faults(rate_5xx=1.0, seed=3)
    result = run_playbook("dns_one.yml", extra_vars={"rec_content": "192.0.2.1"}, env={"CLOUDFLARE_MAX_RETRIES": "2"})
    res = result["Record"]
    assert res["failed"] is True
    assert "gave up after 2 retries" in res["msg"] and "HTTP 50" in res["msg"]
    assert res["api_requests"] == 3
    result.assert_no_traceback()


def test_retry_after_is_honoured(run_playbook, emulator):
    emulator.faults(rate_429=0.5, retry_after=1, seed=5)
    result = run_playbook("dns_one.yml", extra_vars={"rec_content": "192.0.2.1"}, env=RETRY_ENV)
    assert result.rc == 0, result.output[-3000:]
    reqs = emulator.requests()
    limited = [r for r in reqs if r["status"] == 429]
    assert limited, "no 429 was injected"
    # After each 429 the next request came at least ~1 s later.
    for r in limited:
        following = next((x for x in reqs if x["seq"] == r["seq"] + 1), None)
        if following is not None:
            from datetime import datetime

            def ts(x):
                return datetime.fromisoformat(x["ts"].replace("Z", "+00:00"))

            assert (ts(following) - ts(r)).total_seconds() >= 0.9
