# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""playbooks/doctor.yml against a catalogue of planted problems.

A good setup passes (exit 0, even with --check); each planted problem makes the doctor fail and is
named in its verdict, in words a person can act on (never "Unknown error", never only "censored").
The Cloudflare side runs against the emulator with a seed of its own (tokens lacking one permission
each, a pending zone, an account without login methods, one without a Zero Trust organization);
its request log must show GET requests only. The host side runs against localhost
(``ansible_connection: local``): a stand-in ``docker`` on PATH answers the engine version, a real
socket holds a port, and ``doctor_fact_overrides`` plants what a test machine cannot be (systemd as
the service manager, another OS release).
"""

from __future__ import annotations

import copy
import json
import socket
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from conftest import EMULATOR_DIR, _playbook_runner, start_emulator, stop_emulator

DOCTOR = Path(__file__).resolve().parents[2] / "playbooks" / "doctor.yml"
ACCOUNT = "a0000000000000000000000000000001"
NOLOGIN_ACCOUNT = "a0000000000000000000000000000002"
NOTEAM_ACCOUNT = "a0000000000000000000000000000003"
TOKENS = {
    "good": "emulator-token-edge-000000000000000000000",
    "expired": "emulator-token-expired-00000000000000000",
    "disabled": "emulator-token-disabled-0000000000000000",
    "no-tunnel": "doctor-token-no-tunnel-000000000000000000",
    "no-dns": "doctor-token-no-dns-000000000000000000000",
    "no-access-apps": "doctor-token-no-access-apps-000000000000",
}
FAKE_DOCKER = """\
#!/bin/sh
# A stand-in for the docker CLI: the engine's version and the containers come from the environment.
case "$1" in
  version)
    printf 'Client:\\n Version:           28.2.2\\n API version:       1.41\\n\\n'
    if [ -z "$FAKE_DOCKER_VERSION" ]; then
      echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1
    fi
    printf 'Server:\\n Engine:\\n  Version:          %s\\n  API version:      1.41\\n' "$FAKE_DOCKER_VERSION" ;;
  ps)
    echo "CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS   NAMES"
    printf '%b' "${FAKE_DOCKER_PS:-}" ;;
  *) echo "fake docker: $*" >&2; exit 1 ;;
