# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Filters of the docker role: ``docker_problems`` checks the settings of the engine the role writes
to ``daemon.json`` that a Jinja test cannot check well. The value rules are module_utils' (``_values``)."""

from __future__ import annotations

from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import loopback_address_problem

# daemon.json keys the role writes from a variable of its own, which docker_daemon_options must not set.
_OWNED_KEYS = {"metrics-addr": "docker_metrics_address"}


def docker_problems(settings):
    """Every problem of ``settings`` ``{metrics_address, daemon_options}`` (the role's variables without
    the ``docker_`` prefix), as messages naming the variable; [] when all is well."""
    settings = settings or {}
    problems = []
    problem = loopback_address_problem(settings.get("metrics_address"), "docker_metrics_address")
    if problem:
        problems.append(problem)
    options = settings.get("daemon_options")
    for key, variable in _OWNED_KEYS.items():
        if isinstance(options, dict) and key in options:
            problems.append(
                f"docker_daemon_options sets '{key}', which the role writes from {variable}: set {variable} instead "
                "(it is checked to be a loopback address)."
            )
    return problems


class FilterModule:
    def filters(self):
        return {"docker_problems": docker_problems}
