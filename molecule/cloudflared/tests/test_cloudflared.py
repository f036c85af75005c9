# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Verify the cloudflared role on the converged targets (two tunnels: home = local, lab = remote).

Every test runs on both hosts: one installed the test double as a bare binary, the other (group
cloudflared_deb) as a .deb pinned to its version. The behavioural checks read the snapshots
side_effect.yml wrote to /var/tmp/cloudflared-molecule.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

CONFIG_DIR = "/etc/cloudflared"
TUNNELS = {"home": 20241, "lab": 20242}
FACTS = "/var/tmp/cloudflared-molecule"  # noqa: S108 - on the throwaway target, written by side_effect.yml
MAX_EXPOSURE = 2.0
DEB_VERSION = "2026.0.0-test-double"  # VERSION of tests/doubles/cloudflared/cloudflared_double.py


def _from_deb(host):
    """The host installed the test double's .deb (group cloudflared_deb in molecule.yml)."""
    return bool(host.ansible.get_variables().get("scenario_deb"))


def _binary(host):
    return "/usr/bin/cloudflared" if _from_deb(host) else "/usr/local/bin/cloudflared"


def _deb_only(host):
    if not _from_deb(host):
        pytest.skip("this host installs the bare binary, not the .deb")


def _main_pid(host, name):
    pid = int(host.check_output(f"systemctl show -p MainPID --value cloudflared@{name}.service"))
    assert pid > 0, f"cloudflared@{name} has no main process"
    return pid


def _snapshot(host, name):
    return json.loads(host.file(f"{FACTS}/{name}.json").content_string)


def _unit_state(snapshot, name):
    """MainPID, InvocationID, NRestarts, ActiveState and the number of starts seen in the journal."""
    state = snapshot["units"][f"cloudflared@{name}"]
    return {
        "pid": state["MainPID"],
        "invocation": state["InvocationID"],
        "restarts": state["NRestarts"],
        "active": state["ActiveState"],
        "starts": state["Starts"],
    }


@pytest.mark.parametrize("name", sorted(TUNNELS))
def test_service_active_enabled_as_its_own_user(host, name):
    service = host.service(f"cloudflared@{name}")
    assert service.is_running
    assert service.is_enabled
    status = host.file(f"/proc/{_main_pid(host, name)}/status").content_string
    uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, re.M).groups()
    assert {int(value) for value in uid} == {host.user("cloudflared").uid}


def test_service_user_cannot_log_in(host):
    user = host.user("cloudflared")
    assert user.exists
    assert user.shell in ("/usr/sbin/nologin", "/bin/false")
    assert user.group == "cloudflared"
    assert not host.file(user.home).exists


@pytest.mark.parametrize(
    ("path", "owner", "group", "mode"),
    [
        (CONFIG_DIR, "root", "cloudflared", 0o750),
        (f"{CONFIG_DIR}/home.yml", "root", "cloudflared", 0o640),
        (f"{CONFIG_DIR}/home.env", "root", "cloudflared", 0o640),
        (f"{CONFIG_DIR}/home.json", "cloudflared", "cloudflared", 0o400),
        (f"{CONFIG_DIR}/lab.yml", "root", "cloudflared", 0o640),
        (f"{CONFIG_DIR}/lab.env", "root", "cloudflared", 0o640),
        (f"{CONFIG_DIR}/lab.token", "cloudflared", "cloudflared", 0o400),
        ("/etc/systemd/system/cloudflared@.service", "root", "root", 0o644),
        ("BINARY", "root", "root", 0o755),
    ],
)
def test_owner_and_mode(host, path, owner, group, mode):
    path = _binary(host) if path == "BINARY" else path
    target = host.file(path)
    assert target.exists, path
    assert (target.user, target.group, target.mode) == (owner, group, mode)


def test_nothing_in_config_dir_is_world_accessible(host):
    listing = host.check_output(f"find {CONFIG_DIR} -perm /o=rwx -printf '%p\\n'")
    assert listing == "", f"world-accessible: {listing}"


def test_binary_is_the_test_double(host):
    assert "NOT Cloudflare's cloudflared" in host.check_output(f"{_binary(host)} --version")
    other = "/usr/local/bin/cloudflared" if _from_deb(host) else "/usr/bin/cloudflared"
    assert not host.file(other).exists, f"{other} should not exist on this host"


