# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Integration-test harness: the local Cloudflare API emulator and ansible-playbook runs against it.

Fixtures (other test files rely on these names):

* ``emulator`` (session): starts ``tests/cloudflare_emulator/emulator.py`` on a free port; the object has
  ``base_url``, ``token``, ``account_id``, ``zone``, ``zone_id`` and the control methods ``requests()``,
  ``clear_requests()``, ``counters()``, ``reset()``, ``faults(**kw)``, ``clear_faults()``, ``state()``,
  ``connect_tunnel(id, count)``, ``organization(team_name)``, ``rate_limit(limit, window)``.
* ``reset_emulator`` (function): resets the emulator (state, request log, faults) before the test.
* ``run_playbook`` (function): ``run_playbook(playbook, extra_vars=None, check=False, diff=False,
  verbosity=0, env=None, json_output=True)`` runs ``.venv/bin/ansible-playbook`` with the emulator's URL,
  token and account in the environment and returns a ``PlaybookResult``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EMULATOR_DIR = REPO / "tests" / "cloudflare_emulator"
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
COLLECTIONS = REPO / ".collections"


def _venv_bin(name):
    candidate = REPO / ".venv" / "bin" / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        pytest.skip("%s is not installed" % name)
    return found


def ensure_collection_link():
    """``.collections/ansible_collections/homelab/mcp_edge`` -> the repository (made by ``make venv`` too)."""
    link = COLLECTIONS / "ansible_collections" / "homelab" / "mcp_edge"
    if link.exists():
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.relpath(REPO, link.parent), link)


class Emulator:
    """Handle on a running emulator process."""

    def __init__(self, proc, port, seed, log_path):
        self.proc = proc
        self.port = port
        self.seed = seed
        self.log_path = log_path
        self.root = "http://127.0.0.1:%d" % port
        self.base_url = self.root + "/client/v4"
        self.control_url = self.root + "/__emulator"
        token = next(
            t
            for t in seed["tokens"]
            if t.get("status") == "active" and t.get("kind", "user") == "user" and "#all" in t.get("permissions", [])
        )
        self.token = token["value"]
        self.tokens = {t["id"]: t["value"] for t in seed["tokens"]}
        self.account_id = seed["accounts"][0]["id"]
        self.zone = "example.com"
        self.zone_id = next(z["id"] for z in seed["zones"] if z["name"] == self.zone)
        self.zones = {z["name"]: z["id"] for z in seed["zones"]}

    def token_with(self, *permissions):
        """Value of a seeded active user token holding exactly these permissions (for permission tests)."""
        for t in self.seed["tokens"]:
            if t.get("status") == "active" and sorted(t.get("permissions", [])) == sorted(permissions):
                return t["value"]
        raise KeyError(permissions)

    # -- control API ----------------------------------------------------------------------------
    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.control_url + path, data=data, method=method)  # noqa: S310 - 127.0.0.1
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - 127.0.0.1 only
            return json.loads(resp.read() or b"null")

    def health(self):
        return self._call("GET", "/health")

    def requests(self, since=0):
        return self._call("GET", "/requests?since=%d" % since if since else "/requests")

    def clear_requests(self):
        return self._call("DELETE", "/requests")

    def counters(self):
        return self._call("GET", "/counters")

    def reset(self):
        return self._call("POST", "/reset")

    def faults(self, **kwargs):
        return self._call("POST", "/faults", kwargs)

    def clear_faults(self):
        return self._call("DELETE", "/faults")

    def state(self):
        return self._call("GET", "/state")

    def connect_tunnel(self, tunnel_id, count=4):
        return self._call("POST", "/tunnels/%s/connections" % tunnel_id, {"count": count})

    def organization(self, team_name, account_id=None):
        """Give the account the Zero Trust organization ``<team_name>.cloudflareaccess.com``; None removes it."""
        return self._call("POST", "/organizations/%s" % (account_id or self.account_id), {"team_name": team_name})

    def rate_limit(self, limit=None, window=None):
        body = {}
        if limit is not None:
            body["limit"] = limit
        if window is not None:
            body["window"] = window
        return self._call("POST", "/rate_limit", body)

    # -- conveniences for assertions ----------------------------------------------------------
    def records(self, zone=None):
        zone_id = self.zones[zone or self.zone]
        return [r for r in self.state().get("dns_records", []) if r.get("zone_id", zone_id) == zone_id]

    def tunnels(self, include_deleted=False):
        return [t for t in self.state().get("tunnels", []) if include_deleted or not t.get("deleted_at")]

    def writes(self):
        return [r for r in self.requests() if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]

    def env(self, token=None):
        return {
            "CLOUDFLARE_API_BASE_URL": self.base_url,
            "CLOUDFLARE_API_TOKEN": token or self.token,
            "CLOUDFLARE_ACCOUNT_ID": self.account_id,
        }


def start_emulator(seed_path=None, extra_args=()):
    """Start an emulator process; return an ``Emulator`` (caller stops it with ``stop_emulator``)."""
    seed_path = Path(seed_path or EMULATOR_DIR / "seed.example.json")
    tmp = Path(tempfile.mkdtemp(prefix="cfemu-"))
    port_file = tmp / "port"
    log_path = tmp / "emulator.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(EMULATOR_DIR / "emulator.py"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--seed",
            str(seed_path),
            "--port-file",
            str(port_file),
            "--quiet",
            *extra_args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 20
    port = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("emulator exited early:\n%s" % log_path.read_text(errors="replace"))
        if port_file.exists():
            text = port_file.read_text().strip()
            if text:
                port = int(text)
                break
        time.sleep(0.05)
    if port is None:
        proc.kill()
        raise RuntimeError("emulator did not report its port")
    emu = Emulator(proc, port, json.loads(seed_path.read_text()), log_path)
    while time.monotonic() < deadline:
        try:
            if emu.health().get("status") == "ok":
                return emu
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("emulator health check failed")


