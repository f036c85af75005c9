# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Filters over the one service description (``homelab_services``)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import (
    ServiceModelError,
    normalize_services,
    placed_services,
)


def _problems_error(exc, var_name):
    return AnsibleFilterError(f"{len(exc.problems)} problem(s) in {var_name}:\n- " + "\n- ".join(exc.problems))


def _normalize_services(services, domain=None, var_name="homelab_services", domain_var="homelab_domain"):
    try:
        return normalize_services(services, domain, var_name=var_name, domain_var=domain_var)
    except ServiceModelError as exc:
        raise _problems_error(exc, var_name) from None


def _placed_on(services, host, inventory_groups, var_name="homelab_services"):
    try:
        return placed_services(services, host, inventory_groups, var_name=var_name)
    except ServiceModelError as exc:
        raise _problems_error(exc, var_name) from None


def _services_of_kind(services, *kinds):
    return [service for service in services if service.get("kind") in kinds]


def _service_kinds(services):
    """The kinds of the enabled entries (lenient: anything malformed is left to the preflight checks)."""
    if not isinstance(services, list):
        return []
    return [s.get("kind", "mcp") for s in services if isinstance(s, dict) and s.get("enabled", True) is not False]


class FilterModule:
    def filters(self):
        return {
            "normalize_services": _normalize_services,
            "placed_on": _placed_on,
            "services_of_kind": _services_of_kind,
            "service_kinds": _service_kinds,
        }
