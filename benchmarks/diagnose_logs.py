#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How fast the diagnosis reads proxy logs, and how much memory it needs, against `grep -c BlackHoleCluster`.

Writes a log of N lines (default 1,000,000, about 200 MB) as a busy sidecar's
would be: mostly TEXT access lines of calls that left, some JSON ones, the
proxy's own lines, ztunnel's, and 1 in 100 blocked (BlackHoleCluster,
block_all, an AuthorizationPolicy's denial) over a few dozen hosts; every line
made from Istio's formats (tests/access_logs.py).  Then, in a fresh Python
process, diagnoses it as egress_diagnose does without the mesh's objects (the
logs read and aggregated, each host mapped to AWS, each fix checked on the
expansion) and reports its time and peak memory; and times `grep -c
BlackHoleCluster` over the same file, the floor of reading it at all.

Goal: 1,000,000 lines in at most 30 s, with at most 512 MiB resident.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOAL_SECONDS, GOAL_MIB = 30.0, 512

CHILD = r"""
import json, resource, sys, tempfile, time
start = time.perf_counter()
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.diagnose import diagnose
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options
options = {"name": "bench", "namespace": "istio-system", "mode": "sidecar", "gateway": None, "sidecars": ["orders"],
           "sidecar_hosts": ["*/*.svc.cluster.local"], "export_to": ["*"], "waypoint": None, "caller_namespaces": [],
           "wildcard_resolution": "auto", "services": ["s3", "sqs", "dynamodb"], "regions": ["us-east-1"], "account_ids": [],
           "credential_sources": ["irsa"], "fips": False, "dualstack": False, "sts_legacy_global": False, "vpc_endpoints": []}
report = named_options(diagnose(sys.argv[1], options, tempfile.mkdtemp()), "istio_aws_egress_")
done = time.perf_counter()
print(json.dumps({"seconds": done - start, "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "counts": report["counts"], "findings": len(report["findings"]),
                  "fixes": sum(1 for f in report["findings"] if f["fix"])}))
"""

BLOCKED_HOSTS = [
    f"{service}.{region}.amazonaws.com"
    for service in ("sns", "kinesis", "lambda", "ec2", "kms", "logs")
    for region in ("us-east-1", "us-east-2", "eu-west-1")
] + [
    "example.com",
    "api.github.com",
    "sqs-fips.us-east-1.amazonaws.com",
    "orders-archive.s3.eu-west-1.amazonaws.com",
    "sts.amazonaws.com",
]
ALLOWED_HOSTS = [
    "sqs.us-east-1.amazonaws.com",
    "s3.us-east-1.amazonaws.com",
    "dynamodb.us-east-1.amazonaws.com",
    "orders.s3.us-east-1.amazonaws.com",
    "sts.us-east-1.amazonaws.com",
]


def write_log(path, lines, seed=7):
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    sys.path.insert(0, os.path.join(ROOT, ".collections"))
    import access_logs  # pylint: disable=import-outside-toplevel
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.formats import (  # pylint: disable=import-outside-toplevel
        ENVOY_JSON_FORMAT,
        ENVOY_TEXT_FORMAT,
    )

    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for index in range(lines):
            stamp = f"2026-12-01T{index // 3600000 % 24:02d}:{index // 60000 % 60:02d}:{index // 1000 % 60:02d}.{index % 1000:03d}Z"
            client = f"10.0.{index % 250}.{index % 200 + 1}:{40000 + index % 20000}"
            roll = rng.random()
            if roll < 0.01:
                host = rng.choice(BLOCKED_HOSTS)
                kind = rng.random()
                if kind < 0.7:
                    line = access_logs.envoy_text(
                        ENVOY_TEXT_FORMAT, access_logs.black_hole(host, "52.94.1.1:443", client, stamp)
                    )
                elif kind < 0.85:
                    line = access_logs.envoy_text(
                        ENVOY_TEXT_FORMAT, access_logs.block_all(host, "52.94.1.1:80", client, stamp)
                    )
                else:
                    line = access_logs.envoy_json(
                        ENVOY_JSON_FORMAT, access_logs.black_hole(host, "52.94.1.1:443", client, stamp)
                    )
            elif roll < 0.04:
                line = f"{stamp}\tinfo\txdsproxy\tconnected to upstream XDS server: istiod.istio-system.svc:15012 id={index}"
            elif roll < 0.05:
                line = access_logs.ztunnel_event(
                    access_logs.ztunnel_denied(
                        "orders",
                        "orders-api-5f6d7c8b9-abcde",
                        rng.choice(ALLOWED_HOSTS),
                        "240.240.0.5:443",
                        "connection complete",
                    ),
                    stamp,
                    level="info",
                )
            elif roll < 0.15:
                line = access_logs.envoy_json(
                    ENVOY_JSON_FORMAT, access_logs.allowed(rng.choice(ALLOWED_HOSTS), "52.94.1.2:443", client, stamp)
                )
            else:
                line = access_logs.envoy_text(
                    ENVOY_TEXT_FORMAT, access_logs.allowed(rng.choice(ALLOWED_HOSTS), "52.94.1.2:443", client, stamp)
                )
            out.write(line + "\n")


def diagnose_child(path, collections_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (collections_path, os.environ.get("PYTHONPATH")) if p))
    result = subprocess.run([sys.executable, "-c", CHILD, path], env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"the diagnosis failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def grep_count(path):
    start = time.perf_counter()
    result = subprocess.run(["grep", "-c", "BlackHoleCluster", path], capture_output=True, text=True, check=False)
    return time.perf_counter() - start, int(result.stdout.strip() or 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of log to write (default: 1,000,000)")
    parser.add_argument("--file", help="diagnose this log instead of writing one")
    parser.add_argument(
        "--collections-path",
        default=os.path.join(ROOT, ".collections"),
        help="directory holding ansible_collections/meshops/aws_egress (default: .collections in the checkout)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="diagnose-bench-") as tmp:
        path = args.file
        if not path:
            path = os.path.join(tmp, "istio-proxy.log")
            start = time.perf_counter()
            write_log(path, args.lines)
            print(
                f"wrote {args.lines:,} lines ({os.path.getsize(path) / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s"
            )
        grep_seconds, black_holes = grep_count(path)
        run = diagnose_child(path, args.collections_path)
        lines = run["counts"]["lines"]
        met = run["seconds"] <= GOAL_SECONDS and run["max_rss_mib"] <= GOAL_MIB
        print(
            f"diagnosis: {lines:,} lines in {run['seconds']:.2f} s ({lines / run['seconds']:,.0f} lines/s), peak {run['max_rss_mib']:.0f} MiB; "
            f"{run['counts']['blocked']:,} blocked lines, {run['findings']} destinations, {run['fixes']} fixes"
        )
        print(
            f"grep -c BlackHoleCluster: {black_holes:,} lines in {grep_seconds:.2f} s ({lines / grep_seconds:,.0f} lines/s); "
            f"the diagnosis takes {run['seconds'] / grep_seconds:.1f} times as long"
        )
        print(
            f"goal: at most {GOAL_SECONDS:.0f} s and {GOAL_MIB} MiB for 1,000,000 lines: "
            + ("met" if met else "MISSED")
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
