# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify the mcp_servers scenario: real MCP clients, loopback-only ports, hardened containers.

The MCP probe (tests/images/mcp_probe.py, the official `mcp` SDK from the project's venv) runs on
the controller inside the target's network namespace (nsenter -n), so it reaches the target's
127.0.0.1 exactly as cloudflared on that host would. Everything else is read through the target's
own Docker engine (`docker inspect` inside the target).
"""

from __future__ import annotations

import json
import socket
import sys
from functools import cache
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "tests"))
from secret_scan import readable_by_others, written_outside_the_engine
from verify_common import decrypt, inspect, load_vars, mcp_probe, target_of, wait_healthy

SCENARIO = Path(__file__).resolve().parents[1]
VARS = load_vars(SCENARIO / "vars" / "main.yml")
# The MCP services of this target: 'archive' is placed on another host (`hosts: [storage]`).
MCP = {s["name"]: s for s in VARS["homelab_services"] if s.get("kind", "mcp") == "mcp" and "hosts" not in s}
PORTS = sorted(s["port"] for s in MCP.values())


@cache
def _secret(name):
    return decrypt(SCENARIO, VARS[name])


@pytest.fixture(scope="module")
def target(host):
    return target_of(host)


def test_engine_configured_and_running(host):
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert daemon["live-restore"] is True
    assert daemon["log-driver"] == "json-file"
    assert daemon["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert host.service("docker").is_running
    assert host.service("docker").is_enabled
    assert host.package("python3-docker").is_installed


def test_engine_metrics_on_loopback_only(host, target):
    # docker_metrics_address (homelab_docker_metrics_address, 127.0.0.1:9323 by default): Debian 12's
    # Engine 20.10 serves its metrics without experimental features.
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert daemon["metrics-addr"] == "127.0.0.1:9323"
    assert "experimental" not in daemon
    body = host.check_output("curl -fsS --max-time 10 http://127.0.0.1:9323/metrics")
    assert 'engine_daemon_container_states_containers{state="running"}' in body, body[:2000]
    # Bound to 127.0.0.1 alone: no other address of the host (the LAN, docker0, a container bridge) has it.
    listeners = host.check_output("ss -Hltn 'sport = :9323'").splitlines()
    assert listeners and all(line.split()[3] == "127.0.0.1:9323" for line in listeners), listeners
    for ip in target["ips"]:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((ip, 9323), timeout=3).close()


def test_stdio_server_behind_gateway_answers(target):
    rc, summary = mcp_probe(
        target,
        "http://127.0.0.1:8101/mcp",
        "--wait", "60",
        "--expect-tool", "convert_time",
        "--call", "get_current_time",
        "--args", json.dumps({"timezone": "Europe/Berlin"}),
        "--expect", "Europe/Berlin",
    )  # fmt: skip
    assert rc == 0, summary
    assert summary["initialize"]["server"] == "mcp-time"
    assert summary["call"]["structured"]["timezone"] == "Europe/Berlin"
    assert summary["call"]["is_error"] is False


def test_second_stdio_server_answers(target):
    rc, summary = mcp_probe(
        target,
        "http://127.0.0.1:8103/mcp",
        "--wait", "60",
        "--call", "convert_time",
        "--args", json.dumps({"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}),
        "--expect", "21:00",
    )  # fmt: skip
    assert rc == 0, summary


def test_streamable_http_server_answers_with_its_vault_token(target):
    header = f"Authorization: Bearer {_secret('vault_mcp_notes_token')}"
    url = "http://127.0.0.1:8102/mcp"
    rc, summary = mcp_probe(
        target, url, "--wait", "60", "--header", header,
        "--call", "add_note", "--args", json.dumps({"text": "written by molecule verify"}),
    )  # fmt: skip
    assert rc == 0, summary
    rc, summary = mcp_probe(
        target, url, "--header", header, "--call", "list_notes", "--expect", "written by molecule verify"
    )
    assert rc == 0, summary


def test_streamable_http_server_refuses_without_token(host, target):
    rc, summary = mcp_probe(target, "http://127.0.0.1:8102/mcp", "--call", "list_notes")
    assert rc != 0, summary
    code = host.check_output(
        "curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' "
        "-H 'Accept: application/json, text/event-stream' --data '{}' http://127.0.0.1:8102/mcp"
    )
    assert code == "401"


@pytest.mark.parametrize("port", PORTS)
def test_published_on_loopback_only(host, target, port):
    assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
    listeners = host.check_output(f"ss -Hltn 'sport = :{port}'").splitlines()
    assert listeners and all("127.0.0.1:" in line for line in listeners), listeners
    for ip in target["ips"]:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((ip, port), timeout=3).close()


@pytest.mark.parametrize("name", sorted(MCP))
def test_container_is_hardened(host, name):
    info = inspect(host, f"mcp-{name}")
    cfg, hc = info["Config"], info["HostConfig"]
    assert cfg["User"] == "10001:10001"
    assert hc["CapDrop"] == ["ALL"]
    assert not hc["CapAdd"]
    assert hc["Privileged"] is False
    assert "no-new-privileges:true" in hc["SecurityOpt"]
    assert hc["ReadonlyRootfs"] is True
    assert hc["Memory"] > 0 and hc["MemorySwap"] == hc["Memory"]
    assert hc["NanoCpus"] > 0
    assert hc["PidsLimit"] > 0
    assert hc["RestartPolicy"]["Name"] == "unless-stopped"
    assert "/tmp" in hc["Tmpfs"]  # noqa: S108
    assert wait_healthy(host, f"mcp-{name}") == "healthy"
    assert cfg["Labels"]["io.homelab.mcp_edge.managed"] == "true"
    assert cfg["Labels"]["io.homelab.mcp_edge.service"] == name
    bindings = [b for port in hc["PortBindings"].values() for b in port]
    assert bindings and all(b["HostIp"] == "127.0.0.1" for b in bindings), bindings
    # Every process in the container: uid 10001, no effective or permitted capability.
    status = host.check_output(
        f"docker exec mcp-{name} sh -c 'for p in /proc/[0-9]*/status; do grep -E \"^(Uid|CapEff|CapPrm):\" $p; done'"
    )
    uids = {line.split()[1] for line in status.splitlines() if line.startswith("Uid:")}
    caps = {line.split()[1] for line in status.splitlines() if line.startswith(("CapEff:", "CapPrm:"))}
    assert uids == {"10001"}, status
    assert caps == {"0000000000000000"}, status


def test_limits_per_service(host):
    clock = inspect(host, "mcp-clock")["HostConfig"]
    time = inspect(host, "mcp-time")["HostConfig"]
    assert clock["Memory"] == 128 * 1024 * 1024 and clock["NanoCpus"] == 250_000_000
    assert time["Memory"] == 256 * 1024 * 1024 and time["NanoCpus"] == 500_000_000


def test_gateway_command_line(host):
    cfg = inspect(host, "mcp-time")["Config"]
    assert cfg["Entrypoint"] == ["/usr/bin/tini", "--"]
    assert cfg["Cmd"][:6] == ["mcp-proxy", "--host", "0.0.0.0", "--port", "8080", "--pass-environment"]  # noqa: S104
    assert cfg["Cmd"][-4:] == ["--", "mcp-server-time", "--local-timezone", "Europe/Berlin"]
    assert ["--allow-origin", "https://claude.ai"] == cfg["Cmd"][6:8]


@pytest.mark.parametrize("name", sorted(MCP))
def test_each_service_on_its_own_network(host, name):
    networks = inspect(host, f"mcp-{name}")["NetworkSettings"]["Networks"]
    assert list(networks) == [f"mcp-{name}"]


def test_only_mcp_kinds_deployed(host):
    names = host.check_output("docker ps -a --format '{{.Names}}'").split()
    assert sorted(names) == sorted(f"mcp-{n}" for n in MCP)


def test_a_service_placed_on_another_host_is_not_deployed_here(host):
    # 'archive' has `hosts: [storage]`, a group this target is not in: no container, network or volume,
    # and its port is closed.
    engine_objects = " ".join(
        host.check_output(command)
        for command in (
            "docker ps -a --format '{{.Names}}'",
            "docker network ls --format '{{.Name}}'",
            "docker volume ls --format '{{.Name}}'",
        )
    )
    assert "archive" not in engine_objects
    assert not host.socket("tcp://127.0.0.1:8104").is_listening


def test_secret_is_in_no_file_outside_the_engine(host):
    token = _secret("vault_mcp_notes_token")
    # Not readable by another local user anywhere, and not written to any file by the role (only
    # the engine's root-only state holds it).
    assert readable_by_others(host, token) == []
    assert written_outside_the_engine(host, token) == []
    # The engine's own state: /var/lib/docker (config.v2.json) is closed to others, and each
    # container's runtime bundle (the OCI config.json with the environment) is root-only.
    assert oct(host.file("/var/lib/docker").mode) in ("0o710", "0o700")
    bundles = host.check_output(
        "find /run/containerd/io.containerd.runtime.v2.task/moby -mindepth 1 -maxdepth 1 -type d ! -perm 0700"
    )
    assert bundles == ""
