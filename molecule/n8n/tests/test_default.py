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
import shlex
import socket
import sys
from functools import cache
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "tests"))
from secret_scan import readable_by_others, written_outside_the_engine
from verify_common import PROBE_TCP, controller, decrypt, env_of, inspect, load_vars, mcp_probe, target_of, wait_healthy

SCENARIO = Path(__file__).resolve().parents[1]
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


VARS = load_vars(SCENARIO / "vars" / "main.yml")
PORTS = sorted(s["port"] for s in VARS["homelab_services"])
N8N_MCP_URL = "http://127.0.0.1:8201/mcp"
# n8n-mcp as a stdio server behind mcp-proxy (npm) with a token the role generated.
DOCS_URL = "http://127.0.0.1:8202/mcp"
DOCS_CONTAINER = "mcp-n8n-docs"
GATEWAY_TOKEN_DIR = "/etc/homelab-mcp-edge/gateway-tokens"  # noqa: S105 (a path)
TOKEN_ON_HOST = f"{GATEWAY_TOKEN_DIR}/{DOCS_CONTAINER}.token"
INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "verify", "version": "1"},
        },
    }
)
API_WORKFLOW = VARS["n8n_test_api_workflow"]["name"]


@cache
def _secret(name):
    return decrypt(SCENARIO, VARS[name])


@pytest.fixture(scope="module")
def target(host):
    return target_of(host)


@pytest.mark.parametrize("path", ["/healthz", "/healthz/readiness"])
def test_n8n_health_endpoints(host, path):
    body = host.check_output(f"curl -fsS --max-time 10 http://127.0.0.1:5678{path}")
    assert json.loads(body) == {"status": "ok"}


