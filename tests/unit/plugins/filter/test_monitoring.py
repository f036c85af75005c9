# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The monitoring role's filters: the probes it derives and every problem its preflight refuses."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.filter.monitoring import FilterModule

FILTERS = FilterModule().filters()
PROBLEMS = FILTERS["monitoring_problems"]
PROBES = FILTERS["monitoring_probes"]
SCRAPES = FILTERS["monitoring_scrapes"]
SECONDS = FILTERS["monitoring_seconds"]
EXPIRY = FILTERS["monitoring_token_expiry"]

SERVICES = [
    {"name": "time", "kind": "mcp", "image": "example/mcp-time:1.0.0", "port": 8101},
    {"name": "notes", "kind": "mcp", "image": "example/mcp-notes:1.0.0", "transport": "streamable-http", "port": 8102},
    {"name": "n8n", "kind": "n8n", "port": 5678},
    {"name": "off", "kind": "mcp", "image": "example/mcp-off:1.0.0", "port": 8103, "enabled": False},
]
ALERTS = ["TunnelDown", "BackupStale", "ServiceProbeFailing"]


def settings(**changes):
    base = {
        "domain": "example.com",
        "scrape_interval": "30s",
        "evaluation_interval": "30s",
        "mcp_probe_interval": "60s",
        "container_metrics_interval": "30s",
        "alert_group_wait": "30s",
        "alert_group_interval": "5m",
        "alert_repeat_interval": "4h",
        "retention": "15d",
        "backup_stale_after": "26h",
        "tunnel_min_connections": 4,
        "alert_names": ALERTS,
        "alert_for": {},
        "prometheus_port": 9090,
        "alertmanager_port": 9093,
        "node_exporter_port": 9100,
        "blackbox_port": 9115,
        "textfile_dir": "/var/lib/prometheus/node-exporter",
        "scrape_targets_dir": "/etc/homelab-mcp-edge/scrape-targets",
        "alert_email": {},
        "alert_webhooks": [],
        "mcp_probe_headers": {},
    }
    base.update(changes)
    return base


def test_defaults_have_no_problem():
    assert PROBLEMS(SERVICES, settings()) == []


def test_probes_one_per_enabled_mcp_service_and_n8n():
    assert PROBES(SERVICES, "example.com", {"notes": {"Authorization": "Bearer x"}}) == [
        {"service": "time", "kind": "mcp", "url": "http://127.0.0.1:8101/mcp", "module": "mcp_initialize"},
        {"service": "notes", "kind": "mcp", "url": "http://127.0.0.1:8102/mcp", "module": "mcp_initialize_notes"},
        {"service": "n8n", "kind": "n8n", "url": "http://127.0.0.1:5678/healthz/readiness", "module": "http_ready"},
    ]


def test_probes_refuse_a_broken_description():
    with pytest.raises(AnsibleFilterError, match="monitoring_services"):
        PROBES([{"name": "x", "kind": "mcp"}], "example.com")


def test_scrapes_n8n_metrics_and_the_docker_engine_when_they_are_served():
    n8n = {"job": "n8n", "service": "n8n", "target": "127.0.0.1:5678", "metrics_path": "/metrics"}
    docker = {"job": "docker", "target": "127.0.0.1:9323", "metrics_path": "/metrics"}
    assert SCRAPES(SERVICES, "example.com", True, "127.0.0.1:9323") == [n8n, docker]
    # n8n's metrics off (homelab_n8n_metrics false): not scraped; the engine's off (""): not scraped.
    assert SCRAPES(SERVICES, "example.com", False, "127.0.0.1:9323") == [docker]
    assert SCRAPES(SERVICES, "example.com", True, "") == [n8n]
    # A disabled n8n is not scraped; a host without containers (kind http only) runs no engine to scrape.
    assert SCRAPES([dict(SERVICES[2], enabled=False), SERVICES[0]], "example.com", True, "[::1]:9323") == [
        dict(docker, target="[::1]:9323")
    ]
    ui = {"name": "grafana", "kind": "http", "port": 3000}
    assert SCRAPES([ui], "example.com", True, "127.0.0.1:9323") == []
    with pytest.raises(AnsibleFilterError, match="monitoring_services"):
        SCRAPES([{"name": "x", "kind": "n8n"}], "example.com")