esac
"""
# `docker ps` of a host where an earlier run of site started the time service on the busy port.
OWN_CONTAINER = (
    'f00dfeed0001   registry.lan/mcp-time:1.0.0   "/usr/bin/tini -- mcp-proxy"   2 hours ago   '
    "Up 2 hours (healthy)   127.0.0.1:%d->8080/tcp   mcp-time\\n"
)


def doctor_seed():
    seed = json.loads((EMULATOR_DIR / "seed.example.json").read_text())
    seed["tokens"] += [
        {"value": TOKENS["no-tunnel"], "id": "d0000000000000000000000000000001",
         "permissions": ["zone:read", "dns:edit", "access:edit"]},
        {"value": TOKENS["no-dns"], "id": "d0000000000000000000000000000002",
         "permissions": ["zone:read", "tunnel:edit", "access:edit"]},
        {"value": TOKENS["no-access-apps"], "id": "d0000000000000000000000000000003",
         "permissions": ["zone:read", "dns:edit", "tunnel:edit", "access_service_tokens:edit", "access_org:read"]},
    ]  # fmt: skip
    seed["accounts"] += [
        {"id": NOLOGIN_ACCOUNT, "name": "No login methods", "team_name": "nologin"},
        {"id": NOTEAM_ACCOUNT, "name": "No Zero Trust", "team_name": None},
    ]
    seed["zones"] += [
        {"id": "c0000000000000000000000000000003", "name": "pending.example", "account_id": ACCOUNT,
         "status": "pending", "plan": "free"},
        {"id": "c0000000000000000000000000000004", "name": "nologin.example", "account_id": NOLOGIN_ACCOUNT,
         "plan": "free"},
        {"id": "c0000000000000000000000000000005", "name": "noteam.example", "account_id": NOTEAM_ACCOUNT,
         "plan": "pro"},
    ]  # fmt: skip
    for idp in seed["identity_providers"]:
        idp["account_id"] = ACCOUNT  # the other accounts have no login method
    return seed


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def doctor(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("doctor")
    seed_path = tmp / "seed.json"
    seed_path.write_text(json.dumps(doctor_seed()))
    emu = start_emulator(seed_path)
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    busy = socket.socket()  # a program holding a port a service wants
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        yield {
            "emulator": emu,
            "run": _playbook_runner(emu, tmp_path_factory),
            "tmp": tmp,
            "bin": bin_dir,
            "busy_port": busy.getsockname()[1],
            "ports": [free_port(), free_port()],
        }
    finally:
        busy.close()
        stop_emulator(emu)


def services(ports):
    return [
        {"name": "time", "kind": "mcp", "image": "registry.lan/mcp-time:1.0.0", "command": ["mcp-server-time"],
         "port": ports[0], "access": ["owner", "mcp-clients"]},
        {"name": "n8n", "kind": "n8n", "port": ports[1], "access": ["owner"]},
    ]  # fmt: skip


def inventory(doctor, case):
    ports = doctor["ports"]
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ansible_become": False,
    }
    host.update(case.get("host", {}))
    variables = {
        "homelab_domain": "example.com",
        "homelab_tunnel_name": "home",
        "homelab_access_policies": {
            "owner": {"decision": "allow", "include": [{"email": "me@example.com"}]},
            "mcp-clients": {"decision": "non_identity", "include": [{"service_token": "claude-desktop"}]},
        },
        "homelab_access_service_tokens": ["claude-desktop"],
        "homelab_services": services(ports),
        "cloudflare_edge_api_token": "{{ vault_cloudflare_api_token }}",
        "n8n_encryption_key": "{{ vault_n8n_encryption_key }}",
        "vault_cloudflare_api_token": TOKENS["good"],
        "vault_n8n_encryption_key": "0f" * 32,
        "firewall_admin_networks": ["192.168.1.0/24"],
        "doctor_fact_overrides": {"service_mgr": "systemd"},  # the test machine has no systemd
    }
    variables.update(case.get("vars", {}))
    data = {"homelab_servers": {"hosts": {"doctor-host": host}, "vars": variables}}
    path = doctor["tmp"] / ("inventory-%s.yml" % case["name"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# name, what to plant, and the words the verdict must hold.
CATALOGUE = [
    {"name": "expired-token", "vars": {"vault_cloudflare_api_token": TOKENS["expired"]},
     "expect": ["The API token expired on 2025-01-01", "My Profile > API Tokens"]},
    {"name": "disabled-token", "vars": {"vault_cloudflare_api_token": TOKENS["disabled"]},
     "expect": ["The API token is disabled", "My Profile > API Tokens"]},
    {"name": "unknown-token", "vars": {"vault_cloudflare_api_token": "doctor-token-that-does-not-exist-00000000"},
     "expect": ["Cloudflare does not accept the API token"]},
    {"name": "no-token", "vars": {"vault_cloudflare_api_token": ""}, "drop_env": ["CLOUDFLARE_API_TOKEN"],
     "expect": ["No Cloudflare API token"]},
    {"name": "missing-tunnel-permission", "vars": {"vault_cloudflare_api_token": TOKENS["no-tunnel"]},
     "expect": ["lacks the permission Account > Cloudflare Tunnel > Edit", "Account | Cloudflare Tunnel | Edit"]},
    {"name": "missing-dns-permission", "vars": {"vault_cloudflare_api_token": TOKENS["no-dns"]},
     "expect": ["lacks the permission Zone > DNS > Edit", "Zone Resources"]},
    {"name": "missing-access-permission", "vars": {"vault_cloudflare_api_token": TOKENS["no-access-apps"]},
     "expect": ["lacks the permission Account > Access: Apps and Policies > Edit"]},
    {"name": "inactive-zone", "vars": {"homelab_domain": "pending.example"},
     "expect": ["The zone pending.example is pending, not active", "nameservers"]},
    {"name": "unknown-zone", "vars": {"homelab_domain": "nosuchzone.example"},
     "expect": ["The zone nosuchzone.example was not found"]},
    {"name": "zone-in-another-account", "vars": {"cloudflare_edge_account_id": NOLOGIN_ACCOUNT},
     "expect": ["The zone example.com belongs to account %s, but account_id" % ACCOUNT]},
    {"name": "team-name-mismatch", "vars": {"cloudflare_edge_team_name": "myteam"},
     "expect": ['cloudflare_edge_team_name is "myteam" but the Zero Trust team of the account is "homelab-demo"']},
    {"name": "no-zero-trust-organization", "vars": {"homelab_domain": "noteam.example"},
     "expect": ["The account has no Zero Trust organization"]},
    {"name": "no-login-method", "vars": {"homelab_domain": "nologin.example"},
     "expect": ["Policies use email rules", "no login method", "Login methods > Add new"]},
    {"name": "example-vault-values", "run": "unknown-token",
     "vars": {"vault_n8n_encryption_key": "the output of `openssl rand -hex 32`",
              "vault_mcp_notes_token": "replace-with-a-long-random-token"},
     "expect": ["still the example placeholder: vault_n8n_encryption_key, vault_mcp_notes_token"]},
    {"name": "docker-before-28-firewall-off", "run": "missing-tunnel-permission", "docker": "20.10.24",
     "vars": {"homelab_manage_firewall": False, "docker_container_guard": False},
     "expect": ["loopback leak: Docker 20.10.24 (before 28.0)", "homelab_manage_firewall: false"]},
    {"name": "port-in-use", "run": "no-token", "busy": True, "expect": ["in use by another program; time needs it"]},
    {"name": "unsupported-os", "run": "expired-token",
     "vars": {"doctor_fact_overrides": {"service_mgr": "systemd", "distribution_release": "buster"}},
     "expect": ["Debian buster is not supported by the roles site runs here"]},
    {"name": "no-systemd", "run": "disabled-token", "vars": {"doctor_fact_overrides": {"service_mgr": "sysvinit"}},
     "expect": ["the service manager is sysvinit, not systemd"]},
]  # fmt: skip


def merged(cases):
    """One doctor run planting every problem of ``cases`` (a Cloudflare one and host or vault ones at most)."""
    run = {"name": cases[0].get("run", cases[0]["name"]), "vars": {}, "drop_env": []}
    for case in cases:
        run["vars"].update(case.get("vars", {}))
        run["drop_env"] += case.get("drop_env", [])
        for key in ("docker", "busy"):
            if key in case:
                run[key] = case[key]
    return run


def run_case(doctor, case, check=False):
    case = copy.deepcopy(case)
    if case.get("busy"):
        case.setdefault("vars", {})["homelab_services"] = services([doctor["busy_port"], doctor["ports"][1]])
    env = {
        "PATH": "%s:%s" % (doctor["bin"], "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"),
        "FAKE_DOCKER_VERSION": case.get("docker", "28.1.1"),
        "FAKE_DOCKER_PS": case.get("docker_ps", ""),
    }
    return doctor["run"](
        DOCTOR,
        inventory=inventory(doctor, case),
        env=env,
        drop_env=[*case.get("drop_env", ()), "CLOUDFLARE_ACCOUNT_ID"],  # the zone's account, as a user has it
        args=["--check"] if check else [],
    )


def verdict(result):
    """(table lines, failure message of the last task) of a doctor run."""
    table, failure = [], ""
    for play in (result.data or {}).get("plays", []):
        for task in play["tasks"]:
            for host_result in task["hosts"].values():
                if task["task"]["name"] == "Doctor | The table":
                    table = host_result.get("msg") or []
                if host_result.get("failed"):
                    failure = host_result.get("msg", "")
    return table, failure


@pytest.fixture(scope="module")
def outcomes(doctor):
    emu = doctor["emulator"]
    emu.reset()
    # The good setup: the time service's port is held, by its own container (an earlier run).
    good = {"name": "good", "busy": True, "docker_ps": OWN_CONTAINER % doctor["busy_port"]}
    runs = [("good", good, False), ("good-check", dict(good, name="good-check"), True)]
    groups = {}
    for case in CATALOGUE:
        groups.setdefault(case.get("run", case["name"]), []).append(case)
    runs += [(name, merged(cases), False) for name, cases in groups.items()]
    with ThreadPoolExecutor(max_workers=6) as pool:
        done = list(pool.map(lambda r: run_case(doctor, r[1], r[2]), runs))
    results = {r[0]: result for r, result in zip(runs, done, strict=True)}
    return {"results": results, "requests": emu.requests()}


def test_catalogue_has_at_least_12_problems():
    assert len(CATALOGUE) >= 12
    assert len({c["name"] for c in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize("name", ["good", "good-check"])
def test_good_setup_passes(outcomes, name):
    result = outcomes["results"][name]
    result.assert_no_traceback()
    table, failure = verdict(result)
    assert result.rc == 0, textwrap.shorten(failure or result.output[-3000:], 3000)
    assert result.changed == 0
    assert table and all(line.startswith(("OK", "INFO")) for line in table), table
    assert any("held by mcp-time, the container of time" in line for line in table), table
    names = " ".join(table)
    for check in ("token", "zone", "Cloudflare Tunnel", "Zero Trust team", "login methods", "example values",
                  "reachable", "OS", "systemd", "Docker", "loopback leak", "port"):  # fmt: skip
        assert check in names, (check, table)


@pytest.mark.parametrize("index", range(len(CATALOGUE)), ids=[c["name"] for c in CATALOGUE])
def test_planted_problem_is_found_and_named(outcomes, index):
    case = CATALOGUE[index]
    result = outcomes["results"][case.get("run", case["name"])]
    result.assert_no_traceback()
    table, failure = verdict(result)
    assert result.rc != 0, "%s: the doctor passed:\n%s" % (case["name"], "\n".join(table))
    assert "problem(s) to fix before homelab.mcp_edge.site can run" in failure, failure or result.output[-3000:]
    for words in case["expect"]:
        assert words in failure, "%s: %r not in %r" % (case["name"], words, failure)
    assert any(line.startswith("PROBLEM") for line in table), table
    assert "Unknown error" not in result.output
    assert "censored" not in failure
    assert result.changed == 0


def test_only_get_requests(outcomes):
    requests = outcomes["requests"]
    assert requests, "the doctor asked Cloudflare nothing"
    assert {r["method"] for r in requests} == {"GET"}, [r for r in requests if r["method"] != "GET"]
