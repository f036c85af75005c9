# SPDX-License-Identifier: GPL-3.0-or-later
"""MCP service entries -> container specs and problems (plugins/filter/containers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.filter.containers import (
    MANAGED_LABEL,
    FilterModule,
    container_problems,
    container_specs,
    host_mount_problem,
    is_root_user,
    managed_label_filter,
    managed_labels,
)

_ROOT = Path(__file__).resolve().parents[4]
_DEFAULTS = yaml.safe_load((_ROOT / "roles" / "mcp_servers" / "defaults" / "main.yml").read_text(encoding="utf-8"))
SETTINGS = {
    "var_name": "mcp_servers_services",
    "domain": "example.com",
    "domain_var": "mcp_servers_domain",
    "container_prefix": "mcp-",
    "network_prefix": "mcp-",
    "network_mode": "per_service",
    "shared_network": "mcp",
    "gateway_flavour": "mcp-proxy",
    "gateway_flavours": _DEFAULTS["mcp_servers_gateway_flavours"],
    "gateway_port": 8080,
    "allowed_origins": [],
    "container_port": 8080,
    "healthcheck_test": _DEFAULTS["mcp_servers_healthcheck_test"],
    "healthcheck": _DEFAULTS["mcp_servers_healthcheck"],
    "user": "10001:10001",
    "read_only": True,
    "tmpfs": ["/tmp:rw,size=64m"],
    "memory": "256m",
    "cpus": 0.5,
    "pids_limit": 128,
    "restart_policy": "unless-stopped",
}


def services():
    return [
        {
            "name": "time",
            "image": "ex/mcp-time:1",
            "command": ["mcp-server-time", "--local-timezone", "UTC"],
            "port": 3001,
        },
        {
            "name": "notes",
            "kind": "mcp",
            "image": "ex/notes:2",
            "transport": "streamable-http",
            "port": 3002,
            "container_port": 9000,
            "env": {"LOG_LEVEL": "INFO", "DEBUG": False, "WORKERS": 2},
            "secret_env": {"TOKEN": "s3cret-value"},
            "memory": "512m",
            "networks": ["n8n"],
        },
        {"name": "n8n", "kind": "n8n", "port": 5678},
    ]


def test_filters_registered():
    assert set(FilterModule().filters()) == {
        "mcp_container_problems",
        "mcp_container_specs",
        "service_problems",
        "managed_labels",
        "managed_label_filter",
    }


def test_good_services_have_no_problems():
    assert container_problems(services(), SETTINGS) == []


def test_specs_for_stdio_and_streamable_http():
    specs = {s["name"]: s for s in container_specs(services(), SETTINGS)}
    assert set(specs) == {"time", "notes"}  # the n8n entry is not an MCP container
    time = specs["time"]
    assert time["container_name"] == "mcp-time"
    assert time["command"] == [
        "mcp-proxy", "--host", "0.0.0.0", "--port", "8080", "--pass-environment",  # noqa: S104
        "--", "mcp-server-time", "--local-timezone", "UTC",
    ]  # fmt: skip
    assert time["entrypoint"] is None
    assert time["published_ports"] == ["127.0.0.1:3001:8080"]
    assert time["networks"] == ["mcp-time"]
    assert time["healthcheck"]["test"][-1] == (
        "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/status', timeout=4).close()"
    )
    assert time["healthcheck"]["interval"] == "10s"
    assert time["labels"]["io.homelab.mcp_edge.service"] == "time"
    assert MANAGED_LABEL == "io.homelab.mcp_edge.managed" and time["labels"][MANAGED_LABEL] == "true"
    notes = specs["notes"]
    assert notes["command"] is None
    assert notes["published_ports"] == ["127.0.0.1:3002:9000"]
    assert notes["env"] == {"LOG_LEVEL": "INFO", "DEBUG": "false", "WORKERS": "2"}
    assert notes["secret_env"] == {"TOKEN": "s3cret-value"}
    assert notes["has_secrets"] is True
    assert notes["networks"] == ["mcp-notes", "n8n"]
    assert notes["memory"] == "512m"
    assert "9000" in notes["healthcheck"]["test"][-1]


def test_supergateway_origins_and_shared_network():
    svc = services()[:1]
    svc[0]["gateway"] = {"flavour": "supergateway", "allowed_origins": ["https://claude.ai"]}
    spec = container_specs(svc, dict(SETTINGS, network_mode="shared"))[0]
    assert spec["command"] == [
        "supergateway", "--outputTransport", "streamableHttp", "--port", "8080", "--streamableHttpPath", "/mcp",
        "--healthEndpoint", "/healthz", "--cors", "https://claude.ai",
        "--stdio", "mcp-server-time --local-timezone UTC",
    ]  # fmt: skip
    assert spec["network"] == "mcp"
    assert spec["healthcheck"]["test"][:2] == ["CMD", "node"]


VAULT_TOKEN = "tok-0123456789abcdefghijklmn"


def test_bearer_token_for_a_flavour_that_supports_it():
    flavours = dict(SETTINGS["gateway_flavours"])
    flavours["authed"] = dict(flavours["mcp-proxy"], bearer_token_env="GATEWAY_TOKEN", token_header="Authorization")
    svc = services()[:1]
    svc[0]["gateway"] = {"flavour": "authed", "bearer_token": VAULT_TOKEN}
    spec = container_specs(svc, dict(SETTINGS, gateway_flavours=flavours))[0]
    assert spec["secret_env"] == {"GATEWAY_TOKEN": VAULT_TOKEN}
    assert spec["gateway_token"] == {"env": "GATEWAY_TOKEN", "header": "Authorization", "source": "vault"}
    assert VAULT_TOKEN not in spec["command"]
    assert spec["has_secrets"]


def test_mcp_proxy_node_gets_a_generated_token_unless_told_otherwise():
    svc = services()[:1]
    svc[0]["gateway"] = {"flavour": "mcp-proxy-node"}
    spec = container_specs(svc, SETTINGS)[0]
    assert spec["command"] == [
        "mcp-proxy", "--host", "0.0.0.0", "--port", "8080", "--server", "stream",  # noqa: S104
        "--", "mcp-server-time", "--local-timezone", "UTC",
    ]  # fmt: skip
    # No value in the spec: the role generates it on the host and adds it to the environment.
    assert spec["gateway_token"] == {"env": "MCP_PROXY_API_KEY", "header": "X-API-Key", "source": "generated"}
    assert spec["secret_env"] == {}
    assert spec["has_secrets"]
    assert spec["healthcheck"]["test"][-1].startswith("fetch('http://127.0.0.1:8080/ping')")

    svc[0]["gateway"]["bearer_token"] = False
    spec = container_specs(svc, SETTINGS)[0]
    assert spec["gateway_token"] is None
    assert not spec["has_secrets"]


def test_a_flavour_without_token_support_has_no_gateway_token():
    assert container_specs(services()[:1], SETTINGS)[0]["gateway_token"] is None


def _problems(mutate):
    svc = services()
    mutate(svc)
    return "\n".join(container_problems(svc, SETTINGS))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda s: s[1].update(port=3001), "mcp_servers_services[1] (name 'notes'): port 3001 is already used"),
        (lambda s: s[1].update(name="time"), "the name 'time' is already used"),
        (lambda s: s[0].pop("image"), "mcp_servers_services[0] (name 'time'): 'image' is required"),
        (lambda s: s[0].update(port=70000), "'port' must be an integer from 1 to 65535, got 70000"),
        (lambda s: s[0].update(transport="sse"), "'transport' must be one of stdio, streamable-http, got 'sse'"),
        (lambda s: s[0].pop("command"), "'command' is required with transport 'stdio'"),
        (lambda s: s[0].update(user="0:0"), "'user' must not be root"),
        (
            lambda s: s[0].update(gateway={"flavour": "nope"}),
            "'gateway.flavour' must be one of mcp-proxy, mcp-proxy-node, supergateway",
        ),
        (lambda s: s[0].update(gateway={"bearer_token": VAULT_TOKEN}), "does not check bearer tokens"),
        (
            lambda s: s[0].update(gateway={"flavour": "mcp-proxy-node", "bearer_token": "short"}),
            "'gateway.bearer_token' has 5 characters; use at least 24",
        ),
        (
            lambda s: s[0].update(gateway={"flavour": "mcp-proxy-node", "bearer_token": 42}),
            "'gateway.bearer_token' must be the token (a string from the vault), or false for no token",
        ),
        (lambda s: s[1].update(gateway={}), "'gateway' applies to transport 'stdio' only"),
        (lambda s: s[1].update(env={"BAD NAME": "x"}), "invalid variable name 'BAD NAME'"),
        (lambda s: s[1].update(env={"A": {"x": 1}}), "'env.A' must be a string, number or boolean"),
        (lambda s: s[1].update(env={"TOKEN": "x"}), "TOKEN set in both 'env' and 'secret_env'"),
        (lambda s: s[1].update(memory="lots"), "'memory' must be a size"),
        (lambda s: s[1].update(cpus=0), "'cpus' must be a positive number"),
        (lambda s: s[1].update(healthcheck={"interval": "often"}), "'healthcheck.interval' must be a duration"),
        (lambda s: s[0].update(container_port=9000), "'container_port' is for streamable-http servers"),
    ],
)
def test_problems_name_the_variable_entry_and_fix(mutate, expected):
    assert expected in _problems(mutate)


def test_secret_values_never_in_messages():
    svc = services()
    svc[1]["secret_env"] = {"TOKEN": ["s3cret-value"], "EMPTY": ""}
    text = "\n".join(container_problems(svc, SETTINGS))
    assert "'secret_env.TOKEN' must be a string" in text
    assert "'secret_env.EMPTY' is empty" in text
    assert "s3cret-value" not in text


def test_model_and_container_problems_reported_together():
    svc = services()
    svc[0]["port"] = 70000
    svc[1].pop("image")
    problems = container_problems(svc, SETTINGS)
    assert any("70000" in p for p in problems)
    assert any("'image' is required" in p for p in problems)


def test_specs_raise_on_problems():
    svc = services()
    svc[0].pop("image")
    with pytest.raises(AnsibleFilterError, match="problem"):
        container_specs(svc, SETTINGS)


def test_bad_settings():
    problems = container_problems(services(), dict(SETTINGS, gateway_flavour="x", network_mode="mesh"))
    assert any(p.startswith("mcp_servers_gateway_flavour must be one of") for p in problems)
    assert any(p.startswith("mcp_servers_network_mode must be one of") for p in problems)


def test_a_token_flavour_must_name_its_header():
    flavours = dict(SETTINGS["gateway_flavours"])
    flavours["authed"] = dict(flavours["mcp-proxy"], bearer_token_env="GATEWAY_TOKEN")
    problems = container_problems(services(), dict(SETTINGS, gateway_flavours=flavours))
    assert problems == [
        "mcp_servers_gateway_flavours['authed'].token_header must name the HTTP header a client sends the token in "
        "(such as 'X-API-Key', or 'Authorization' for 'Bearer <token>') when bearer_token_env is set."
    ]


def test_service_problems_filter():
    problems = FilterModule().filters()["service_problems"]
    assert problems(services(), "example.com", "n8n_services", "n8n_domain") == []
    bad = [*services(), {"name": "n8n", "kind": "n8n", "port": 5678}]
    assert any("n8n_services[3]" in p for p in problems(bad, "example.com", "n8n_services", "n8n_domain"))


@pytest.mark.parametrize("user", ["0", "00", "000:1000", "root", "ROOT", "0:0", "root:root", " 0", "0:1000"])
def test_root_in_any_spelling(user):
    assert is_root_user(user)
    problems = container_problems([{"name": "time", "image": "x", "port": 3001, "user": user}], SETTINGS)
    assert any("'user' must not be root" in p for p in problems), problems


@pytest.mark.parametrize("user", ["10001:10001", "1000", "nobody", "100:0", "node"])
def test_non_root_users(user):
    assert not is_root_user(user)


@pytest.mark.parametrize(
    ("volume", "why"),
    [
        ("/var/run/docker.sock:/var/run/docker.sock", "socket"),
        ("/run/containerd/containerd.sock:/c.sock", "socket"),
        ("/:/host", "root file system"),
        ("/etc:/etc:ro", "/etc"),
        ("/srv/../etc/shadow:/s", "/etc"),
        ("/proc/1:/p", "/proc"),
        ("/var/lib/docker/volumes:/v", "/var/lib/docker"),
        ("/usr/bin:/b", "/usr"),
    ],
)
def test_host_system_mounts_refused_unless_allowed(volume, why):
    assert why in host_mount_problem(volume)
    service = {"name": "time", "image": "x", "command": ["srv"], "port": 3001, "volumes": [volume]}
    problems = container_problems([service], SETTINGS)
    assert any("allow_host_system_mounts: true" in p and why in p for p in problems), problems
    assert container_problems([dict(service, allow_host_system_mounts=True)], SETTINGS) == []


@pytest.mark.parametrize(
    "volume", ["notes-data:/data", "/srv/mcp/notes:/data", "/home/me/docs:/docs:ro", "/etcetera:/x"]
)
def test_ordinary_mounts_pass(volume):
    assert host_mount_problem(volume) is None


def test_unknown_keys_suggest_the_closest_and_refuse_dangerous_ones():
    service = {"name": "time", "image": "x", "port": 3001, "secret_envs": {"A": "b"}, "privileged": True}
    problems = container_problems([service], SETTINGS)
    assert any("unknown key 'secret_envs' (did you mean 'secret_env'?)" in p for p in problems), problems
    assert any("'privileged' is not supported" in p for p in problems), problems


def test_egress_travels_in_the_spec_and_must_agree_on_a_shared_network():
    svc = services()
    svc[0]["egress"] = [{"to": "nas.lan", "ports": [5432]}]
    specs = {s["name"]: s for s in container_specs(svc, SETTINGS)}
    assert specs["time"]["egress"] == [{"to": "nas.lan", "ports": [5432]}]
    assert specs["notes"]["egress"] is None
    problems = container_problems(svc, dict(SETTINGS, network_mode="shared"))
    assert any(
        "mcp_servers_network_mode shared every MCP service leaves through the same bridge" in p for p in problems
    )
    svc[1]["egress"] = [{"to": "nas.lan", "ports": [5432]}]
    assert container_problems(svc, dict(SETTINGS, network_mode="shared")) == []


def test_managed_labels_are_the_one_definition_the_roles_read():
    assert managed_labels() == {"io.homelab.mcp_edge.managed": "true"}
    assert managed_labels("n8n") == {"io.homelab.mcp_edge.managed": "true", "io.homelab.mcp_edge.role": "n8n"}
    assert managed_labels("n8n", "n8n-postgres")["io.homelab.mcp_edge.service"] == "n8n-postgres"
    assert managed_label_filter("mcp_servers") == "io.homelab.mcp_edge.role=mcp_servers"
    with pytest.raises(AnsibleFilterError, match="needs a role name"):
        managed_label_filter("")
