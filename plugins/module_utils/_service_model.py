# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The one service description that drives every role (private: no API promise).

A user writes each service once in ``homelab_services``. This module checks that list
and fills in what is derived (hostname, the local URL cloudflared forwards to), so the
container, the tunnel ingress rule, the DNS record and the Access application all read
the same values. Every problem is collected, not just the first, and each message names
the variable, the entry and what would be valid.
"""

from __future__ import annotations

import re

from ansible_collections.homelab.mcp_edge.plugins.module_utils._egress import egress_problems
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import did_you_mean, is_dns_label, is_port

SERVICE_KINDS = ("mcp", "n8n", "http")
MCP_TRANSPORTS = ("stdio", "streamable-http")
# Where every MCP service answers Streamable HTTP on its 127.0.0.1 port (gateways and direct servers).
MCP_PATH = "/mcp"
# Where n8n serves its Prometheus metrics (N8N_METRICS), on the port of its editor and webhooks: for
# the host's Prometheus only, never on n8n's public hostname (``_ingress`` answers it 404 there).
N8N_METRICS_PATH = "/metrics"
# Keys the model itself understands. Role-specific keys (image, env, volumes, ...) are
# passed through untouched and checked by the role that uses them.
COMMON_KEYS = frozenset(
    {
        "name",
        "kind",
        "hostname",
        "port",
        "service_url",
        "path",
        "paths",
        "origin_request",
        "access",
        "enabled",
        "hosts",
    }
)
# The container settings of an MCP service (the mcp_servers role reads them; the backup role its
# volumes). One list, owned here, so an unknown key is caught wherever the services are checked.
CONTAINER_KEYS = (
    "image",
    "command",
    "entrypoint",
    "env",
    "secret_env",
    "gateway",
    "container_port",
    "user",
    "memory",
    "cpus",
    "pids_limit",
    "read_only",
    "tmpfs",
    "restart_policy",
    "healthcheck",
    "networks",
    "volumes",
    # Escape hatch, named for its risk: bind-mount host system paths (see docs/role-mcp-servers.md).
    "allow_host_system_mounts",
)
# Every key a service entry may hold, per kind. Anything else is an error (a typo in secret_env
# would otherwise silently drop a token).
KIND_KEYS = {
    "mcp": COMMON_KEYS | {"transport", "access_application", "egress"} | frozenset(CONTAINER_KEYS),
    "n8n": COMMON_KEYS | {"access_application", "egress"},
    "http": COMMON_KEYS | {"access_application"},
}
# Keys people reach for that the collection refuses outright: no escape hatch, by design.
_REFUSED_KEYS = {
    key: why
    for keys, why in (
        (("privileged",), "containers of this collection never run privileged"),
        (
            ("network_mode", "network", "host_network"),
            "containers never share the host's network (each service has its own bridge network)",
        ),
        (("cap_add", "capabilities"), "containers run with no capabilities at all"),
        (("devices",), "containers get no host devices"),
        (("pid", "pid_mode"), "containers never share the host's process namespace"),
        (("ipc_mode",), "containers never share the host's IPC namespace"),
        (("userns_mode",), "containers never leave the engine's user namespace settings"),
        (("security_opt", "security_opts"), "no-new-privileges and the default seccomp profile are always on"),
        (("ports", "published_ports"), "each service publishes exactly its 'port', on 127.0.0.1 only"),
    )
    for key in keys
}
_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
_LOCAL_SCHEMES = ("http://", "https://", "unix:", "tcp://", "ssh://", "rdp://", "unix+tls:", "smb://")


class ServiceModelError(ValueError):
    """Raised with every problem found; ``problems`` holds one message per problem."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def is_fqdn(value, allow_wildcard=False):
    """True for a lower-case DNS name with at least two labels (optionally ``*.`` first)."""
    if not isinstance(value, str) or not value or len(value) > 253 or value != value.lower():
        return False
    labels = value.split(".")
    if allow_wildcard and labels[0] == "*":
        labels = labels[1:]
    # Lower case is checked above, so the label rule (letters either case) accepts the same labels.
    return len(labels) >= 2 and all(is_dns_label(label) for label in labels)


