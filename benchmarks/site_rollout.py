# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml over three and six local clusters against the same over one.

Baseline: site.yml over one cluster (local-a), in the same run. Each trial
uses a fresh egress set in a fresh namespace, so the first run creates every
resource and the second has nothing to do:

  apply    ansible-playbook playbooks/site.yml, nothing there yet
  no-op    the same again

Both with every cluster in one batch (-e rollout_canary=0 -e
rollout_batch=100%) and --forks at least the number of clusters, so the
clusters are rolled out to in parallel; and, for reference, with the default
canary-then-25% batches, which are sequential by design. Wall time of the
whole command, the best of --repeat trials.

    .venv/bin/python benchmarks/site_rollout.py
    .venv/bin/python benchmarks/site_rollout.py --repeat 5 --latency-ms 20
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
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

CLUSTERS = {"local-a": "us-east-1", "local-b": "eu-west-1", "local-c": "ap-southeast-2",
            "local-d": "us-west-2", "local-e": "eu-central-1", "local-f": "ap-northeast-1"}
PARALLEL = ["-e", "rollout_canary=0", "-e", "rollout_batch=100%"]


def inventory(directory: Path, hosts: list[str], proxied: bool) -> Path:
    """inventories/local's settings over the given clusters."""
    path = directory / f"inventory-{len(hosts)}"
    (path / "group_vars").mkdir(parents=True)
    group_vars = (ROOT / "inventories" / "local" / "group_vars" / "clusters.yml").read_text()
    (path / "group_vars" / "clusters.yml").write_text(group_vars)
    local = yaml.safe_load((ROOT / "inventories" / "local" / "hosts.yml").read_text())["clusters"]["vars"]
    local["kubeconfig"] = str(localcluster.KUBECONFIG)
    # Through each cluster's toxiproxy proxy when latency is asked for.
    hosts_yaml = {"clusters": {"hosts": {h: {"context": f"{h}-proxied" if proxied else h, "aws_region": CLUSTERS[h]} for h in hosts},
                               "vars": local}}
    (path / "hosts.yml").write_text(yaml.safe_dump(hosts_yaml))
    return path


def site(inventory_path: Path, set_name: str, extra: list[str]) -> float:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    variables = json.dumps({"istio_aws_egress_name": set_name, "istio_aws_egress_namespace": set_name})
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory_path),
               str(ROOT / "playbooks" / "site.yml"), "--forks", "10", "-e", variables, *extra]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"site.yml failed:\n{result.stdout[-3000:]}\n{result.stderr[-1000:]}")
    return elapsed


def trial(inventory_path: Path, hosts: list[str], extra: list[str]) -> tuple[float, float]:
    set_name = f"bench-{uuid.uuid4().hex[:6]}"
    for host in hosts:
        localcluster.kubectl(host, "create", "namespace", set_name)
    return site(inventory_path, set_name, extra), site(inventory_path, set_name, extra)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="trials per case; the best counts (default 3)")
    parser.add_argument("--latency-ms", type=int, default=0, help="talk through each cluster's proxy with this latency per round trip")
    args = parser.parse_args()

    started = localcluster.start(list(CLUSTERS))
    toxics = [localcluster.Toxics(name).latency(args.latency_ms) for name in CLUSTERS] if args.latency_ms else []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            names = list(CLUSTERS)
            one, three, six = (inventory(Path(tmp), names[:count], bool(args.latency_ms)) for count in (1, 3, 6))
            cases = [("1 cluster", one, names[:1], PARALLEL),
                     ("3 clusters, one batch", three, names[:3], PARALLEL),
                     ("6 clusters, one batch", six, names, PARALLEL),
                     ("3 clusters, canary + 25% batches", three, names[:3], [])]
            results = {}
            for label, path, hosts, extra in cases:
                runs = [trial(path, hosts, extra) for _trial in range(args.repeat)]
                results[label] = (min(r[0] for r in runs), min(r[1] for r in runs))
    finally:
        for toxic in toxics:
            toxic.clear()
        if started:
            localcluster.stop(started)

    base_apply, base_noop = results["1 cluster"]
    where = f"through toxiproxy, {args.latency_ms} ms per round trip" if args.latency_ms else "on loopback"
    print(f"{datetime.date.today()}, {os.cpu_count()} cores, {where}; site.yml wall time, best of {args.repeat} "
          f"(baseline: 1 cluster, same run; --forks 10)")
    print(f"{'case':36} {'apply':>8} {'ratio':>6} {'no-op':>8} {'ratio':>6}")
    for label, (apply_time, noop_time) in results.items():
        print(f"{label:36} {apply_time:7.2f}s {apply_time / base_apply:6.2f} {noop_time:7.2f}s {noop_time / base_noop:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
