# SPDX-License-Identifier: GPL-3.0-or-later
"""The one secret scan every Molecule verify uses: which files on the target hold a secret.

Two questions, asked of every secret:
- readable_by_others: files another local user (nobody) can read that hold it. Always none.
- written_outside_the_engine: files root can read that hold it, outside the container engine's
  own state (/var/lib/docker, /run/containerd, ...). Only what a scenario allows.

The one narrow exception to the second: runc writes the process spec of every `docker exec`
(a health check's or a test's own) to /tmp/runc-process<digits> for the life of that exec, and
the spec carries the container's environment. It is the engine's own transient file, so it is
left out of the second scan, but only after checking that it is root-only (0600, root:root);
the first scan still covers it as every other file.
"""

from __future__ import annotations

import re
import shlex

OTHERS_SCAN = ("/etc", "/var", "/opt", "/home", "/tmp", "/srv", "/root", "/run")
ROOT_SCAN = ("/etc", "/opt", "/home", "/tmp", "/srv", "/root", "/run", "/var/tmp")
ENGINE_DIRS = ("containerd", "docker")
RUNC_PROCESS_SPEC = re.compile(r"/tmp/runc-process\d+")


def readable_by_others(host, secret: str) -> list[str]:
    out = host.run(f"runuser -u nobody -- grep -rIlF -D skip -e {shlex.quote(secret)} {' '.join(OTHERS_SCAN)}")
    return out.stdout.split()


def written_outside_the_engine(host, secret: str, extra_dirs: tuple[str, ...] = ()) -> list[str]:
    excludes = " ".join(f"--exclude-dir={d}" for d in ENGINE_DIRS)
    dirs = " ".join((*ROOT_SCAN, *extra_dirs))
    found = host.run(f"grep -rIlF -D skip {excludes} -e {shlex.quote(secret)} {dirs}").stdout.split()
    kept = []
    for path in found:
        if RUNC_PROCESS_SPEC.fullmatch(path):
            # Gone already, or root-only: anything else is a finding like any other file.
            mode = host.run(f"stat -c '%a %U %G' {shlex.quote(path)}").stdout.strip()
            if mode in ("", "600 root root"):
                continue
        kept.append(path)
    return kept