def unknown_key_problems(service, kind, where):
    """One message per key that ``kind`` does not know, with a "did you mean" where one is close."""
    allowed = KIND_KEYS.get(kind)
    if allowed is None:
        return []
    problems = []
    for key in sorted(set(service) - allowed, key=str):
        if key in _REFUSED_KEYS:
            problems.append(f"{where}: '{key}' is not supported: {_REFUSED_KEYS[key]}.")
            continue
        hint = did_you_mean(key, allowed, cutoff=0.7)
        problems.append(
            f"{where}: unknown key '{key}'{hint}; a service of kind {kind} takes {', '.join(sorted(allowed))}."
        )
    return problems


def _claim(seen, key, index):
    """Record that entry ``index`` uses ``key``; the index of the entry that had it first, else None."""
    owner = seen.setdefault(key, index)
    return None if owner == index else owner


def normalize_services(services, domain, var_name="homelab_services", domain_var="homelab_domain"):
    """Validate ``services`` and return new dicts with derived fields filled in.

    Derived: ``kind`` (default ``mcp``), ``hostname`` (``<name>.<domain>``), ``service_url``
    (``http://127.0.0.1:<port>``), ``access`` (``[]``), ``origin_request`` (``{}``),
    ``paths`` (``[]``), ``enabled`` (``True``). Entries with ``enabled: false`` are dropped,
    after they were checked.
    """
    problems = []
    if services is None:
        services = []
    if not isinstance(services, list):
        raise ServiceModelError([f"{var_name} must be a list of services, got {type(services).__name__}."])
    domain_ok = isinstance(domain, str) and is_fqdn(domain.strip().lower().rstrip("."))
    domain = domain.strip().lower().rstrip(".") if isinstance(domain, str) else domain

    result = []
    seen_names = {}
    seen_hosts = {}
    seen_ports = {}
    for index, raw in enumerate(services):
        where = f"{var_name}[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where} must be a mapping with at least 'name', got {type(raw).__name__}.")
            continue
        name = raw.get("name")
        if isinstance(name, str):
            where = f"{var_name}[{index}] (name '{name}')"
        if not isinstance(name, str) or not _NAME_RE.match(name):
            problems.append(
                f"{where}: 'name' must be 1-32 lower-case letters, digits or '-' (not starting or ending "
                f"with '-'), got {name!r}."
            )
            continue
        service = dict(raw)
        kind = service.setdefault("kind", "mcp")
        if kind not in SERVICE_KINDS:
            problems.append(f"{where}: 'kind' must be one of {', '.join(SERVICE_KINDS)}, got {kind!r}.")

        problems.extend(unknown_key_problems(service, kind, where))

        owner = _claim(seen_names, name, index)
        if owner is not None:
            problems.append(f"{where}: the name '{name}' is already used by {var_name}[{owner}].")

        port = service.get("port")
        if port is None and "service_url" not in service:
            problems.append(f"{where}: 'port' is required (an integer 1-65535 published on 127.0.0.1).")
        elif port is not None and not is_port(port):
            problems.append(f"{where}: 'port' must be an integer from 1 to 65535, got {port!r}.")
        elif port is not None:
            owner = _claim(seen_ports, port, index)
            if owner is not None:
                problems.append(
                    f"{where}: port {port} is already used by {var_name}[{owner}]; every service "
                    "needs its own 127.0.0.1 port."
                )

        hostname = service.get("hostname")
        if hostname is None:
            if not domain_ok:
                problems.append(
                    f"{where}: no 'hostname' given and {domain_var} is not a valid domain ({domain!r}); set "
                    f"{domain_var} (for example 'example.com') or give the service a 'hostname'."
                )
            else:
                hostname = f"{name}.{domain}"
        elif not isinstance(hostname, str) or not is_fqdn(hostname.lower().rstrip("."), allow_wildcard=True):
            problems.append(
                f"{where}: 'hostname' must be a fully qualified lower-case DNS name such as "
                f"'{name}.example.com', got {hostname!r}."
            )
            hostname = None
        else:
            hostname = hostname.lower().rstrip(".")
        if hostname:
            service["hostname"] = hostname
            owner = _claim(seen_hosts, hostname, index)
            # Two services may share a hostname when paths tell them apart.
            if owner is not None and not service.get("path") and not (services[owner] or {}).get("path"):
                problems.append(
                    f"{where}: hostname '{hostname}' is already used by {var_name}[{owner}]; "
                    "give one of them a 'path' or a different 'hostname'."
                )

        url = service.get("service_url")
        if url is None:
            if is_port(port):
                service["service_url"] = f"http://127.0.0.1:{port}"
        elif not isinstance(url, str) or not (url.startswith(_LOCAL_SCHEMES) or url.startswith("http_status:")):
            problems.append(
                f"{where}: 'service_url' must start with one of {', '.join(_LOCAL_SCHEMES)} or be "
                f"'http_status:NNN', got {url!r}."
            )

        for key, expected, default in (
            ("access", list, []),
            ("paths", list, []),
            ("origin_request", dict, {}),
        ):
            value = service.get(key, default)
            if not isinstance(value, expected):
                problems.append(f"{where}: '{key}' must be a {expected.__name__}, got {type(value).__name__}.")
            service[key] = value if isinstance(value, expected) else default
        for policy in service["access"]:
            if not isinstance(policy, str) or not policy:
                problems.append(f"{where}: 'access' lists Access policy names (strings), got {policy!r}.")

        if "hosts" in service:
            problems.extend(_hosts_shape_problems(service["hosts"], where))

        if "path" in service and not isinstance(service["path"], str):
            problems.append(f"{where}: 'path' must be a regular expression string, got {service['path']!r}.")

        # Where the service's containers may connect to (the docker role enforces it).
        problems.extend(egress_problems(service.get("egress"), where))

        if kind == "mcp":
            transport = service.setdefault("transport", "stdio")
            if transport not in MCP_TRANSPORTS:
                problems.append(f"{where}: 'transport' must be one of {', '.join(MCP_TRANSPORTS)}, got {transport!r}.")

        enabled = service.setdefault("enabled", True)
        if not isinstance(enabled, bool):
            problems.append(f"{where}: 'enabled' must be true or false, got {enabled!r}.")
        elif enabled:
            result.append(service)

    if problems:
        raise ServiceModelError(problems)
    return result


