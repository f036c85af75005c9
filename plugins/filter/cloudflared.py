# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The cloudflared role's tunnel model: the tunnels it runs, their config.yml and their secret files.

* ``cloudflared_tunnel_problems``: every problem of the tunnels the ``cloudflared`` role would run.
* ``cloudflared_tunnels``: those tunnels, normalised; ``part='public'`` (no secret at all: file paths,
  config.yml content, unit name, metrics port) or ``part='secret'`` (the credentials / token files).

Messages never quote a secret (tunnel secret, token): they name the tunnel and the key only.
The rules themselves are module_utils': ingress (``_ingress``), tokens, secrets and credentials
(``_tunnel``), services (``_service_model``), ports and UUIDs (``_values``).
"""

from __future__ import annotations

import json
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareInputError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._ingress import (
    DEFAULT_CATCH_ALL,
    LOG_LEVELS,
    PROTOCOLS,
    IngressError,
    build_ingress,
    config_problems,
    origin_request_to_camel,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import (
    ServiceModelError,
    normalize_services,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._tunnel import (
    check_tunnel_secret,
    decode_tunnel_token,
    tunnel_credentials,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import is_port, is_uuid

TUNNEL_MODES = ("local", "remote")
TUNNEL_KEYS = frozenset(
    {
        "name",
        "mode",
        "tunnel_id",
        "account_tag",
        "secret",
        "token",
        "services",
        "domain",
        "origin_request",
        "extra_ingress",
        "catch_all",
        "metrics_port",
        "loglevel",
        "protocol",
    }
)
_TUNNEL_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_ACCOUNT_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def token_problem(token):
    """Why ``token`` is not a tunnel token (never quoting it), or None when it is one."""
    data = decode_tunnel_token(token) if isinstance(token, str) else {}
    if not data:
        return "the token is not base64-encoded JSON"
    if not all(isinstance(data.get(key), str) and data[key] for key in "ats"):
        return "the token's JSON lacks the keys a (account tag), t (tunnel id) and s (secret)"
    return None


def _secret_ok(secret):
    try:
        check_tunnel_secret(secret.strip() if isinstance(secret, str) else "")
    except CloudflareInputError:
        return False
    return True


# In single-tunnel mode (cloudflared_tunnels empty) messages name the role variables instead.
_SINGLE_VARS = {
    "name": "cloudflared_tunnel_name",
    "mode": "cloudflared_tunnel_mode",
    "tunnel_id": "cloudflared_tunnel_id",
    "account_tag": "cloudflared_account_tag",
    "secret": "cloudflared_tunnel_secret",
    "token": "cloudflared_tunnel_token",
    "metrics_port": "cloudflared_metrics_port",
    "loglevel": "cloudflared_loglevel",
    "protocol": "cloudflared_protocol",
    "extra_ingress": "cloudflared_extra_ingress",
    "origin_request": "cloudflared_origin_request",
}


def _normalize(tunnels, defaults, var_name, single=False):
    def key(name):
        return _SINGLE_VARS[name] if single else f"'{name}'"

    """Return ``(tunnels, problems)``; tunnels carry public and secret parts (split by the filters)."""
    defaults = defaults or {}
    config_dir = defaults.get("config_dir", "/etc/cloudflared").rstrip("/")
    base_port = defaults.get("metrics_port", 20241)
    problems = []
    result = []
    if not isinstance(tunnels, list) or not tunnels:
        return [], [f"{var_name} must be a non-empty list of tunnels."]

    seen_names = {}
    metrics_owner = {}
    service_ports = {}
    for index, raw in enumerate(tunnels):
        where = "the tunnel" if single else f"{var_name}[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where} must be a mapping with at least 'name', got {type(raw).__name__}.")
            continue
        name = raw.get("name")
        if isinstance(name, str):
            where = f"tunnel '{name}'" if single else f"{where} (tunnel '{name}')"
        if not isinstance(name, str) or not _TUNNEL_NAME_RE.match(name):
            problems.append(
                f"{where}: {key('name')} must be 1-40 lower-case letters, digits or '-' (it names the systemd unit "
                f"cloudflared@NAME and the files in {config_dir}), got {name!r}."
            )
            continue
        unknown = sorted(set(raw) - TUNNEL_KEYS)
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(TUNNEL_KEYS))}.")
        if name in seen_names:
            problems.append(f"{where}: the name '{name}' is already used by {var_name}[{seen_names[name]}].")
        seen_names.setdefault(name, index)

        tunnel = {
            "name": name,
            "unit": f"cloudflared@{name}.service",
            "config_path": f"{config_dir}/{name}.yml",
            "env_path": f"{config_dir}/{name}.env",
        }
        mode = raw.get("mode", defaults.get("mode", "local"))
        if mode not in TUNNEL_MODES:
            problems.append(
                f"{where}: {key('mode')} must be 'local' (locally managed) or 'remote' (token), got {mode!r}."
            )
        tunnel["mode"] = mode

        port = raw.get("metrics_port")
        if port is None:
            port = base_port + index if is_port(base_port) else base_port
        if not is_port(port):
            problems.append(f"{where}: {key('metrics_port')} must be an integer from 1 to 65535, got {port!r}.")
        elif port in metrics_owner:
            problems.append(
                f"{where}: metrics port {port} clashes with tunnel '{metrics_owner[port]}'; give each tunnel its own "
                "'metrics_port'."
            )
        else:
            metrics_owner[port] = name
        tunnel["metrics_port"] = port
        tunnel["metrics"] = f"127.0.0.1:{port}"

        loglevel = raw.get("loglevel", defaults.get("loglevel", "info"))
        if loglevel not in LOG_LEVELS:
            problems.append(f"{where}: {key('loglevel')} must be one of {', '.join(LOG_LEVELS)}, got {loglevel!r}.")
        protocol = raw.get("protocol", defaults.get("protocol", "auto"))
        if protocol not in PROTOCOLS:
            problems.append(f"{where}: {key('protocol')} must be one of {', '.join(PROTOCOLS)}, got {protocol!r}.")

        config = {}
        secret_file = None
        tunnel["run_args"] = ""
        if mode == "local":
            tunnel_id = raw.get("tunnel_id")
            account_tag = raw.get("account_tag")
            secret = raw.get("secret")
            if not is_uuid(tunnel_id):
                problems.append(
                    f"{where}: a locally managed tunnel needs {key('tunnel_id')}, the tunnel's UUID (from the "
                    f"Cloudflare API or 'cloudflared tunnel list'), got {tunnel_id!r}."
                )
            if not isinstance(account_tag, str) or not _ACCOUNT_RE.match(account_tag):
                problems.append(
                    f"{where}: a locally managed tunnel needs {key('account_tag')}, your Cloudflare account id, got "
                    f"{account_tag!r}."
                )
            if not _secret_ok(secret):
                problems.append(
                    f"{where}: a locally managed tunnel needs {key('secret')}, the tunnel secret (base64 of at "
                    "least 32 bytes, as the API returns it); it is missing or malformed (value not shown)."
                )
            tunnel["credentials_path"] = f"{config_dir}/{name}.json"
            config["tunnel"] = tunnel_id
            config["credentials-file"] = tunnel["credentials_path"]
            secret_file = {
                "path": tunnel["credentials_path"],
                "content": json.dumps(
                    tunnel_credentials(
                        account_tag,
                        tunnel_id.lower() if isinstance(tunnel_id, str) else tunnel_id,
                        secret.strip() if isinstance(secret, str) else secret,
                    ),
                    indent=2,
                    sort_keys=False,
                )
                + "\n",
            }
            tunnel["run_args"] = ""
        elif mode == "remote":
            token = raw.get("token")
            problem = token_problem(token)
            if problem:
                problems.append(
                    f"{where}: a remote-managed tunnel needs {key('token')}, the tunnel token from the Cloudflare "
                    f"dashboard or API; it is missing or malformed: {problem} (value not shown)."
                )
            tunnel["token_path"] = f"{config_dir}/{name}.token"
            tunnel["run_args"] = f"--token-file {tunnel['token_path']}"
            secret_file = {"path": tunnel["token_path"], "content": token.strip() if isinstance(token, str) else ""}

        config["metrics"] = tunnel["metrics"]
        config["loglevel"] = loglevel
        config["protocol"] = protocol
        config["no-autoupdate"] = True

        services = raw.get("services", defaults.get("services", []))
        domain = raw.get("domain", defaults.get("domain"))
        try:
            services = normalize_services(
                services,
                domain,
                var_name="cloudflared_services" if single else f"{where}.services",
                domain_var="cloudflared_domain" if single else f"{where}.domain",
            )
        except ServiceModelError as exc:
            problems.extend(exc.problems)
            services = None
        for sindex, service in enumerate(services or []):
            port = service.get("port")
            if is_port(port):
                owner = "cloudflared_services" if single else f"{where}.services"
                service_ports.setdefault(port, f"{owner}[{sindex}] (name '{service['name']}')")
        tunnel["hostnames"] = sorted({service["hostname"] for service in services or []})

        if mode == "local" and services is not None:
            origin = raw.get("origin_request", defaults.get("origin_request", {}))
            try:
                origin = origin_request_to_camel(origin, where=f"{where}: {key('origin_request')}")
            except IngressError as exc:
                problems.extend(exc.problems)
                origin = {}
            if origin:
                config["originRequest"] = origin
            extra = raw.get("extra_ingress", defaults.get("extra_ingress", []))
            if not isinstance(extra, list):
                problems.append(
                    f"{where}: {key('extra_ingress')} must be a list of ingress rules, got {type(extra).__name__}."
                )
                extra = []
            catch_all = raw.get("catch_all", defaults.get("catch_all", DEFAULT_CATCH_ALL))
            if catch_all in (None, ""):
                # No automatic catch-all: the last rule of extra_ingress must be one.
                catch_all = None
            try:
                config["ingress"] = build_ingress(services, extra_rules=extra, catch_all=catch_all)
            except IngressError as exc:
                problems.extend(f"{where}: ingress {problem}" for problem in exc.problems)
            if "ingress" in config:
                problems.extend(f"{where}: config.yml {problem}" for problem in config_problems(config))
        tunnel["config"] = config
        tunnel["env"] = {"CLOUDFLARED_TUNNEL_ARGS": tunnel["run_args"]}
        tunnel["_secret_file"] = secret_file
        result.append(tunnel)

    for port, owner in metrics_owner.items():
        if port in service_ports:
            problems.append(
                f"metrics port {port} of tunnel '{owner}' clashes with the 127.0.0.1 port of "
                f"{service_ports[port]}; pick another {key('metrics_port')}."
            )
    return result, problems


def cloudflared_tunnel_problems(tunnels, defaults=None, var_name="cloudflared_tunnels", single=False):
    """Every problem of ``tunnels`` (no secret values in the messages); [] when all is well.

    ``single``: the one tunnel made of the role's single-tunnel variables; messages name those.
    """
    return _normalize(tunnels, defaults, var_name, single)[1]


def cloudflared_tunnels(tunnels, defaults=None, part="public", var_name="cloudflared_tunnels", single=False):
    """The normalised tunnels: ``part='public'`` (no secrets) or ``part='secret'`` (files holding secrets)."""
    result, problems = _normalize(tunnels, defaults, var_name, single)
    if problems:
        raise AnsibleFilterError(f"{len(problems)} problem(s) in {var_name}:\n- " + "\n- ".join(problems))
    if part == "public":
        return [{key: value for key, value in tunnel.items() if key != "_secret_file"} for tunnel in result]
    if part == "secret":
        return [
            {"name": tunnel["name"], "mode": tunnel["mode"], **tunnel["_secret_file"]}
            for tunnel in result
            if tunnel["_secret_file"]
        ]
    raise AnsibleFilterError(f"cloudflared_tunnels: part must be 'public' or 'secret', got {part!r}.")


class FilterModule:
    def filters(self):
        return {
            "cloudflared_tunnels": cloudflared_tunnels,
            "cloudflared_tunnel_problems": cloudflared_tunnel_problems,
        }
