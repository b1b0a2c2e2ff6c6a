#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How long the aws_endpoints filter takes, cold, and how much memory it needs.

Each run is a fresh Python process that imports the filter (and with it
botocore), expands the services through the filter's entry point, and reports
its own time and peak memory.  Cases:

  all      every service botocore has an endpoint ruleset for, in every region
           of the aws partition (goal: under 2 s and 300 MiB)
  typical  10 common services in 3 regions, with credential sources (goal: 0.3 s)

Run from anywhere; the collection is found next to this script unless
--collections-path says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

GOALS = {"all": (2.0, 300), "typical": (0.3, None)}

# Runs in the child process; prints one JSON line.
CHILD = r"""
import json, resource, sys, time
start = time.perf_counter()
from ansible_collections.meshops.aws_egress.plugins.filter import aws_endpoints
from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import FilterModule
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import botocore_data, partitions
aws_endpoints.warn = lambda message: None  # measure the expansion, not terminal output
aws_endpoints = FilterModule().filters()["aws_endpoints"]
imported = time.perf_counter()
if sys.argv[1] == "all":
    services = sorted(botocore_data.service_names())
    options = {"regions": list(partitions.partition_named("aws").regions)}
else:
    services = ["s3", "dynamodb", "sts", "sqs", "sns", "kms", "ecr", "logs", "secretsmanager", "lambda"]
    options = {"regions": ["us-east-1", "eu-west-1", "ap-southeast-2"], "credential_sources": ["irsa", "imds"]}
endpoints = aws_endpoints(services, **options)
done = time.perf_counter()
print(json.dumps({
    "seconds": done - start,
    "import_seconds": imported - start,
    "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "services": len(services),
    "regions": len(options["regions"]),
    "endpoints": len(endpoints),
    "hosts": sum(len(e["hosts"]) for e in endpoints),
}))
"""


def run_once(case, collections_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (collections_path, env.get("PYTHONPATH")) if p)
    result = subprocess.run([sys.executable, "-c", CHILD, case], env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"{case}: the child process failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", metavar="CASE", help="all and/or typical (default: both)")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per case (default: 3)")
    parser.add_argument(
        "--collections-path",
        default=os.path.join(os.path.dirname(here), ".collections"),
        help="directory holding ansible_collections/meshops/aws_egress (default: .collections in the checkout)",
    )
    args = parser.parse_args()
    unknown = set(args.cases) - set(GOALS)
    if unknown:
        parser.error(f"unknown case {sorted(unknown)[0]!r} (cases: {', '.join(sorted(GOALS))})")
    failed = False
    for case in args.cases or sorted(GOALS):
        runs = [run_once(case, args.collections_path) for dummy in range(args.runs)]
        seconds = [r["seconds"] for r in runs]
        rss = max(r["max_rss_mib"] for r in runs)
        goal_seconds, goal_mib = GOALS[case]
        met = statistics.median(seconds) < goal_seconds and (goal_mib is None or rss < goal_mib)
        failed = failed or not met
        first = runs[0]
        print(
            f"{case:8s} {first['services']} services x {first['regions']} regions -> {first['endpoints']} endpoints, {first['hosts']} hosts\n"
            f"         median {statistics.median(seconds):.3f} s (min {min(seconds):.3f}, max {max(seconds):.3f}; "
            f"imports {statistics.median(r['import_seconds'] for r in runs):.3f} s), max RSS {rss:.0f} MiB; "
            f"goal < {goal_seconds} s" + (f", < {goal_mib} MiB" if goal_mib else "") + (": met" if met else ": MISSED")
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