def _hosts_shape_problems(hosts, where):
    if isinstance(hosts, list) and hosts and all(isinstance(name, str) and name for name in hosts):
        return []
    return [
        f"{where}: 'hosts' must be a non-empty list of inventory host or group names (leave it out to "
        f"run the service on every host), got {hosts!r}."
    ]


def placed_services(services, host, inventory_groups, var_name="homelab_services"):
    """The entries of ``services`` placed on ``host``: those without ``hosts`` and those whose ``hosts``
    name the host or one of its groups (``inventory_groups``: group name -> host names, Ansible's
    ``groups``).

    A name that is neither a host nor a group of the inventory raises ServiceModelError: a typo would
    otherwise run the service nowhere, silently. Entries too malformed to place are kept, so that
    normalize_services reports them where the role checks its services.
    """
    if not isinstance(services, list):
        return services
    groups = {name: members for name, members in (inventory_groups or {}).items() if isinstance(members, list)}
    known = set(groups) | {member for members in groups.values() for member in members}
    problems = []
    placed = []
    for index, service in enumerate(services):
        hosts = service.get("hosts") if isinstance(service, dict) else None
        if hosts is None or _hosts_shape_problems(hosts, ""):
            placed.append(service)
            continue
        unknown = [name for name in hosts if name not in known]
        for name in unknown:
            hint = did_you_mean(name, known)
            problems.append(
                f"{var_name}[{index}] (name '{service.get('name')}'): 'hosts' names '{name}', which is neither "
                f"a host nor a group of the inventory{hint}."
            )
        if any(name == host or host in groups.get(name, ()) for name in hosts):
            placed.append(service)
    if problems:
        raise ServiceModelError(problems)
    return placed
