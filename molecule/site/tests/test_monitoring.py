# SPDX-License-Identifier: GPL-3.0-or-later
"""What a user of the monitoring role sees next to the whole site: targets up, probes answering,
metrics present, nothing listening beyond 127.0.0.1, and alerts that fire, reach the webhook and
resolve when a thing breaks.

The scenario's intervals are 5 s and the `for:` of the alerts broken here 10 s (ServiceProbeFailing
30 s, group_vars), so each break is detected within about 45 s; the measured times are printed
(molecule.yml: -r P). Runs after test_default.py, which breaks nothing.
"""

import json
import shlex
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "tests"))

from verify_common import decrypt, load_vars

SCENARIO = Path(__file__).resolve().parents[1]
VAULT = load_vars(SCENARIO / "group_vars" / "homelab_servers" / "vault.yml")
PROMETHEUS = "http://127.0.0.1:9090"
ALERTMANAGER = "http://127.0.0.1:9093"
RECEIVER_LOG = "/var/log/alert-receiver.jsonl"
WEBHOOK_TOKEN = decrypt(SCENARIO, VAULT["vault_alert_webhook_token"])
NOTES_TOKEN = decrypt(SCENARIO, VAULT["vault_mcp_notes_token"])
EMULATOR = "http://127.0.0.1:8787"
READONLY_TOKEN = "emulator-token-readonly-0000000000000000"  # noqa: S105 - the emulator's fake value
UNITS = ["prometheus", "prometheus-alertmanager", "prometheus-blackbox-exporter", "prometheus-node-exporter"]
# Time allowed from a break to its alert firing: for: up to 30 s + scrape 5 s + evaluation 5 s, with slack.
FIRE_WITHIN = 90


def _get_json(host, url):
    code = f"import json, sys, urllib.request\nprint(urllib.request.urlopen({url!r}, timeout=10).read().decode())\n"
    result = host.run("python3 -c %s", code)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


def _query(host, expr):
    from urllib.parse import quote

    data = _get_json(host, f"{PROMETHEUS}/api/v1/query?query={quote(expr)}")
    assert data["status"] == "success", data
    return data["data"]["result"]


def _wait(check, timeout, step=2):
    """Polls ``check`` until it returns something true (or ``timeout`` seconds passed); returns its last value."""
    start = time.monotonic()
    while True:
        value = check()
        if value or time.monotonic() - start > timeout:
            return value
        time.sleep(step)


def _active_alerts(host, name):
    alerts = _get_json(host, f"{ALERTMANAGER}/api/v2/alerts?active=true&silenced=false&inhibited=false")
    return [a for a in alerts if a["labels"].get("alertname") == name]


def _deliveries(host, name, status):
    """Webhook posts holding alert ``name`` with ``status`` (firing/resolved), with their arrival times."""
    log = host.file(RECEIVER_LOG)
    if not log.exists:
        return []
    found = []
    for line in log.content_string.splitlines():
        entry = json.loads(line)
        for alert in entry["body"].get("alerts", []):
            if alert["labels"].get("alertname") == name and alert["status"] == status:
                found.append((entry["received_at"], entry, alert))
    return found


def _target_time(host):
    return float(host.run("date +%s.%N").stdout)


def _break_and_watch(host, alert, break_cmd, repair_cmd, label=None, while_broken=None):
    """Breaks a thing, measures break -> firing in Alertmanager -> delivered; repairs, waits for resolved.

    ``while_broken``, if given, must become true (polled) before the repair."""
    before = len(_deliveries(host, alert, "firing"))
    resolved_before = len(_deliveries(host, alert, "resolved"))
    broken_at = _target_time(host)
    assert host.run(break_cmd).rc == 0
    try:
        firing = _wait(lambda: _active_alerts(host, alert), FIRE_WITHIN)
        fired_at = _target_time(host)
        assert firing, f"{alert} did not fire within {FIRE_WITHIN} s of: {break_cmd}"
        if label:
            assert any(a["labels"].get(label[0]) == label[1] for a in firing), firing
        assert all(a["labels"].get("host") == host.backend.get_hostname() for a in firing), firing
        delivered = _wait(lambda: _deliveries(host, alert, "firing")[before:], 30, step=1)
        assert delivered, f"{alert} fired but reached no webhook within 30 s"
        received_at, entry = delivered[0][:2]
        assert entry["authorization"] == f"Bearer {WEBHOOK_TOKEN}"
        starts_at = firing[0]["startsAt"]
        if while_broken:
            held = _wait(while_broken, FIRE_WITHIN)
            assert held, f"while {alert} fired: {while_broken.__name__} never held"
    finally:
        assert host.run(repair_cmd).rc == 0
    repaired_at = _target_time(host)
    resolved = _wait(lambda: _deliveries(host, alert, "resolved")[resolved_before:], FIRE_WITHIN)
    assert resolved, f"{alert} was not resolved within {FIRE_WITHIN} s of: {repair_cmd}"
    # Polled every 2 s: each time is exact to about 2 s.
    print(
        f"{alert}: firing in Alertmanager {fired_at - broken_at:.0f} s after the break (startsAt {starts_at}), "
        f"at the webhook {received_at - broken_at:.0f} s after the break; resolved at the webhook "
        f"{resolved[0][0] - repaired_at:.0f} s after the repair"
    )


