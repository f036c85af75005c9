# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""A secret-writing task that fails says why, and the secret stays hidden (mcp_servers gateway tokens).

The step that writes a generated gateway token hides its output (no_log) and, in a rescue, names the
reason through the failure_reasons filter. Each write is made to fail by a directory where the file
goes: on the host (the token file) and on the controller (the copy written once). The run is -vvv: the
reason must be in the output, the token never.
"""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the role writes the host's token file as root")


def run(_runner, tmp_path):
    return _runner(
        "gateway_token_failure.yml",
        extra_vars={"token_dir": str(tmp_path / "host"), "secrets_dir": str(tmp_path / "controller")},
        verbosity=3,
        json_output=False,
    )


def test_a_failed_write_on_the_host_says_why(_runner, tmp_path):
    (tmp_path / "host" / "mcp-docs.token").mkdir(parents=True)
    result = run(_runner, tmp_path)
    assert result.rc != 0
    result.assert_no_traceback()
    # The rescue's own message, the failed item named (ansible-core's [ERROR] line alone is not enough).
    expected = "Writing a gateway token to %s failed: mcp-docs: can not use content with a dir as dest"
    assert expected % (tmp_path / "host") in result.output
    assert not (tmp_path / "controller").exists(), "nothing may reach the controller after the host failed"


def test_a_failed_write_on_the_controller_says_why_and_never_shows_the_token(_runner, tmp_path):
    (tmp_path / "controller" / "localhost-mcp-docs.gateway-token").mkdir(parents=True)
    result = run(_runner, tmp_path)
    assert result.rc != 0
    result.assert_no_traceback()
    token = (tmp_path / "host" / "mcp-docs.token").read_text().strip()
    assert len(token) == 43
    expected = "Writing a new gateway token to %s on the controller failed: mcp-docs: can not use content with a dir"
    assert expected % (tmp_path / "controller") in result.output
    assert token not in result.output
