# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Turn MCP service entries into hardened container specs (used by the mcp_servers role).

Two filters share one checker:

``mcp_container_problems`` returns every problem of the service list (the common model's
checks from ``_service_model`` plus the container-specific ones) as a list of messages,
each naming the variable, the entry and what would be valid. It never raises, so the role
can show all problems in one preflight ``assert`` without templating any secret into the
task's output. Messages name secret keys, never their values.

``mcp_container_specs`` returns one spec per MCP service: everything ``docker_container``
needs (entrypoint, env, ports, limits, health check, labels, networks). It raises when the
list has problems; the role only calls it after preflight passed.

How a stdio server meets its gateway: a stdio server cannot be reached from another
container without the Docker socket (which we refuse to mount), so the service image carries
both the gateway and the server, and the spec's command is the gateway's command line (from
a flavour template) with the service's ``command`` as the child process it spawns; the
image's ENTRYPOINT (an init such as ``tini --``) stays in front.
"""

from __future__ import annotations

import posixpath
import re
import shlex

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import (
    MCP_PATH,
    ServiceModelError,
    normalize_services,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import is_port

# The labels the collection puts on its containers, networks and volumes: defined here only; the roles
# read them through the managed_labels and managed_label_filter filters.
LABEL_PREFIX = "io.homelab.mcp_edge"
MANAGED_LABEL = f"{LABEL_PREFIX}.managed"
ROLE_LABEL = f"{LABEL_PREFIX}.role"
SERVICE_LABEL = f"{LABEL_PREFIX}.service"
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MEMORY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?[bkmgBKMG]?$")
# Not _values.go_duration_seconds on purpose: a healthcheck duration here is one whole-number term (10s).
_DURATION_RE = re.compile(r"^[0-9]+(ms|s|m|h)$")
_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_HEADER_RE = re.compile(r"^[A-Za-z0-9-]+$")
# A gateway token from the vault: shorter ones are guessable (generated ones have 43 characters).
MIN_GATEWAY_TOKEN_LENGTH = 24
# Host paths a container must not get (as a bind mount, or anything below them) unless the service
# says allow_host_system_mounts: true. The engine's socket is root on the host.
HOST_SYSTEM_PATHS = (
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
    "/run",
    "/var/run",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
)
GATEWAY_KEYS = ("flavour", "allowed_origins", "bearer_token")
HEALTHCHECK_KEYS = ("test", "interval", "timeout", "retries", "start_period")
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
NETWORK_MODES = ("per_service", "shared")


def is_root_user(user):
    """uid 0 in any spelling: 'root', '0', '00', '0:0', 'root:1000', ' 0'."""
    uid = str(user).split(":", 1)[0].strip()
    return uid.lower() == "root" or (uid.isascii() and uid.isdigit() and int(uid) == 0)


def host_mount_problem(volume):
    """Why bind-mounting ``volume``'s source would hand the container the host, or None."""
    source = volume.split(":", 1)[0].strip()
    if not source.startswith("/"):
        return None  # a named volume
    path = posixpath.normpath(source)
    if path.endswith((".sock", "/docker.sock", "/containerd.sock")):
        return "mounts a socket of the host (the container engine's socket is root on the host)"
    if path == "/":
        return "mounts the host's root file system"
    for system in HOST_SYSTEM_PATHS:
        if path == system or path.startswith(system + "/"):
            return f"mounts the host system path {system}"
    return None


def _is_str_list(value, allow_empty=True):
    return (
        isinstance(value, list)
        and (allow_empty or bool(value))
        and all(isinstance(item, str) and item for item in value)
    )


def _env_problems(value, where, key, secret):
    if value is None:
        return []
    if not isinstance(value, dict):
        return [f"{where}: '{key}' must be a mapping of variable names to values, got {type(value).__name__}."]
    problems = []
    for name, item in value.items():
        if not isinstance(name, str) or not _ENV_NAME_RE.match(name):
            problems.append(f"{where}: '{key}' has an invalid variable name {name!r} (letters, digits and '_').")
            continue
        if item is None or isinstance(item, (dict, list)):
            shown = type(item).__name__ if secret else repr(item)
            problems.append(
                f"{where}: '{key}.{name}' must be a string, number or boolean, got {shown}"
                + (" (for a vault secret: is the vault variable defined?)." if secret else ".")
            )
        elif secret and isinstance(item, str) and not item:
            problems.append(f"{where}: '{key}.{name}' is empty; give it the secret's value (from the vault).")
    return problems


