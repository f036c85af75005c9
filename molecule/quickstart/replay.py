# SPDX-License-Identifier: GPL-3.0-or-later
"""Replay the README's quickstart as a user would, against the emulator and the Molecule target.

    replay.py checkout   # README "Quickstart for a real server": fresh venv, cp, edits, vault, first run
    replay.py tarball    # README "From the built tarball": build, install, the same site again

The command blocks come from README.md itself: each is marked by an HTML comment
``<!-- replayed by molecule/quickstart: ROUTE -->`` right before its fenced block, and a missing
marker fails the test, so the README cannot drift from what is tested. Each command runs verbatim
with bash, in a scratch copy of the checkout (the files ``git ls-files`` lists, tracked or new, never
ignored ones such as .venv or .demo), with a scratch HOME (~/.ansible, the service token's secret) and
no trace of the test harness in the environment (no ANSIBLE_*, MOLECULE_*, no venv on PATH). pip
keeps this machine's own configuration and cache (XDG_CONFIG_HOME, XDG_CACHE_HOME), which is
where its index is set. Nothing lands in the real tree.

Prompts are answered on a terminal (``pty``): ``ansible-vault create`` asks for a new password
twice and starts ``$EDITOR`` (here ``cp`` of the vault text typed for it, with the names of
vault.yml.example); ``--ask-vault-pass`` asks once. The only text that is not the README's own:
the placeholders CHECKOUT and INVENTORY of the tarball block, and the user's edits between
``cp`` and ``ansible-vault create`` (``overlay`` below, each with its reason).

Results go to ``$MOLECULE_EPHEMERAL_DIRECTORY/quickstart/``: ``runs.json`` (each route's recap and
API requests, for verify), ``<route>.log`` (everything the commands printed).
"""

from __future__ import annotations

import json
import os
import pty
import re
import secrets
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

import yaml

SCENARIO = Path(__file__).resolve().parent
PROJECT = SCENARIO.parents[1]
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
WORK = EPHEMERAL / "quickstart"
CHECKOUT = WORK / "checkout"  # the user's clone
OUTSIDE = WORK / "outside"  # "a directory outside the checkout" (tarball route)
HOME = WORK / "home"
VAULT_TYPED = WORK / "vault-typed.yml"  # what the EDITOR "types" into ansible-vault create
RUNS = WORK / "runs.json"
TARGET = "mcp-edge-" + os.environ.get("MOLECULE_SCENARIO_NAME", "quickstart")  # the platform's name
MARKER = "<!-- replayed by molecule/quickstart: {} -->"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# ansible-vault create: "New Vault password: " then "Confirm New Vault password: "; --ask-vault-pass:
# "Vault password: ". Nothing else may prompt (a run that waits for another answer times out).
PROMPT = re.compile(rb"Vault password: $")


class ReplayError(Exception):
    """A step of the replay failed; the message says which and why."""


# --------------------------------------------------------------------------- the README's blocks


def readme_block(route):
    """The lines of the README block marked for ``route``, as written."""
    text = (CHECKOUT / "README.md").read_text(encoding="utf-8")
    marker = MARKER.format(route)
    if text.count(marker) != 1:
        raise ReplayError(f"README.md must mark exactly one command block with {marker} (found {text.count(marker)})")
    found = re.search(re.escape(marker) + r"\n```bash\n(.*?)\n```", text, re.S)
    if not found:
        raise ReplayError(f"{marker} in README.md is not right before a ```bash block")
    return found.group(1).splitlines()


def commands(lines):
    """The command lines of a block (comment-only and empty lines left out; trailing comments kept)."""
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def the_one(cmds, pattern, route):
    """The index of the one command that matches ``pattern`` (a regex)."""
    hits = [i for i, c in enumerate(cmds) if re.search(pattern, c)]
    if len(hits) != 1:
        raise ReplayError(f"the {route} block should have exactly one command matching {pattern!r}: {cmds}")
    return hits[0]


# --------------------------------------------------------------------------- running commands


