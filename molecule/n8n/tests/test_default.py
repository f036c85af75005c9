# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify the n8n scenario: a real n8n (health, readiness, a workflow through its own CLI), the
n8n MCP gateway answering a real MCP client and managing n8n through n8n's public API with the key
side_effect created (n8n_list_workflows returns the workflow side_effect made with that key),
loopback-only ports and hardened containers.

The MCP probe (tests/images/mcp_probe.py, the official `mcp` SDK from the project's venv) runs on
the controller inside the target's network namespace (nsenter -n), so it reaches the target's
127.0.0.1 exactly as cloudflared on that host would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "tests"))
from secret_scan import readable_by_others, written_outside_the_engine

SCENARIO = Path(__file__).resolve().parents[1]
PROJECT = SCENARIO.parents[1]
PROBE = PROJECT / "tests" / "images" / "mcp_probe.py"
WORKFLOW = {
    "id": "mcpEdgeVerify001",
    "name": "homelab.mcp_edge molecule verify",
    "nodes": [
        {
            "id": "0f5532f9-36ba-4bef-86c7-30d607400b15",
            "name": "Manual trigger",
            "type": "n8n-nodes-base.manualTrigger",
            "typeVersion": 1,
            "position": [0, 0],
            "parameters": {},
        }
    ],
    "connections": {},
    "settings": {},
    "active": False,
}


class _VaultLoader(yaml.SafeLoader):
    pass


_VaultLoader.add_constructor("!vault", lambda loader, node: loader.construct_scalar(node))
VARS = yaml.load((SCENARIO / "vars" / "main.yml").read_text(encoding="utf-8"), Loader=_VaultLoader)  # noqa: S506
PORTS = sorted(s["port"] for s in VARS["homelab_services"])
N8N_MCP_URL = "http://127.0.0.1:8201/mcp"
API_WORKFLOW = VARS["n8n_test_api_workflow"]["name"]


@cache
def _secret(name):
    from ansible.parsing.vault import VaultLib, VaultSecret

    password = (SCENARIO / "vault-password.txt").read_bytes().strip()
    return VaultLib([("default", VaultSecret(password))]).decrypt(VARS[name]).decode()


def _controller(*argv, timeout=60, stdin=None):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, input=stdin, check=False)


@pytest.fixture(scope="module")
def target(host):
    name = host.backend.get_hostname()
    out = _controller("docker", "inspect", name)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)[0]
    return {
        "name": name,
        "pid": str(info["State"]["Pid"]),
        "ips": [n["IPAddress"] for n in info["NetworkSettings"]["Networks"].values() if n["IPAddress"]],
    }


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


def inspect(host, container):
    return json.loads(host.check_output(f"docker inspect {container}"))[0]


def env_of(host, container):
    return dict(item.split("=", 1) for item in inspect(host, container)["Config"]["Env"])


@pytest.mark.parametrize("path", ["/healthz", "/healthz/readiness"])
def test_n8n_health_endpoints(host, path):
    body = host.check_output(f"curl -fsS --max-time 10 http://127.0.0.1:5678{path}")
    assert json.loads(body) == {"status": "ok"}