def _as_env(value):
    result = {}
    for name, item in (value or {}).items():
        if isinstance(item, bool):
            result[name] = "true" if item else "false"
        else:
            result[name] = str(item)
    return result


def _as_argv(command):
    if command is None:
        return None
    if isinstance(command, str):
        return shlex.split(command)
    return list(command)


def _subst(text, **values):
    # str.replace, not str.format: health-check snippets carry braces of their own (JS, Python).
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def _settings_problems(settings):
    problems = []
    var = "mcp_servers"
    flavours = settings.get("gateway_flavours")
    if not isinstance(flavours, dict) or not flavours:
        return [f"{var}_gateway_flavours must be a non-empty mapping of flavour name to its template."]
    for name, flavour in flavours.items():
        where = f"{var}_gateway_flavours['{name}']"
        if not isinstance(flavour, dict):
            problems.append(f"{where} must be a mapping.")
            continue
        if not _is_str_list(flavour.get("command"), allow_empty=False):
            problems.append(f"{where}.command must be a non-empty list of strings (the gateway's argv).")
        if not _is_str_list(flavour.get("server_args"), allow_empty=False) or not any(
            "{server}" in arg or "{server_argv}" in arg for arg in flavour.get("server_args") or []
        ):
            problems.append(
                f"{where}.server_args must be a list of strings holding '{{server}}' (the server command "
                "as one shell string) or '{server_argv}' (spliced as separate arguments)."
            )
        if not isinstance(flavour.get("health_path"), str) or not flavour["health_path"].startswith("/"):
            problems.append(f"{where}.health_path must be a path such as '/status'.")
        if not _is_str_list(flavour.get("health_test"), allow_empty=False):
            problems.append(f"{where}.health_test must be a Docker health-check test list such as ['CMD', ...].")
        for key in ("origin_args",):
            if flavour.get(key) is not None and not _is_str_list(flavour.get(key)):
                problems.append(f"{where}.{key} must be a list of strings (or null when unsupported).")
        if flavour.get("bearer_token_env") is not None and not (
            isinstance(flavour["bearer_token_env"], str) and _ENV_NAME_RE.match(flavour["bearer_token_env"])
        ):
            problems.append(f"{where}.bearer_token_env must be an environment variable name (or null).")
        if flavour.get("bearer_token_env") and not (
            isinstance(flavour.get("token_header"), str) and _HEADER_RE.match(flavour["token_header"])
        ):
            problems.append(
                f"{where}.token_header must name the HTTP header a client sends the token in (such as "
                "'X-API-Key', or 'Authorization' for 'Bearer <token>') when bearer_token_env is set."
            )
    if settings.get("gateway_flavour") not in flavours:
        problems.append(
            f"{var}_gateway_flavour must be one of {', '.join(sorted(flavours))}, "
            f"got {settings.get('gateway_flavour')!r}."
        )
    if settings.get("network_mode") not in NETWORK_MODES:
        problems.append(
            f"{var}_network_mode must be one of {', '.join(NETWORK_MODES)}, got {settings.get('network_mode')!r}."
        )
    if not is_port(settings.get("gateway_port")):
        problems.append(f"{var}_gateway_port must be an integer from 1 to 65535, got {settings.get('gateway_port')!r}.")
    if not is_port(settings.get("container_port")):
        problems.append(
            f"{var}_container_port must be an integer from 1 to 65535, got {settings.get('container_port')!r}."
        )
    if not _is_str_list(settings.get("allowed_origins") or []):
        problems.append(f"{var}_allowed_origins must be a list of origins such as 'https://claude.ai'.")
    if not _is_str_list(settings.get("healthcheck_test"), allow_empty=False):
        problems.append(f"{var}_healthcheck_test must be a Docker health-check test list such as ['CMD', ...].")
    return problems


