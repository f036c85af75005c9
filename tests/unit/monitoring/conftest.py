# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The monitoring role's files, rendered once per session by ansible-playbook, and Debian's tools that check them.

The tools (promtool, amtool, prometheus-blackbox-exporter) come from Debian 12's packages, unpacked into
build/prometheus-tools/bin by scripts/ensure-prometheus-tools.sh (``make unit`` runs it and passes the
directory as PROMETHEUS_TOOLS). Without them the tests fail: they are the proof of the rules.

Two variants are rendered through the role's own defaults and vars (the same Jinja, filters and
``#jinja2:`` header as on a host):

* ``minimal``: one MCP service, no e-mail, no webhook, no Docker engine metrics (the role's defaults otherwise);
* ``full``: two MCP services (one with probe headers), n8n (its metrics on, and the engine's: the defaults),
  e-mail with SMTP auth, two webhooks (one with a bearer token), one ``monitoring_alert_for`` override and the
  tunnel status check (its token).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLE = REPO / "roles" / "monitoring"
TOOLS = ("promtool", "amtool", "prometheus-blackbox-exporter")
TEMPLATES = ("homelab.rules.yml", "prometheus.yml", "alertmanager.yml", "blackbox.yml")
MCP_TIME = {"name": "time", "kind": "mcp", "image": "example/mcp-time:1.0.0", "port": 8101}
VARIANTS = {
    "minimal": {"homelab_services": [MCP_TIME], "homelab_docker_metrics_address": ""},
    "full": {
        "homelab_services": [
            MCP_TIME,
            {"name": "docs", "kind": "mcp", "image": "example/mcp-docs:2.1.0", "port": 8102},
            {"name": "n8n", "kind": "n8n", "port": 5678},
            # Placed on another host: its probe header (group_vars: one mapping for all) stays off this one.
            {"name": "far", "kind": "mcp", "image": "example/mcp-far:1.0.0", "port": 8105, "hosts": ["edge1"]},
        ],
        "monitoring_alert_email": {
            "to": "me@example.com",
            "from": "alerts@example.com",
            "smarthost": "smtp.example.com:587",
            "username": "alerts@example.com",
            "password": "smtp-password",
        },
        "monitoring_alert_webhooks": [
            {"name": "ntfy", "url": "https://ntfy.example.com/homelab-alerts"},
            {"name": "n8n", "url": "https://n8n.example.com/webhook/alerts", "bearer_token": "webhook-token"},
        ],
        "monitoring_mcp_probe_headers": {
            "docs": {"X-API-Key": "docs-gateway-token"},
            "far": {"X-API-Key": "far-gateway-token"},
        },
        "monitoring_alert_for": {"TunnelDown": "5m"},
        # A site with the monitoring: n8n's and the engine's metrics follow it (role homelab's defaults).
        "homelab_monitoring": True,
        "monitoring_tunnel_status_api_token": "readonly-tunnel-token",
        "monitoring_tunnel_status_account_id": "a0000000000000000000000000000001",
        "monitoring_tunnel_status_tunnels": [{"name": "home", "id": "6ff42ae2-765d-4adf-8112-31c55c1551ef"}],
    },
}
# The alerts only a variant with monitoring_tunnel_status_api_token has (Cloudflare's view of the tunnels).
TUNNEL_STATUS_ALERTS = {"TunnelNotHealthyAtCloudflare", "TunnelStatusCheckFailing"}
# The host each variant renders for (inventory_hostname: Prometheus's external label `host`).
HOSTS = {"minimal": "edge1", "full": "edge2"}


@dataclass(frozen=True)
class Rendered:
    """One variant: the rendered files by template name, and role variables as the play resolved them."""

    name: str
    files: dict[str, Path]
    resolved: dict

    def load(self, template: str):
        return yaml.safe_load(self.files[template].read_text(encoding="utf-8"))

    def alerts(self) -> dict[str, dict]:
        """The rendered alerting rules, by alert name."""
        return {rule["alert"]: rule for group in self.load("homelab.rules.yml")["groups"] for rule in group["rules"]}


def run(args: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run a command; fail the test with its whole output unless it exits 0."""
    args = [str(a) for a in args]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, **kwargs)
    assert result.returncode == 0, f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def prom_tools() -> dict[str, Path]:
    """Each tool's path; a missing one fails (never skips) the test that needs it."""
    tools_dir = Path(os.environ.get("PROMETHEUS_TOOLS") or REPO / "build" / "prometheus-tools" / "bin")
    missing = [name for name in TOOLS if not os.access(tools_dir / name, os.X_OK)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found in {tools_dir}: run scripts/ensure-prometheus-tools.sh "
            "(make unit runs it), which unpacks Debian's packages there.",
            pytrace=False,
        )
    return {name: tools_dir / name for name in TOOLS}


def _play(base: Path) -> dict:
    """One play over one host per variant (they render in parallel), each with the variant's settings."""
    return {
        "name": "Render the monitoring role's files",
        "hosts": "all",
        "gather_facts": False,
        "vars_files": [
            str(REPO / "roles" / "homelab" / "defaults" / "main.yml"),
            str(ROLE / "defaults" / "main.yml"),
            str(ROLE / "vars" / "main.yml"),
            # Last: it wins over the role's vars (the rules file's path).
            f"{base}/{{{{ inventory_hostname }}}}.vars.json",
        ],
        "tasks": [
            {
                "name": "Template",
                "ansible.builtin.template": {
                    "src": str(ROLE / "templates") + "/{{ item }}.j2",
                    "dest": "{{ render_dir }}/{{ item }}",
                    "mode": "0644",
                },
                "loop": list(TEMPLATES),
            },
            {
                "name": "What the role resolved",
                "ansible.builtin.copy": {
                    "content": (
                        "{{ {'problems': _monitoring_problems, 'alert_for': _monitoring_alert_for,"
                        " 'alert_for_defaults': _monitoring_alert_for_defaults,"
                        " 'services': monitoring_services} | to_json }}"
                    ),
                    "dest": "{{ render_dir }}/resolved.json",
                    "mode": "0644",
                },
            },
        ],
    }


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """Both variants, from one ansible-playbook run (about 4 s on 2 cores)."""
    base = tmp_path_factory.mktemp("monitoring")
    # The cloudflared role's file_sd file, in its shape: `promtool check config` reads it too.
    targets = base / "scrape-targets"
    targets.mkdir()
    (targets / "cloudflared.json").write_text(
        json.dumps([{"targets": ["127.0.0.1:20241"], "labels": {"tunnel": "home"}}]), encoding="utf-8"
    )
    for variant, settings in VARIANTS.items():
        out = base / variant
        out.mkdir()
        (base / f"{HOSTS[variant]}.vars.json").write_text(
            json.dumps(
                {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": sys.executable,
                    "render_dir": str(out),
                    "homelab_domain": "example.com",
                    "homelab_scrape_targets_dir": str(targets),
                    "_monitoring_rules_file": str(out / "homelab.rules.yml"),
                    **settings,
                }
            ),
            encoding="utf-8",
        )
    playbook = base / "render.yml"
    playbook.write_text(yaml.safe_dump([_play(base)], sort_keys=False), encoding="utf-8")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
        "ANSIBLE_NOCOLOR": "1",
    }
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    run([ansible_playbook, "-i", ",".join(HOSTS.values()) + ",", playbook], cwd=REPO, env=env)
    return {
        variant: Rendered(
            name=variant,
            files={name: base / variant / name for name in TEMPLATES},
            resolved=json.loads((base / variant / "resolved.json").read_text(encoding="utf-8")),
        )
        for variant in VARIANTS
    }
