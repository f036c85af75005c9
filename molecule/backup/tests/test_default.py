# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify the backup scenario after its side effects (the round trip ran there): the schedule,
the failure signalling, the files' permissions, the repository's content, and that no secret
leaked into a unit, a command line, the journal or a file other users can read.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "tests"))
from secret_scan import readable_by_others, written_outside_the_engine
from verify_common import decrypt, load_vars, systemctl_show

SCENARIO = Path(__file__).resolve().parents[1]

VARS = load_vars(SCENARIO / "vars" / "main.yml")


@cache
def _secret(name):
    return decrypt(SCENARIO, VARS[name])


@pytest.mark.parametrize(
    ("timer", "calendar"),
    [("homelab-backup.timer", "*-*-* 02:15:00"), ("homelab-backup-check.timer", "Sun *-*-* 05:30:00")],
)
def test_timer_is_scheduled(host, timer, calendar):
    assert host.service(timer).is_enabled
    assert host.service(timer).is_running
    props = systemctl_show(host, timer, "TimersCalendar", "RandomizedDelayUSec", "Persistent", "NextElapseUSecRealtime")
    assert f"OnCalendar={calendar} " in props["TimersCalendar"], props
    assert props["RandomizedDelayUSec"] == "10min"
    assert props["Persistent"] == "yes"
    assert props["NextElapseUSecRealtime"] not in ("", "0", "n/a"), props
    listed = host.check_output(f"systemctl list-timers --no-pager {timer}")
    assert timer in listed and "n/a" not in listed.splitlines()[1], listed


@pytest.mark.parametrize("unit", ["homelab-backup.service", "homelab-backup-check.service"])
def test_failure_goes_to_the_hook_unit(host, unit):
    props = systemctl_show(host, unit, "Type", "OnFailure", "ExecStart")
    assert props["Type"] == "oneshot"
    assert props["OnFailure"] == f"homelab-backup-failure@{unit}.service"
    assert "/usr/local/sbin/homelab-backup" in props["ExecStart"]


def test_failed_runs_reached_the_hook_and_last_failure(host):
    hooks = host.file("/var/log/homelab-backup-hooks.log").content_string.splitlines()
    assert sum(" failed homelab-backup.service" in line for line in hooks) == 2, hooks
    assert any(line.endswith(" success") for line in hooks), hooks
    assert host.file("/var/lib/homelab-backup/last-failure").content_string.split()[1] == "homelab-backup.service"


def test_last_success_is_recent_and_readable(host):
    stamp = host.file("/var/lib/homelab-backup/last-success")
    assert stamp.mode == 0o644
    when = datetime.strptime(stamp.content_string.strip(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert time.time() - when.timestamp() < 1800


@pytest.mark.parametrize(
    ("path", "mode"),
    [
        ("/usr/local/sbin/homelab-backup", 0o700),
        ("/usr/local/sbin/homelab-restic", 0o700),
        ("/etc/homelab-backup", 0o700),
        ("/etc/homelab-backup/restic.password", 0o600),
        ("/etc/homelab-backup/restic.env", 0o600),
        ("/etc/homelab-backup/services.yml", 0o600),
        ("/var/backups/homelab-restic", 0o700),
        ("/var/lib/homelab-backup/staging", 0o700),
        ("/var/cache/homelab-backup", 0o700),
    ],
)
def test_root_only(host, path, mode):
    f = host.file(path)
    assert f.exists and f.user == "root" and f.group == "root"
    assert f.mode == mode, oct(f.mode)


def test_repository_check_passes(host):
    host.run_expect([0], "systemctl start homelab-backup-check.service")
    assert host.file("/var/lib/homelab-backup/last-check-success").exists


def test_snapshots_are_filed_under_the_host(host):
    snaps = json.loads(host.check_output("/usr/local/sbin/homelab-restic snapshots --json"))
    assert len(snaps) >= 2
    assert {s["hostname"] for s in snaps} == {"mcp-edge-backup"}
    assert all(s["tags"] == ["homelab-backup"] for s in snaps)
    paths = set(snaps[-1]["paths"])
    assert {"/etc/cloudflared", "/var/lib/homelab-backup/staging"} <= paths
    assert any(p.endswith("/volumes/n8n_data/_data") for p in paths)
    assert any(p.endswith("/volumes/mcp-notes-data/_data") for p in paths)


def test_service_description_snapshot_hides_secrets(host):
    out = host.check_output("/usr/local/sbin/homelab-restic dump latest /var/lib/homelab-backup/staging/services.yml")
    data = yaml.safe_load(out)
    notes = next(s for s in data["homelab_services"] if s["name"] == "notes")
    assert notes["secret_env"] == {"MCP_AUTH_TOKEN": "<secret>"}
    assert notes["volumes"] == ["mcp-notes-data:/data"]
    assert _secret("vault_test_credential_token") not in out


def test_round_trip_numbers(host):
    metrics = json.loads(host.file("/root/backup-test/metrics.json").content_string)
    assert int(metrics["second_backup_added_bytes"]) <= 0.01 * int(metrics["first_backup_bytes"])
    assert metrics["workflows_restored"] == 4 and metrics["credentials_restored"] == 1


def test_n8n_answers_after_the_restore(host):
    body = host.check_output("curl -fsS --max-time 10 http://127.0.0.1:5678/healthz/readiness")
    assert json.loads(body) == {"status": "ok"}


def test_password_never_on_a_command_line_or_in_a_unit(host):
    password = _secret("vault_backup_password")
    for unit in ("homelab-backup.service", "homelab-backup-check.service", "homelab-backup-failure@.service"):
        assert password not in host.check_output(f"systemctl cat {unit}")
    for script in ("/usr/local/sbin/homelab-backup", "/usr/local/sbin/homelab-restic"):
        text = host.file(script).content_string
        assert password not in text
    assert "RESTIC_PASSWORD_FILE=" in host.file("/etc/homelab-backup/restic.env").content_string
    assert "RESTIC_PASSWORD=" not in host.file("/etc/homelab-backup/restic.env").content_string


@pytest.mark.parametrize("name", ["vault_backup_password", "vault_test_credential_token", "vault_n8n_encryption_key"])
def test_secret_in_no_log_and_no_other_file(host, name):
    secret = _secret(name)
    journal = host.run(f"journalctl --no-pager -o cat | grep -cF -e {secret}")
    assert journal.stdout.strip() == "0", f"{name} in the journal"
    assert readable_by_others(host, secret) == []
    allowed = {"vault_backup_password": "/etc/homelab-backup/restic.password"}.get(name, "")
    found = written_outside_the_engine(host, secret, ("/var/lib/homelab-backup", "/var/log"))
    assert set(found) <= {allowed} - {""}, found
