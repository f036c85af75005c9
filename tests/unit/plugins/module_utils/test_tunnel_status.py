# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The tunnel status check (module_utils/_tunnel_status.py) against the Cloudflare API emulator.

The emulator shares no code with plugins/: a status, a connection list or a refused token shaped
differently from what the check expects makes these tests fail.
"""

from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys
from pathlib import Path

import yaml
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _tunnel_status

REPO = Path(__file__).resolve().parents[4]
ACCOUNT = "a0000000000000000000000000000001"
T_ALL = "emulator-token-all-0000000000000000000000"
T_READ = "emulator-token-readonly-0000000000000000"  # zone/dns/tunnel/access read
T_DNS = "emulator-token-dns-only-0000000000000000"  # no tunnel permission
SECRET32 = base64.b64encode(b"s" * 32).decode()


def create_tunnel(emu, name):
    status, payload = emu.api(
        "POST", f"/accounts/{ACCOUNT}/cfd_tunnel", {"name": name, "tunnel_secret": SECRET32}, T_ALL
    )
    assert status == 200 and payload["success"], payload
    return payload["result"]


def metrics(text):
    """``{'name{labels}': value}`` of a textfile, every line parsed (a malformed one fails here)."""
    result = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        result[key] = float(value)
    return result


def run_check(tmp_path, emu, tunnels, token=T_READ):
    out = tmp_path / "homelab_tunnel_status.prom"
    config = tmp_path / "tunnel-status.json"
    token_file = tmp_path / "tunnel-status.token"
    token_file.write_text(token + "\n")
    config.write_text(
        json.dumps(
            {
                "api_base_url": emu.base_url,
                "account_id": ACCOUNT,
                "tunnels": tunnels,
                "output": str(out),
                "token_file": str(token_file),
            }
        )
    )
    rc = _tunnel_status.main([str(config)])
    return rc, (out.read_text() if out.exists() else None)


def test_status_and_connectors_from_one_listing(tmp_path, emu):
    home = create_tunnel(emu, "home")
    spare = create_tunnel(emu, "spare")
    emu.ctl("POST", f"/tunnels/{home['id']}/connections", {"count": 4})
    emu.ctl("DELETE", "/requests")
    rc, text = run_check(tmp_path, emu, [{"name": "home", "id": home["id"]}, {"name": "spare", "id": spare["id"]}])
    assert rc == 0
    values = metrics(text)
    assert values["homelab_tunnel_api_up"] == 1
    assert values['homelab_tunnel_api_status{tunnel="home",status="healthy"}'] == 1
    assert values['homelab_tunnel_api_status{tunnel="home",status="down"}'] == 0
    assert values['homelab_tunnel_api_connections{tunnel="home"}'] == 4
    assert values['homelab_tunnel_api_connectors{tunnel="home"}'] == 1
    # Never connected: Cloudflare says inactive.
    assert values['homelab_tunnel_api_status{tunnel="spare",status="inactive"}'] == 1
    assert values['homelab_tunnel_api_connections{tunnel="spare"}'] == 0
    # Both tunnels from one request, a GET: the check never writes.
    requests = emu.ctl("GET", "/requests")
    assert [(r["method"], r["path"].split("?")[0]) for r in requests] == [
        ("GET", f"/client/v4/accounts/{ACCOUNT}/cfd_tunnel")
    ]


def test_connections_lost_then_tunnel_deleted(tmp_path, emu):
    home = create_tunnel(emu, "home")
    emu.ctl("POST", f"/tunnels/{home['id']}/connections", {"count": 4})
    emu.ctl("POST", f"/tunnels/{home['id']}/connections", {"count": 0})
    rc, text = run_check(tmp_path, emu, [{"name": "home", "id": home["id"]}])
    assert rc == 0
    assert metrics(text)['homelab_tunnel_api_status{tunnel="home",status="down"}'] == 1
    status, payload = emu.api("DELETE", f"/accounts/{ACCOUNT}/cfd_tunnel/{home['id']}", token=T_ALL)
    assert status == 200, payload
    rc, text = run_check(tmp_path, emu, [{"name": "home", "id": home["id"]}])
    values = metrics(text)
    assert values['homelab_tunnel_api_status{tunnel="home",status="missing"}'] == 1
    assert sum(v for k, v in values.items() if k.startswith("homelab_tunnel_api_status")) == 1


def test_a_tunnel_replaced_under_the_same_name_is_missing_by_id(tmp_path, emu):
    old = create_tunnel(emu, "home")
    emu.api("DELETE", f"/accounts/{ACCOUNT}/cfd_tunnel/{old['id']}", token=T_ALL)
    new = create_tunnel(emu, "home")
    emu.ctl("POST", f"/tunnels/{new['id']}/connections", {"count": 4})
    rc, text = run_check(tmp_path, emu, [{"name": "home", "id": old["id"]}])
    assert metrics(text)['homelab_tunnel_api_status{tunnel="home",status="missing"}'] == 1
    # By name alone, the live one counts.
    rc, text = run_check(tmp_path, emu, [{"name": "home"}])
    assert rc == 0
    assert metrics(text)['homelab_tunnel_api_status{tunnel="home",status="healthy"}'] == 1


def test_a_token_without_tunnel_read_says_so_and_writes_no_status(tmp_path, emu, capsys):
    home = create_tunnel(emu, "home")
    rc, text = run_check(tmp_path, emu, [{"name": "home", "id": home["id"]}], token=T_DNS)
    assert rc == 1
    values = metrics(text)
    assert values["homelab_tunnel_api_up"] == 0
    assert not [k for k in values if k.startswith("homelab_tunnel_api_status")]
    err = capsys.readouterr().err
    assert "did not answer" in err and T_DNS not in err


def test_configuration_errors_name_the_setting_and_remove_the_old_file(tmp_path, emu, capsys):
    home = create_tunnel(emu, "home")
    rc, text = run_check(tmp_path, emu, [{"name": "home", "id": home["id"]}])
    assert rc == 0 and text
    out = tmp_path / "homelab_tunnel_status.prom"
    config = tmp_path / "tunnel-status.json"
    # The token unreadable: nothing current may remain.
    (tmp_path / "tunnel-status.token").unlink()
    assert _tunnel_status.main([str(config)]) == 2
    assert not out.exists()
    assert "cannot read the API token file" in capsys.readouterr().err
    config.write_text(json.dumps({"api_base_url": emu.base_url, "account_id": "", "tunnels": [{}], "output": "x"}))
    assert _tunnel_status.main([str(config)]) == 2
    err = capsys.readouterr().err
    assert "'account_id' must be a non-empty string" in err and "'tunnels[0]' must be a mapping" in err


def test_render_is_valid_prometheus_text():
    """Every line parses, HELP/TYPE once per metric, label values quoted even with odd names."""
    text = _tunnel_status.render([{"name": 'we"ird'}], [{"name": 'we"ird', "status": "degraded"}], 1700000000)
    values = metrics(text)
    assert values['homelab_tunnel_api_status{tunnel="we\\"ird",status="degraded"}'] == 1
    helps = [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")]
    assert len(helps) == len(set(helps)) == 5


def test_runs_as_the_unit_runs_it(tmp_path, server):
    """``python3 -m ..._tunnel_status CONFIG`` with only the shipped files on the path (the role's list)."""
    server.reset()
    home = create_tunnel(server, "home")
    server.ctl("POST", f"/tunnels/{home['id']}/connections", {"count": 2})
    shipped = yaml.safe_load((REPO / "roles/monitoring/vars/main.yml").read_text())["_monitoring_tunnel_status_files"]
    lib = tmp_path / "lib/ansible_collections/homelab/mcp_edge/plugins/module_utils"
    lib.mkdir(parents=True)
    for name in shipped:
        (lib / name).write_bytes((REPO / "plugins/module_utils" / name).read_bytes())
    out = tmp_path / "status.prom"
    config = tmp_path / "c.json"
    (tmp_path / "api-token").write_text(T_READ)
    config.write_text(
        json.dumps(
            {
                "api_base_url": server.base_url,
                "account_id": ACCOUNT,
                "tunnels": [{"name": "home"}],
                "output": str(out),
                "token_file": str(tmp_path / "api-token"),
            }
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "ansible_collections.homelab.mcp_edge.plugins.module_utils._tunnel_status", str(config)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "lib"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "home: degraded" in proc.stdout
    assert metrics(out.read_text())['homelab_tunnel_api_connections{tunnel="home"}'] == 2


def test_the_shipped_files_are_exactly_the_import_closure():
    """The role copies these module_utils to the host: a new import must be shipped, a dropped one not."""
    root = REPO / "plugins/module_utils"
    prefix = "ansible_collections.homelab.mcp_edge.plugins.module_utils."
    seen, todo = set(), ["_tunnel_status.py"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(ast.parse((root / name).read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(prefix):
                todo.append(node.module[len(prefix) :] + ".py")
    shipped = yaml.safe_load((REPO / "roles/monitoring/vars/main.yml").read_text())["_monitoring_tunnel_status_files"]
    assert sorted(shipped) == sorted(seen)