def _service_problems(service, where, settings):
    problems = []
    transport = service.get("transport")
    image = service.get("image")
    if not isinstance(image, str) or not image.strip():
        problems.append(
            f"{where}: 'image' is required for an MCP service (a container image reference such as "
            f"'example/mcp-{service.get('name')}:1.0.0'), got {image!r}."
        )
    elif not re.match(r"^[a-z0-9][a-z0-9._/:@-]*$", image):
        problems.append(f"{where}: 'image' {image!r} is not a valid image reference.")

    command = service.get("command")
    if (
        command is not None
        and not (isinstance(command, str) and command.strip())
        and not _is_str_list(command, allow_empty=False)
    ):
        problems.append(f"{where}: 'command' must be a non-empty list of strings (or one string), got {command!r}.")
    entrypoint = service.get("entrypoint")
    if entrypoint is not None and not _is_str_list(entrypoint):
        problems.append(f"{where}: 'entrypoint' must be a list of strings, got {entrypoint!r}.")
    if transport == "stdio" and command is None:
        problems.append(
            f"{where}: 'command' is required with transport 'stdio': it is the server the gateway starts "
            "inside the container (for example [mcp-server-time])."
        )

    problems += _env_problems(service.get("env"), where, "env", secret=False)
    problems += _env_problems(service.get("secret_env"), where, "secret_env", secret=True)
    if isinstance(service.get("env"), dict) and isinstance(service.get("secret_env"), dict):
        both = sorted(set(service["env"]) & set(service["secret_env"]))
        if both:
            problems.append(f"{where}: {', '.join(both)} set in both 'env' and 'secret_env'; keep each in one.")

    gateway = service.get("gateway")
    flavours = settings.get("gateway_flavours") or {}
    if gateway is not None:
        if transport != "stdio":
            problems.append(
                f"{where}: 'gateway' applies to transport 'stdio' only; a streamable-http server is published "
                "directly (drop 'gateway' or set transport: stdio)."
            )
        if not isinstance(gateway, dict):
            problems.append(f"{where}: 'gateway' must be a mapping with keys {', '.join(GATEWAY_KEYS)}.")
            gateway = {}
        unknown = sorted(set(gateway) - set(GATEWAY_KEYS))
        if unknown:
            problems.append(
                f"{where}: unknown 'gateway' key(s) {', '.join(unknown)}; valid: {', '.join(GATEWAY_KEYS)}."
            )
    gateway = gateway if isinstance(gateway, dict) else {}
    if transport == "stdio" and isinstance(flavours, dict):
        flavour_name = gateway.get("flavour", settings.get("gateway_flavour"))
        flavour = flavours.get(flavour_name)
        if flavour is None:
            problems.append(
                f"{where}: 'gateway.flavour' must be one of {', '.join(sorted(flavours))}, got {flavour_name!r}."
            )
            flavour = {}
        origins = gateway.get("allowed_origins", settings.get("allowed_origins") or [])
        if not _is_str_list(origins):
            problems.append(f"{where}: 'gateway.allowed_origins' must be a list of origins, got {origins!r}.")
        elif origins and not flavour.get("origin_args") and flavour_name in flavours:
            problems.append(
                f"{where}: gateway flavour '{flavour_name}' cannot restrict origins; drop 'allowed_origins' "
                "(and mcp_servers_allowed_origins) or choose a flavour with origin_args."
            )
        token = gateway.get("bearer_token")
        if token is not None and token is not False:
            if not isinstance(token, str) or not token:
                problems.append(
                    f"{where}: 'gateway.bearer_token' must be the token (a string from the vault), or false for "
                    "no token; leave it out to have one generated."
                )
            elif flavour_name in flavours and not flavour.get("bearer_token_env"):
                problems.append(
                    f"{where}: gateway flavour '{flavour_name}' does not check bearer tokens; drop "
                    "'gateway.bearer_token' (Cloudflare Access authenticates callers) or choose a flavour "
                    "with bearer_token_env, such as mcp-proxy-node."
                )
            elif len(token) < MIN_GATEWAY_TOKEN_LENGTH:
                problems.append(
                    f"{where}: 'gateway.bearer_token' has {len(token)} characters; use at least "
                    f"{MIN_GATEWAY_TOKEN_LENGTH} (or leave it out to have one generated)."
                )

    container_port = service.get("container_port")
    if container_port is not None:
        if transport == "stdio":
            problems.append(
                f"{where}: 'container_port' is for streamable-http servers; a stdio server's gateway listens on "
                "mcp_servers_gateway_port."
            )
        elif not is_port(container_port):
            problems.append(f"{where}: 'container_port' must be an integer from 1 to 65535, got {container_port!r}.")

    user = service.get("user", settings.get("user"))
    if not isinstance(user, str) or not user:
        problems.append(f"{where}: 'user' must be a 'uid:gid' string such as '10001:10001', got {user!r}.")
    elif is_root_user(user):
        problems.append(f"{where}: 'user' must not be root (got {user!r}); MCP containers run unprivileged.")

    memory = service.get("memory")
    if memory is not None and not (
        (isinstance(memory, str) and _MEMORY_RE.match(memory))
        or (isinstance(memory, int) and not isinstance(memory, bool) and memory > 0)
    ):
        problems.append(f"{where}: 'memory' must be a size such as '256m' or '1g', got {memory!r}.")
    cpus = service.get("cpus")
    if cpus is not None and not (isinstance(cpus, (int, float)) and not isinstance(cpus, bool) and cpus > 0):
        problems.append(f"{where}: 'cpus' must be a positive number such as 0.5, got {cpus!r}.")
    pids = service.get("pids_limit")
    if pids is not None and not (isinstance(pids, int) and not isinstance(pids, bool) and pids > 0):
        problems.append(f"{where}: 'pids_limit' must be a positive integer, got {pids!r}.")
    if "read_only" in service and not isinstance(service["read_only"], bool):
        problems.append(f"{where}: 'read_only' must be true or false, got {service['read_only']!r}.")
    for key in ("tmpfs", "networks", "volumes"):
        if key in service and not _is_str_list(service[key]):
            problems.append(f"{where}: '{key}' must be a list of strings, got {service[key]!r}.")
    hatch = service.get("allow_host_system_mounts", False)
    if not isinstance(hatch, bool):
        problems.append(f"{where}: 'allow_host_system_mounts' must be true or false, got {hatch!r}.")
    elif not hatch:
        for volume in service.get("volumes") or []:
            reason = host_mount_problem(volume) if isinstance(volume, str) else None
            if reason:
                problems.append(
                    f"{where}: volume {volume!r} {reason}; set allow_host_system_mounts: true on this service only if "
                    "you accept what that path gives the container."
                )
    for net in service.get("networks") or []:
        if isinstance(net, str) and not _NAME_RE.match(net):
            problems.append(f"{where}: 'networks' entry {net!r} is not a valid Docker network name.")
    policy = service.get("restart_policy")
    if policy is not None and policy not in RESTART_POLICIES:
        problems.append(f"{where}: 'restart_policy' must be one of {', '.join(RESTART_POLICIES)}, got {policy!r}.")

    health = service.get("healthcheck")
    if health is not None:
        if not isinstance(health, dict):
            problems.append(f"{where}: 'healthcheck' must be a mapping with keys {', '.join(HEALTHCHECK_KEYS)}.")
        else:
            unknown = sorted(set(health) - set(HEALTHCHECK_KEYS))
            if unknown:
                problems.append(
                    f"{where}: unknown 'healthcheck' key(s) {', '.join(unknown)}; valid: {', '.join(HEALTHCHECK_KEYS)}."
                )
            if "test" in health and not _is_str_list(health["test"], allow_empty=False):
                problems.append(f"{where}: 'healthcheck.test' must be a list such as ['CMD', 'true'].")
            for key in ("interval", "timeout", "start_period"):
                if key in health and not (isinstance(health[key], str) and _DURATION_RE.match(health[key])):
                    problems.append(
                        f"{where}: 'healthcheck.{key}' must be a duration such as '10s', got {health[key]!r}."
                    )
            if "retries" in health and not (isinstance(health["retries"], int) and health["retries"] > 0):
                problems.append(f"{where}: 'healthcheck.retries' must be a positive integer.")
    return problems


