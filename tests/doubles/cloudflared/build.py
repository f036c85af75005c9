# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Build the cloudflared TEST DOUBLE into one executable file (a Python zipapp).

    python3 tests/doubles/cloudflared/build.py [--output PATH]

Bundles cloudflared_double.py (as __main__), the collection's plugins/module_utils/_ingress.py
and PyYAML's pure-Python package (taken from the Python running this script), so the target
needs nothing but python3. The archive is byte-for-byte reproducible (fixed timestamps, sorted
entries): rebuilding from the same sources gives the same checksum, so installing it with the
role's ``local`` method is idempotent. Prints 'written' or 'unchanged', the path and its SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
INGRESS = REPO / "plugins" / "module_utils" / "_ingress.py"
DEFAULT_OUTPUT = HERE / "build" / "cloudflared"
SHEBANG = b"#!/usr/bin/python3\n"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def _members():
    import yaml  # PyYAML: always present where Ansible runs

    yield "__main__.py", (HERE / "cloudflared_double.py").read_bytes()
    yield "_ingress.py", INGRESS.read_bytes()
    yaml_dir = Path(yaml.__file__).resolve().parent
    for path in sorted(yaml_dir.glob("*.py")):
        yield f"yaml/{path.name}", path.read_bytes()


def build(output):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(_members()):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    content = SHEBANG + buffer.getvalue()
    output.parent.mkdir(parents=True, exist_ok=True)
    written = not output.exists() or output.read_bytes() != content
    if written:
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_bytes(content)
        os.chmod(tmp, 0o755)  # noqa: S103 - an executable others may run
        os.replace(tmp, output)
    return hashlib.sha256(content).hexdigest(), written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    digest, written = build(args.output.resolve())
    state = "written" if written else "unchanged"
    sys.stdout.write(f"{state}: {args.output.resolve()} sha256:{digest}\n")


if __name__ == "__main__":
    main()