def user_env():
    """A user's shell: the caller's environment without the test harness, HOME in the scratch dir."""
    real_home = Path(os.environ.get("HOME", "/root"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANSIBLE_", "MOLECULE_", "PYTEST_", "TESTINFRA_"))
        and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PWD", "OLDPWD", "_")
    }
    # No virtualenv's bin on PATH (Molecule runs from the project's .venv): python3 is the system's.
    path = [p for p in env.get("PATH", "/usr/bin:/bin").split(":") if p and not Path(p, "..", "pyvenv.cfg").exists()]
    env.update(
        PATH=":".join(path),
        HOME=str(HOME),
        XDG_CONFIG_HOME=os.environ.get("XDG_CONFIG_HOME", str(real_home / ".config")),
        XDG_CACHE_HOME=os.environ.get("XDG_CACHE_HOME", str(real_home / ".cache")),
        EDITOR=f"cp {VAULT_TYPED}",
        TERM="dumb",
        # The same install, minus byte-compiling the ~50,000 files of the `ansible` package up front
        # (minutes on 2 busy cores, twice); Python compiles what it imports when it imports it.
        PIP_COMPILE="0",
    )
    return env


def run(cmd, cwd, log, password, timeout=2400):
    """Run ``cmd`` with bash on a terminal in ``cwd``, answering vault password prompts.

    Returns (exit status, output without colours and carriage returns); the output also goes to ``log``.
    """
    log.write(f"\n$ cd {cwd}\n$ {cmd}\n")
    log.flush()
    env = user_env()
    pid, fd = pty.fork()
    if pid == 0:  # the child: a new session whose controlling terminal is the pty
        try:
            os.chdir(cwd)
            os.execvpe("bash", ["bash", "-c", cmd], env)  # noqa: S606 (bash runs the command)
        finally:
            os._exit(127)
    out, pending = bytearray(), b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                raise ReplayError(f"{cmd!r} did not finish within {timeout} s; its output ends:\n{tail(out)}")
            ready = select.select([fd], [], [], 5)[0]
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: every process holding the terminal has exited
                break
            if not chunk:
                break
            out += chunk
            log.write(clean(chunk))
            log.flush()
            pending = (pending + chunk)[-200:]
            if PROMPT.search(pending):
                os.write(fd, password.encode() + b"\n")
                pending = b""
    finally:
        # Reap the child before closing the terminal: closing it first hangs it up, and a child
        # still on its way out would then die of SIGHUP instead of exiting with its own status.
        status = os.waitpid(pid, 0)[1]
        os.close(fd)
    return os.waitstatus_to_exitcode(status), clean(bytes(out))


def clean(data):
    return ANSI.sub("", data.decode("utf-8", "replace")).replace("\r", "")


def tail(out, lines=60):
    text = out if isinstance(out, str) else clean(bytes(out))
    return "\n".join(text.splitlines()[-lines:])


STEPS = []  # (seconds, command) of every command run, for the summary


def must(cmd, cwd, log, password):
    started = time.monotonic()
    rc, out = run(cmd, cwd, log, password)
    STEPS.append((round(time.monotonic() - started), cmd.splitlines()[-1][:100]))
    if rc != 0:
        raise ReplayError(f"the README's command failed (exit {rc}) in {cwd}:\n  {cmd}\nits output ends:\n{tail(out)}")
    return out


def recap(out):
    """PLAY RECAP of the last playbook in ``out``: {host: {ok, changed, unreachable, failed}}."""
    last = out.rsplit("PLAY RECAP", 1)
    if len(last) != 2:
        raise ReplayError(f"no PLAY RECAP in the output:\n{tail(out)}")
    return {
        m[0]: dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m[1:]), strict=True))
        for m in RECAP.findall(last[1])
    }


# --------------------------------------------------------------------------- the emulator


def emulator(path):
    port = (EPHEMERAL / "emulator.port").read_text().strip()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__emulator/{path}", timeout=10) as resp:
        return json.load(resp)


def bookmark():
    return max([r["seq"] for r in emulator("requests")] + [0])


def requests_since(seq):
    keep = ("method", "route", "status")
    return [{k: r[k] for k in keep} for r in emulator(f"requests?since={seq}")]


# --------------------------------------------------------------------------- the user's edits