def container_problems(services, settings):
    """Every problem of ``services`` for the mcp_servers role, as messages (an empty list when fine)."""
    settings = settings or {}
    var_name = settings.get("var_name", "mcp_servers_services")
    problems = _settings_problems(settings)
    try:
        normalize_services(
            services,
            settings.get("domain"),
            var_name=var_name,
            domain_var=settings.get("domain_var", "homelab_domain"),
        )
    except ServiceModelError as exc:
        problems += exc.problems
    # The container checks read the raw entries (with the model's defaults), so one run
    # reports the model's problems and the container problems together.
    for index, raw in enumerate(services if isinstance(services, list) else []):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            continue
        service = dict(raw)
        if service.setdefault("kind", "mcp") != "mcp" or service.get("enabled", True) is False:
            continue
        service.setdefault("transport", "stdio")
        where = f"{var_name}[{index}] (name '{service['name']}')"
        problems += _service_problems(service, where, settings)
    problems += _shared_network_egress_problems(services, settings, var_name)
    return problems


def _shared_network_egress_problems(services, settings, var_name):
    """On one shared network every service's packets leave through the same bridge: the guard
    cannot tell them apart, so their egress must be the same."""
    if settings.get("network_mode") != "shared" or not isinstance(services, list):
        return []
    mcp = [
        s
        for s in services
        if isinstance(s, dict) and s.get("kind", "mcp") == "mcp" and s.get("enabled", True) is not False
    ]
    values = {repr(s.get("egress")) for s in mcp}
    if len(values) <= 1:
        return []
    return [
        f"{var_name}: with mcp_servers_network_mode shared every MCP service leaves through the same bridge, so "
        f"their 'egress' must be the same (got {', '.join(sorted(values))}); use mcp_servers_network_mode "
        "per_service to give services different egress."
    ]


