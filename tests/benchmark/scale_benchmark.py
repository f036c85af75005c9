# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Scale benchmark: the cloudflare_edge role at 1, 10 and 30 services, the DNS module at 200 and 1,000 records.

For each service count the edge playbook (tests/integration/playbooks/edge.yml) runs twice against the
local Cloudflare API emulator, from an empty account: the first run builds everything, the second must
change nothing. The emulator counts the API requests; the wall time is that of the ansible-playbook
process. The DNS numbers come from tests/benchmark/dns_benchmark.py (ours only), run as a subprocess.

Goals: no-op requests independent of the service count, no-op wall time at the largest count at most
twice that at the smallest, first-run writes linear in the service count. Exits 1 if one fails.

Run (not part of the test suite):  .venv/bin/python tests/benchmark/scale_benchmark.py [--skip-dns]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from itertools import pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from conftest import WRITE_METHODS, _playbook_runner, start_emulator, stop_emulator  # noqa: E402

DNS_BENCHMARK = Path(__file__).resolve().parent / "dns_benchmark.py"


class _TmpFactory:
    """The one method of pytest's tmp_path_factory that _playbook_runner uses."""

    def __init__(self, root):
        self.root = Path(root)

    def mktemp(self, name):
        return Path(tempfile.mkdtemp(prefix=name + "-", dir=self.root))


def services(n):
    # All of kind mcp (the role allows one n8n); names are DNS labels, ports unique.
    return [
        {"name": "svc%02d" % i, "kind": "mcp", "port": 8101 + i, "access": ["owner", "mcp-clients"]}
        for i in range(1, n + 1)
    ]


def machine():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "load_average_1m": round(load[0], 2),
        "python": platform.python_version(),
        "ansible_core": version("ansible-core"),
        "platform": platform.platform(),
    }


def brief(row):
    return "%d requests (%d writes) %.2f s" % (row["requests"], row["writes"], row["seconds"])


def edge_run(run, emulator, extra_vars, label):
    emulator.clear_requests()
    start = time.monotonic()
    result = run("edge.yml", extra_vars=extra_vars)
    elapsed = time.monotonic() - start
    if result.failed:
        sys.stderr.write(result.output[-4000:])
        raise SystemExit("edge playbook failed (%s): %r" % (label, result))
    counted = emulator.counters()
    return {
        "requests": counted["total"],
        "writes": counted["writes"],
        "seconds": round(elapsed, 2),
        "changed": result.changed,
        "routes": counted["by_route"],
    }


def edge_benchmark(sizes, workdir):
    # Lift the 1200/5 min limit, as dns_benchmark.py does, so no throttled retry ends up in the wall
    # times (reset() restores this limit, not Cloudflare's).
    emulator = start_emulator(extra_args=("--rate-limit", "1000000"))
    try:
        run = _playbook_runner(emulator, _TmpFactory(workdir))
        rows = []
        for n in sizes:
            emulator.reset()  # every size starts from an empty account
            extra = {"edge_services": services(n), "edge_secrets_dir": str(Path(workdir) / ("secrets-%d" % n))}
            first = edge_run(run, emulator, extra, "%d services, first run" % n)
            noop = edge_run(run, emulator, extra, "%d services, no-op" % n)
            if noop["changed"] != 0:
                raise SystemExit(
                    "the second run at %d services reported changed=%d (must be 0); writes: %s"
                    % (n, noop["changed"], {k: v for k, v in noop["routes"].items() if k.split()[0] in WRITE_METHODS})
                )
            rows.append({"services": n, "first": first, "noop": noop})
            print("  %d services: first run %s; no-op %s" % (n, brief(first), brief(noop)), file=sys.stderr)
        return rows
    finally:
        stop_emulator(emulator)