def replace_once(path, pattern, new, why):
    """Replace the one line of ``path`` matching ``pattern`` (a regex) by ``new`` (same indentation)."""
    text = path.read_text(encoding="utf-8")
    hits = re.findall(rf"^([ \t]*){pattern}.*$", text, re.M)
    if len(hits) != 1:
        raise ReplayError(f"{path.name}: expected one line matching {pattern!r} to edit ({why}), found {len(hits)}")
    indent = hits[0]
    new = "\n".join(indent + line for line in new.splitlines())
    path.write_text(re.sub(rf"^[ \t]*{pattern}.*$", lambda _m: new, text, count=1, flags=re.M), encoding="utf-8")


def add_setting(path, key, value, why):
    """Add a top-level setting the example does not set (a commented-out line does not count)."""
    text = path.read_text(encoding="utf-8")
    if re.search(rf"^{re.escape(key)}:", text, re.M):
        raise ReplayError(f"{path.name} already sets {key}: edit it instead of adding it ({why})")
    path.write_text(text.rstrip("\n") + f"\n{key}: {json.dumps(value)}  # quickstart test: {why}\n", encoding="utf-8")


def overlay(inventory):
    """The edits a user makes to the copied example: only what differs on this test machine.

    Left as the example has them, because they already fit: homelab_domain (example.com is the
    emulator's seeded zone), the Zero Trust team (read from the emulated account, homelab-demo, as on
    a real one), the policies and the e-mail address, the ports, firewall_admin_networks (the
    firewall's SSH pre-check applies to SSH connections only; Ansible reaches this target with
    `docker exec`, which no firewall rule stands in), the secrets dir (under HOME: the scratch home).
    """
    hosts = inventory / "hosts.yml"
    main = inventory / "group_vars" / "homelab_servers" / "main.yml"
    # The server's address and user: the Molecule target, a container reached with `docker exec` as
    # root instead of SSH (a user's server is reached over SSH with their own user).
    replace_once(
        hosts,
        r"ansible_host:",
        f"ansible_host: {TARGET}\nansible_connection: community.docker.docker",
        "the server's address",
    )
    replace_once(hosts, r"ansible_user:", "ansible_user: root", "the SSH user")
    # The MCP images: the example's ghcr.io/example/... images do not exist, and the target has no
    # registry to pull from; prepare.yml loaded the locally built test images into its engine.
    replace_once(main, r"image: ghcr\.io/example/mcp-time:", "image: homelab-mcp-edge/mcp-time:local", "image")
    replace_once(main, r"image: ghcr\.io/example/mcp-notes:", "image: homelab-mcp-edge/mcp-notes:local", "image")
    # n8n: the role's default image (n8nio/n8n:2.40.7) cannot be pulled here either; the test image
    # is the same n8n version, built from npm (tests/images/n8n), loaded by prepare.yml.
    add_setting(main, "n8n_image", "homelab-mcp-edge/n8n:2.40.7", "no registry; the locally built n8n")
    # Cloudflare: the local API emulator instead of api.cloudflare.com.
    port = (EPHEMERAL / "emulator.port").read_text().strip()
    add_setting(main, "cloudflare_edge_api_base_url", f"http://127.0.0.1:{port}/client/v4", "the API emulator")
    # cloudflared: Cloudflare's apt repository is out of reach; the role's `local` install method with
    # the collection's test double of the cloudflared CLI (tests/doubles/cloudflared).
    replace_once(main, r"cloudflared_install_method:", "cloudflared_install_method: local", "no apt repository")
    add_setting(
        main,
        "cloudflared_local_file",
        str(PROJECT / "tests" / "doubles" / "cloudflared" / "build" / "cloudflared"),
        "the cloudflared test double",
    )


def vault_text(example):
    """What a user types into ``ansible-vault create``: the names of vault.yml.example, with values."""
    seed = json.loads((PROJECT / "tests" / "cloudflare_emulator" / "seed.example.json").read_text())
    values = {
        # The emulator's token with the site's permissions (zone:read, dns:edit, tunnel:edit, access:edit).
        "vault_cloudflare_api_token": seed["tokens"][1]["value"],
        "vault_n8n_encryption_key": secrets.token_hex(32),  # `openssl rand -hex 32`
        "vault_mcp_notes_token": secrets.token_hex(32),
    }
    names = list(yaml.safe_load(example.read_text(encoding="utf-8")))
    unknown = [n for n in names if n not in values]
    if unknown:
        raise ReplayError(f"vault.yml.example names {unknown}: give the replay a value for each")
    return "".join(f"{name}: {values[name]}\n" for name in names)