def _mcp_container_problems(services, settings):
    return container_problems(services, settings)


def _healthcheck(service, settings, default_test, url):
    base = dict(settings.get("healthcheck") or {})
    base.update(service.get("healthcheck") or {})
    test = base.get("test") or default_test
    port = service.get("container_port") or settings.get("container_port")
    if service.get("transport") == "stdio":
        port = settings.get("gateway_port")
    result = {"test": [_subst(arg, port=port, url=url) for arg in test]}
    for key in ("interval", "timeout", "retries", "start_period"):
        if base.get(key) is not None:
            result[key] = base[key]
    return result


def container_specs(services, settings):
    """One docker_container-ready spec per MCP service (raises when the services have problems)."""
    problems = container_problems(services, settings)
    if problems:
        raise AnsibleFilterError(
            f"{len(problems)} problem(s) in {settings.get('var_name', 'mcp_servers_services')}:\n- "
            + "\n- ".join(problems)
        )
    normalized = normalize_services(
        services,
        settings.get("domain"),
        var_name=settings.get("var_name", "mcp_servers_services"),
        domain_var=settings.get("domain_var", "homelab_domain"),
    )
    prefix = settings.get("container_prefix", "mcp-")
    specs = []
    for service in normalized:
        if service.get("kind") != "mcp":
            continue
        name = service["name"]
        env = _as_env(service.get("env"))
        secret_env = _as_env(service.get("secret_env"))
        if settings.get("network_mode") == "shared":
            network = settings.get("shared_network", "mcp")
        else:
            network = f"{settings.get('network_prefix', prefix)}{name}"
        entrypoint = service.get("entrypoint")
        command = _as_argv(service.get("command"))
        gateway_token = None
        if service["transport"] == "stdio":
            gateway = service.get("gateway") or {}
            flavour_name = gateway.get("flavour", settings["gateway_flavour"])
            flavour = settings["gateway_flavours"][flavour_name]
            port = settings["gateway_port"]
            argv = [_subst(arg, port=port) for arg in flavour["command"]]
            for origin in gateway.get("allowed_origins", settings.get("allowed_origins") or []):
                argv += [_subst(arg, origin=origin) for arg in flavour["origin_args"]]
            for arg in flavour["server_args"]:
                if arg == "{server_argv}":
                    argv += command
                else:
                    argv.append(_subst(arg, server=shlex.join(command)))
            token = gateway.get("bearer_token")
            if flavour.get("bearer_token_env") and token is not False:
                # From the vault, or generated on the host by the role when the entry has none.
                gateway_token = {
                    "env": flavour["bearer_token_env"],
                    "header": flavour["token_header"],
                    "source": "vault" if token else "generated",
                }
                if token:
                    secret_env[flavour["bearer_token_env"]] = token
            # The gateway line is the container's command: the image's ENTRYPOINT (an init such as
            # `tini --`, or none) stays in front of it and must exec its arguments.
            command = argv
            health_url = f"http://127.0.0.1:{port}{flavour['health_path']}"
            default_test = flavour["health_test"]
            container_port = port
            gateway_name = flavour_name
        else:
            container_port = service.get("container_port") or settings["container_port"]
            health_url = None
            default_test = settings["healthcheck_test"]
            gateway_name = None
        labels = managed_labels("mcp_servers", name)
        tmpfs = service.get("tmpfs", settings.get("tmpfs") or [])
        specs.append(
            {
                "name": name,
                "container_name": f"{prefix}{name}",
                "image": service["image"],
                "transport": service["transport"],
                "gateway": gateway_name,
                # Which header the gateway checks and where the token comes from (never the value).
                "gateway_token": gateway_token,
                "entrypoint": entrypoint,
                "command": command,
                "env": env,
                "secret_env": secret_env,
                "port": service["port"],
                "container_port": container_port,
                "published_ports": [f"127.0.0.1:{service['port']}:{container_port}"],
                "url": f"http://127.0.0.1:{service['port']}{MCP_PATH}",
                "network": network,
                # Where the container may connect to (the docker role's container guard enforces it).
                "egress": service.get("egress"),
                "networks": [network] + [n for n in service.get("networks") or [] if n != network],
                "user": service.get("user", settings.get("user")),
                "read_only": service.get("read_only", settings.get("read_only", True)),
                "tmpfs": tmpfs,
                "memory": str(service.get("memory", settings.get("memory"))),
                "cpus": float(service.get("cpus", settings.get("cpus"))),
                "pids_limit": int(service.get("pids_limit", settings.get("pids_limit"))),
                "restart_policy": service.get("restart_policy", settings.get("restart_policy", "unless-stopped")),
                "healthcheck": _healthcheck(service, settings, default_test, health_url),
                "volumes": list(service.get("volumes") or []),
                "labels": labels,
                "has_secrets": bool(secret_env) or gateway_token is not None,
            }
        )
    return specs


def managed_labels(role="", service=""):
    """The labels that mark an object as the collection's: always managed, then role and service when given."""
    labels = {MANAGED_LABEL: "true"}
    if role:
        labels[ROLE_LABEL] = role
    if service:
        labels[SERVICE_LABEL] = service
    return labels


def managed_label_filter(role):
    """The Docker label filter (``key=value``) that finds what ``role`` made."""
    if not role:
        raise AnsibleFilterError("managed_label_filter needs a role name (for example 'n8n')")
    return f"{ROLE_LABEL}={role}"


def _mcp_container_specs(services, settings):
    return container_specs(services, settings)


def _service_problems_filter(services, domain=None, var_name="homelab_services", domain_var="homelab_domain"):
    """The common model's problems of ``services`` as a list (empty when fine); never raises."""
    try:
        normalize_services(services, domain, var_name=var_name, domain_var=domain_var)
    except ServiceModelError as exc:
        return list(exc.problems)
    return []


class FilterModule:
    def filters(self):
        return {
            "service_problems": _service_problems_filter,
            "mcp_container_problems": _mcp_container_problems,
            "mcp_container_specs": _mcp_container_specs,
            "managed_labels": managed_labels,
            "managed_label_filter": managed_label_filter,
        }
