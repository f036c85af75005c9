# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The monitoring role's rules: what it probes and scrapes on a host, and every problem of its settings."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_service_token import parse_timestamp
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import (
    MCP_PATH,
    N8N_METRICS_PATH,
    ServiceModelError,
    normalize_services,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import (
    did_you_mean,
    duration_whole_seconds,
    go_duration_seconds,
    is_cloudflare_id,
    is_port,
    is_uuid,
    loopback_address_problem,
    loopback_port,
)

# What Prometheus, Alertmanager and the blackbox exporter accept as a duration, in the whole-unit
# form the role writes (no fractions, no "d"/"w"/"y": Go's units, which every one of them reads).
_DURATION_RE = re.compile(r"^([0-9]+(ms|s|m|h))+$")
# HTTP header names (RFC 9110 tokens).
_HEADER_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_HOST_PORT_RE = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# n8n's readiness endpoint, on its 127.0.0.1 port.
N8N_READY_PATH = "/healthz/readiness"


class MonitoringError(ValueError):
    """A value the monitoring role cannot use; the message names it."""


# The kinds of service that run as containers: a host with one of them runs the docker role (site.yml).
CONTAINER_KINDS = ("mcp", "n8n")
# Where the Docker engine serves its metrics (metrics-addr), on the address the docker role gives it.
DOCKER_METRICS_PATH = "/metrics"


def _enabled_services(services, domain):
    """The enabled entries of the description, normalised; MonitoringError names every problem."""
    try:
        normalized = normalize_services(services, domain, var_name="monitoring_services")
    except ServiceModelError as exc:
        raise MonitoringError(
            f"{len(exc.problems)} problem(s) in monitoring_services:\n- " + "\n- ".join(exc.problems)
        ) from None
    return [service for service in normalized if service.get("enabled", True) is not False]


def probes(services, domain=None, mcp_headers=None):
    """One blackbox probe per enabled MCP service (an MCP ``initialize``) and per n8n (readiness).

    Each probe: ``{service, kind, url, module}``; a service given headers in ``mcp_headers`` gets a
    module of its own (``mcp_initialize_<name>``), the others share ``mcp_initialize``.
    """
    mcp_headers = mcp_headers or {}
    result = []
    for service in _enabled_services(services, domain):
        name, kind, port = service["name"], service.get("kind"), service.get("port")
        if kind == "mcp":
            module = f"mcp_initialize_{name}" if name in mcp_headers else "mcp_initialize"
            result.append(
                {"service": name, "kind": kind, "url": f"http://127.0.0.1:{port}{MCP_PATH}", "module": module}
            )
        elif kind == "n8n":
            url = f"http://127.0.0.1:{port}{N8N_READY_PATH}"
            result.append({"service": name, "kind": kind, "url": url, "module": "http_ready"})
    return result


def scrapes(services, domain=None, n8n_metrics=True, docker_metrics_address=""):
    """The metrics endpoints of the host's other parts that Prometheus scrapes, one job each.

    * ``n8n``: each enabled n8n service's ``/metrics`` on its 127.0.0.1 port (label ``service``), when
      ``n8n_metrics`` (the n8n role's ``N8N_METRICS``) is on;
    * ``docker``: the engine's ``metrics-addr``, when it has one and a service of a container kind runs on
      the host (only then does site.yml run the docker role).

    Each: ``{job, target, metrics_path}`` and, for a service, ``service``; in the description's order.
    """
    enabled = _enabled_services(services, domain)
    result = []
    if n8n_metrics:
        result += [
            {"job": "n8n", "service": s["name"], "target": f"127.0.0.1:{s['port']}", "metrics_path": N8N_METRICS_PATH}
            for s in enabled
            if s.get("kind") == "n8n" and is_port(s.get("port"))
        ]
    if docker_metrics_address and any(s.get("kind") in CONTAINER_KINDS for s in enabled):
        result.append({"job": "docker", "target": docker_metrics_address, "metrics_path": DOCKER_METRICS_PATH})
    return result


def _duration_problems(settings):
    problems = []
    for key in (
        "scrape_interval",
        "evaluation_interval",
        "mcp_probe_interval",
        "container_metrics_interval",
        "alert_group_wait",
        "alert_group_interval",
        "alert_repeat_interval",
    ):
        value = settings.get(key)
        if not isinstance(value, str) or not _DURATION_RE.match(value) or not go_duration_seconds(value):
            problems.append(f"monitoring_{key} must be a duration such as '30s' or '1m', got {value!r}.")
    retention = settings.get("retention")
    if not isinstance(retention, str) or not re.match(r"^([0-9]+(ms|s|m|h|d|w|y))+$", retention):
        problems.append(f"monitoring_retention must be a duration such as '15d' or '2w', got {retention!r}.")
    stale = settings.get("backup_stale_after")
    if not isinstance(stale, str) or not _DURATION_RE.match(stale) or not go_duration_seconds(stale):
        problems.append(
            f"monitoring_backup_stale_after must be a duration such as '26h' (the backup timer's period plus "
            f"slack), got {stale!r}."
        )
    known = settings.get("alert_names") or []
    overrides = settings.get("alert_for")
    if not isinstance(overrides, dict):
        problems.append(f"monitoring_alert_for must be a mapping of alert name to duration, got {overrides!r}.")
        overrides = {}
    for name, value in overrides.items():
        if name not in known:
            problems.append(
                f"monitoring_alert_for names '{name}', which is not an alert of the role{did_you_mean(name, known)}; "
                f"the alerts are {', '.join(sorted(known))}."
            )
        elif not isinstance(value, str) or not (_DURATION_RE.match(value) or value == "0s"):
            problems.append(f"monitoring_alert_for.{name} must be a duration such as '5m', got {value!r}.")
    return problems


def _port_problems(settings, service_ports):
    problems = []
    seen = {}
    for key in ("prometheus_port", "alertmanager_port", "node_exporter_port", "blackbox_port"):
        value = settings.get(key)
        if not is_port(value):
            problems.append(f"monitoring_{key} must be a port from 1 to 65535, got {value!r}.")
            continue
        value = int(value)
        if value in seen:
            problems.append(f"monitoring_{key} and monitoring_{seen[value]} are both {value}; give each its own port.")
        elif value in service_ports:
            problems.append(
                f"monitoring_{key} is {value}, the 127.0.0.1 port of service '{service_ports[value]}'; pick another."
            )
        seen.setdefault(value, key)
    # The engine's metrics port: one that is taken stops dockerd from starting at all (measured).
    address = settings.get("docker_metrics_address", "")
    problem = loopback_address_problem(address, "monitoring_docker_metrics_address")
    if problem:
        problems.append(problem)
    elif address:
        port = loopback_port(address)
        owner = f"monitoring_{seen[port]}" if port in seen else None
        owner = owner or (f"the 127.0.0.1 port of service '{service_ports[port]}'" if port in service_ports else None)
        if owner:
            problems.append(
                f"monitoring_docker_metrics_address (homelab_docker_metrics_address) uses port {port}, which is "
                f"{owner}; the engine would not start. Pick another port."
            )
    return problems


def _email_problems(email):
    if email in (None, {}):
        return []
    if not isinstance(email, dict):
        return [f"monitoring_alert_email must be a mapping {{to, from, smarthost, ...}}, got {type(email).__name__}."]
    allowed = {"to", "from", "smarthost", "username", "password", "require_tls", "send_resolved"}
    problems = [
        f"monitoring_alert_email: unknown key '{key}'{did_you_mean(key, allowed)}; "
        f"it takes {', '.join(sorted(allowed))}."
        for key in sorted(set(email) - allowed, key=str)
    ]
    recipients = email.get("to")
    recipients = [recipients] if isinstance(recipients, str) else recipients
    if (
        not isinstance(recipients, list)
        or not recipients
        or not all(isinstance(r, str) and _EMAIL_RE.match(r) for r in recipients)
    ):
        problems.append("monitoring_alert_email.to must be an address (or a list of them), such as 'me@example.com'.")
    if not isinstance(email.get("from"), str) or not _EMAIL_RE.match(email.get("from") or ""):
        problems.append("monitoring_alert_email.from must be the sender's address, such as 'alerts@example.com'.")
    smarthost = email.get("smarthost")
    if (
        not isinstance(smarthost, str)
        or not _HOST_PORT_RE.match(smarthost)
        or not is_port(int(smarthost.rsplit(":", 1)[1]))
    ):
        problems.append(
            f"monitoring_alert_email.smarthost must be the SMTP server as host:port, such as 'smtp.example.com:587', "
            f"got {smarthost!r}."
        )
    if ("username" in email) != ("password" in email):
        problems.append("monitoring_alert_email: give username and password together (or neither).")
    for key in ("require_tls", "send_resolved"):
        if key in email and not isinstance(email[key], bool):
            problems.append(f"monitoring_alert_email.{key} must be true or false.")
    return problems


def _webhook_problems(webhooks):
    if not isinstance(webhooks, list):
        return [f"monitoring_alert_webhooks must be a list of {{name, url}}, got {type(webhooks).__name__}."]
    problems = []
    allowed = {"name", "url", "bearer_token", "send_resolved"}
    names = set()
    for index, hook in enumerate(webhooks):
        where = f"monitoring_alert_webhooks[{index}]"
        if not isinstance(hook, dict):
            problems.append(f"{where} must be a mapping {{name, url}}, got {type(hook).__name__}.")
            continue
        problems += [
            f"{where}: unknown key '{key}'{did_you_mean(key, allowed)}; it takes {', '.join(sorted(allowed))}."
            for key in sorted(set(hook) - allowed, key=str)
        ]
        name = hook.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            problems.append(
                f"{where}.name must be lower-case letters, digits, '-' or '_', such as 'ntfy', got {name!r}."
            )
        elif name in names:
            problems.append(f"{where}.name '{name}' is used twice; give each webhook its own name.")
        names.add(name)
        url = hook.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            # The URL may hold a secret (a token in its path): the message does not repeat it.
            problems.append(f"{where}.url must be an http:// or https:// URL.")
        token = hook.get("bearer_token")
        if token is not None and (not isinstance(token, str) or not token or any(c.isspace() for c in token)):
            problems.append(f"{where}.bearer_token must be a non-empty string without spaces.")
        if "send_resolved" in hook and not isinstance(hook["send_resolved"], bool):
            problems.append(f"{where}.send_resolved must be true or false.")
    return problems


def _header_problems(headers, mcp_names, site_mcp_names=()):
    """``mcp_names``: this host's MCP services; ``site_mcp_names``: the whole site's, for a header of a
    service placed on another host (group_vars hold one mapping for every host)."""
    if not isinstance(headers, dict):
        return [f"monitoring_mcp_probe_headers must be a mapping of MCP service name to headers, got {headers!r}."]
    problems = []
    known = sorted(set(mcp_names) | set(site_mcp_names))
    for name, values in headers.items():
        if name not in known:
            problems.append(
                f"monitoring_mcp_probe_headers names '{name}', which is not an MCP service of homelab_services"
                f"{did_you_mean(name, known)}."
            )
        if not isinstance(values, dict) or not values:
            problems.append(f"monitoring_mcp_probe_headers.{name} must be a mapping of header name to value.")
            continue
        for header, value in values.items():
            if not isinstance(header, str) or not _HEADER_RE.match(header):
                problems.append(f"monitoring_mcp_probe_headers.{name}: {header!r} is not an HTTP header name.")
            # The value is usually a token: never repeated in a message.
            if not isinstance(value, str) or "\n" in value or "\r" in value:
                problems.append(f"monitoring_mcp_probe_headers.{name}.{header} must be a one-line string.")
    return problems


def _tunnel_status_problems(settings):
    """The tunnel status check's settings; nothing to check while it is off (no token)."""
    token = settings.get("tunnel_status_api_token")
    if token in (None, ""):
        return []
    if not isinstance(token, str) or any(c.isspace() for c in token):
        return [
            "monitoring_tunnel_status_api_token must be an API token (one word, from the vault) or '' for no check."
        ]
    problems = []
    account = settings.get("tunnel_status_account_id")
    if not is_cloudflare_id(account):
        problems.append(
            f"monitoring_tunnel_status_account_id must be the tunnels' Cloudflare account id (32 lower-case "
            f"hexadecimal digits; the edge hands it over in site.yml), got {account!r}."
        )
    url = settings.get("tunnel_status_api_base_url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(
            f"monitoring_tunnel_status_api_base_url must be an http:// or https:// URL such as "
            f"https://api.cloudflare.com/client/v4, got {url!r}."
        )
    interval = settings.get("tunnel_status_interval")
    if not isinstance(interval, str) or not _DURATION_RE.match(interval) or (go_duration_seconds(interval) or 0) < 30:
        problems.append(
            f"monitoring_tunnel_status_interval must be a duration of 30s or more such as '5m', got {interval!r}."
        )
    tunnels = settings.get("tunnel_status_tunnels")
    if not isinstance(tunnels, list):
        return [*problems, f"monitoring_tunnel_status_tunnels must be a list of {{name, id}}, got {tunnels!r}."]
    for index, tunnel in enumerate(tunnels):
        where = f"monitoring_tunnel_status_tunnels[{index}]"
        if not isinstance(tunnel, dict) or not isinstance(tunnel.get("name"), str) or not tunnel.get("name"):
            problems.append(f"{where} must be a mapping with the tunnel's name (and its id), got {tunnel!r}.")
            continue
        unknown = sorted(set(tunnel) - {"name", "id"}, key=str)
        problems += [f"{where}: unknown key '{key}'; it takes name and id." for key in unknown]
        if tunnel.get("id") not in (None, "") and not is_uuid(tunnel["id"]):
            problems.append(f"{where}.id must be the tunnel's UUID or left out, got {tunnel['id']!r}.")
    return problems


def _site_mcp_names(settings):
    """Names of the site's MCP services (every host's); none when the list is invalid (the homelab
    role's preflight names its problems)."""
    site = settings.get("site_services")
    if not site:
        return []
    try:
        normalized = normalize_services(site, settings.get("domain"))
    except ServiceModelError:
        return []
    return [s["name"] for s in normalized if s.get("kind") == "mcp"]


def problems(services, settings):
    """Every problem of the monitoring settings, as messages naming the variable (never a secret)."""
    try:
        normalized = normalize_services(services, settings.get("domain"), var_name="monitoring_services")
    except ServiceModelError as exc:
        return list(exc.problems)
    enabled = [s for s in normalized if s.get("enabled", True) is not False]
    # A kind: http entry on a monitoring port is how a UI is published behind Access: no clash.
    service_ports = {int(s["port"]): s["name"] for s in enabled if is_port(s.get("port")) and s.get("kind") != "http"}
    mcp_names = [s["name"] for s in enabled if s.get("kind") == "mcp"]
    result = _duration_problems(settings) + _port_problems(settings, service_ports)
    stale_min = settings.get("tunnel_min_connections")
    if not isinstance(stale_min, int) or isinstance(stale_min, bool) or not 1 <= stale_min <= 16:
        result.append(f"monitoring_tunnel_min_connections must be a number from 1 to 16, got {stale_min!r}.")
    for key in ("textfile_dir", "scrape_targets_dir"):
        value = settings.get(key)
        if not isinstance(value, str) or not value.startswith("/") or value.rstrip("/") in ("", "/etc", "/var"):
            result.append(f"monitoring_{key} must be an absolute directory of its own, got {value!r}.")
    result += _email_problems(settings.get("alert_email"))
    result += _webhook_problems(settings.get("alert_webhooks"))
    result += _header_problems(settings.get("mcp_probe_headers"), mcp_names, _site_mcp_names(settings))
    if not isinstance(settings.get("n8n_metrics", True), bool):
        result.append(f"monitoring_n8n_metrics must be true or false, got {settings.get('n8n_metrics')!r}.")
    result += _tunnel_status_problems(settings)
    return result


def seconds(value):
    """Whole seconds of a duration such as ``26h`` (PromQL 2.x compares numbers, not durations)."""
    result = duration_whole_seconds(value)
    if result is None:
        raise MonitoringError(f"monitoring_seconds: {value!r} is not a duration such as '26h'.")
    return result


def token_expiry(expiry):
    """``{token name: expires_at}`` (the edge's service tokens) as ``[{token, seconds}]``, by name.

    Entries without a readable RFC 3339 time (a check-mode placeholder) are left out.
    """
    result = []
    for name, expires_at in sorted((expiry or {}).items()):
        stamp = parse_timestamp(expires_at)
        if stamp is not None:
            result.append({"token": str(name), "seconds": int(stamp)})
    return result