@pytest.mark.parametrize("address", ["", "127.0.0.1:9323", "[::1]:9323", "127.0.0.5:19323"])
def test_metrics_settings_accepted(address):
    assert PROBLEMS(SERVICES, settings(docker_metrics_address=address, n8n_metrics=False)) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scrape_interval": "30"}, "monitoring_scrape_interval must be a duration such as '30s' or '1m', got '30'."),
        ({"alert_group_wait": "1d"}, "monitoring_alert_group_wait must be a duration"),
        ({"retention": "forever"}, "monitoring_retention must be a duration such as '15d'"),
        ({"backup_stale_after": "1d"}, "monitoring_backup_stale_after must be a duration such as '26h'"),
        (
            {"alert_for": {"TunelDown": "5m"}},
            "names 'TunelDown', which is not an alert of the role (did you mean 'TunnelDown'?)",
        ),
        ({"alert_for": {"TunnelDown": "soon"}}, "monitoring_alert_for.TunnelDown must be a duration such as '5m'"),
        ({"alert_for": ["TunnelDown"]}, "monitoring_alert_for must be a mapping"),
        ({"prometheus_port": 70000}, "monitoring_prometheus_port must be a port from 1 to 65535, got 70000."),
        ({"blackbox_port": 9090}, "monitoring_blackbox_port and monitoring_prometheus_port are both 9090"),
        ({"node_exporter_port": 8101}, "monitoring_node_exporter_port is 8101, the 127.0.0.1 port of service 'time'"),
        ({"tunnel_min_connections": 0}, "monitoring_tunnel_min_connections must be a number from 1 to 16, got 0."),
        ({"textfile_dir": "metrics"}, "monitoring_textfile_dir must be an absolute directory of its own"),
        ({"scrape_targets_dir": "/etc"}, "monitoring_scrape_targets_dir must be an absolute directory of its own"),
        (
            {"mcp_probe_headers": {"n8n": {"X-Key": "k"}}},
            "names 'n8n', which is not an MCP service of homelab_services",
        ),
        (
            {"mcp_probe_headers": {"time": {"Bad Header": "k"}}},
            "monitoring_mcp_probe_headers.time: 'Bad Header' is not",
        ),
        (
            {"mcp_probe_headers": {"time": {"X-Key": "a\nb"}}},
            "monitoring_mcp_probe_headers.time.X-Key must be a one-line",
        ),
        (
            {"docker_metrics_address": "0.0.0.0:9323"},
            "monitoring_docker_metrics_address must be a loopback address and port, such as '127.0.0.1:9323'",
        ),
        ({"docker_metrics_address": "localhost:9323"}, "never a name or another address"),
        (
            {"docker_metrics_address": "127.0.0.1:9090"},
            "monitoring_docker_metrics_address (homelab_docker_metrics_address) uses port 9090, which is "
            "monitoring_prometheus_port; the engine would not start.",
        ),
        (
            {"docker_metrics_address": "127.0.0.1:5678"},
            "uses port 5678, which is the 127.0.0.1 port of service 'n8n'",
        ),
        ({"n8n_metrics": "yes"}, "monitoring_n8n_metrics must be true or false, got 'yes'."),
    ],
)
def test_each_problem_names_the_variable(changes, message):
    problems = PROBLEMS(SERVICES, settings(**changes))
    assert any(message in p for p in problems), problems


def test_probe_headers_may_name_an_mcp_service_placed_on_another_host():
    # group_vars give every host one mapping: a service of the site that runs elsewhere is no problem here,
    # a name that is no MCP service anywhere still is, and a header of the other host's service is checked.
    site = [*SERVICES, {"name": "docs", "kind": "mcp", "image": "x", "port": 8104, "hosts": ["storage"]}]
    headers = {"docs": {"Authorization": "Bearer t"}}
    assert PROBLEMS(SERVICES, settings(mcp_probe_headers=headers, site_services=site)) == []
    problems = PROBLEMS(SERVICES, settings(mcp_probe_headers=headers))
    assert any("names 'docs', which is not an MCP service of homelab_services" in p for p in problems), problems
    bad = {"docs": {"Bad Header": "t"}}
    problems = PROBLEMS(SERVICES, settings(mcp_probe_headers=bad, site_services=site))
    assert any("monitoring_mcp_probe_headers.docs: 'Bad Header' is not" in p for p in problems), problems


TUNNEL_STATUS = {
    "tunnel_status_api_token": "read-only-token",
    "tunnel_status_account_id": "a0000000000000000000000000000001",
    "tunnel_status_api_base_url": "https://api.cloudflare.com/client/v4",
    "tunnel_status_interval": "5m",
    "tunnel_status_tunnels": [{"name": "home", "id": "6ff42ae2-765d-4adf-8112-31c55c1551ef"}],
}