def dns_benchmark(records, zone, workdir):
    rows = []
    for n in records:
        out = Path(workdir) / ("dns-%d.json" % n)
        cmd = [sys.executable, str(DNS_BENCHMARK), "--records", str(n), "--skip-incumbent", "--zone", zone]
        cmd += ["--json", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise SystemExit("dns_benchmark.py failed at %d records" % n)
        phases = next(iter(json.loads(out.read_text()).values()))
        first, noop = phases[0], phases[1]  # create, no-op (the third phase changes a few records)
        rows.append({"records": n, "first": first, "noop": noop})
        print("  %d records: first run %s; no-op %s" % (n, brief(first), brief(noop)), file=sys.stderr)
    return rows


def goals(edge):
    """[(name, passed or None when not measurable, detail)] for the three goals of the issue."""
    out = []
    if len(edge) < 2:
        return [("goals", None, "need at least two service counts")]
    small, large = edge[0], edge[-1]

    noop = {r["services"]: r["noop"]["requests"] for r in edge}
    detail = "requests " + ", ".join("%d at %d" % (req, n) for n, req in noop.items()) + " services"
    if len(set(noop.values())) != 1:
        # Name the routes whose no-op count changes with the service count.
        keys = sorted({k for r in edge for k in r["noop"]["routes"]})
        growing = [
            "%s %s" % (k, "/".join(str(r["noop"]["routes"].get(k, 0)) for r in edge))
            for k in keys
            if len({r["noop"]["routes"].get(k, 0) for r in edge}) > 1
        ]
        detail += "; routes that differ (%s services): %s" % ("/".join(str(r["services"]) for r in edge), growing)
    out.append(("no-op requests independent of the service count", len(set(noop.values())) == 1, detail))

    ratio = large["noop"]["seconds"] / max(0.01, small["noop"]["seconds"])
    out.append(
        (
            "no-op wall time at %d services at most 2x that at %d" % (large["services"], small["services"]),
            ratio <= 2.0,
            "%.2f s vs %.2f s: %.2fx" % (large["noop"]["seconds"], small["noop"]["seconds"], ratio),
        )
    )

    # Linear: writes = a + b * services, i.e. the same writes per added service between every two
    # consecutive counts: (w[k+1] - w[k]) / (s[k+1] - s[k]) constant (compared cross-multiplied, in integers).
    pts = [(r["services"], r["first"]["writes"]) for r in edge]
    if len(pts) < 3:
        out.append(("first-run writes linear in services", None, "need three service counts; writes %s" % pts))
    else:
        steps = list(pairwise(pts))
        (s0, w0), (s1, w1) = steps[0]
        linear = all((wb - wa) * (s1 - s0) == (w1 - w0) * (sb - sa) for (sa, wa), (sb, wb) in steps)
        slope = (w1 - w0) / (s1 - s0)
        detail = "writes %s services; per added service %s" % (
            ", ".join("%d at %d" % (w, s) for s, w in pts),
            ", ".join("%.2f (%d->%d)" % ((wb - wa) / (sb - sa), sa, sb) for (sa, wa), (sb, wb) in steps),
        )
        if linear:
            detail += "; writes = %g + %g x services" % (w0 - slope * s0, slope)
        out.append(("first-run writes linear in services", linear, detail))
    return out


def table(title, size_header, rows, size_key):
    """One Markdown table: per size, the first run's and the no-op's requests, writes and seconds."""
    lines = [
        "",
        title,
        "",
        "| %s | first run: requests | writes | seconds | no-op: requests | writes | seconds |" % size_header,
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [format(r[size_key], ",")]
        for run in (r["first"], r["noop"]):
            cells += ["%d" % run["requests"], "%d" % run["writes"], "%.2f" % run["seconds"]]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def report(info, edge, dns, dns_zone, verdicts):
    lines = [
        "Machine: %s, %s CPUs (load average %.2f at start); Python %s; ansible-core %s"
        % (info["cpu"], info["cpus"], info["load_average_1m"], info["python"], info["ansible_core"]),
    ]
    lines += table(
        "cloudflare_edge role (tests/integration/playbooks/edge.yml), each size from an empty account:",
        "services",
        edge,
        "services",
    )
    if dns:
        lines += table(
            "DNS module (homelab.mcp_edge.cloudflare_dns_records, zone %s):" % dns_zone, "DNS records", dns, "records"
        )
    lines.append("")
    for name, passed, detail in verdicts:
        verdict = "n/a " if passed is None else ("PASS" if passed else "FAIL")
        lines.append("- %s %s: %s" % (verdict, name, detail))
    return "\n".join(lines)


def int_list(text):
    values = sorted({int(v) for v in text.split(",") if v.strip()})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers")
    return values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=int_list, default=[1, 10, 30], help="service counts (default 1,10,30)")
    parser.add_argument("--dns-records", type=int_list, default=[200, 1000], help="default 200,1000")
    # The seed's example.com is a Free zone created after 2024-09-01, which holds at most 200
    # records; example.org is on Pro (3,500), so both sizes run in the same zone.
    parser.add_argument("--dns-zone", default="example.org", help="seeded zone for the DNS runs (default example.org)")
    parser.add_argument("--skip-dns", action="store_true")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    if args.sizes[-1] > 999:
        parser.error("at most 999 services")

    info = machine()
    workdir = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    try:
        print("edge role (progress):", file=sys.stderr)
        edge = edge_benchmark(args.sizes, workdir)
        dns = []
        if not args.skip_dns:
            print("DNS module (progress):", file=sys.stderr)
            dns = dns_benchmark(args.dns_records, args.dns_zone, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    verdicts = goals(edge)
    print(report(info, edge, dns, args.dns_zone, verdicts))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "edge": edge,
                    "dns": dns,
                    "dns_zone": args.dns_zone,
                    "goals": [{"goal": g, "passed": p, "detail": d} for g, p, d in verdicts],
                },
                indent=2,
            )
        )
    return 1 if any(p is False for _g, p, _d in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
