# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Render every module's and filter's documentation with ansible-doc, as a user would see it.

ansible-doc exits 0 even when a plugin is not found or its documentation does not load (it only
warns), so this script asks for JSON and checks that each plugin is there with its description,
options and examples, then renders the text form and fails on any warning.
"""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
COLLECTION = "homelab.mcp_edge"
ANSIBLE_DOC = str(pathlib.Path(sys.executable).parent / "ansible-doc")


def plugin_names(kind):
    if kind == "module":
        files = (ROOT / "plugins" / "modules").glob("*.py")
    else:
        # Filters are documented in one YAML file each next to the Python file that holds them.
        files = (ROOT / "plugins" / "filter").glob("*.yml")
    return sorted("%s.%s" % (COLLECTION, f.stem) for f in files if not f.name.startswith("_"))


def run(args):
    proc = subprocess.run([ANSIBLE_DOC, *args], capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def problems_of(kind, names):
    problems = []
    rc, out, err = run(["-t", kind, "--json", *names])
    if rc != 0:
        return ["ansible-doc --json -t %s exited %d: %s" % (kind, rc, err.strip())]
    docs = json.loads(out or "{}")
    for name in names:
        entry = docs.get(name) or {}
        doc = entry.get("doc") or {}
        if not doc:
            problems.append("%s %s: no documentation (not found or does not load)" % (kind, name))
            continue
        if not doc.get("short_description"):
            problems.append("%s %s: no short_description" % (kind, name))
        if kind == "module" and not doc.get("options"):
            problems.append("%s %s: no options documented" % (kind, name))
        if not (entry.get("examples") or "").strip():
            problems.append("%s %s: no EXAMPLES" % (kind, name))
        if kind == "module" and not entry.get("return"):
            problems.append("%s %s: no RETURN" % (kind, name))
    rc, out, err = run(["-t", kind, *names])
    if rc != 0 or "WARNING" in err or "ERROR" in err:
        problems.append("ansible-doc -t %s (text) exited %d: %s" % (kind, rc, err.strip()))
    return problems


def main():
    problems = []
    counts = {}
    for kind in ("module", "filter"):
        names = plugin_names(kind)
        counts[kind] = len(names)
        problems += problems_of(kind, names)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print("ansible-doc renders %(module)d modules and %(filter)d filters" % counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