def stop_emulator(emu):
    emu.proc.terminate()
    try:
        emu.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        emu.proc.kill()
        emu.proc.wait()


# The task in which a playbook hands the tests the registered results of its no_log tasks.
RESULTS_TASK = "Results for the tests"
# What the emulator counts as a write (its /counters "writes" uses the same methods).
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def write_requests(requests):
    """The writes among the emulator's logged ``requests``, in order."""
    return [r for r in requests if r["method"] in WRITE_METHODS]


class PlaybookResult:
    """Outcome of one ansible-playbook run (json callback)."""

    def __init__(self, cmd, rc, stdout, stderr, json_output):
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.data = None
        if json_output:
            start = stdout.find("{")
            try:
                self.data = json.loads(stdout[start:]) if start >= 0 else None
            except ValueError:
                self.data = None

    @property
    def output(self):
        return self.stdout + "\n" + self.stderr

    def assert_no_traceback(self):
        """Fail, showing the surroundings, if a Python traceback made it into the output."""
        index = self.output.find("Traceback")
        assert index < 0, "traceback in ansible-playbook output:\n" + self.output[max(0, index - 1500) : index + 3000]

    @property
    def tasks(self):
        """[(task name, host result)] in order, for the first host of each task."""
        out = []
        for play in (self.data or {}).get("plays", []):
            for task in play.get("tasks", []):
                hosts = task.get("hosts") or {}
                result = next(iter(hosts.values()), {}) if hosts else {}
                out.append((task.get("task", {}).get("name"), result))
        return out

    def task(self, name):
        """Result of the (first) task called ``name``.

        A task run with no_log shows only "censored"; its playbook may then hand its registered
        result to the tests in a task called "Results for the tests" (msg: {task name: result}).
        """
        for task_name, result in self.tasks:
            if task_name == name:
                if "censored" in result:
                    return self._registered(name, result)
                return result
        raise KeyError("no task %r; tasks: %s" % (name, [n for n, _unused in self.tasks]))

    def __getitem__(self, name):
        return self.task(name)

    def _registered(self, name, censored):
        for task_name, result in self.tasks:
            if task_name == RESULTS_TASK and name in (result.get("msg") or {}):
                return result["msg"][name]
        return censored

    @property
    def stats(self):
        stats = (self.data or {}).get("stats") or {}
        return next(iter(stats.values()), {}) if stats else {}

    @property
    def changed(self):
        return self.stats.get("changed", 0)

    @property
    def failed(self):
        return self.rc != 0 or bool(self.stats.get("failures")) or bool(self.stats.get("unreachable"))

    def __repr__(self):
        return "PlaybookResult(rc=%s, stats=%s)" % (self.rc, self.stats)


def _playbook_runner(emulator, tmp_path_factory):
    ensure_collection_link()
    ansible_playbook = _venv_bin("ansible-playbook")
    local_tmp = tmp_path_factory.mktemp("ansible-tmp")

    def run(
        playbook,
        extra_vars=None,
        check=False,
        diff=False,
        verbosity=0,
        env=None,
        json_output=True,
        timeout=600,
        inventory=None,
        drop_env=(),
        args=(),
    ):
        path = Path(playbook)
        if not path.is_absolute():
            path = PLAYBOOKS / path
        if inventory is None:
            cmd = [ansible_playbook, "-i", "localhost,", "-c", "local", str(path)]
            variables = {"ansible_python_interpreter": sys.executable, "cf_zone": emulator.zone}
        else:
            # A real inventory: its hosts keep their own connection and interpreter settings.
            cmd = [ansible_playbook, "-i", str(inventory), str(path)]
            variables = {}
        variables.update(extra_vars or {})
        cmd += ["-e", json.dumps(variables)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        run_env = dict(os.environ)
        for key in list(run_env):
            if key.startswith(("CLOUDFLARE_", "ANSIBLE_")):
                del run_env[key]
        run_env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
                "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json" if json_output else "default",
                "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_LOCALHOST_WARNING": "0",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
                "ANSIBLE_LOCAL_TEMP": str(local_tmp),
                "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        run_env.update(emulator.env())
        run_env.update(env or {})
        for key in drop_env:
            run_env.pop(key, None)
        cmd += list(args)
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=run_env, timeout=timeout, cwd=str(PLAYBOOKS), check=False
        )
        return PlaybookResult(cmd, proc.returncode, proc.stdout, proc.stderr, json_output)

    return run


@pytest.fixture(scope="session")
def emulator():
    emu = start_emulator()
    try:
        yield emu
    finally:
        stop_emulator(emu)


@pytest.fixture
def reset_emulator(emulator):
    emulator.reset()
    emulator.clear_faults()
    yield emulator


@pytest.fixture(scope="session")
def _runner(emulator, tmp_path_factory):
    return _playbook_runner(emulator, tmp_path_factory)


@pytest.fixture
def run_playbook(_runner, reset_emulator):
    return _runner
