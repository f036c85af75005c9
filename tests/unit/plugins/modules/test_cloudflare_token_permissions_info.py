# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""cloudflare_token_permissions_info against the in-process emulator: each token state and permission, GETs only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareClient
from ansible_collections.homelab.mcp_edge.plugins.module_utils._token_check import TokenCheck
from inprocess import DEFAULT_SEED, InProcessEmulator

ACCOUNT = "a0000000000000000000000000000001"
EDGE = "emulator-token-edge-000000000000000000000"
ALL_FEATURES = ["edge", "service_tokens", "team_name_lookup"]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    seed = json.loads(Path(DEFAULT_SEED).read_text(encoding="utf-8"))
    seed["tokens"].append(
        {"value": "unit-token-no-tunnel-0000000000000000000", "permissions": ["zone:read", "dns:edit", "access:edit"]}
    )
    seed["tokens"].append(
        {
            "value": "unit-token-apps-only-000000000000000000",
            "permissions": ["zone:read", "dns:edit", "tunnel:edit", "access_apps:edit"],
        }
    )
    path = tmp_path_factory.mktemp("seed") / "seed.json"
    path.write_text(json.dumps(seed))
    emu = InProcessEmulator(str(path))
    try:
        yield emu
    finally:
        emu.close()


class FakeCf:
    def __init__(self, params):
        self.params = params
        self.client = CloudflareClient(params, check_mode=True)
        self.diff_mode = False


def check(emulator, token, zone="example.com", features=None, **extra):
    emulator.reset()
    params = {
        "api_token": token,
        "api_base_url": emulator.base_url,
        "account_id": None,
        "zone": zone,
        "features": features or ALL_FEATURES,
        "max_retries": 0,
        "max_retry_wait": 0,
        "timeout": 10,
        "validate_certs": True,
    }
    params.update(extra)
    cf = FakeCf(params)
    try:
        result = TokenCheck(cf).run()
    finally:
        cf.client.close()
    methods = {r["method"] for r in emulator.ctl("GET", "/requests")}
    assert methods <= {"GET"}, methods
    return result


def by_key(result):
    return {p["key"]: p for p in result["permissions"]}


def test_a_fit_token_has_no_problem(emulator):
    result = check(emulator, EDGE)
    assert result["problems"] == []
    assert result["token"]["active"] is True
    assert result["zone"]["found"] and result["zone"]["status"] == "active"
    assert result["zone"]["plan"] == "Free Website" and result["zone"]["limits"]["comment"] == 100
    assert result["account_id"] == ACCOUNT
    assert all(p["granted"] is True for p in result["permissions"] if p["needed"])
    assert by_key(result)["tunnel"]["name"] == "Account > Cloudflare Tunnel > Edit"
    # Notifications only for the tunnel health alert: this token lacks it, which is no problem here.
    assert by_key(result)["notifications"]["needed"] is False and by_key(result)["notifications"]["granted"] is False


def test_a_missing_permission_is_named(emulator):
    result = check(emulator, "unit-token-no-tunnel-0000000000000000000")
    perms = by_key(result)
    assert perms["tunnel"]["granted"] is False
    assert len(result["problems"]) == 1
    assert "Account > Cloudflare Tunnel > Edit" in result["problems"][0]
    assert "My Profile > API Tokens" in result["problems"][0]


def test_access_permission_groups_are_told_apart(emulator):
    result = check(emulator, "unit-token-apps-only-000000000000000000")
    perms = by_key(result)
    assert perms["access_apps"]["granted"] is True
    assert perms["access_service_tokens"]["granted"] is False
    assert perms["access_organization"]["granted"] is False
    assert len(result["problems"]) == 2


def test_an_unneeded_missing_permission_is_no_problem(emulator):
    result = check(emulator, "unit-token-apps-only-000000000000000000", features=["edge"])
    assert result["problems"] == []
    assert by_key(result)["access_service_tokens"]["needed"] is False


@pytest.mark.parametrize(
    ("token", "status", "words"),
    [
        ("emulator-token-expired-00000000000000000", "expired", "expired on 2025-01-01T00:00:00Z"),
        ("emulator-token-disabled-0000000000000000", "disabled", "is disabled"),
        ("no-such-token-000000000000000000000000000", "invalid", "does not accept the API token"),
    ],
)
def test_an_unusable_token_stops_the_probes(emulator, token, status, words):
    result = check(emulator, token)
    assert result["token"]["status"] == status and result["token"]["active"] is False
    assert len(result["problems"]) == 1 and words in result["problems"][0]
    assert all(p["granted"] is None for p in result["permissions"])
    assert token not in json.dumps(result)


def test_an_unknown_zone(emulator):
    result = check(emulator, EDGE, zone="nosuchzone.example")
    assert result["zone"]["found"] is False
    assert "nosuchzone.example was not found" in result["problems"][0]
    assert by_key(result)["dns"]["granted"] is None
    # The account permissions are still probed, in the token's only account.
    assert by_key(result)["tunnel"]["granted"] is True


def test_a_pending_zone_is_reported_as_it_is(emulator):
    emulator.reset()
    emulator.ctl("POST", "/zones/c0000000000000000000000000000001", {"status": "pending"})
    params = {
        "api_token": EDGE,
        "api_base_url": emulator.base_url,
        "account_id": None,
        "zone": "example.com",
        "features": ["edge"],
    }
    cf = FakeCf(params)
    try:
        result = TokenCheck(cf).run()
    finally:
        cf.client.close()
    assert result["zone"]["status"] == "pending"


def test_every_module_is_documentation_an_argument_spec_and_one_run():
    modules = Path(__file__).resolve().parents[4] / "plugins" / "modules"
    paths = sorted(modules.glob("cloudflare_*.py"))
    assert len(paths) >= 15
    for path in paths:
        text = path.read_text(encoding="utf-8")
        code = text.split('\nRETURN = r"""\n', 1)[1].split('\n"""\n', 1)[1]
        assert len(code.splitlines()) < 60, (path.name, len(code.splitlines()))
        assert "CloudflareModule(" in code and ".run(" in code, path.name