@pytest.mark.parametrize("name", sorted(TUNNELS))
def test_service_runs_the_installed_binary(host, name):
    unit = host.check_output(f"systemctl show -p ExecStart --value cloudflared@{name}.service")
    assert f"path={_binary(host)} " in unit, unit
    # The double is a Python zipapp: the kernel runs its #! interpreter with the file as argument.
    cmdline = host.file(f"/proc/{_main_pid(host, name)}/cmdline").content_string.split("\0")
    assert cmdline[:3] == ["/usr/bin/python3", _binary(host), "tunnel"], cmdline


def test_deb_installed_at_its_version(host):
    _deb_only(host)
    fields = host.check_output(
        "dpkg-query --show --showformat='${Version}|${db:Status-Abbrev}|${Description}' cloudflared"
    )
    version, status, description = fields.split("|", 2)
    assert version == DEB_VERSION
    # "h": selection hold (side_effect.yml's last run pinned it again), "i": installed.
    assert status.strip() == "hi", f"want hold + installed, dpkg says {status!r}"
    assert description.startswith("TEST DOUBLE of cloudflared"), description


def test_deb_owns_the_binary_the_service_runs(host):
    _deb_only(host)
    assert host.check_output("dpkg-query --search /usr/bin/cloudflared") == "cloudflared: /usr/bin/cloudflared"
    verify = host.run("dpkg --verify cloudflared")
    assert verify.rc == 0 and verify.stdout == "", f"the installed files differ from the package: {verify.stdout}"
    assert "  usr/bin/cloudflared" in host.check_output("dpkg-query --control-show cloudflared md5sums")


def test_token_never_on_a_command_line(host):
    token = host.file(f"{CONFIG_DIR}/lab.token").content_string.strip()
    assert len(token) > 40
    cmdline = host.file(f"/proc/{_main_pid(host, 'lab')}/cmdline").content_string.split("\0")
    assert "--token-file" in cmdline and f"{CONFIG_DIR}/lab.token" in cmdline
    assert "--token" not in cmdline
    assert token not in host.check_output("ps -eo args")
    for name in TUNNELS:
        assert token not in host.file(f"/proc/{_main_pid(host, name)}/cmdline").content_string
        assert token not in host.file(f"/proc/{_main_pid(host, name)}/environ").content_string


def test_credentials_are_well_formed(host):
    credentials = json.loads(host.file(f"{CONFIG_DIR}/home.json").content_string)
    assert set(credentials) == {"AccountTag", "TunnelSecret", "TunnelID", "Endpoint"}
    assert credentials["TunnelID"] == "1b7b1c64-6a52-4d8e-9a43-3c1f0f1f6a01"


@pytest.mark.parametrize(("name", "port"), sorted(TUNNELS.items()))
def test_metrics_listen_on_loopback_only_and_ready(host, name, port):
    # `ss -p` needs CAP_SYS_PTRACE to map sockets to processes, which the test container lacks;
    # `ss -e` names the socket's cgroup instead, which is the unit itself.
    listening = host.check_output("ss -Hltne").splitlines()
    sockets = [line.split() for line in listening if f"/cloudflared@{name}.service" in line]
    assert sockets, f"cloudflared@{name} listens on nothing"
    assert [fields[3] for fields in sockets] == [f"127.0.0.1:{port}"]
    uid = host.user("cloudflared").uid
    assert all("/cloudflared@" in line for line in listening if f" uid:{uid} " in line)
    ready = json.loads(host.check_output(f"curl -fsS http://127.0.0.1:{port}/ready"))
    assert ready["status"] == 200 and ready["readyConnections"] == 4
    assert "build_info{" in host.check_output(f"curl -fsS http://127.0.0.1:{port}/metrics")


def test_config_is_built_from_the_services(host):
    config = host.file(f"{CONFIG_DIR}/home.yml").content_string
    assert config.startswith("#\n# Ansible managed")
    for fragment in (
        "tunnel: 1b7b1c64-6a52-4d8e-9a43-3c1f0f1f6a01",
        "credentials-file: /etc/cloudflared/home.json",
        "metrics: 127.0.0.1:20241",
        "hostname: time.example.com",
        "teamName: homelab-test",
        "path: ^/webhook/",
        "connectTimeout: 10s",
        "noHappyEyeballs: true",
        "hostname: docs.example.com",  # added by side_effect.yml
    ):
        assert fragment in config, fragment
    assert config.rstrip().endswith("- service: http_status:404")
    matched = host.check_output(
        f"{_binary(host)} tunnel --config /etc/cloudflared/home.yml ingress rule https://n8n.example.com/webhook/x"
    )
    # cloudflared counts rules from 0: first n8n's /metrics answered 404 (its metrics stay on the host),
    # then the ^/webhook/ rule (path rules before the plain one)
    assert "Matched rule #1" in matched.splitlines()
    metrics = host.check_output(
        f"{_binary(host)} tunnel --config /etc/cloudflared/home.yml ingress rule https://n8n.example.com/Metrics"
    )
    assert "Matched rule #0" in metrics.splitlines() and "http_status:404" in metrics
    lab = host.file(f"{CONFIG_DIR}/lab.yml").content_string
    assert "ingress" not in lab.replace("ingress rules live in Cloudflare", "")


