# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify the Prometheus textfile the backup job writes (node exporter's textfile collector, read by
the monitoring role's alerts) after the scenario's side effects: backups that succeeded, two failed
backup runs, a failing then a passing ``restic check``, a restore and a backup after it.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "tests"))
from verify_common import decrypt, load_vars

SCENARIO = Path(__file__).resolve().parents[1]
VARS = load_vars(SCENARIO / "vars" / "main.yml")

PROM_DIR = "/var/lib/prometheus/node-exporter"
PROM = f"{PROM_DIR}/homelab_backup.prom"
STATE = "/var/lib/homelab-backup"
FAILED_CHECK_PROM = "/root/backup-test/metrics-failed-check.prom"
METRICS = {
    "homelab_backup_last_success_timestamp_seconds",
    "homelab_backup_last_failure_timestamp_seconds",
    "homelab_backup_last_duration_seconds",
    "homelab_backup_repository_size_bytes",
    "homelab_backup_check_success",
    "homelab_backup_check_last_run_timestamp_seconds",
}

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
# The text exposition format: `# HELP name text`, `# TYPE name type`, `name{labels} value` or `name value`.
_COMMENT = re.compile(rf"^# (HELP|TYPE) ({_NAME}) (.+)$")
_SAMPLE = re.compile(rf'^({_NAME})(\{{(?:{_NAME}="(?:[^"\\]|\\.)*",?)*\}})? (\S+)$')


def parse(text):
    """The samples (name -> float), HELP and TYPE lines of a textfile; fails on any other line."""
    assert text.endswith("\n"), "the last line must end with a newline"
    samples, helps, types = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("#"):
            comment = _COMMENT.match(line)
            assert comment, f"not a HELP or TYPE line: {line!r}"
            (helps if comment[1] == "HELP" else types)[comment[2]] = comment[3]
            continue
        sample = _SAMPLE.match(line)
        assert sample, f"not a sample line: {line!r}"
        name, value = sample[1], float(sample[3])
        assert name not in samples, f"{name} twice"
        samples[name] = value
    return samples, helps, types


@cache
def _secret(name):
    return decrypt(SCENARIO, VARS[name])


def _now(host):
    return int(host.check_output("date +%s"))


def _mtime(host, path):
    return int(host.check_output(f"stat -c %Y {path}"))


@pytest.fixture(name="metrics")
def fixture_metrics(host):
    samples = parse(host.file(PROM).content_string)[0]
    return samples


def test_metrics_file_is_there_world_readable_and_alone(host):
    prom = host.file(PROM)
    assert prom.is_file
    assert prom.user == "root" and prom.group == "root"
    assert prom.mode == 0o644, oct(prom.mode)
    # Written through a temporary file in the same directory, renamed: none is left behind.
    assert host.check_output(f"ls -A {PROM_DIR}").split() == ["homelab_backup.prom"]


def test_metrics_file_parses_and_holds_exactly_the_six_metrics(host):
    samples, helps, types = parse(host.file(PROM).content_string)
    assert set(samples) == METRICS
    assert set(helps) == METRICS
    assert types == dict.fromkeys(METRICS, "gauge")


def test_last_success_is_recent_and_the_stamp_file_time(host, metrics):
    success = metrics["homelab_backup_last_success_timestamp_seconds"]
    assert success == _mtime(host, f"{STATE}/last-success")
    assert 0 <= _now(host) - success < 3600


def test_the_failed_backup_runs_are_recorded_and_older_than_the_last_success(host, metrics):
    # side_effect: two failing backup runs (wrong password, unreachable repository), then the
    # restore and a successful backup: BackupFailed (last_failure > last_success) must not fire.
    failure = metrics["homelab_backup_last_failure_timestamp_seconds"]
    assert failure == _mtime(host, f"{STATE}/last-failure")
    assert 0 < _now(host) - failure < 3600
    assert failure < metrics["homelab_backup_last_success_timestamp_seconds"]


def test_duration_is_the_last_runs(host, metrics):
    duration = metrics["homelab_backup_last_duration_seconds"]
    logged = host.check_output(
        "journalctl --no-pager -o cat -u homelab-backup.service | grep -o 'backup finished in [0-9]* s' | tail -n 1"
    )
    assert logged == f"backup finished in {int(duration)} s"
    assert 0 < duration < 1800


def test_repository_size_is_restics_raw_data_size(host, metrics):
    size = metrics["homelab_backup_repository_size_bytes"]
    # Nothing was backed up since the last run: restic says the same now.
    stats = json.loads(host.check_output("/usr/local/sbin/homelab-restic stats --mode raw-data --json"))
    assert size == stats["total_size"]
    sizes = host.check_output("find /var/backups/homelab-restic -type f -printf '%s\\n'")
    on_disk = sum(int(n) for n in sizes.split())
    assert 0 < size <= on_disk


def test_last_check_passed(host, metrics):
    # side_effect: a failing check, then passing ones (and test_default runs one more).
    assert metrics["homelab_backup_check_success"] == 1
    last_run = metrics["homelab_backup_check_last_run_timestamp_seconds"]
    assert last_run == max(_mtime(host, f"{STATE}/last-check-success"), _mtime(host, f"{STATE}/last-check-failure"))
    assert 0 <= _now(host) - last_run < 3600


def test_the_failing_check_was_recorded_as_a_check_failure_only(host, metrics):
    failed = parse(host.file(FAILED_CHECK_PROM).content_string)[0]
    assert set(failed) == METRICS
    assert failed["homelab_backup_check_success"] == 0
    assert failed["homelab_backup_check_last_run_timestamp_seconds"] == _mtime(host, f"{STATE}/last-check-failure")
    # Not a failure of the backup: the failure time is still the one the failing backup runs left.
    failure = "homelab_backup_last_failure_timestamp_seconds"
    assert failed[failure] == metrics[failure]
    assert host.file(f"{STATE}/last-check-failure").content_string.split()[1] == "homelab-backup-check.service"
    hooks = host.file("/var/log/homelab-backup-hooks.log").content_string.splitlines()
    assert sum(line.endswith(" failed homelab-backup-check.service") for line in hooks) == 1, hooks


@pytest.mark.parametrize("path", [PROM, FAILED_CHECK_PROM])
def test_nothing_but_the_metrics_in_the_file(host, path):
    text = host.file(path).content_string
    for line in text.splitlines():
        name = line.split()[2] if line.startswith("# ") else re.split(r"[{ ]", line, maxsplit=1)[0]
        assert name in METRICS, line
        if not line.startswith("#"):
            assert re.fullmatch(rf"{name} [0-9]+", line), line
    for secret in ("vault_backup_password", "vault_test_credential_token", "vault_n8n_encryption_key"):
        assert _secret(secret) not in text, secret
