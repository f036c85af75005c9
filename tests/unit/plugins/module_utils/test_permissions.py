# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The one permission list (_permissions.PERMISSIONS), the places that repeat it, and the messages for refused calls."""

from __future__ import annotations

import re
from pathlib import Path

import cfemu_access
import cfemu_alerting
import cfemu_dns
import cfemu_tunnels
import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _permissions as perms

REPO = Path(__file__).resolve().parents[4]
GETTING_STARTED = REPO / "docs" / "getting-started.md"
PROSE_PLACES = (
    REPO / "docs" / "role-cloudflare-edge.md",
    REPO / "inventories" / "example" / "group_vars" / "homelab_servers" / "main.yml",
)
PREFLIGHT = REPO / "roles" / "cloudflare_edge" / "tasks" / "preflight.yml"

# The emulator's permission resources and the entry of the list each stands for.
EMULATOR_RESOURCES = {
    "zone": "zone",
    "dns": "dns",
    "tunnel": "tunnel",
    "access_apps": "access_apps",
    "access_service_tokens": "access_service_tokens",
    "access_org": "access_organization",
    "notifications": "notifications",
}


def docs_table_rows():
    """The rows of the permission table in docs/getting-started.md (type, permission, access, what needs it)."""
    rows = []
    lines = GETTING_STARTED.read_text(encoding="utf-8").splitlines()
    start = lines.index("| type | permission | access | what needs it |")
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(tuple(cell.strip() for cell in line.strip("|").split("|")))
    return rows


def test_the_list_is_six_permissions_with_every_field():
    assert len(perms.PERMISSIONS) == 7
    assert len({p["key"] for p in perms.PERMISSIONS}) == 7
    for perm in perms.PERMISSIONS:
        assert perm["type"] in ("Account", "Zone")
        assert perm["scope"] == perm["type"].lower()
        assert perm["access"] in ("Read", "Edit")
        assert perm["probe"].startswith("/")
        assert perm["paths"] and perm["purpose"]
        assert set(perm["features"]) <= set(perms.FEATURES)
        # The probe is a path the permission covers.
        probe = perm["probe"].format(zone="example.com", zone_id="c" * 32, account_id="a" * 32)
        assert perms.permission_for_path(probe) is perm


def test_getting_started_table_is_exactly_the_list():
    expected = [(p["type"], p["permission"], p["access"], p["purpose"]) for p in perms.PERMISSIONS]
    assert docs_table_rows() == expected


@pytest.mark.parametrize("path", PROSE_PLACES, ids=lambda p: p.name)
def test_prose_places_name_every_permission(path):
    text = " ".join(path.read_text(encoding="utf-8").replace("#", " ").split())
    for perm in perms.PERMISSIONS:
        assert perms.short_name(perm) in text, (path, perms.short_name(perm))


def test_preflight_names_all_permissions_or_none():
    """The role's preflight message either repeats the whole list or none of it (it may point to the doctor)."""
    text = " ".join(PREFLIGHT.read_text(encoding="utf-8").split())
    named = [perms.short_name(p) for p in perms.PERMISSIONS if perms.short_name(p) in text]
    assert len(named) in (0, len(perms.PERMISSIONS)), named


@pytest.mark.parametrize(
    ("features", "keys"),
    [
        (["edge"], ["tunnel", "access_apps", "zone", "dns"]),
        (["edge", "service_tokens"], ["tunnel", "access_apps", "access_service_tokens", "zone", "dns"]),
        (["edge", "team_name_lookup"], ["tunnel", "access_apps", "access_organization", "zone", "dns"]),
        (["rule_names"], ["access_organization"]),
        ([], []),
    ],
)
def test_needed_permissions(features, keys):
    assert [p["key"] for p in perms.needed_permissions(features)] == keys


def test_unknown_feature_is_refused():
    with pytest.raises(ValueError, match="unknown feature"):
        perms.needed_permissions(["edge", "dns"])


def test_every_emulator_route_maps_to_the_permission_it_enforces():
    """The emulator (a stand-in that imports nothing of the collection) and the list agree route by route."""
    seen = set()
    routes = cfemu_dns.ROUTES + cfemu_tunnels.ROUTES + cfemu_access.ROUTES + cfemu_alerting.ROUTES
    for _method, template, _handler, needed in routes:
        resource = needed.partition(":")[0]
        path = re.sub(r"\{\w+\}", "0123456789abcdef0123456789abcdef", template)
        perm = perms.permission_for_path("/client/v4" + path + "?per_page=1")
        assert perm is not None, template
        assert perm["key"] == EMULATOR_RESOURCES[resource], (template, needed, perm["key"])
        seen.add(perm["key"])
    assert seen == {p["key"] for p in perms.PERMISSIONS}


def test_notification_routes_map_to_the_tunnel_alerts_permission():
    """Only an inventory with the tunnel health alert needs Notifications; a refusal names the permission."""
    perm = perms.get_permission("notifications")
    for _method, template, _handler, needed in cfemu_alerting.ROUTES:
        assert needed.partition(":")[0] == "notifications", template
        path = re.sub(r"\{\w+\}", "0123456789abcdef0123456789abcdef", template)
        assert perms.permission_for_path("/client/v4" + path) is perm, template
    assert perm not in perms.needed_permissions(["edge", "service_tokens"])
    assert perm in perms.needed_permissions(["edge", "tunnel_alerts"])
    msg = perms.explain_auth_error(403, [{"code": 10000}], "POST", "/accounts/%s/alerting/v3/policies" % ("a" * 32))
    assert "lacks the permission Account > Notifications > Edit" in msg and "cloudflare_edge_tunnel_alerts" in msg


