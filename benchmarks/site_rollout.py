# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml over several local clusters against the same over one.

Baseline: site.yml over one cluster (local-a), in the same run. Each trial
uses a fresh egress set in a fresh namespace, so the first run creates every
resource and the second has nothing to do:

  apply    ansible-playbook playbooks/site.yml, nothing there yet
  no-op    the same again

Both with every cluster in one batch (-e rollout_canary=0 -e
rollout_batch=100%) and --forks at least the number of clusters, so the
clusters are rolled out to in parallel; and, for reference, with the default
canary-then-25% batches over three clusters, which are sequential by design.
Wall time of the whole command, and the CPU time (user + sys) of
ansible-playbook and every process it waited for (its forks, the modules they
ran) divided by the number of clusters: on a controller with few cores, the
clusters of a batch compete for it. The API servers' CPU is not counted. The
best of --repeat trials of each.

    .venv/bin/python benchmarks/site_rollout.py
    .venv/bin/python benchmarks/site_rollout.py --clusters 1,3,6,12 --entries 25
    .venv/bin/python benchmarks/site_rollout.py --repeat 5 --latency-ms 20
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cluster"))

import localcluster  # noqa: E402  pylint: disable=wrong-import-position

CLUSTERS = {
    "local-a": "us-east-1",
    "local-b": "eu-west-1",
    "local-c": "ap-southeast-2",
    "local-d": "us-west-2",
    "local-e": "eu-central-1",
    "local-f": "ap-northeast-1",
    "local-g": "us-east-2",
    "local-h": "eu-west-2",
    "local-i": "ap-south-1",
    "local-j": "ca-central-1",
    "local-k": "sa-east-1",
    "local-l": "eu-north-1",
}
PARALLEL = ["-e", "rollout_canary=0", "-e", "rollout_batch=100%"]
# Services of which each makes one ServiceEntry per region, for --entries.
SERVICES = [
    "sqs",
    "sns",
    "kms",
    "secretsmanager",
    "ssm",
    "logs",
    "ecr",
    "lambda",
    "events",
    "firehose",
    "athena",
    "glue",
    "cloudformation",
    "ec2",
    "elasticache",
    "rds",
    "ecs",
    "eks",
    "acm",
    "apigateway",
    "codebuild",
    "xray",
    "ses",
    "sesv2",
    "appconfig",
    "batch",
    "cloudtrail",
    "config",
    "autoscaling",
    "elbv2",
]


def services_for(entries: int, regions: list[str]) -> list[str]:
    """Services that make exactly `entries` ServiceEntries in each of `regions` (one region per cluster)."""
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand

    def made(services, region):
        return len(expand(services, regions=[region], name_prefix="aws-bench").endpoints)

    chosen = []
    for service in SERVICES:
        if len(chosen) < entries and made(chosen + [service], regions[0]) == len(chosen) + 1:
            chosen.append(service)
    wrong = {region: made(chosen, region) for region in regions if made(chosen, region) != entries}
    if wrong:
        sys.exit(
            f"--entries {entries}: {len(chosen)} of {len(SERVICES)} services make {wrong} ServiceEntries, not {entries}"
        )
    return chosen


def inventory(directory: Path, hosts: list[str], proxied: bool, services: list[str] | None) -> Path:
    """inventories/local's settings over the given clusters; `services` instead of its own when given."""
    path = directory / f"inventory-{len(hosts)}"
    (path / "group_vars").mkdir(parents=True)
    group_vars = yaml.safe_load((ROOT / "inventories" / "local" / "group_vars" / "clusters.yml").read_text())
    if services is not None:
        group_vars.update(istio_aws_egress_services=services, istio_aws_egress_credential_sources=[])
    (path / "group_vars" / "clusters.yml").write_text(yaml.safe_dump(group_vars))
    local = yaml.safe_load((ROOT / "inventories" / "local" / "hosts.yml").read_text())["clusters"]["vars"]
    local["kubeconfig"] = str(localcluster.KUBECONFIG)
    # Through each cluster's toxiproxy proxy when latency is asked for.
    hosts_yaml = {
        "clusters": {
            "hosts": {h: {"context": f"{h}-proxied" if proxied else h, "aws_region": CLUSTERS[h]} for h in hosts},
            "vars": local,
        }
    }
    (path / "hosts.yml").write_text(yaml.safe_dump(hosts_yaml))
    return path