def test_workflow_created_with_n8n_cli_reads_back(target):
    # n8n's own CLI inside the running container (SQLite in the data volume): import, then list.
    script = (
        "cat > /tmp/verify-workflow.json && n8n import:workflow --input=/tmp/verify-workflow.json && n8n list:workflow"
    )
    out = _controller(
        "docker", "exec", "-i", target["name"], "docker", "exec", "-i", "n8n", "sh", "-c", script,
        timeout=240, stdin=json.dumps([WORKFLOW]),
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert f"{WORKFLOW['id']}|{WORKFLOW['name']}" in out.stdout.splitlines(), out.stdout[-2000:]


def test_n8n_environment_derived_from_the_service(host):
    env = env_of(host, "n8n")
    assert env["N8N_HOST"] == "n8n.example.test"
    assert env["N8N_PROTOCOL"] == "https"
    assert env["WEBHOOK_URL"] == "https://n8n.example.test/"
    assert env["N8N_EDITOR_BASE_URL"] == "https://n8n.example.test/"
    assert env["N8N_PROXY_HOPS"] == "1"
    assert env["N8N_SECURE_COOKIE"] == "true"
    assert env["N8N_DIAGNOSTICS_ENABLED"] == "false"
    assert env["N8N_VERSION_NOTIFICATIONS_ENABLED"] == "false"
    assert env["N8N_TEMPLATES_ENABLED"] == "false"
    assert env["GENERIC_TIMEZONE"] == env["TZ"] == "Europe/Berlin"
    assert env["DB_TYPE"] == "sqlite"
    assert env["N8N_ENCRYPTION_KEY"] == _secret("vault_n8n_encryption_key")


def test_n8n_data_in_named_volume(host):
    mounts = inspect(host, "n8n")["Mounts"]
    data = [m for m in mounts if m["Destination"] == "/home/node/.n8n"]
    assert data and data[0]["Type"] == "volume" and data[0]["Name"] == "n8n_data", mounts
    assert host.check_output("docker exec n8n sh -c 'test -s /home/node/.n8n/database.sqlite && echo ok'") == "ok"


def test_n8n_mcp_gateway_answers_mcp_client(target):
    rc, summary = _probe(
        target,
        N8N_MCP_URL,
        "--wait", "90",
        "--header", f"Authorization: Bearer {_secret('vault_n8n_mcp_token')}",
        "--call", "search_nodes",
        "--args", json.dumps({"query": "webhook"}),
        "--expect", "webhook",
    )  # fmt: skip
    assert rc == 0, summary
    assert summary["call"]["is_error"] is False
    assert "search_nodes" in summary["tools"]


def test_n8n_mcp_gateway_refuses_without_token(target):
    rc, summary = _probe(target, N8N_MCP_URL, "--call", "search_nodes", "--args", '{"query": "x"}')
    assert rc != 0, summary


def test_n8n_mcp_manages_n8n_through_its_api(host, target):
    # side_effect created n8n's owner and a public-API key through n8n's REST API, a workflow through
    # n8n's public API with that key, and gave n8n-mcp the key (secret_env N8N_API_KEY).
    assert env_of(host, "mcp-n8n-mcp").get("N8N_API_KEY"), "n8n-mcp has no N8N_API_KEY: did side_effect run?"
    rc, summary = _probe(
        target,
        N8N_MCP_URL,
        "--wait", "90",
        "--header", f"Authorization: Bearer {_secret('vault_n8n_mcp_token')}",
        "--expect-tool", "n8n_list_workflows",
        "--call", "n8n_list_workflows",
        "--args", "{}",
        "--expect", API_WORKFLOW,
        "--max-text", "100000",
    )  # fmt: skip
    assert rc == 0, summary
    # n8n-mcp reports API failures (wrong key, SSRF refusal, n8n down) as a successful tool call
    # whose text says success: false, so read the answer itself.
    answer = json.loads(summary["call"]["text"])
    assert answer["success"] is True, answer
    names = [w["name"] for w in answer["data"]["workflows"]]
    assert API_WORKFLOW in names, names


def test_n8n_mcp_gateway_reaches_n8n_api_on_its_network(host):
    code = host.check_output(
        "docker exec mcp-n8n-mcp node -e "
        "\"fetch('http://n8n:5678/healthz').then(r => console.log(r.status), () => console.log('down'))\""
    )
    assert code == "200"


def _probe(target, url, *args):
    out = _controller("nsenter", "-t", target["pid"], "-n", sys.executable, str(PROBE), url, *args, timeout=180)
    try:
        return out.returncode, json.loads(out.stdout)
    except json.JSONDecodeError:
        return out.returncode, {"stdout": out.stdout[-2000:], "stderr": out.stderr[-2000:]}


@pytest.mark.parametrize("port", PORTS)
def test_published_on_loopback_only(host, target, port):
    assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
    listeners = host.check_output(f"ss -Hltn 'sport = :{port}'").splitlines()
    assert listeners and all("127.0.0.1:" in line for line in listeners), listeners
    for ip in target["ips"]:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((ip, port), timeout=3).close()


@pytest.mark.parametrize(("container", "uid"), [("n8n", "1000"), ("mcp-n8n-mcp", "10001")])
def test_container_is_hardened(host, container, uid):
    info = inspect(host, container)
    hc = info["HostConfig"]
    assert info["Config"]["User"] == f"{uid}:{uid}"
    assert hc["CapDrop"] == ["ALL"]
    assert not hc["CapAdd"]
    assert hc["Privileged"] is False
    assert "no-new-privileges:true" in hc["SecurityOpt"]
    assert hc["ReadonlyRootfs"] is True
    assert hc["Memory"] > 0 and hc["NanoCpus"] > 0 and hc["PidsLimit"] > 0
    assert wait_healthy(host, container) == "healthy"
    assert info["Config"]["Labels"]["io.homelab.mcp_edge.managed"] == "true"
    bindings = [b for port in hc["PortBindings"].values() for b in port]
    assert bindings and all(b["HostIp"] == "127.0.0.1" for b in bindings), bindings
    status = host.check_output(
        f"docker exec {container} sh -c 'for p in /proc/[0-9]*/status; do grep -E \"^(Uid|CapEff|CapPrm):\" $p; done'"
    )
    uids = {line.split()[1] for line in status.splitlines() if line.startswith("Uid:")}
    caps = {line.split()[1] for line in status.splitlines() if line.startswith(("CapEff:", "CapPrm:"))}
    assert uids == {uid}, status
    assert caps == {"0000000000000000"}, status


def test_secrets_in_no_file_outside_the_engine(host):
    secrets = [_secret(n) for n in ("vault_n8n_encryption_key", "vault_n8n_mcp_token", "vault_n8n_owner_password")]
    # The n8n API key side_effect created (n8n keeps it in its database, in the data volume).
    secrets.append(env_of(host, "mcp-n8n-mcp")["N8N_API_KEY"])
    for secret in secrets:
        assert readable_by_others(host, secret) == []
        assert written_outside_the_engine(host, secret) == []