def test_unrelated_paths_map_to_nothing():
    assert perms.permission_for_path("/user/tokens/verify") is None
    assert perms.permission_for_path("/accounts") is None
    assert perms.permission_for_path("") is None


# ---------------------------------------------------------------------------- messages


def test_missing_permission_names_it_and_where_to_grant_it():
    msg = perms.explain_auth_error(
        403,
        [{"code": 10000, "message": "Authentication error"}],
        "POST",
        "/accounts/%s/cfd_tunnel" % ("a" * 32),
    )
    assert "lacks the permission Account > Cloudflare Tunnel > Edit" in msg
    assert "My Profile > API Tokens" in msg
    assert "Account | Cloudflare Tunnel | Edit" in msg
    assert "Account Resources" in msg
    assert "POST /accounts/" in msg


def test_missing_zone_permission_names_the_zone_resources():
    msg = perms.explain_auth_error(403, [{"code": 10000}], "GET", "/zones/%s/dns_records" % ("c" * 32))
    assert "Zone > DNS > Edit" in msg and "Zone Resources" in msg


def test_account_token_points_to_the_account_tokens_page():
    msg = perms.explain_auth_error(403, [{"code": 10000}], "GET", "/accounts/x/access/apps", account_token=True)
    assert "Manage Account > Account API Tokens" in msg
    assert "Access: Apps and Policies" in msg


def test_403_on_an_unknown_path_still_says_why():
    msg = perms.explain_auth_error(403, [{"code": 10000, "message": "Authentication error"}], "GET", "/somewhere")
    assert "may not do this" in msg and "docs/getting-started.md" in msg


@pytest.mark.parametrize(
    ("status", "errors", "words"),
    [
        (403, [{"code": 1000, "message": "Invalid API Token (expired)"}], "expired"),
        (403, [{"code": 1000, "message": "Invalid API Token (disabled)"}], "disabled"),
        (400, [{"code": 9109, "message": "Invalid access token"}], "does not accept the API token"),
        (401, [{"code": 1000, "message": "Invalid API Token"}], "does not accept the API token"),
        (403, [{"code": 9103, "message": "Unknown X-Auth-Key or X-Auth-Email"}], "global API key"),
        (400, [{"code": 9106, "message": "Missing X-Auth-Key, X-Auth-Email or ..."}], "No Cloudflare credentials"),
        (400, [{"code": 6111, "message": "Invalid format for Authorization header"}], "Authorization header"),
        (401, [], "refused the credentials"),
    ],
)  # fmt: skip
def test_each_auth_answer_has_its_own_message(status, errors, words):
    msg = perms.explain_auth_error(status, errors, "GET", "/zones")
    assert words in msg
    assert "Unknown error" not in msg


def test_nested_codes_count():
    errors = [{"code": 1001, "message": "outer", "error_chain": [{"code": 10000, "message": "Authentication error"}]}]
    assert perms.is_auth_error(400, errors)
    assert "Zone > Zone > Read" in perms.explain_auth_error(400, errors, "GET", "/zones?name=example.com")


def test_other_answers_are_not_about_the_credentials():
    errors = [{"code": 81057, "message": "Record already exists."}]
    assert not perms.is_auth_error(400, errors)
    assert perms.explain_auth_error(400, errors, "POST", "/zones/x/dns_records") is None


@pytest.mark.parametrize(
    ("status", "expires", "words"),
    [
        ("expired", "2025-01-01T00:00:00Z", ["expired on 2025-01-01T00:00:00Z", "My Profile > API Tokens", "vault"]),
        ("expired", None, ["The API token expired:"]),
        ("disabled", None, ["is disabled", "My Profile > API Tokens"]),
        ("weird", None, ["'weird'"]),
    ],
)
def test_token_status_messages(status, expires, words):
    msg = perms.token_status_message(status, expires)
    for word in words:
        assert word in msg


def test_an_active_token_has_no_message():
    assert perms.token_status_message("active") is None


def test_no_message_holds_a_token():
    token = "emulator-token-edge-000000000000000000000"
    for perm in perms.PERMISSIONS:
        assert token not in perms.missing_permission_message(perm)


def test_account_tokens_are_told_by_their_prefix():
    assert perms.is_account_token("cfat_" + "0" * 40)
    assert not perms.is_account_token("emulator-token-edge-000000000000000000000")
    assert not perms.is_account_token(None)


def test_each_rule_has_one_definition():
    """The prefix and the error-code walk live in _permissions and _errors only."""
    plugins = Path(perms.__file__).parents[1]
    texts = {p.relative_to(plugins).as_posix(): p.read_text(encoding="utf-8") for p in plugins.rglob("*.py")}
    assert [n for n, t in texts.items() if 'ACCOUNT_TOKEN_PREFIX = "' in t] == ["module_utils/_permissions.py"]
    assert [n for n, t in texts.items() if 'walk(item.get("error_chain"))' in t] == ["module_utils/_errors.py"]
    assert [n for n, t in texts.items() if '.startswith("cfat_")' in t or "startswith(ACCOUNT_TOKEN_PREFIX)" in t] == [
        "module_utils/_permissions.py"
    ]
