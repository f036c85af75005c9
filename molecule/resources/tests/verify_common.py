# SPDX-License-Identifier: GPL-3.0-or-later
"""What the scenarios' testinfra verifies share, with one owner each.

* Reading a scenario's variables with their ``!vault`` values kept as ciphertext, and decrypting
  one with the scenario's test-only vault password.
* Running a command on the controller (without proxy variables: everything is local).
* The target container as the controller sees it (name, PID, addresses), and the MCP probe
  (tests/images/mcp_probe.py, the official ``mcp`` SDK) run on the controller inside the target's
  network namespace (``nsenter -n``), so it reaches the target's 127.0.0.1 as cloudflared there would.
* Docker look-ups through the target's own engine (inspect, environment, health).
* ``systemctl show`` properties as a dict.
* The Cloudflare API emulator's control API, at the port the scenario's prepare wrote to the
  ephemeral directory (``emulator.port``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[3]
MCP_PROBE = PROJECT / "tests" / "images" / "mcp_probe.py"
PROBE_TCP = PROJECT / "molecule" / "resources" / "files" / "probe_tcp.py"


class _VaultKeepingLoader(yaml.SafeLoader):
    """A safe loader that keeps each ``!vault`` value as its ciphertext string."""


_VaultKeepingLoader.add_constructor("!vault", lambda loader, node: loader.construct_scalar(node))


def load_vars(path):
    """The YAML variables file at ``path``; vaulted values stay ciphertext (see ``decrypt``)."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_VaultKeepingLoader)  # noqa: S506


def decrypt(scenario_dir, ciphertext):
    """Plain text of a vaulted value, with the scenario's vault-password.txt."""
    from ansible.parsing.vault import VaultLib, VaultSecret

    password = (Path(scenario_dir) / "vault-password.txt").read_bytes().strip()
    return VaultLib([("default", VaultSecret(password))]).decrypt(ciphertext).decode()


def controller(*argv, timeout=60, stdin=None):
    """Run ``argv`` on the controller; the CompletedProcess (text), never raising on exit status."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, input=stdin, check=False)


def target_of(host):
    """The target container: its name, main PID and addresses (``ip`` is the first)."""
    name = host.backend.get_hostname()
    out = controller("docker", "inspect", name)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)[0]
    ips = [n["IPAddress"] for n in info["NetworkSettings"]["Networks"].values() if n["IPAddress"]]
    return {"name": name, "pid": str(info["State"]["Pid"]), "ips": ips, "ip": ips[0] if ips else None}


def mcp_probe(target, url, *args, timeout=180):
    """Run the MCP probe in the target's network namespace; (exit code, its JSON summary)."""
    out = controller("nsenter", "-t", target["pid"], "-n", sys.executable, str(MCP_PROBE), url, *args, timeout=timeout)
    try:
        return out.returncode, json.loads(out.stdout)
    except json.JSONDecodeError:
        return out.returncode, {"stdout": out.stdout[-2000:], "stderr": out.stderr[-2000:]}


def inspect(host, container):
    """``docker inspect`` of a container in the target's engine."""
    return json.loads(host.check_output(f"docker inspect {container}"))[0]


def env_of(host, container):
    """A container's environment as a dict."""
    return dict(item.split("=", 1) for item in inspect(host, container)["Config"]["Env"])


def wait_healthy(host, container, timeout=90):
    """The container's health status once it is 'healthy', or the last one seen after ``timeout`` s.

    A loaded CI machine can be mid-way through a health check (or a restart) when verify starts.
    """
    deadline = time.monotonic() + timeout
    while True:
        status = host.check_output("docker inspect --format '{{.State.Health.Status}}' %s" % container)
        if status == "healthy" or time.monotonic() > deadline:
            return status
        time.sleep(2)


def systemctl_show(host, unit, *props):
    """``systemctl show`` of the given properties as a dict."""
    out = host.check_output(f"systemctl show {unit} " + " ".join(f"-p {p}" for p in props))
    return dict(line.split("=", 1) for line in out.splitlines())


def emulator(path):
    """GET ``/__emulator/<path>`` of the scenario's emulator (its port is in ``emulator.port``)."""
    port = (Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "emulator.port").read_text().strip()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__emulator/{path}", timeout=10) as resp:
        return json.load(resp)