def test_host_side_validation_rejects_a_config_without_catch_all(host):
    bad = "ingress:\n  - hostname: a.example.com\n    service: http://127.0.0.1:3001\n"
    result = host.run(
        f"f=$(mktemp) && printf '%s' '{bad}' > $f && {_binary(host)} tunnel --config $f ingress validate;"
        " rc=$?; rm -f $f; exit $rc"
    )
    assert result.rc != 0
    assert "last ingress rule must match all URLs" in result.stderr


def test_no_op_runs_restart_nothing(host):
    # converged.json was taken after converge, the idempotence run and the check-mode run: the first
    # run started each unit once (and did not restart what it had just started), the two no-op runs
    # restarted nothing.
    converged = _snapshot(host, "converged")
    for name in TUNNELS:
        state = _unit_state(converged, name)
        assert state["active"] == "active"
        assert state["starts"] == 1, f"cloudflared@{name} started {state['starts']} times"
        assert state["restarts"] == "0"


def test_rule_change_restarts_that_tunnel_once(host):
    before, after = _snapshot(host, "converged"), _snapshot(host, "changed")
    home_before, home_after = _unit_state(before, "home"), _unit_state(after, "home")
    assert home_after["active"] == "active"
    assert home_after["invocation"] != home_before["invocation"]
    assert home_after["pid"] != home_before["pid"]
    assert home_after["starts"] == home_before["starts"] + 1, "home must start exactly once more"
    assert home_after["restarts"] == home_before["restarts"], "no crash-restart (Restart=on-failure) either"
    assert _unit_state(before, "lab") == _unit_state(after, "lab"), "lab must not be touched"
    assert before["files"]["/etc/cloudflared/home.yml"] != after["files"]["/etc/cloudflared/home.yml"]
    assert before["files"]["/etc/cloudflared/lab.yml"] == after["files"]["/etc/cloudflared/lab.yml"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no_catch_all", "the last ingress rule must match all URLs"),
        ("bad_service_url", "bad service URL 'http://127.0.0.1:9001/v1'"),
        ("duplicate_hostname", "hostname 'time.example.com' is already used"),
    ],
)
def test_bad_rule_set_fails_and_changes_nothing(host, case, expected):
    if _from_deb(host):
        pytest.skip("side_effect.yml runs the bad rule sets on the binary host only")
    good, bad = _snapshot(host, "changed"), _snapshot(host, f"bad_{case}")
    assert bad["result"]["failed"] is True, f"{case}: the play did not fail"
    assert bad["result"]["task"].endswith("Check the tunnels, their services and ingress rules")
    assert expected in bad["result"]["msg"], bad["result"]["msg"]
    assert "tunnel 'home'" in bad["result"]["msg"]
    assert bad["files"] == good["files"], f"{case}: a tunnel file changed"
    for name in TUNNELS:
        assert _unit_state(good, name) == _unit_state(bad, name), f"{case}: cloudflared@{name} was touched"


def test_systemd_exposure_score(host):
    out = host.check_output("systemd-analyze security --no-pager cloudflared@home.service")
    score = float(re.search(r"Overall exposure level for cloudflared@home\.service: ([0-9.]+)", out).group(1))
    print(f"systemd-analyze security exposure of cloudflared@home.service: {score}")
    assert score < MAX_EXPOSURE


def test_binary_host_has_no_package(host):
    if _from_deb(host):
        pytest.skip("this host installs the .deb")
    assert _snapshot(host, "changed")["package"] is None
    assert host.run("dpkg-query --show cloudflared").rc != 0


