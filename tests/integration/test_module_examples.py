# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Every module's EXAMPLES run as written against the emulator: users copy them.

Each module's EXAMPLES (a YAML list of tasks) becomes one play on localhost, its tasks unchanged and
in order, run by ansible-playbook against an emulator of its own, fresh from the seed: the zones
``example.com`` and ``example.org``, the identity providers and the Zero Trust organization of
``seed.example.json``, nothing else. One in-process emulator per module (a server thread, nothing to
start) lets the examples of different modules use the same names and lets the playbooks run side by
side; ansible-playbook's start and its per-task forks are the cost, not the emulator.

Credentials come the way the integration tests give them (``CLOUDFLARE_API_TOKEN``,
``CLOUDFLARE_ACCOUNT_ID`` and ``CLOUDFLARE_API_BASE_URL`` in the environment). The variables an
example takes from the user's inventory (``cloudflare_account_id``, ``vault_cloudflare_api_token``,
``vault_notification_webhook_secret``) are play variables. The only change made to a task: a file an
example writes on the managed host (``dest``/``path`` of the builtin file modules starting with ``/``
or ``~/``) goes under a temporary directory instead.
"""

from __future__ import annotations

import ast
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES_DIR = REPO / "plugins" / "modules"
MODULES = sorted(p.stem for p in MODULES_DIR.glob("*.py") if not p.name.startswith("_"))
EMULATOR_DIR = REPO / "tests" / "cloudflare_emulator"
if str(EMULATOR_DIR) not in sys.path:
    sys.path.insert(0, str(EMULATOR_DIR))

from inprocess import InProcessEmulator  # noqa: E402 - the path is set just above

# Playbooks run side by side (each against its own emulator).
WORKERS = max(2, min(4, os.cpu_count() or 1))

# Builtin modules that write files on the managed host, and the options naming those files.
FILE_MODULES = {
    "ansible.builtin.copy": ("dest",),
    "ansible.builtin.template": ("dest",),
    "ansible.builtin.file": ("path", "dest"),
}

# Result keys that hold secrets: a task whose result carries one must run with no_log. ``token`` is a
# remote-managed tunnel's run token when it is a string.
SECRET_KEYS = frozenset({"client_secret", "credentials", "TunnelSecret", "tunnel_secret"})


def examples_of(module):
    """The EXAMPLES of ``plugins/modules/<module>.py`` as a list of task mappings."""
    tree = ast.parse((MODULES_DIR / (module + ".py")).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            tasks = yaml.safe_load(node.value.value)
            assert isinstance(tasks, list) and tasks, "%s: EXAMPLES is not a list of tasks" % module
            return tasks
    raise AssertionError("%s has no EXAMPLES" % module)


def action_of(task):
    """The module (action) key of a task: the one key that names a module."""
    keys = [k for k in task if "." in k]
    assert len(keys) == 1, "task %r: expected one FQCN module key, found %s" % (task.get("name"), keys)
    return keys[0]


def sandboxed(task, root):
    """``task`` with the files it writes on the managed host moved under ``root``."""
    action = action_of(task)
    options = FILE_MODULES.get(action)
    if not options or not isinstance(task[action], dict):
        return task
    args = dict(task[action])
    for key in options:
        value = args.get(key)
        if isinstance(value, str) and value.startswith("~/"):
            args[key] = "%s/home/%s" % (root, value[2:])
        elif isinstance(value, str) and value.startswith("/"):
            args[key] = "%s%s" % (root, value)
    return {**task, action: args}


def secret_keys_in(value):
    """Secret-holding keys with a non-empty value anywhere in ``value``."""
    found = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if (key in SECRET_KEYS and item) or (key == "token" and isinstance(item, str) and item):
                found.add(key)
            found |= secret_keys_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= secret_keys_in(item)
    return found


@pytest.mark.parametrize("module", MODULES)
def test_examples_follow_the_style(module):
    for task in examples_of(module):
        assert task.get("name"), "%s: every example task has a name: %r" % (module, task)
        action = action_of(task)
        assert action.startswith(("homelab.mcp_edge.", "ansible.builtin.")), "%s: %s is not FQCN" % (module, action)


def run_examples(module, runner, emulator, workdir):
    """Run ``module``'s EXAMPLES as one play against a fresh emulator: (PlaybookResult, request log, tasks)."""
    tasks = [sandboxed(task, workdir / "host") for task in examples_of(module)]
    play = {
        "name": "EXAMPLES of homelab.mcp_edge.%s" % module,
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {
            "cloudflare_account_id": emulator.account_id,
            "vault_cloudflare_api_token": emulator.token,
            "vault_notification_webhook_secret": "example-webhook-secret-from-the-vault",
        },
        "tasks": tasks,
    }
    playbook = workdir / "examples.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    emu = InProcessEmulator(str(EMULATOR_DIR / "seed.example.json"))
    try:
        result = runner(playbook, env={**emulator.env(), "CLOUDFLARE_API_BASE_URL": emu.base_url})
        return result, emu.ctl("GET", "/requests"), tasks
    finally:
        emu.close()


@pytest.fixture(scope="module")
def example_runs(request, _runner, emulator, tmp_path_factory):
    """{module: run_examples(...)} for the modules selected in this session, run side by side."""
    selected = sorted(
        {
            item.callspec.params["module"]
            for item in request.session.items
            if item.originalname == "test_examples_run_as_written"
        }
    )

    workdirs = {module: tmp_path_factory.mktemp(module) for module in selected}

    def one(module):
        return module, run_examples(module, _runner, emulator, workdirs[module])

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return dict(pool.map(one, selected))


@pytest.mark.parametrize("module", MODULES)
def test_examples_run_as_written(module, example_runs):
    result, requests, tasks = example_runs[module]
    ran = result.tasks
    failed = [(name, res.get("msg"), res.get("error_codes")) for name, res in ran if res.get("failed")]
    assert not result.failed and not failed, "%s: %s\n%s" % (result, failed, result.output[-4000:])
    result.assert_no_traceback()
    # Every example task ran, none skipped by a condition that did not hold.
    assert [name for name, _unused in ran] == [task["name"] for task in tasks], result.output[-4000:]
    skipped = [name for name, res in ran if res.get("skipped")]
    assert not skipped, "%s: skipped %s" % (module, skipped)

    warned = {name: res.get("warnings") or res.get("deprecations") for name, res in ran}
    assert not any(warned.values()), "%s: warnings %s" % (module, {k: v for k, v in warned.items() if v})

    # Results that carry secrets are censored (no_log).
    leaks = {name: sorted(secret_keys_in(res)) for name, res in ran if secret_keys_in(res)}
    assert not leaks, "%s: secrets in the output of %s; add no_log: true" % (module, leaks)

    assert requests, "%s: its examples made no API request" % module