def cpu_of_children() -> float:
    """User + sys seconds of the processes this one has waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def site(inventory_path: Path, set_name: str, forks: int, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one site.yml run: ansible-playbook and everything it waited for."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    variables = json.dumps({"istio_aws_egress_name": set_name, "istio_aws_egress_namespace": set_name})
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(inventory_path),
        str(ROOT / "playbooks" / "site.yml"),
        "--forks",
        str(forks),
        "-e",
        variables,
        *extra,
    ]
    cpu, started = cpu_of_children(), time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed, cpu = time.perf_counter() - started, cpu_of_children() - cpu
    if result.returncode != 0:
        sys.exit(f"site.yml failed:\n{result.stdout[-3000:]}\n{result.stderr[-1000:]}")
    return elapsed, cpu


def trial(inventory_path: Path, hosts: list[str], extra: list[str]) -> tuple[tuple[float, float], tuple[float, float]]:
    """((wall, CPU) of the apply, (wall, CPU) of the no-op)."""
    set_name = f"bench-{uuid.uuid4().hex[:6]}"
    for host in hosts:
        localcluster.kubectl(host, "create", "namespace", set_name)
    forks = max(10, len(hosts))
    return site(inventory_path, set_name, forks, extra), site(inventory_path, set_name, forks, extra)


def best(runs: list) -> tuple[float, float]:
    return min(wall for wall, _cpu in runs), min(cpu for _wall, cpu in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="trials per case; the best counts (default 3)")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="talk through each cluster's proxy with this latency per round trip"
    )
    parser.add_argument(
        "--clusters",
        default="1,3,6",
        help=f"cluster counts, one batch each, comma-separated; at most {len(CLUSTERS)} (default: 1,3,6)",
    )
    parser.add_argument(
        "--entries",
        type=int,
        help="ServiceEntries per cluster, from one service each in the cluster's region "
        "(default: inventories/local's services and credential sources)",
    )
    args = parser.parse_args()
    counts = sorted({int(count) for count in args.clusters.split(",")} | {1})
    if counts[-1] > len(CLUSTERS):
        parser.error(f"--clusters: at most {len(CLUSTERS)} local clusters, not {counts[-1]}")
    names = list(CLUSTERS)[: max(counts[-1], 3)]
    services = services_for(args.entries, [CLUSTERS[name] for name in names]) if args.entries else None

    started = localcluster.start(names)
    toxics = [localcluster.Toxics(name).latency(args.latency_ms) for name in names] if args.latency_ms else []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inventories = {
                count: inventory(Path(tmp), names[:count], bool(args.latency_ms), services) for count in {*counts, 3}
            }
            cases = [
                ("1 cluster" if count == 1 else f"{count} clusters, one batch", count, PARALLEL) for count in counts
            ]
            cases.append(("3 clusters, canary + 25% batches", 3, []))
            results = {}
            for label, count, extra in cases:
                runs = [trial(inventories[count], names[:count], extra) for _trial in range(args.repeat)]
                results[label] = (count, best([run[0] for run in runs]), best([run[1] for run in runs]))
    finally:
        for toxic in toxics:
            toxic.clear()
        if started:
            localcluster.stop(started)

    _count, (base_apply, _cpu), (base_noop, _cpu) = results["1 cluster"]
    where = f"through toxiproxy, {args.latency_ms} ms per round trip" if args.latency_ms else "on loopback"
    what = f"{args.entries} ServiceEntries per cluster" if args.entries else "inventories/local's services"
    print(
        f"{datetime.date.today()}, {os.cpu_count()} cores, {where}, {what}; site.yml wall time and CPU seconds "
        f"(user + sys of ansible-playbook and its children) per cluster, best of {args.repeat} (baseline: 1 cluster, same run)"
    )
    print(f"{'case':36} {'apply':>8} {'ratio':>6} {'CPU/cl':>7} {'no-op':>8} {'ratio':>6} {'CPU/cl':>7}")
    for label, (count, (apply_time, apply_cpu), (noop_time, noop_cpu)) in results.items():
        print(
            f"{label:36} {apply_time:7.2f}s {apply_time / base_apply:6.2f} {apply_cpu / count:6.2f}s "
            f"{noop_time:7.2f}s {noop_time / base_noop:6.2f} {noop_cpu / count:6.2f}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
