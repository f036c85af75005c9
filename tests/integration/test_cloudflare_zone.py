# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""cloudflare_zone_info, account resolution and the action group through ansible-playbook."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_zone_info(run_playbook, emulator):
    result = run_playbook("zone_info.yml", check=True)
    assert result.rc == 0, result.output[-3000:]
    one = result["One zone by name"]
    assert one["changed"] is False and [z["name"] for z in one["zones"]] == ["example.com"]
    assert one["zones"][0]["account"]["id"] == emulator.account_id and one["api_requests"] == 1
    assert sorted(z["name"] for z in result["All zones"]["zones"]) == ["example.com", "example.org"]
    assert result["A zone that does not exist"]["zones"] == []
    assert emulator.writes() == []


def test_account_taken_from_zone(run_playbook, emulator):
    env = {"CLOUDFLARE_ACCOUNT_ID": ""}
    result = run_playbook("tunnel_one.yml", extra_vars={"tunnel_name": "z"}, env=env)
    # No account and no zone: the only account the token sees (GET /accounts) is used.
    res = result["Tunnel"]
    assert res["changed"] is True and res["tunnel"]["account_tag"] == emulator.account_id
    result = run_playbook("tunnel.yml", extra_vars={"cf_control_url": emulator.control_url}, env=env)
    # "Create remote tunnel" passes zone: and so finds the account.
    assert result["Create remote tunnel"]["changed"] is True
    assert result["Create remote tunnel"]["tunnel"]["account_tag"] == emulator.account_id


def test_permission_error_is_readable(run_playbook, emulator):
    token = emulator.token_with("zone:read", "dns:read", "tunnel:read", "access:read")
    result = run_playbook("dns_one.yml", extra_vars={"rec_content": "192.0.2.1"}, env={"CLOUDFLARE_API_TOKEN": token})
    res = result["Record"]
    assert res["failed"] is True and res["status"] == 403 and 10000 in res["error_codes"]
    assert "[10000]" in res["msg"] and "POST /zones/" in res["msg"]


def test_action_group_sets_auth_once(run_playbook, emulator, tmp_path):
    runtime = (REPO / "meta" / "runtime.yml").read_text()
    if "action_groups" not in runtime or "cloudflare_dns_record" not in runtime:
        pytest.skip("meta/runtime.yml has no cloudflare action group yet")
    playbook = tmp_path / "group.yml"
    playbook.write_text(
        """---
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/homelab.mcp_edge.cloudflare:
      api_token: "{{ token }}"
      api_base_url: "{{ base }}"
      account_id: "{{ account }}"
  tasks:
    - name: Zone
      homelab.mcp_edge.cloudflare_zone_info:
        name: example.com
    - name: Tunnel info
      homelab.mcp_edge.cloudflare_tunnel_info:
"""
    )
    env = {"CLOUDFLARE_API_TOKEN": "", "CLOUDFLARE_API_BASE_URL": "", "CLOUDFLARE_ACCOUNT_ID": ""}
    extra = {"token": emulator.token, "base": emulator.base_url, "account": emulator.account_id}
    result = run_playbook(str(playbook), extra_vars=extra, env=env)
    assert result.rc == 0, result.output[-3000:]
    assert result["Zone"]["zones"][0]["name"] == "example.com"