def _tunnel_connections_cmd(count):
    """A shell command that makes the emulator list ``count`` connections for tunnel home (0: all lost)."""
    code = (
        "import json, urllib.request as u\n"
        f"ts = json.load(u.urlopen(u.Request('{EMULATOR}/client/v4/accounts/a0000000000000000000000000000001"
        f"/cfd_tunnel?name=home&is_deleted=false', headers={{'Authorization': 'Bearer {READONLY_TOKEN}'}})))\n"
        f"r = u.Request('{EMULATOR}/__emulator/tunnels/' + ts['result'][0]['id'] + '/connections', "
        f"data=json.dumps({{'count': {count}}}).encode(), headers={{'Content-Type': 'application/json'}})\n"
        "u.urlopen(r)\n"
    )
    return "python3 -c " + shlex.quote(code)


def test_the_services_run_and_listen_on_loopback_only(host):
    for unit in UNITS:
        assert host.service(unit).is_running, unit
        assert host.service(unit).is_enabled, unit
    listeners = host.run("ss -H -ltnup").stdout.splitlines()
    mine = [line for line in listeners if any(p in line for p in ("prometheus", "alertmanager", "blackbox"))]
    assert len(mine) >= 4, listeners
    for line in mine:
        local = line.split()[4]
        assert local.startswith("127.0.0.1:"), line
    # Alertmanager's gossip port (Debian's default 0.0.0.0:9094) is off.
    assert not [line for line in listeners if ":9094 " in line], listeners


def test_each_service_is_sandboxed(host):
    for unit in UNITS:
        props = host.run(
            "systemctl show %s -p NoNewPrivileges -p CapabilityBoundingSet -p ProtectSystem -p User", unit
        ).stdout
        assert "NoNewPrivileges=yes" in props, (unit, props)
        assert "CapabilityBoundingSet=\n" in props + "\n" or "CapabilityBoundingSet=" in props.splitlines(), props
        assert "ProtectSystem=strict" in props, (unit, props)
        assert "User=prometheus" in props, (unit, props)


def test_secrets_are_in_group_only_files(host):
    for path in ("/etc/prometheus/alertmanager.yml", "/etc/prometheus/blackbox.yml"):
        config = host.file(path)
        assert config.mode == 0o640, path
        assert (config.user, config.group) == ("root", "prometheus"), path
    assert WEBHOOK_TOKEN in host.file("/etc/prometheus/alertmanager.yml").content_string
    assert NOTES_TOKEN in host.file("/etc/prometheus/blackbox.yml").content_string
    # Nowhere else readable: not in prometheus.yml, the rules, the ARGS files, the journal.
    leaks = host.run(
        "grep -rl -e %s -e %s /etc/prometheus/prometheus.yml /etc/prometheus/rules /etc/default /etc/systemd/system %s",
        WEBHOOK_TOKEN,
        NOTES_TOKEN,
        "/var/lib/prometheus/node-exporter",
    ).stdout
    assert leaks == ""
    journal = host.run("journalctl --no-pager -u 'prometheus*'").stdout
    assert WEBHOOK_TOKEN not in journal and NOTES_TOKEN not in journal


def test_every_target_is_up(host):
    def all_up():
        results = _query(host, "up")
        jobs = {r["metric"]["job"] for r in results}
        # docker: the engine's metrics (docker_metrics_address, on by default; the docker role ran here).
        expected = {"prometheus", "alertmanager", "node", "blackbox", "cloudflared", "mcp_probe", "docker"}
        if expected <= jobs and all(r["value"][1] == "1" for r in results):
            return results
        return None

    results = _wait(all_up, 60)
    assert results, _query(host, "up")
    tunnels = [r["metric"].get("tunnel") for r in results if r["metric"]["job"] == "cloudflared"]
    assert tunnels == ["home"]
    assert [r["metric"]["instance"] for r in results if r["metric"]["job"] == "docker"] == ["127.0.0.1:9323"]
    # The engine's own view of its containers reaches Prometheus (the scenario's MCP containers run).
    running = _query(host, 'engine_daemon_container_states_containers{job="docker",state="running"}')
    assert running and int(running[0]["value"][1]) >= 1, running


@pytest.mark.parametrize("service", ["time", "notes"])
def test_each_mcp_service_answers_an_initialize(host, service):
    def succeeded():
        results = _query(host, f'probe_success{{job="mcp_probe",service="{service}"}}')
        return results if results and results[0]["value"][1] == "1" else None

    results = _wait(succeeded, 60)
    assert results, _query(host, f'probe_success{{service="{service}"}}')
    # The body matched: an MCP server's answer, not just any 200.
    matched = _query(host, f'probe_failed_due_to_regex{{service="{service}"}}')
    assert matched[0]["value"][1] == "0"


