# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""No API token, global key, tunnel secret or tunnel token is printed, even at -vvv."""

from __future__ import annotations

import base64
import json


def tunnel_secrets(emulator):
    """Every tunnel secret the emulator holds, with the token derived from it."""
    out = []
    for t in emulator.state()["tunnels"]:
        secret = t.get("secret")
        if not secret:
            continue
        token = base64.b64encode(
            json.dumps({"a": t["account_tag"], "t": t["id"], "s": secret}, separators=(",", ":")).encode()
        ).decode()
        out += [secret, token]
    return out


def assert_not_in(output, secrets):
    for secret in secrets:
        assert secret not in output, "a secret (%s...) was printed" % secret[:4]


def test_vvv_prints_no_secret(run_playbook, emulator):
    outputs = []
    for json_output in (False, True):
        emulator.reset()
        result = run_playbook(
            "tunnel.yml",
            extra_vars={"cf_no_log": True, "cf_control_url": emulator.control_url},
            verbosity=3,
            json_output=json_output,
        )
        assert result.rc == 0, result.output[-3000:]
        outputs.append((result.output, tunnel_secrets(emulator)))
        result = run_playbook("converge.yml", extra_vars={"converge_records": 3}, verbosity=3, json_output=json_output)
        assert result.rc == 0, result.output[-3000:]
        outputs.append((result.output, tunnel_secrets(emulator)))
    for output, secrets in outputs:
        assert len(secrets) >= 2
        assert_not_in(output, [emulator.token, *secrets])
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output  # the token was there, masked


def test_given_secret_and_legacy_key_not_printed(run_playbook, emulator):
    key = emulator.seed["legacy_keys"][0]
    secret = base64.b64encode(b"s3cr3t-tunnel-secret-of-32-bytes").decode()
    env = {"CLOUDFLARE_API_TOKEN": "", "CLOUDFLARE_EMAIL": key["email"], "CLOUDFLARE_API_KEY": key["key"]}
    result = run_playbook(
        "tunnel_one.yml", extra_vars={"tunnel_secret": secret}, verbosity=3, json_output=False, env=env
    )
    assert result.rc == 0, result.output[-3000:]
    assert emulator.tunnels()[0]["secret"] == secret
    assert_not_in(result.output, [key["key"], secret])


def test_bad_token_error_does_not_echo_it(run_playbook, emulator):
    bogus = "bogus-token-value-0123456789abcdef0123"
    result = run_playbook(
        "dns_one.yml", extra_vars={"rec_content": "192.0.2.1"}, verbosity=3, env={"CLOUDFLARE_API_TOKEN": bogus}
    )
    res = result["Record"]
    assert res["failed"] is True and res["status"] in (400, 401, 403)
    assert res["error_codes"], res["msg"]
    assert bogus not in result.output


def test_missing_credentials_message(run_playbook, emulator):
    result = run_playbook("dns_one.yml", extra_vars={"rec_content": "192.0.2.1"}, env={"CLOUDFLARE_API_TOKEN": ""})
    res = result["Record"]
    assert res["failed"] is True and "no Cloudflare credentials: set api_token" in res["msg"]
    assert emulator.requests() == []
