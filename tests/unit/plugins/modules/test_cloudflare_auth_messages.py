# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Whole module runs (AnsibleModule, CloudflareModule, client) whose credentials Cloudflare refuses: the
result's ``msg`` says why and where to fix it, in ``_permissions``'s words, and never holds the token."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _cloudflare
from ansible_collections.homelab.mcp_edge.plugins.modules import cloudflare_token_info as token_info
from ansible_collections.homelab.mcp_edge.plugins.modules import cloudflare_tunnel_info as tunnel_info
from ansible_collections.homelab.mcp_edge.plugins.modules import cloudflare_zone_info as zone_info
from inprocess import InProcessEmulator

ACCOUNT = "a0000000000000000000000000000001"
EXPIRED = "emulator-token-expired-00000000000000000"
DISABLED = "emulator-token-disabled-0000000000000000"
DNS_ONLY = "emulator-token-dns-only-0000000000000000"
ACTIVE = "emulator-token-edge-000000000000000000000"


@pytest.fixture(scope="module")
def emulator():
    emu = InProcessEmulator()
    try:
        yield emu
    finally:
        emu.close()


def run_module(module, capsys, **args):
    """Run ``module.main()`` as Ansible would; return its JSON result (``failed`` set when it failed)."""
    args.setdefault("max_retries", 0)
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        module.main()
    result = json.loads(capsys.readouterr().out)
    assert bool(result.get("failed")) == (exited.value.code != 0)
    return result


def test_an_expired_token_is_not_active_and_says_why_without_failing(emulator, capsys):
    emulator.reset()
    result = run_module(token_info, capsys, api_token=EXPIRED, api_base_url=emulator.base_url)
    assert not result.get("failed") and result["active"] is False and result["status"] == "expired"
    assert result["msg"].startswith("The API token expired on 2025-01-01T00:00:00Z: Cloudflare refuses every request")
    assert "My Profile > API Tokens" in result["msg"] and EXPIRED not in json.dumps(result)


def test_a_disabled_token_is_not_active_and_says_why_without_failing(emulator, capsys):
    emulator.reset()
    result = run_module(token_info, capsys, api_token=DISABLED, api_base_url=emulator.base_url)
    assert not result.get("failed") and result["active"] is False and result["status"] == "disabled"
    assert result["msg"].startswith("The API token is disabled: Cloudflare refuses every request made with it.")
    assert DISABLED not in json.dumps(result)


def test_an_active_token_has_no_msg(emulator, capsys):
    emulator.reset()
    result = run_module(token_info, capsys, api_token=ACTIVE, api_base_url=emulator.base_url)
    assert result["active"] is True and "msg" not in result


@pytest.mark.parametrize(("token", "words"), [(EXPIRED, "expired"), (DISABLED, "is disabled")])
def test_a_refused_token_fails_another_module_with_the_token_state(emulator, capsys, token, words):
    emulator.reset()
    result = run_module(tunnel_info, capsys, api_token=token, api_base_url=emulator.base_url, account_id=ACCOUNT)
    assert result["failed"] and result["msg"].startswith("The API token %s" % words)
    # Cloudflare's own words follow the explanation.
    assert "Cloudflare answered: Cloudflare API request failed (HTTP 403)" in result["msg"]
    assert "[1000] Invalid API Token" in result["msg"] and token not in json.dumps(result)


def test_a_403_on_a_tunnel_path_names_the_tunnel_permission(emulator, capsys):
    emulator.reset()
    result = run_module(tunnel_info, capsys, api_token=DNS_ONLY, api_base_url=emulator.base_url, account_id=ACCOUNT)
    assert result["failed"] and result["status"] == 403
    assert result["msg"].startswith(
        "The API token lacks the permission Account > Cloudflare Tunnel > Edit (refused GET /accounts/%s/cfd_tunnel)"
        % ACCOUNT
    )
    assert "My Profile > API Tokens > the token's Edit > Permissions" in result["msg"]
    assert "Cloudflare answered: " in result["msg"] and DNS_ONLY not in json.dumps(result)


class CodeOnlyTransport:
    """Answers every call with HTTP 400 and Cloudflare's code 10000 (no 401/403 to go by)."""

    def __init__(self, *args, **kwargs):
        self.calls = []

    def request(self, method, path, body, headers):
        self.calls.append((method, path))
        body = {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}], "result": None}
        return 400, {}, json.dumps(body).encode()

    def close(self):
        pass


def test_a_10000_code_without_a_403_names_the_permission_of_the_path(capsys, monkeypatch):
    monkeypatch.setattr(_cloudflare, "Transport", CodeOnlyTransport)
    result = run_module(zone_info, capsys, api_token="cfat_unit-token-0000000000", name="example.com")
    assert result["failed"] and result["error_codes"] == [10000]
    assert result["msg"].startswith("The API token lacks the permission Zone > Zone > Read (refused GET /zones)")
    # An account token: the way to fix it is in the account's token page.
    assert "Manage Account > Account API Tokens" in result["msg"]
    assert result["msg"].endswith(
        "Cloudflare answered: Cloudflare API request failed (HTTP 400) on GET /zones: [10000] Authentication error"
    )
    assert "cfat_unit-token" not in json.dumps(result)


def test_an_error_not_about_the_credentials_keeps_cloudflare_words_only(capsys, monkeypatch):
    class Broken(CodeOnlyTransport):
        def request(self, method, path, body, headers):
            body = {"success": False, "errors": [{"code": 1004, "message": "DNS Validation Error"}]}
            return 400, {}, json.dumps(body).encode()

    monkeypatch.setattr(_cloudflare, "Transport", Broken)
    result = run_module(zone_info, capsys, api_token="unit-token-0000000000", name="example.com")
    assert result["failed"]
    assert result["msg"] == "Cloudflare API request failed (HTTP 400) on GET /zones: [1004] DNS Validation Error"
