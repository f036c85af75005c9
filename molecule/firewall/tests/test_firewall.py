# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Verify the firewall role from outside and inside the two targets (nftables and ufw backends).

"Outside" is this machine, another host on the targets' Docker network: its connections are new
inbound connections from a host in firewall_admin_networks. side_effect.yml started a test listener
on 0.0.0.0:8080 in each target and rebooted them (the rules come from the boot units).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading

import pytest

TABLE = "inet homelab_mcp_edge"
DESIRED = "/etc/nftables.d/homelab_mcp_edge.nft"
ACTIVE = "/var/lib/homelab-mcp-edge/firewall/active.nft"
UNIT = "homelab-mcp-edge-firewall.service"


@pytest.fixture(scope="module")
def backend(host):
    return host.ansible.get_variables()["firewall_backend"]


@pytest.fixture(scope="module")
def target(host):
    name = host.backend.get_hostname()
    out = subprocess.run(["docker", "inspect", name], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    networks = json.loads(out.stdout)[0]["NetworkSettings"]["Networks"].values()
    return next((n["IPAddress"], n["Gateway"]) for n in networks if n["IPAddress"])


def _connect(address, port, timeout=2.0):
    """'open', 'refused' or 'timeout' (a firewall drops the SYN)."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            return "open", conn.recv(64)
    except ConnectionRefusedError:
        return "refused", b""
    except TimeoutError:
        return "timeout", b""


def test_ssh_answers_from_an_admin_network(target):
    state, banner = _connect(target[0], 22)
    assert state == "open"
    assert banner.startswith(b"SSH-2.0-")


def test_other_listener_unreachable_from_outside_but_answers_locally(host, target):
    listening = host.check_output("ss -Hltn 'sport = :8080'")
    assert "0.0.0.0:8080" in listening, "the test listener from side_effect.yml is not running"
    assert "Directory listing" in host.check_output("curl -fsS --max-time 5 http://127.0.0.1:8080/")
    assert _connect(target[0], 8080)[0] == "timeout"


def test_closed_port_is_dropped_not_refused(target):
    # Nothing listens on 8081: without the firewall the kernel would answer with a reset.
    assert _connect(target[0], 8081)[0] == "timeout"


def test_nftables_table_contents(host, backend):
    if backend != "nftables":
        pytest.skip("nftables backend only")
    table = host.check_output(f"nft -s list table {TABLE}")
    for fragment in (
        "type filter hook input priority filter; policy drop;",
        'iif "lo" accept',
        "ct state established,related accept",
        "icmp type echo-request limit rate 5/second burst 10 packets accept",
        "nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } ip6 hoplimit 255 accept",
        "packet-too-big",
        "tcp dport 22 ip saddr @admin_v4 accept",
        "tcp dport 22 ip6 saddr @admin_v6 accept",
        "elements = { 172.",  # the Docker bridge's network
        "192.0.2.0/24",  # two /25 merged
        "2001:db8:42::/48",
        "tcp dport 8443 ip saddr 198.51.100.0/24 accept",
        'iif != "lo" ip daddr 127.0.0.0/8 drop',
        # the nftables target restricts outbound (molecule.yml)
        "type filter hook output priority filter; policy drop;",
        "udp dport 53 accept",
        "tcp dport 53 accept",
        "udp dport 123 accept",
        "tcp dport 443 accept",
        "tcp dport 7844 accept",
        "udp dport 7844 accept",
        "tcp dport 8200 ip daddr 203.0.113.0/24 accept",
        'oifname "br-*" accept',
        'comment "homelab.mcp_edge firewall sha1:',
    ):
        assert fragment in table, fragment
    assert "hook forward" not in table, "a forward chain would interfere with container networking"
    # The only base chains hooked into input/forward are the role's (no other firewall was added).
    ruleset = host.check_output("nft list ruleset")
    assert ruleset.count("hook input") == 1


def test_nftables_files_never_flush_and_boot_unit_loads_the_confirmed_copy(host, backend):
    if backend != "nftables":
        pytest.skip("nftables backend only")
    desired, active = host.file(DESIRED), host.file(ACTIVE)
    statements = [line for line in desired.content_string.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in statements if "flush" in line], statements
    assert desired.content_string == active.content_string
    assert (active.user, active.mode) == ("root", 0o600)
    assert host.run(f"nft -c -f {DESIRED}").rc == 0
    unit = host.service(UNIT)
    assert unit.is_enabled
    assert host.check_output(f"systemctl show -p ActiveState --value {UNIT}") == "active"
    assert host.check_output(f"systemctl show -p ExecStart --value {UNIT}").count(ACTIVE) == 1


def test_guard_left_nothing_armed(host):
    timers = host.check_output("systemctl list-timers --all --no-legend")
    assert "homelab-mcp-edge-firewall-rollback" not in timers
    assert host.file("/usr/local/sbin/homelab-mcp-edge-firewall-guard").mode == 0o750


def test_ufw_status(host, backend):
    if backend != "ufw":
        pytest.skip("ufw backend only")
    status = host.check_output("ufw status verbose")
    assert "Status: active" in status
    assert "Default: deny (incoming), allow (outgoing)" in status
    assert "22/tcp                     ALLOW IN    172." in status
    assert "22/tcp                     ALLOW IN    2001:db8:42::/48" in status
    assert "8443/tcp                   ALLOW IN    198.51.100.0/24" in status
    rules = [line for line in status.splitlines() if "ALLOW" in line]
    assert all("# homelab.mcp_edge" in line for line in rules), rules
    assert not any(port in status for port in ("8080", "3001", "5678", "20241"))
    assert host.service("ufw").is_enabled
    assert "ENABLED=yes" in host.file("/etc/ufw/ufw.conf").content_string


@pytest.fixture(scope="module")
def controller_listener(target):
    """A TCP listener on this machine's address on the targets' network (an outbound destination)."""
    server = socket.create_server((target[1], 0))
    server.settimeout(30)
    accepted = []

    def serve():
        try:
            while True:
                conn, _peer = server.accept()
                accepted.append(conn)
                conn.close()
        except OSError:
            return

    threading.Thread(target=serve, daemon=True).start()
    yield target[1], server.getsockname()[1]
    server.close()


def test_outbound(host, backend, controller_listener):
    address, port = controller_listener
    probe = host.run(f"timeout 3 bash -c 'exec 3<>/dev/tcp/{address}/{port}'")
    if backend == "nftables":  # restricted in molecule.yml: only DNS, NTP, HTTPS, 7844 and the extras
        assert probe.rc != 0, f"outbound to {address}:{port} should be dropped"
    else:
        assert probe.rc == 0, probe.stderr


def test_nftables_artefacts_only_with_the_nftables_backend(host, backend):
    if backend == "nftables":
        assert f"table {TABLE}" in host.check_output("nft list tables").splitlines()
    else:
        assert not host.file(f"/etc/systemd/system/{UNIT}").exists
        assert not host.file(DESIRED).exists
