# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The tunnels' status as Cloudflare's API sees it, as Prometheus textfile metrics.

cloudflared's own metrics say what one connector thinks; only the API says whether Cloudflare sees
the tunnel connected (a revoked token, a deleted or replaced tunnel, a connector of another
machine). The monitoring role's ``homelab-tunnel-status`` timer runs :func:`main` on the host with
the collection's own client, a read-only token and one listing of the account's tunnels per run.

Config (JSON, no secret): ``{"api_base_url", "account_id", "tunnels": [{"name", "id"}], "output",
"token_file"}``; the token file is readable by the check's own system user alone.
"""

from __future__ import annotations

import json
import os
import sys
import time

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareClient
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareError, CloudflareInputError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._http import HAS_REQUESTS, TransportError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._tunnel import TunnelInfoManager

# Cloudflare's tunnel statuses, and "missing": the API lists no live tunnel of that id or name.
STATUSES = ("healthy", "degraded", "down", "inactive", "missing")


class TunnelStatusError(ValueError):
    """A configuration the check cannot run with; the message names the setting."""


def _label(value):
    return json.dumps(str(value))


def _match(wanted, tunnels):
    """The live tunnel a wanted ``{name, id}`` names: by id when it has one, else by name."""
    for tunnel in tunnels:
        if wanted.get("id") and tunnel.get("id") == wanted["id"]:
            return tunnel
        if not wanted.get("id") and tunnel.get("name") == wanted.get("name"):
            return tunnel
    return None


def render(wanted, tunnels, now, error=None):
    """The textfile for ``wanted`` (``[{name, id}]``) given the API's live ``tunnels``.

    With ``error`` (the API could not be read), only the check's own metrics are written: a status
    from an older run would look current.
    """
    lines = [
        "# HELP homelab_tunnel_api_up 1 if the last read of Cloudflare's API for the tunnels' status succeeded.",
        "# TYPE homelab_tunnel_api_up gauge",
        f"homelab_tunnel_api_up {0 if error else 1}",
        "# HELP homelab_tunnel_api_last_run_timestamp_seconds When the tunnel status check last ran.",
        "# TYPE homelab_tunnel_api_last_run_timestamp_seconds gauge",
        f"homelab_tunnel_api_last_run_timestamp_seconds {int(now)}",
    ]
    if error:
        return "\n".join(lines) + "\n"
    status_lines, connection_lines, connector_lines = [], [], []
    for item in wanted:
        found = _match(item, tunnels)
        name = _label(item.get("name") or (found or {}).get("name") or item.get("id"))
        status = (found or {}).get("status") if found else "missing"
        status = status if status in STATUSES else "down"
        connections = (found or {}).get("connections") or []
        for candidate in STATUSES:
            status_lines.append(
                f'homelab_tunnel_api_status{{tunnel={name},status="{candidate}"}} {int(candidate == status)}'
            )
        connection_lines.append(f"homelab_tunnel_api_connections{{tunnel={name}}} {len(connections)}")
        connectors = {c.get("client_id") for c in connections if isinstance(c, dict) and c.get("client_id")}
        connector_lines.append(f"homelab_tunnel_api_connectors{{tunnel={name}}} {len(connectors)}")
    lines += [
        "# HELP homelab_tunnel_api_status The tunnel's status at Cloudflare (1 for the current one; missing: no such"
        " live tunnel).",
        "# TYPE homelab_tunnel_api_status gauge",
        *status_lines,
        "# HELP homelab_tunnel_api_connections Connections to Cloudflare's edge the API lists for the tunnel.",
        "# TYPE homelab_tunnel_api_connections gauge",
        *connection_lines,
        "# HELP homelab_tunnel_api_connectors cloudflared instances (connectors) the API lists for the tunnel.",
        "# TYPE homelab_tunnel_api_connectors gauge",
        *connector_lines,
    ]
    return "\n".join(lines) + "\n"


def load_config(path):
    """The check's settings from ``path``; every problem named."""
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        raise TunnelStatusError(f"cannot read the configuration {path}: {exc}") from None
    problems = []
    if not isinstance(config, dict):
        raise TunnelStatusError(f"{path} must hold a JSON object")
    for key in ("api_base_url", "account_id", "output", "token_file"):
        if not isinstance(config.get(key), str) or not config[key]:
            problems.append(f"'{key}' must be a non-empty string")
    tunnels = config.get("tunnels")
    if not isinstance(tunnels, list) or not tunnels:
        problems.append("'tunnels' must be a non-empty list of {name, id}")
    else:
        for index, item in enumerate(tunnels):
            if not isinstance(item, dict) or not (item.get("name") or item.get("id")):
                problems.append(f"'tunnels[{index}]' must be a mapping with a name or an id")
    if problems:
        raise TunnelStatusError(f"{path}: " + "; ".join(problems))
    return config


def read_token(path):
    try:
        with open(path, encoding="utf-8") as handle:
            token = handle.read().strip()
    except OSError as exc:
        raise TunnelStatusError(f"cannot read the API token file {path}: {exc.strerror}") from None
    if not token:
        raise TunnelStatusError(f"the API token file {path} is empty")
    return token


class _Run:
    """What a manager needs of a module run: the client and the parameters."""

    def __init__(self, client, params):
        self.client = client
        self.params = params


def live_tunnels(client):
    """Every live tunnel of the client's account: one listing, through the tunnel_info module's manager."""
    params = {"name": None, "tunnel_id": None, "include_deleted": False, "include_config": False, "zone": None}
    return TunnelInfoManager(_Run(client, params)).tunnels()


def _say(stream, text):
    """One line for the journal (a module_utils file: no print, ansible-test's rule)."""
    stream.write(text + "\n")
    stream.flush()


def _remove(path):
    if path:
        try:
            os.remove(path)
        except OSError:
            pass


def write_atomically(path, text):
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def main(argv=None, client_factory=CloudflareClient):
    """Run one check; exit status 0 when the API answered, 1 when it did not (the file says so), 2 on
    a configuration error (no file: a status nobody refreshes must not look current)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        _say(sys.stderr, "usage: homelab-tunnel-status CONFIG.json")
        return 2
    config = None
    try:
        config = load_config(argv[0])
        token = read_token(config["token_file"])
    except TunnelStatusError as exc:
        _say(sys.stderr, f"homelab-tunnel-status: {exc}")
        _remove(config.get("output") if isinstance(config, dict) else None)
        return 2
    if not HAS_REQUESTS:
        _say(sys.stderr, "homelab-tunnel-status: the Python 'requests' library is missing (python3-requests)")
        return 2
    error = None
    tunnels = []
    client = client_factory(
        {
            "api_token": token,
            "account_id": config["account_id"],
            "api_base_url": config["api_base_url"],
            "timeout": 20,
            "max_retries": 3,
            "max_retry_wait": 60,
        }
    )
    try:
        tunnels = live_tunnels(client)
    except (CloudflareError, CloudflareInputError, TransportError) as exc:
        error = str(exc) or type(exc).__name__
    finally:
        client.close()
    write_atomically(config["output"], render(config["tunnels"], tunnels, time.time(), error))
    if error:
        _say(sys.stderr, f"homelab-tunnel-status: Cloudflare's API did not answer: {error}")
        return 1
    summary = ", ".join(
        f"{item.get('name') or item.get('id')}: {(_match(item, tunnels) or {}).get('status', 'missing')}"
        for item in config["tunnels"]
    )
    _say(sys.stdout, f"homelab-tunnel-status: {summary}")
    return 0


if __name__ == "__main__":  # python3 -m ..._tunnel_status CONFIG (the monitoring role's unit)
    raise SystemExit(main())
