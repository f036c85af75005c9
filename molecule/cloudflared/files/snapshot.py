# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Record the tunnels' state on the target for verify: snapshot.py NAME BASE64_JSON_RESULT.

Per unit: MainPID, InvocationID, NRestarts, ActiveState, when its process started and when it
became active (monotonic microseconds) and how often it started (the test double
logs "Starting tunnel" once per start); per tunnel file: its SHA-256; the cloudflared package as dpkg
knows it (version and selection; null where it is not installed as a package); plus the play's result.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys

FACTS = "/var/tmp/cloudflared-molecule"  # noqa: S108 - throwaway test target
UNITS = ("cloudflared@home", "cloudflared@lab")
FILES = (
    "/etc/cloudflared/home.yml",
    "/etc/cloudflared/home.json",
    "/etc/cloudflared/lab.yml",
    "/etc/cloudflared/lab.token",
)


def unit_state(unit):
    show = subprocess.run(
        [
            "systemctl",
            "show",
            *("-p", "MainPID", "-p", "InvocationID", "-p", "NRestarts", "-p", "ActiveState"),
            # CLOCK_MONOTONIC is the kernel's, shared by every container: comparable across hosts.
            *("-p", "ExecMainStartTimestampMonotonic", "-p", "ActiveEnterTimestampMonotonic"),
            unit,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    state = dict(line.split("=", 1) for line in show.splitlines() if "=" in line)
    journal = subprocess.run(
        ["journalctl", "--quiet", "-u", unit + ".service", "-o", "cat"], check=True, capture_output=True, text=True
    ).stdout
    state["Starts"] = sum("Starting tunnel" in line for line in journal.splitlines())
    return state


def package_state():
    query = subprocess.run(
        ["dpkg-query", "--show", "--showformat=${Version}", "cloudflared"], check=False, capture_output=True, text=True
    )
    if query.returncode != 0:
        return None
    selections = subprocess.run(
        ["dpkg", "--get-selections", "cloudflared"], check=True, capture_output=True, text=True
    ).stdout.split()
    return {"version": query.stdout, "selection": selections[1]}


def _sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def main():
    name, result = sys.argv[1], json.loads(base64.b64decode(sys.argv[2]))
    snapshot = {
        "units": {unit: unit_state(unit) for unit in UNITS},
        "files": {path: _sha256(path) for path in FILES},
        "package": package_state(),
        "result": result,
    }
    os.makedirs(FACTS, mode=0o700, exist_ok=True)
    with open(os.path.join(FACTS, name + ".json"), "w") as handle:
        json.dump(snapshot, handle, indent=2)


main()
