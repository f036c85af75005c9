# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Filters of the monitoring role, over module_utils/_monitoring.py (which owns the rules)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._monitoring import (
    MonitoringError,
    probes,
    problems,
    scrapes,
    seconds,
    token_expiry,
)


def _probes(services, domain=None, mcp_headers=None):
    try:
        return probes(services, domain, mcp_headers)
    except MonitoringError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _scrapes(services, domain=None, n8n_metrics=True, docker_metrics_address=""):
    try:
        return scrapes(services, domain, n8n_metrics, docker_metrics_address)
    except MonitoringError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _seconds(value):
    try:
        return seconds(value)
    except MonitoringError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {
            "monitoring_problems": problems,
            "monitoring_probes": _probes,
            "monitoring_scrapes": _scrapes,
            "monitoring_seconds": _seconds,
            "monitoring_token_expiry": token_expiry,
        }
