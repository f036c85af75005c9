# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The docker role's settings check (the engine's metrics address) and the loopback rule it uses."""

from __future__ import annotations

import pytest
from ansible_collections.homelab.mcp_edge.plugins.filter.docker import FilterModule
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import loopback_port

PROBLEMS = FilterModule().filters()["docker_problems"]


@pytest.mark.parametrize(
    ("value", "port"),
    [
        ("127.0.0.1:9323", 9323),
        ("127.3.2.1:1", 1),
        ("[::1]:9323", 9323),
        ("0.0.0.0:9323", None),  # every address: what the trust boundary forbids
        ("192.168.1.10:9323", None),
        ("[::]:9323", None),
        ("localhost:9323", None),  # a name: dockerd would listen on whatever it resolves to
        ("127.0.0.1", None),
        ("127.0.0.1:0", None),
        ("127.0.0.1:65536", None),
        ("[127.0.0.1]:9323", None),
        ("::1:9323", None),
        (9323, None),
        (None, None),
    ],
)
def test_loopback_port(value, port):
    assert loopback_port(value) == port


@pytest.mark.parametrize("address", ["127.0.0.1:9323", "[::1]:9323", ""])
def test_metrics_address_accepted(address):
    assert PROBLEMS({"metrics_address": address, "daemon_options": {"userland-proxy": False}}) == []


@pytest.mark.parametrize("address", ["0.0.0.0:9323", ":9323", "localhost:9323", "127.0.0.1", None, 9323])
def test_metrics_address_refused_naming_the_variable_and_what_is_valid(address):
    (problem,) = PROBLEMS({"metrics_address": address, "daemon_options": {}})
    assert problem.startswith("docker_metrics_address must be a loopback address and port, such as '127.0.0.1:9323'")
    assert "or empty for none" in problem and repr(address) in problem


def test_daemon_options_may_not_bypass_the_metrics_address_check():
    (problem,) = PROBLEMS({"metrics_address": "", "daemon_options": {"metrics-addr": "0.0.0.0:9323"}})
    assert "docker_daemon_options sets 'metrics-addr'" in problem and "set docker_metrics_address instead" in problem