def test_container_and_tunnel_metrics(host):
    running = _wait(lambda: _query(host, 'homelab_container_running{container="mcp-time"} == 1'), 30)
    assert running
    healthy = _query(host, 'homelab_container_healthy{container="mcp-notes"}')
    assert healthy and healthy[0]["value"][1] == "1"
    assert _query(host, 'cloudflared_tunnel_ha_connections{tunnel="home"}')[0]["value"][1] == "4"


def test_backup_metrics_after_a_backup(host):
    assert host.run("systemctl start homelab-backup.service").rc == 0

    def fresh():
        results = _query(host, "time() - homelab_backup_last_success_timestamp_seconds < 600")
        return results or None

    results = _wait(fresh, 60)
    assert results, _query(host, '{__name__=~"homelab_backup_.*"}')
    names = {r["metric"]["__name__"] for r in _query(host, '{__name__=~"homelab_backup_.*"}')}
    assert {
        "homelab_backup_last_success_timestamp_seconds",
        "homelab_backup_last_duration_seconds",
        "homelab_backup_repository_size_bytes",
    } <= names, names


def test_nothing_fires_when_all_is_well(host):
    _wait(lambda: not _active_alerts(host, "TunnelDown") and not _active_alerts(host, "ServiceProbeFailing"), 60)
    firing = _get_json(host, f"{ALERTMANAGER}/api/v2/alerts?active=true")
    assert [a["labels"]["alertname"] for a in firing] == []


def test_a_stopped_tunnel_fires_TunnelDown(host):
    _break_and_watch(
        host,
        "TunnelDown",
        "systemctl stop cloudflared@home",
        "systemctl start cloudflared@home",
        label=("tunnel", "home"),
    )


def test_a_hung_mcp_server_fires_ServiceProbeFailing(host):
    # Paused: the container still "runs", the server answers nothing (a hung process).
    _break_and_watch(
        host, "ServiceProbeFailing", "docker pause mcp-time", "docker unpause mcp-time", label=("service", "time")
    )


def test_a_stopped_container_fires_ContainerDown_alone(host):
    def no_probe_alert():
        return not _active_alerts(host, "ServiceProbeFailing")

    probe_deliveries = len(_deliveries(host, "ServiceProbeFailing", "firing"))
    _break_and_watch(
        host,
        "ContainerDown",
        "docker stop mcp-time",
        "docker start mcp-time",
        label=("service", "time"),
        while_broken=no_probe_alert,
    )
    # Its probe failed too, and again while it started: only ContainerDown was sent.
    time.sleep(40)  # the probe alert's for: (30 s) and a group interval, had it been pending
    assert len(_deliveries(host, "ServiceProbeFailing", "firing")) == probe_deliveries


def test_a_stale_backup_fires_BackupStale(host):
    # Three days old: what the textfile says when no backup ran since. A real run repairs it.
    prom = "/var/lib/prometheus/node-exporter/homelab_backup.prom"
    metric = "homelab_backup_last_success_timestamp_seconds"
    old = int(time.time()) - 3 * 86400
    _break_and_watch(
        host,
        "BackupStale",
        f"sed -i 's/^{metric} .*/{metric} {old}/' {prom}",
        "systemctl start homelab-backup.service",
    )


def test_cloudflares_view_of_the_tunnel(host):
    """The tunnel status check: the API's status in Prometheus, its token only in a root-only file."""
    healthy = _wait(lambda: _query(host, 'homelab_tunnel_api_status{tunnel="home",status="healthy"} == 1'), 60)
    assert healthy, _query(host, '{__name__=~"homelab_tunnel_api_.*"}')
    assert _query(host, "homelab_tunnel_api_up")[0]["value"][1] == "1"
    assert _query(host, 'homelab_tunnel_api_connections{tunnel="home"}')[0]["value"][1] == "4"
    props = host.run("systemctl show homelab-tunnel-status.service -p NoNewPrivileges -p User -p ProtectSystem").stdout
    assert "User=homelab-tunnel-status" in props and "NoNewPrivileges=yes" in props, props
    assert "ProtectSystem=strict" in props, props
    token = host.file("/etc/homelab-mcp-edge/tunnel-status.token")
    assert (token.mode, token.user) == (0o400, "homelab-tunnel-status")
    # Its user reads it; nobody else does (not prometheus, whose Prometheus faces the most input).
    assert host.run("runuser -u prometheus -- cat /etc/homelab-mcp-edge/tunnel-status.token").rc != 0
    leaks = host.run(
        "grep -rl %s /etc/systemd/system /etc/homelab-mcp-edge/tunnel-status.json /var/lib/prometheus/node-exporter",
        READONLY_TOKEN,
    ).stdout
    assert leaks == ""
    assert READONLY_TOKEN not in host.run("systemctl show homelab-tunnel-status.service").stdout
    assert READONLY_TOKEN not in host.run("journalctl --no-pager -u homelab-tunnel-status").stdout


def test_a_tunnel_cloudflare_sees_down_fires_TunnelNotHealthyAtCloudflare(host):
    # cloudflared here keeps running with its 4 connections; Cloudflare's API lists none (the timer: 30 s).
    _break_and_watch(
        host,
        "TunnelNotHealthyAtCloudflare",
        _tunnel_connections_cmd(0),
        _tunnel_connections_cmd(4),
        label=("status", "down"),
    )
