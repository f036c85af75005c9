# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""DNS benchmark: homelab.mcp_edge.cloudflare_dns_records vs community.general.cloudflare_dns.

Reconciles N A records (default 200) against the local Cloudflare API emulator in three phases:
create from an empty zone, the same run again (no-op), then a run changing 10 of them. Each tool
runs through ansible-playbook, as a user would run it; the emulator counts the API requests.

The incumbent cannot be pointed at another API: its URL is the class constant
``CloudflareAPI.cf_api_endpoint``. This script copies the module from the installed ``ansible``
bundle into a temporary directory, replaces only that one constant with the emulator's URL (the
rest of the file is byte for byte the original), and loads it through ANSIBLE_LIBRARY as
``cloudflare_dns_benchcopy``. Nothing outside this process and its temporary directory changes.

Run (not part of the test suite):  .venv/bin/python tests/benchmark/dns_benchmark.py [--records 200]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from conftest import COLLECTIONS, ensure_collection_link, start_emulator, stop_emulator  # noqa: E402

OURS = """---
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Records
      homelab.mcp_edge.cloudflare_dns_records:
        zone: "{{ zone }}"
        records: "{{ records }}"
"""

INCUMBENT = """---
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Records
      cloudflare_dns_benchcopy:
        zone: "{{ zone }}"
        record: "{{ item.name }}"
        type: "{{ item.type }}"
        value: "{{ item.content }}"
        solo: true
      loop: "{{ records }}"
      loop_control:
        label: "{{ item.name }}"
"""


def incumbent_copy(directory, base_url):
    """Copy community.general's cloudflare_dns with only its API endpoint constant replaced."""
    spec = importlib.util.find_spec("ansible_collections.community.general")
    source = Path(spec.submodule_search_locations[0]) / "plugins" / "modules" / "cloudflare_dns.py"
    text = source.read_text()
    constant = "cf_api_endpoint = 'https://api.cloudflare.com/client/v4'"
    if text.count(constant) != 1:
        raise SystemExit("unexpected community.general.cloudflare_dns source: endpoint constant not found once")
    target = Path(directory) / "cloudflare_dns_benchcopy.py"
    target.write_text(text.replace(constant, "cf_api_endpoint = %r" % base_url))
    return source


def records(n, changed=0):
    out = []
    for i in range(n):
        third = 113 if i < changed else 100
        out.append({"type": "A", "name": "bench%03d" % i, "content": "198.51.%d.%d" % (third, i % 250 + 1)})
    return out


def run(playbook, extra_vars, env):
    cmd = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
    cmd += ["-e", json.dumps(extra_vars)]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit("ansible-playbook failed for %s" % playbook)
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--change", type=int, default=10)
    parser.add_argument("--skip-incumbent", action="store_true")
    # The seed's example.com is a Free zone created after 2024-09-01: it holds at most 200 records.
    parser.add_argument("--zone", help="seeded zone to fill (default example.com; example.org is on Pro)")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)

    ensure_collection_link()
    tmp = Path(tempfile.mkdtemp(prefix="dns-bench-"))
    # The incumbent makes several requests per record: lift the emulator's 1200/5 min limit.
    emu = start_emulator(extra_args=("--rate-limit", "1000000"))
    try:
        zone = args.zone or emu.zone
        if zone not in emu.zones:
            raise SystemExit("--zone %s: the emulator's seed has only %s" % (zone, ", ".join(emu.zones)))
        library = tmp / "library"
        library.mkdir()
        source = incumbent_copy(library, emu.base_url)
        (tmp / "ours.yml").write_text(OURS)
        (tmp / "incumbent.yml").write_text(INCUMBENT)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CLOUDFLARE_"))}
        env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
                "ANSIBLE_LIBRARY": str(library),
                "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
                "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                "ANSIBLE_LOCALHOST_WARNING": "0",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
                "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
                "ANSIBLE_DISPLAY_OK_HOSTS": "0",
                "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "0",
                "CLOUDFLARE_TOKEN": emu.token,  # the incumbent's variable
            }
        )
        env.update(emu.env())
        phases = [
            ("create %d" % args.records, records(args.records)),
            ("no-op", records(args.records)),
            ("change %d" % args.change, records(args.records, args.change)),
        ]
        tools = [("homelab.mcp_edge.cloudflare_dns_records", tmp / "ours.yml")]
        if not args.skip_incumbent:
            tools.append(("community.general.cloudflare_dns (one task per record)", tmp / "incumbent.yml"))
        results = {}
        for tool, playbook in tools:
            emu.reset()
            rows = []
            for phase, recs in phases:
                emu.clear_requests()
                elapsed = run(playbook, {"zone": zone, "records": recs}, env)
                c = emu.counters()
                rows.append(
                    {"phase": phase, "requests": c["total"], "writes": c["writes"], "seconds": round(elapsed, 2)}
                )
                print("%-58s %-11s %6d requests (%4d writes) %8.2f s" % (tool, phase, c["total"], c["writes"], elapsed))
            state = emu.records(zone)
            assert len(state) == args.records, "%s left %d records" % (tool, len(state))
            results[tool] = rows
        if len(results) == 2:
            ours, theirs = list(results.values())
            print()
            print("%-12s %18s %18s" % ("phase", "requests ratio", "wall-time ratio"))
            for a, b in zip(ours, theirs, strict=True):
                print(
                    "%-12s %17.1fx %17.1fx"
                    % (a["phase"], b["requests"] / max(1, a["requests"]), b["seconds"] / max(0.01, a["seconds"]))
                )
        print("\nincumbent source: %s (only cf_api_endpoint replaced)" % source)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
    finally:
        stop_emulator(emu)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