def test_workflow_created_with_n8n_cli_reads_back(target):
    # n8n's own CLI inside the running container (SQLite in the data volume): import, then list.
    script = (
        "cat > /tmp/verify-workflow.json && n8n import:workflow --input=/tmp/verify-workflow.json && n8n list:workflow"
    )
    out = controller(
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


def test_n8n_metrics_served_on_loopback_for_prometheus(host):
    # n8n_metrics (homelab_n8n_metrics, on by default): N8N_METRICS, and n8n's metrics at /metrics on its
    # 127.0.0.1 port (the tunnel answers /metrics on its public hostname with 404: molecule/site checks that).
    assert env_of(host, "n8n")["N8N_METRICS"] == "true"
    body = host.check_output("curl -fsS --max-time 10 http://127.0.0.1:5678/metrics")
    names = {line.split("{")[0].split()[0] for line in body.splitlines() if line and not line.startswith("#")}
    assert any(name.startswith("n8n_") for name in names), body[:2000]


def test_n8n_data_in_named_volume(host):
    mounts = inspect(host, "n8n")["Mounts"]
    data = [m for m in mounts if m["Destination"] == "/home/node/.n8n"]
    assert data and data[0]["Type"] == "volume" and data[0]["Name"] == "n8n_data", mounts
    assert host.check_output("docker exec n8n sh -c 'test -s /home/node/.n8n/database.sqlite && echo ok'") == "ok"


# The same n8n-mcp two ways: in HTTP mode with its own bearer token, and as a stdio server behind
# mcp-proxy-node with the token the role generated (read when the test runs).
@pytest.mark.parametrize(
    ("url", "header"),
    [
        (N8N_MCP_URL, lambda target: f"Authorization: Bearer {_secret('vault_n8n_mcp_token')}"),
        (DOCS_URL, lambda target: f"X-API-Key: {_delivered_token(target)[0]}"),
    ],
    ids=["http mode, its own bearer token", "behind mcp-proxy-node, the generated gateway token"],
)
def test_n8n_mcp_answers_the_mcp_client(target, url, header):
    rc, summary = mcp_probe(
        target,
        url,
        "--wait", "90",
        "--header", header(target),
        "--call", "search_nodes",
        "--args", json.dumps({"query": "webhook"}),
        "--expect", "webhook",
    )  # fmt: skip
    assert rc == 0, summary
    assert summary["call"]["is_error"] is False
    assert "search_nodes" in summary["tools"]


def test_n8n_mcp_gateway_refuses_without_token(target):
    rc, summary = mcp_probe(target, N8N_MCP_URL, "--call", "search_nodes", "--args", '{"query": "x"}')
    assert rc != 0, summary


def test_n8n_mcp_manages_n8n_through_its_api(host, target):
    # side_effect created n8n's owner and a public-API key through n8n's REST API, a workflow through
    # n8n's public API with that key, and gave n8n-mcp the key (secret_env N8N_API_KEY).
    assert env_of(host, "mcp-n8n-mcp").get("N8N_API_KEY"), "n8n-mcp has no N8N_API_KEY: did side_effect run?"
    rc, summary = mcp_probe(
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


def _delivered_token(target):
    """The token the role wrote once to the controller (mcp_servers_secrets_dir), and its mode."""
    secrets = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "secrets"
    path = secrets / f"{target['name']}-{DOCS_CONTAINER}.gateway-token"
    return path.read_text(encoding="utf-8").strip(), path.stat().st_mode & 0o777


def test_generated_gateway_token_kept_on_the_host_and_delivered_once(host, target):
    token, mode = _delivered_token(target)
    assert mode == 0o600
    assert len(token) == 43 and token.isalnum()
    on_host = host.file(TOKEN_ON_HOST)
    assert (on_host.user, on_host.group, on_host.mode) == ("root", "root", 0o600)
    assert host.file(GATEWAY_TOKEN_DIR).mode == 0o700
    assert on_host.content_string.strip() == token
    # The gateway reads it from its environment, never from its command line.
    info = inspect(host, DOCS_CONTAINER)
    assert env_of(host, DOCS_CONTAINER)["MCP_PROXY_API_KEY"] == token
    assert token not in json.dumps(info["Config"]["Cmd"]) + json.dumps(info["Args"])


def _initialize_status(host, *headers):
    flags = " ".join(f"-H {shlex.quote(h)}" for h in headers)
    return host.check_output(
        f"curl -s -o /dev/null -w '%{{http_code}}' --max-time 10 -X POST -H 'content-type: application/json' "
        f"-H 'accept: application/json, text/event-stream' {flags} -d {shlex.quote(INITIALIZE)} {DOCS_URL}"
    )


def test_gateway_refuses_a_local_caller_without_the_token(host, target):
    token = _delivered_token(target)[0]
    assert wait_healthy(host, DOCS_CONTAINER) == "healthy"
    assert _initialize_status(host) == "401"
    # One character off; never the token itself (a generated token may end in "x").
    wrong = token[:-1] + ("y" if token.endswith("x") else "x")
    assert _initialize_status(host, f"X-API-Key: {wrong}") == "401"
    assert _initialize_status(host, f"Authorization: Bearer {token}") == "401"
    assert _initialize_status(host, f"X-API-Key: {token}") == "200"
    # The real MCP client, without the token: refused.
    rc, summary = mcp_probe(target, DOCS_URL, "--call", "search_nodes", "--args", '{"query": "x"}')
    assert rc != 0, summary


def _lan_neighbour_ip(target):
    out = controller("docker", "inspect", "--format", "{{.NetworkSettings.IPAddress}}", f"{target['name']}-lan")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize(
    ("container", "expect"),
    [
        # n8n's egress allows lan-router:8001 only; n8n-mcp reaches n8n on their shared network.
        ("n8n", {"{lan}:8001": "open", "{lan}:8000": "blocked", "169.254.169.254:80": "blocked"}),
        ("mcp-n8n-mcp", {"n8n:5678": "open", "{lan}:8001": "blocked", "169.254.169.254:80": "blocked"}),
        (DOCS_CONTAINER, {"{lan}:8001": "blocked", "{lan}:8000": "blocked"}),  # egress: none
    ],
)
def test_containers_reach_what_their_egress_allows(host, target, container, expect):
    lan = _lan_neighbour_ip(target)
    args = " ".join(shlex.quote(f"{dest.format(lan=lan)}={want}") for dest, want in expect.items())
    code = shlex.quote(PROBE_TCP.read_text(encoding="utf-8"))
    out = json.loads(host.check_output(f"docker exec {container} python3 -c {code} {args}"))
    assert out["wrong"] == [], out["seen"]


@pytest.mark.parametrize("port", PORTS)
def test_published_on_loopback_only(host, target, port):
    assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
    listeners = host.check_output(f"ss -Hltn 'sport = :{port}'").splitlines()
    assert listeners and all("127.0.0.1:" in line for line in listeners), listeners
    for ip in target["ips"]:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((ip, port), timeout=3).close()


@pytest.mark.parametrize(("container", "uid"), [("n8n", "1000"), ("mcp-n8n-mcp", "10001"), (DOCS_CONTAINER, "10001")])
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
    # The generated gateway token: in its root-only file on the host and nowhere else.
    token = host.file(TOKEN_ON_HOST).content_string.strip()
    assert readable_by_others(host, token) == []
    assert written_outside_the_engine(host, token) == [TOKEN_ON_HOST]