# --------------------------------------------------------------------------- the two routes


def copy_checkout():
    """A scratch copy of the checkout: what `git ls-files` lists (tracked and new files, not ignored ones)."""
    if WORK.exists():
        shutil.rmtree(WORK)
    for d in (CHECKOUT, OUTSIDE, HOME):
        d.mkdir(parents=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    files = sorted({f for f in listed if f and os.path.lexists(PROJECT / f)})
    with tarfile.open(WORK / "checkout.tar", "w") as tar:  # symlinks stay links (.collections/...)
        for f in files:
            tar.add(PROJECT / f, arcname=f, recursive=False)
    with tarfile.open(WORK / "checkout.tar") as tar:
        tar.extractall(CHECKOUT, filter="tar")
    (WORK / "checkout.tar").unlink()


def checkout_route():
    copy_checkout()
    password = secrets.token_urlsafe(24)
    (WORK / "vault-password.txt").write_text(password)
    cmds = commands(readme_block("checkout route"))
    i_venv = the_one(cmds, r"^python3 -m venv \.venv && \.venv/bin/pip install -r requirements\.txt", "checkout route")
    i_cp = the_one(cmds, r"^cp -r inventories/example ", "checkout route")
    i_vault = the_one(cmds, r"ansible-vault create ", "checkout route")
    i_site = the_one(cmds, r"ansible-playbook .*homelab\.mcp_edge\.site .*--ask-vault-pass", "checkout route")
    if not i_venv < i_cp < i_vault < i_site:
        raise ReplayError(f"the checkout route's commands are out of order: {cmds}")
    inventory = CHECKOUT / shlex.split(cmds[i_cp], comments=True)[-1]
    vault = CHECKOUT / shlex.split(cmds[i_vault], comments=True)[-1]
    result = {}
    with open(WORK / "checkout.log", "w", encoding="utf-8") as log:
        for i, cmd in enumerate(cmds):
            if i == i_vault:
                VAULT_TYPED.write_text(vault_text(inventory / "group_vars" / "homelab_servers" / "vault.yml.example"))
                VAULT_TYPED.chmod(0o600)
            if i == i_site:
                since = bookmark()
            out = must(cmd, CHECKOUT, log, password)
            if i == i_cp:
                # Issue 14: the example brings no vault, so `ansible-vault create` has nothing to trip
                # over and nobody is tempted to keep a published vault password.
                vaults = [str(p.relative_to(CHECKOUT)) for p in inventory.rglob("*") if p.is_file()
                          and p.read_bytes().startswith(b"$ANSIBLE_VAULT")]  # fmt: skip
                if vault.exists() or vaults:
                    raise ReplayError(f"`{cmd}` copied a vault: {vault if vault.exists() else vaults}")
                overlay(inventory)
            if i == i_vault and not vault.read_bytes().startswith(b"$ANSIBLE_VAULT"):
                raise ReplayError(f"`{cmd}` did not write an encrypted vault at {vault}")
        result = {"recap": recap(out), "requests": requests_since(since)}
    bad = {h: r for h, r in result["recap"].items() if r["failed"] or r["unreachable"]}
    if not result["recap"] or bad:
        raise ReplayError(f"the first run failed: {result['recap']}")
    if not [r for r in result["requests"] if r["method"] in WRITES]:
        raise ReplayError("the first run sent no API write: did it create nothing?")
    save("checkout", result)
    print(f"checkout route: {summary(result)}")


def tarball_route():
    password = (WORK / "vault-password.txt").read_text()
    lines = readme_block("tarball route")
    split = [i for i, line in enumerate(lines) if re.match(r"\s*#.*outside the checkout", line)]
    if len(split) != 1:
        raise ReplayError("the tarball block should have one comment line saying where the commands leave the checkout")
    in_checkout, outside = commands(lines[: split[0]]), commands(lines[split[0] + 1 :])
    text = "\n".join(outside)
    for placeholder in ("CHECKOUT", "INVENTORY"):
        if not re.search(rf"\b{placeholder}\b", text):
            raise ReplayError(f"the tarball block no longer names {placeholder}: update the replay")
    # The placeholders, filled in: the checkout of the first route, and the inventory it made.
    text = re.sub(r"\bCHECKOUT\b", str(CHECKOUT), text)
    text = re.sub(r"\bINVENTORY\b", str(CHECKOUT / "inventories" / "mine"), text)
    with open(WORK / "tarball.log", "w", encoding="utf-8") as log:
        for cmd in in_checkout:
            must(cmd, CHECKOUT, log, password)
        tarballs = sorted((CHECKOUT / "build").glob("homelab-mcp_edge-*.tar.gz"))
        if not tarballs:
            raise ReplayError(f"`{in_checkout}` built no tarball in {CHECKOUT / 'build'}")
        with tarfile.open(tarballs[-1]) as tar:
            names = tar.getnames()
        leaked = [n for n in names if n.startswith("inventories/") and not n.startswith("inventories/example")]
        if leaked:
            raise ReplayError(f"the tarball built after the quickstart carries the user's inventory: {leaked[:5]}")
        since = bookmark()
        # Each command in the directory outside the checkout, after the block's `export` lines before it
        # (ANSIBLE_COLLECTIONS_PATH), as in one shell.
        exports = []
        for cmd in text.splitlines():
            script = [*exports, cmd]
            if cmd.startswith("export "):
                exports.append(cmd)
            out = must("\n".join(script), OUTSIDE, log, password)
        result = {"recap": recap(out), "requests": requests_since(since)}
    installed = OUTSIDE / "collections" / "ansible_collections" / "homelab" / "mcp_edge"
    if not (installed / "MANIFEST.json").is_file() or installed.is_symlink():
        raise ReplayError(f"the collection was not installed from the tarball into {installed}")
    result["installed"] = str(installed)
    save("tarball", result)
    print(f"tarball route: {summary(result)}")
    changed = {h: r for h, r in result["recap"].items() if r["changed"] or r["failed"] or r["unreachable"]}
    writes = [r for r in result["requests"] if r["method"] in WRITES]
    if not result["recap"] or changed or writes:
        raise ReplayError(f"the run from the tarball was not a no-op: recap {result['recap']}, API writes {writes}")


def save(route, result):
    runs = json.loads(RUNS.read_text()) if RUNS.exists() else {}
    runs[route] = result
    RUNS.write_text(json.dumps(runs, indent=1))


def summary(result):
    writes = sum(r["method"] in WRITES for r in result["requests"])
    return f"recap {result['recap']}, {len(result['requests'])} API requests, {writes} writes"


def containers():
    """The target's containers, with the last health-check outputs of those not healthy (for a failure)."""
    fmt = "{{.Names}} {{.Status}}"
    out = subprocess.run(["docker", "exec", TARGET, "docker", "ps", "-a", "--format", fmt],
                         capture_output=True, text=True, check=False).stdout  # fmt: skip
    for line in out.splitlines():
        if "healthy" in line and "(healthy)" not in line:
            health = subprocess.run(
                ["docker", "exec", TARGET, "docker", "inspect", "--format", "{{json .State.Health}}", line.split()[0]],
                capture_output=True, text=True, check=False,
            ).stdout  # fmt: skip
            out += f"{line.split()[0]} health: {health[-1500:]}\n"
    return out


def main(argv):
    routes = {"checkout": checkout_route, "tarball": tarball_route}
    if len(argv) != 2 or argv[1] not in routes:
        print(__doc__, file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        routes[argv[1]]()
    except ReplayError as exc:
        print(f"quickstart replay ({argv[1]} route) FAILED: {exc}", file=sys.stderr)
        print(f"the containers on {TARGET}:\n{containers()}", file=sys.stderr)
        return 1
    for seconds, cmd in STEPS:
        print(f"{seconds:5d} s  {cmd}")
    print(f"{argv[1]} route: {time.monotonic() - started:.0f} s in all (its output: {WORK / (argv[1] + '.log')})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
