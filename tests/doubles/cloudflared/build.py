# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Build the cloudflared TEST DOUBLE into one executable file (a Python zipapp).

    python3 tests/doubles/cloudflared/build.py [--output PATH] [--deb]

Bundles cloudflared_double.py (as __main__), its ingress_model.py (the double's own model of
cloudflared's ingress rules: it shares no code with the collection's plugins/) and PyYAML's
pure-Python package (taken from the Python running this script), so the target needs nothing
but python3. The archive is byte-for-byte reproducible (fixed timestamps, sorted
entries): rebuilding from the same sources gives the same checksum, so installing it with the
role's ``local`` method is idempotent. Prints 'written' or 'unchanged', the path and its SHA-256.

With ``--deb`` it also packages that file with dpkg-deb as ``cloudflared_<VERSION>_all.deb`` next to
it (package ``cloudflared``, the double's own version, ``/usr/bin/cloudflared``, a description that
says it is the test double), just as reproducibly (fixed file times, SOURCE_DATE_EPOCH, root owner),
so the role's ``local`` method can install it as a package.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
INGRESS_MODEL = HERE / "ingress_model.py"
DEFAULT_OUTPUT = HERE / "build" / "cloudflared"
SHEBANG = b"#!/usr/bin/python3\n"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)
FIXED_EPOCH = 1767225600  # 2026-01-01T00:00:00Z
CONTROL = """\
Package: cloudflared
Version: {version}
Architecture: all
Maintainer: homelab.mcp_edge contributors <homelab-mcp-edge@example.invalid>
Depends: python3
Section: net
Priority: optional
Description: TEST DOUBLE of cloudflared for homelab.mcp_edge tests - NOT Cloudflare's cloudflared
 A stand-in for the cloudflared command line, built from tests/doubles/cloudflared of the
 homelab.mcp_edge collection for its Molecule tests. It implements only what the collection's
 cloudflared role calls, never connects anywhere and must never be installed on a real server.
"""


def _members():
    import yaml  # PyYAML: always present where Ansible runs

    yield "__main__.py", (HERE / "cloudflared_double.py").read_bytes()
    yield "ingress_model.py", INGRESS_MODEL.read_bytes()
    yaml_dir = Path(yaml.__file__).resolve().parent
    for path in sorted(yaml_dir.glob("*.py")):
        yield f"yaml/{path.name}", path.read_bytes()


def _write_if_changed(output, content, mode):
    output.parent.mkdir(parents=True, exist_ok=True)
    written = not output.exists() or output.read_bytes() != content
    if written:
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_bytes(content)
        os.chmod(tmp, mode)
        os.replace(tmp, output)
    return hashlib.sha256(content).hexdigest(), written


def double_version():
    source = (HERE / "cloudflared_double.py").read_text()
    return re.search(r'^VERSION = "([^"]+)"$', source, re.M).group(1)


def build_deb(binary, output):
    """Package the built double as a .deb with dpkg-deb, byte-for-byte reproducibly."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        (root / "DEBIAN").mkdir(parents=True)
        (root / "usr" / "bin").mkdir(parents=True)
        (root / "DEBIAN" / "control").write_text(CONTROL.format(version=double_version()))
        shutil.copyfile(binary, root / "usr" / "bin" / "cloudflared")
        os.chmod(root / "usr" / "bin" / "cloudflared", 0o755)  # noqa: S103 - an executable others may run
        md5 = hashlib.md5((root / "usr" / "bin" / "cloudflared").read_bytes()).hexdigest()  # noqa: S324 - dpkg's format
        (root / "DEBIAN" / "md5sums").write_text(f"{md5}  usr/bin/cloudflared\n")
        for path in [*sorted(root.rglob("*"), reverse=True), root]:
            if path.is_dir():
                os.chmod(path, 0o755)  # noqa: S103 - a package's directories
            elif path.parent.name == "DEBIAN":
                os.chmod(path, 0o644)
            os.utime(path, (FIXED_EPOCH, FIXED_EPOCH))
        package = Path(tmp) / "cloudflared.deb"
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(FIXED_EPOCH))
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(package)],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        return _write_if_changed(output, package.read_bytes(), 0o644)


def build(output):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(_members()):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return _write_if_changed(output, SHEBANG + buffer.getvalue(), 0o755)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--deb", action="store_true", help="also package it as cloudflared_<VERSION>_all.deb")
    args = parser.parse_args()
    output = args.output.resolve()
    results = [(output, *build(output))]
    if args.deb:
        deb = output.with_name(f"cloudflared_{double_version()}_all.deb")
        results.append((deb, *build_deb(output, deb)))
    for path, digest, written in results:
        state = "written" if written else "unchanged"
        sys.stdout.write(f"{state}: {path} sha256:{digest}\n")


if __name__ == "__main__":
    main()
