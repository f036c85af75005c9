# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The Zero Trust organization read and the team name taken from its team domain."""

from __future__ import annotations

import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_organization import (
    organization_facts,
    read_organization,
    team_name_from_auth_domain,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import (
    CloudflareAuthError,
    CloudflareError,
    CloudflareNotFoundError,
)
from ansible_collections.homelab.mcp_edge.plugins.modules import (
    cloudflare_access_organization_info as org_mod,
)

ACCOUNT = "a0000000000000000000000000000001"
ORG = {
    "name": "My Team",
    "auth_domain": "myteam.cloudflareaccess.com",
    "session_duration": "24h",
    "login_design": {"logo_path": "https://example.com/logo.png"},
    "created_at": "2026-01-01T00:00:00Z",
}


@pytest.mark.parametrize(
    ("auth_domain", "team"),
    [
        ("myteam.cloudflareaccess.com", "myteam"),
        ("My-Team.CloudflareAccess.com.", "my-team"),
        ("https://myteam.cloudflareaccess.com/", "myteam"),
        (" team42.cloudflareaccess.com ", "team42"),
        ("cloudflareaccess.com", ""),
        (".cloudflareaccess.com", ""),
        ("a.b.cloudflareaccess.com", ""),
        ("-x.cloudflareaccess.com", ""),
        ("login.example.com", ""),
        ("", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_team_name_from_auth_domain(auth_domain, team):
    assert team_name_from_auth_domain(auth_domain) == team


class FakeClient:
    def __init__(self, answer=None, error=None):
        self.answer = answer
        self.error = error
        self.calls = []

    def get(self, path, params=None):
        self.calls.append(path)
        if self.error:
            raise self.error
        return self.answer

    def resolve_account_id(self, zone=None):
        return ACCOUNT


def test_read_one_request_to_the_accounts_organization():
    client = FakeClient(answer=ORG)
    assert read_organization(client, ACCOUNT) == ORG
    assert client.calls == ["/accounts/%s/access/organizations" % ACCOUNT]


@pytest.mark.parametrize(
    "client",
    [
        FakeClient(error=CloudflareNotFoundError("x", status=404, errors=[{"code": 12130, "message": "not found"}])),
        FakeClient(answer=None),
        FakeClient(answer={}),
        FakeClient(answer=[]),
        FakeClient(answer={"name": "no domain"}),
    ],
    ids=["404", "null", "empty", "list", "no-auth-domain"],
)
def test_no_organization_is_none_not_an_error(client):
    assert read_organization(client, ACCOUNT) is None
    assert organization_facts(None) == {"exists": False, "organization": {}, "team_name": ""}


def test_an_unknown_account_stays_an_error():
    error = CloudflareNotFoundError("x", status=404, errors=[{"code": 7003, "message": "Could not route"}])
    with pytest.raises(CloudflareNotFoundError):
        read_organization(FakeClient(error=error), ACCOUNT)


def test_a_missing_permission_names_it():
    error = CloudflareAuthError("Cloudflare API request failed", status=403, errors=[{"code": 10000}])
    with pytest.raises(CloudflareAuthError) as caught:
        read_organization(FakeClient(error=error), ACCOUNT)
    assert "Organizations, Identity Providers, and Groups: Read" in str(caught.value)
    assert "HTTP 403" in str(caught.value)


def test_other_errors_pass_through():
    with pytest.raises(CloudflareError):
        read_organization(FakeClient(error=CloudflareError("boom", status=500)), ACCOUNT)


class FakeCf:
    def __init__(self, client, params):
        self.client = client
        self.params = params
        self.diff_mode = False


def test_module_returns_the_team_name_and_a_safe_view():
    res = org_mod.OrganizationInfoManager(FakeCf(FakeClient(answer=ORG), {"account_id": None})).run()
    assert res["exists"] is True and res["team_name"] == "myteam" and res["account_id"] == ACCOUNT
    assert res["changed"] is False
    assert res["organization"] == {
        "name": "My Team",
        "auth_domain": "myteam.cloudflareaccess.com",
        "session_duration": "24h",
        "created_at": "2026-01-01T00:00:00Z",
    }


def test_module_without_an_organization():
    res = org_mod.OrganizationInfoManager(FakeCf(FakeClient(answer=None), {"account_id": "b" * 32})).run()
    assert res == {"exists": False, "organization": {}, "team_name": "", "changed": False, "account_id": "b" * 32}
