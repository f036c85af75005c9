# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The rendered rules, prometheus.yml, alertmanager.yml and blackbox.yml pass the checks the role's
`validate:` runs on a host (Debian 12's promtool, amtool and blackbox exporter), and say what they should."""

from __future__ import annotations

import pytest

from .conftest import HOSTS, TUNNEL_STATUS_ALERTS, VARIANTS, run

pytestmark = pytest.mark.parametrize("variant", list(VARIANTS))


def test_the_role_preflight_accepts_the_settings(rendered, variant):
    # Otherwise the role would refuse these settings before rendering anything.
    assert rendered[variant].resolved["problems"] == []
    # monitoring_services: the role's default, homelab_services placed on this host (all but 'far' here,
    # whose probe header the preflight accepts all the same: it is an MCP service of the site).
    services = rendered[variant].resolved["services"]
    assert [(s["name"], s["kind"]) for s in services] == [
        (s["name"], s["kind"]) for s in VARIANTS[variant]["homelab_services"] if s.get("hosts") != ["edge1"]
    ]


def test_promtool_check_rules(rendered, prom_tools, variant):
    result = run([prom_tools["promtool"], "check", "rules", rendered[variant].files["homelab.rules.yml"]])
    alerts = set(rendered[variant].resolved["alert_for_defaults"])
    if not VARIANTS[variant].get("monitoring_tunnel_status_api_token"):
        alerts -= TUNNEL_STATUS_ALERTS
    assert f"SUCCESS: {len(alerts)} rules found" in result.stdout


def test_rules_hold_every_alert_of_the_role_with_its_for(rendered, variant):
    # vars/main.yml lists the alerts (monitoring_alert_for is checked against it): the same set, in the file.
    resolved = rendered[variant].resolved
    rules = rendered[variant].alerts()
    # The tunnel status alerts come with the check's token, and only with it.
    expected = set(resolved["alert_for_defaults"])
    if not VARIANTS[variant].get("monitoring_tunnel_status_api_token"):
        expected -= TUNNEL_STATUS_ALERTS
    assert sorted(rules) == sorted(expected)
    assert {name: rule["for"] for name, rule in rules.items()} == {
        name: value for name, value in resolved["alert_for"].items() if name in expected
    }
    expected_tunnel_down = VARIANTS[variant].get("monitoring_alert_for", {}).get("TunnelDown", "2m")
    assert rules["TunnelDown"]["for"] == expected_tunnel_down
    assert all(rule["labels"]["severity"] in ("critical", "warning") for rule in rules.values())
    assert all(rule["annotations"].keys() >= {"summary", "description", "runbook"} for rule in rules.values())


def test_promtool_check_config(rendered, prom_tools, variant):
    # It also loads the rule files prometheus.yml names and the file_sd file of the cloudflared job.
    result = run([prom_tools["promtool"], "check", "config", rendered[variant].files["prometheus.yml"]])
    output = result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in output
    assert "WARNING" not in output


def test_prometheus_config_probes_each_service_with_a_blackbox_module(rendered, variant):
    config = rendered[variant].load("prometheus.yml")
    assert config["global"]["external_labels"] == {"host": HOSTS[variant]}
    assert config["rule_files"] == [str(rendered[variant].files["homelab.rules.yml"])]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    probes = {
        entry["labels"]["service"]: (job_name, entry["targets"], entry["labels"]["module"])
        for job_name, job in jobs.items()
        if job_name.endswith("_probe")
        for entry in job["static_configs"]
    }
    expected = {"time": ("mcp_probe", ["http://127.0.0.1:8101/mcp"], "mcp_initialize")}
    if variant == "full":
        expected["docs"] = ("mcp_probe", ["http://127.0.0.1:8102/mcp"], "mcp_initialize_docs")
        expected["n8n"] = ("n8n_probe", ["http://127.0.0.1:5678/healthz/readiness"], "http_ready")
    assert probes == expected
    # The job names are those the rules select (ServiceProbeFailing, TargetDown, TunnelDown).
    assert {"prometheus", "alertmanager", "node", "blackbox", "cloudflared"} <= set(jobs)
    # Every module a probe names exists in the blackbox exporter's configuration.
    modules = rendered[variant].load("blackbox.yml")["modules"]
    assert {probe[2] for probe in probes.values()} <= set(modules)


def test_prometheus_config_scrapes_n8n_and_the_docker_engine_when_they_serve_metrics(rendered, variant):
    # promtool check config (above) accepts these jobs; here: what they scrape, and only when it is served.
    jobs = {job["job_name"]: job for job in rendered[variant].load("prometheus.yml")["scrape_configs"]}
    if variant == "minimal":
        # homelab_docker_metrics_address "" (the engine serves none) and no n8n on the host.
        assert "docker" not in jobs and "n8n" not in jobs
        return
    assert jobs["n8n"] == {
        "job_name": "n8n",
        "metrics_path": "/metrics",
        "static_configs": [{"targets": ["127.0.0.1:5678"], "labels": {"service": "n8n"}}],
    }
    assert jobs["docker"] == {
        "job_name": "docker",
        "metrics_path": "/metrics",
        "static_configs": [{"targets": ["127.0.0.1:9323"]}],
    }


def test_blackbox_exporter_config_check(rendered, prom_tools, variant):
    path = rendered[variant].files["blackbox.yml"]
    result = run([prom_tools["prometheus-blackbox-exporter"], "--config.check", f"--config.file={path}"])
    assert "Config file is ok" in result.stdout + result.stderr


def test_blackbox_mcp_modules_send_initialize_with_their_headers(rendered, variant):
    modules = rendered[variant].load("blackbox.yml")["modules"]
    expected = {"http_ready", "mcp_initialize"} | ({"mcp_initialize_docs"} if variant == "full" else set())
    assert set(modules) == expected
    for name in expected - {"http_ready"}:
        http = modules[name]["http"]
        assert http["method"] == "POST"
        assert '"method": "initialize"' in http["body"]
        assert http["headers"]["Accept"] == "application/json, text/event-stream"
    if variant == "full":
        assert modules["mcp_initialize_docs"]["http"]["headers"]["X-API-Key"] == "docs-gateway-token"
        assert "X-API-Key" not in modules["mcp_initialize"]["http"]["headers"]
        # 'far' runs on another host: no module for it, and its token is nowhere in this host's file.
        assert "far-gateway-token" not in rendered[variant].files["blackbox.yml"].read_text(encoding="utf-8")


def test_amtool_check_config(rendered, prom_tools, variant):
    result = run([prom_tools["amtool"], "check-config", rendered[variant].files["alertmanager.yml"]])
    assert "SUCCESS" in result.stdout
    assert " - 1 inhibit rules" in result.stdout


def test_alertmanager_config_sends_to_every_destination(rendered, variant):
    config = rendered[variant].load("alertmanager.yml")
    (receiver,) = config["receivers"]
    assert config["route"]["receiver"] == receiver["name"]
    if variant == "minimal":
        assert set(receiver) == {"name"}
        assert "smtp_smarthost" not in config["global"]
        return
    assert config["global"]["smtp_smarthost"] == "smtp.example.com:587"
    assert config["global"]["smtp_auth_password"] == "smtp-password"
    assert config["global"]["smtp_require_tls"] is True
    assert [c["to"] for c in receiver["email_configs"]] == ["me@example.com"]
    hooks = receiver["webhook_configs"]
    assert [h["url"] for h in hooks] == [h["url"] for h in VARIANTS["full"]["monitoring_alert_webhooks"]]
    assert "http_config" not in hooks[0]
    assert hooks[1]["http_config"] == {"authorization": {"credentials": "webhook-token"}}