def test_tunnel_status_check_off_without_a_token_whatever_else_is_set():
    assert (
        PROBLEMS(SERVICES, settings(**{**TUNNEL_STATUS, "tunnel_status_api_token": "", "tunnel_status_interval": "x"}))
        == []
    )
    assert PROBLEMS(SERVICES, settings(**TUNNEL_STATUS)) == []
    # Before the edge has handed the tunnel over (site.yml's preflight), no tunnel is no problem yet.
    assert PROBLEMS(SERVICES, settings(**{**TUNNEL_STATUS, "tunnel_status_tunnels": []})) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tunnel_status_api_token": "two words"}, "monitoring_tunnel_status_api_token must be an API token"),
        ({"tunnel_status_account_id": "ACME"}, "monitoring_tunnel_status_account_id must be the tunnels' Cloudflare"),
        ({"tunnel_status_api_base_url": "api.cloudflare.com"}, "monitoring_tunnel_status_api_base_url must be an http"),
        ({"tunnel_status_interval": "10s"}, "monitoring_tunnel_status_interval must be a duration of 30s or more"),
        ({"tunnel_status_tunnels": {"name": "home"}}, "monitoring_tunnel_status_tunnels must be a list of {name, id}"),
        ({"tunnel_status_tunnels": [{"id": "x"}]}, "monitoring_tunnel_status_tunnels[0] must be a mapping with the"),
        (
            {"tunnel_status_tunnels": [{"name": "h", "uuid": "x"}]},
            "monitoring_tunnel_status_tunnels[0]: unknown key 'uuid'",
        ),
        (
            {"tunnel_status_tunnels": [{"name": "h", "id": "x"}]},
            "monitoring_tunnel_status_tunnels[0].id must be the tunnel's UUID",
        ),
    ],
)
def test_tunnel_status_problems_name_the_variable_never_the_token(changes, message):
    problems = PROBLEMS(SERVICES, settings(**{**TUNNEL_STATUS, **changes}))
    assert any(message in p for p in problems), problems
    assert not any("read-only-token" in p or "two words" in p for p in problems)


def test_a_ui_published_as_kind_http_is_no_clash():
    ui = {"name": "prometheus", "kind": "http", "port": 9090, "access": ["owner"]}
    assert PROBLEMS([*SERVICES, ui], settings()) == []
    assert [p["service"] for p in PROBES([*SERVICES, ui], "example.com")] == ["time", "notes", "n8n"]


def test_email_receiver():
    good = {"to": "me@example.com", "from": "alerts@example.com", "smarthost": "smtp.example.com:587"}
    assert PROBLEMS(SERVICES, settings(alert_email=good)) == []
    assert PROBLEMS(SERVICES, settings(alert_email=dict(good, to=["a@example.com", "b@example.com"]))) == []
    problems = PROBLEMS(SERVICES, settings(alert_email={"to": "me", "smarthost": "smtp", "user": "x", "password": "p"}))
    assert "monitoring_alert_email: unknown key 'user' (did you mean 'username'?)" in problems[0]
    assert any("monitoring_alert_email.to must be an address" in p for p in problems)
    assert any("monitoring_alert_email.from must be the sender's address" in p for p in problems)
    assert any("monitoring_alert_email.smarthost must be the SMTP server as host:port" in p for p in problems)
    assert any("give username and password together" in p for p in problems)


def test_webhook_receivers_never_repeat_a_secret():
    secret_url = "ftp://hooks.example.com/s3cr3t-path"
    hooks = [
        {"name": "ntfy", "url": "https://ntfy.example.com/homelab", "bearer_token": "tok"},
        {"name": "ntfy", "url": secret_url},
        {"name": "Bad Name", "url": "https://x.example.com", "bearer_token": "has space"},
        {"name": "n8n", "url": "https://n8n.example.com/webhook/x", "token": "t"},
    ]
    problems = PROBLEMS(SERVICES, settings(alert_webhooks=hooks))
    assert "monitoring_alert_webhooks[1].name 'ntfy' is used twice; give each webhook its own name." in problems
    assert "monitoring_alert_webhooks[1].url must be an http:// or https:// URL." in problems
    assert any(p.startswith("monitoring_alert_webhooks[2].name must be lower-case") for p in problems)
    assert "monitoring_alert_webhooks[2].bearer_token must be a non-empty string without spaces." in problems
    assert any("[3]: unknown key 'token'" in p for p in problems)
    assert not any(secret_url in p or "has space" in p for p in problems)
    assert PROBLEMS(SERVICES, settings(alert_webhooks=hooks[:1])) == []


def test_a_broken_description_is_reported_not_raised():
    problems = PROBLEMS([{"name": "x", "kind": "mcp"}], settings())
    assert problems and all("monitoring_services" in p for p in problems)


def test_seconds():
    assert SECONDS("26h") == 93600
    assert SECONDS("1h30m") == 5400
    with pytest.raises(AnsibleFilterError, match="not a duration"):
        SECONDS("1d")


def test_token_expiry_skips_what_it_cannot_read():
    assert EXPIRY({"ci": "2027-11-23T06:00:00Z", "laptop": "(extended by 8760h)", "b": "1970-01-02T00:00:00Z"}) == [
        {"token": "b", "seconds": 86400},
        {"token": "ci", "seconds": 1826949600},
    ]
    assert EXPIRY({}) == []
    assert EXPIRY(None) == []