def test_deb_pinned_is_held_and_unpinned_is_released(host):
    # converge pinned the .deb's own version; converged.json was taken after that run, the
    # idempotence run and the check run. side_effect.yml's rule change ran without a pin (and
    # restarted only what its rule change had to: test_rule_change_restarts_that_tunnel_once),
    # then, after a wrong pin, the role ran with the .deb's own version pinned again.
    _deb_only(host)
    converged, changed = _snapshot(host, "converged"), _snapshot(host, "changed")
    pinned = _snapshot(host, "package_pinned")
    assert converged["package"] == {"version": DEB_VERSION, "selection": "hold"}
    assert changed["package"] == {"version": DEB_VERSION, "selection": "install"}
    assert pinned["package"] == {"version": DEB_VERSION, "selection": "hold"}
    assert pinned["result"]["failed"] is False, pinned["result"]["msg"]
    assert pinned["files"] == changed["files"]
    for name in TUNNELS:
        assert _unit_state(changed, name) == _unit_state(pinned, name), f"holding restarted cloudflared@{name}"
    assert host.check_output("dpkg --get-selections cloudflared").split() == ["cloudflared", "hold"]
    # apt's view too: `apt upgrade` keeps back what apt-mark lists as held.
    assert host.check_output("apt-mark showhold").split() == ["cloudflared"]


def test_deb_wrong_pin_fails_and_changes_nothing(host):
    # After the rule change, side_effect.yml ran the role on the .deb host with a pin the .deb does not hold.
    _deb_only(host)
    good, after = _snapshot(host, "changed"), _snapshot(host, "package_wrong_pin")
    assert after["result"]["failed"] is True, "a pin the .deb does not hold must fail the play"
    assert after["result"]["task"].endswith(
        "Check that the copied package is cloudflared, at the pinned version if one is set"
    )
    assert f"is the package 'cloudflared {DEB_VERSION}'" in after["result"]["msg"], after["result"]["msg"]
    assert "'cloudflared' 2025.1.0, the version cloudflared_version pins" in after["result"]["msg"]
    assert after["package"] == good["package"]
    assert after["files"] == good["files"], "a tunnel file changed"
    for name in TUNNELS:
        assert _unit_state(good, name) == _unit_state(after, name), f"cloudflared@{name} was touched"


# --------------------------------------------------------------------------------------------------
# Rolling restart through homelab.mcp_edge.cloudflared (serial 1), both hosts (side_effect.yml)
# --------------------------------------------------------------------------------------------------


def _rolling():
    return json.loads((Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "rolling.json").read_text())


def _home_unit(snapshot):
    return snapshot["units"]["cloudflared@home"]


def test_rolling_restart_starts_the_next_host_only_after_the_previous_one_is_ready():
    run = _rolling()["rolling"]
    assert run["rc"] == 0, "\n".join(run["stdout_tail"])
    restarted = {}
    for name, after in run["after"].items():
        before = _home_unit(run["before"][name])
        unit = _home_unit(after)
        assert unit["InvocationID"] != before["InvocationID"], f"{name}: home was not restarted"
        assert unit["ActiveState"] == "active"
        restarted[name] = (int(unit["ExecMainStartTimestampMonotonic"]), int(unit["ActiveEnterTimestampMonotonic"]))
    (first, (start1, ready1)), (second, (start2, ready2)) = sorted(restarted.items(), key=lambda item: item[1][0])
    print(
        f"{first}: restart began, ready {(ready1 - start1) / 1e6:.1f} s later; {second}: restart began "
        f"{(start2 - ready1) / 1e6:.1f} s after {first} was ready, ready {(ready2 - start2) / 1e6:.1f} s later"
    )
    # The double took 3 s to connect: the gate really waited, and the second host waited for it.
    assert ready1 - start1 >= 3_000_000
    assert start2 >= ready1, f"{second} restarted before {first} was ready"


def test_a_host_failing_its_health_gate_stops_the_roll_before_the_next_host():
    run = _rolling()["gate_held"]
    assert run["rc"] != 0
    touched = [name for name in run["after"] if _home_unit(run["after"][name]) != _home_unit(run["before"][name])]
    assert len(touched) == 1, f"exactly one host may have been touched, got {touched}"
    (other,) = set(run["after"]) - set(touched)
    assert run["after"][other] == run["before"][other], f"{other} was touched while {touched[0]} was not ready"
    # The play stopped at the failed host: it failed there, and the other host ran no task at all.
    assert [line for line in run["fatal"] if f"[{touched[0]}]" in line], run["fatal"]
    assert not [line for line in run["fatal"] if f"[{other}]" in line], run["fatal"]
    recap = {line.split()[0]: line for line in run["recap"]}
    assert re.search(r"failed=1", recap[touched[0]]), run["recap"]
    assert other not in recap or re.search(r" ok=0 ", recap[other]), run["recap"]


def test_the_roll_recovers_once_the_tunnel_connects_again():
    run = _rolling()["recovered"]
    assert run["rc"] == 0, "\n".join(run["stdout_tail"])
    for name, after in run["after"].items():
        assert _home_unit(after)["ActiveState"] == "active", name
