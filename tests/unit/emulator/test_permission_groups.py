# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The emulator's pieces the doctor's catalogue needs: Access permission groups enforced per route, login
methods per account, and a zone's status set through the control API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inprocess import DEFAULT_SEED, InProcessEmulator

ACCOUNT = "a0000000000000000000000000000001"
OTHER = "a0000000000000000000000000000002"
ZONE = "c0000000000000000000000000000001"
TOKENS = {
    "apps": ["access_apps:edit"],
    "service_tokens": ["access_service_tokens:edit"],
    "org": ["access_org:read"],
    "all_access": ["access:read"],
}


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    seed = json.loads(Path(DEFAULT_SEED).read_text(encoding="utf-8"))
    for name, permissions in TOKENS.items():
        seed["tokens"].append({"value": "group-token-%s" % name, "permissions": permissions})
    seed["accounts"].append({"id": OTHER, "name": "Other"})
    seed["zones"].append({"id": "c" + "0" * 30 + "9", "name": "other.example", "account_id": OTHER})
    for idp in seed["identity_providers"]:
        idp["account_id"] = ACCOUNT
    path = tmp_path_factory.mktemp("seed") / "seed.json"
    path.write_text(json.dumps(seed))
    emulator = InProcessEmulator(str(path))
    try:
        yield emulator
    finally:
        emulator.close()


ROUTES = {
    "apps": "/accounts/%s/access/apps" % ACCOUNT,
    "policies": "/accounts/%s/access/policies" % ACCOUNT,
    "tags": "/accounts/%s/access/tags" % ACCOUNT,
    "service_tokens": "/accounts/%s/access/service_tokens" % ACCOUNT,
    "groups": "/accounts/%s/access/groups" % ACCOUNT,
    "identity_providers": "/accounts/%s/access/identity_providers" % ACCOUNT,
    "organizations": "/accounts/%s/access/organizations" % ACCOUNT,
}
GRANTS = {
    "apps": {"apps", "policies", "tags"},
    "service_tokens": {"service_tokens"},
    "org": {"groups", "identity_providers", "organizations"},
    "all_access": set(ROUTES),
}


@pytest.mark.parametrize("token", sorted(TOKENS))
def test_each_access_group_opens_its_own_routes_only(emu, token):
    for route, path in ROUTES.items():
        status, body = emu.api("GET", path, token="group-token-%s" % token)
        if route in GRANTS[token]:
            assert status == 200, (token, route, body)
        else:
            assert status == 403 and body["errors"][0]["code"] == 10000, (token, route, body)


def test_read_does_not_grant_edit(emu):
    status, body = emu.api(
        "POST", ROUTES["groups"], {"name": "x", "include": [{"everyone": {}}]}, token="group-token-org"
    )
    assert status == 403 and body["errors"][0]["code"] == 10000


def test_login_methods_belong_to_their_account(emu):
    token = "emulator-token-all-0000000000000000000000"
    status, body = emu.api("GET", ROUTES["identity_providers"], token=token)
    assert status == 200 and len(body["result"]) == 2
    assert all(not k.startswith("_") for idp in body["result"] for k in idp)
    status, body = emu.api("GET", "/accounts/%s/access/identity_providers" % OTHER, token=token)
    assert status == 200 and body["result"] == []


def test_zone_status_through_the_control_api(emu):
    token = "emulator-token-all-0000000000000000000000"
    assert emu.ctl("POST", "/zones/%s" % ZONE, {"status": "pending"}) == {"id": ZONE, "status": "pending"}
    body = emu.api("GET", "/zones/%s" % ZONE, token=token)[1]
    assert body["result"]["status"] == "pending"
    emu.reset()
    body = emu.api("GET", "/zones/%s" % ZONE, token=token)[1]
    assert body["result"]["status"] == "active"
    assert "error" in emu.ctl("POST", "/zones/%s" % ZONE, {"status": "sleeping"})
