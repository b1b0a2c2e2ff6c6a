# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The istio_aws_egress role against its two peers, on one local cluster, in one run.

For each N (ServiceEntries), in fresh namespaces of the same cluster:

  role       ansible-playbook running the role: plan, access review, lease,
             kubernetes.core.k8s apply and prune, release
  naive      the play an Ansible user writes without the role: one
             kubernetes.core.k8s task, apply: true, server_side_apply, over the
             same manifests (the role's render mode wrote them)
  kubectl    kubectl apply --server-side over the same manifests

each twice: "apply" (nothing there yet) and "no-op" (the same again), then
"prune": the role removing the set (istio_aws_egress_state: absent) against
`kubectl delete` of the same manifests. The role runs once per
--concurrency (istio_aws_egress_apply_concurrency), the peers once. Wall
time of the whole command (ansible-playbook and kubectl start-up included),
the best of --repeat runs, and the ratios. The table is Markdown, as
docs/development.md shows it. N comes from real services x regions: the same
entries the role makes for users.

With --latency-ms, every command talks to the API server through the
cluster's toxiproxy proxy with that much latency per round trip.

    .venv/bin/python benchmarks/role_apply.py                     # N = 10, 25, 100, 500, best of 3
    .venv/bin/python benchmarks/role_apply.py --latency-ms 100 --sizes 100 --concurrency 1,4,8,16
    .venv/bin/python benchmarks/role_apply.py --sizes 25 --profile
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cluster"))
sys.path.insert(0, str(ROOT / ".collections"))

import localcluster  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import partitions  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand  # noqa: E402  pylint: disable=wrong-import-position

BIN = Path(sys.executable).parent
# Services whose hosts in a region make exactly one ServiceEntry.
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
MAX_REGIONS = 25
PEER_STEPS = ("naive apply", "kubectl apply", "naive no-op", "kubectl no-op", "kubectl delete")
ROLE_STEPS = ("role apply", "role no-op", "role prune")

ROLE_PLAY = """\
- name: Benchmark the istio_aws_egress role
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: meshops.aws_egress.istio_aws_egress
"""
PROFILE_TASK = """\
    - name: Where the time went, in the role's own steps
      ansible.builtin.debug:
        msg: "TIMINGS {{ istio_aws_egress_plan.timings | to_json | b64encode }}"
"""
# What an Ansible user writes to apply a directory of manifests without the role.
NAIVE_PLAY = """\
- name: Apply the manifests with kubernetes.core.k8s
  hosts: all
  gather_facts: false
  tasks:
    - name: Server-side apply every manifest
      kubernetes.core.k8s:
        src: "{{ manifests }}"
        apply: true
        server_side_apply:
          field_manager: naive
        kubeconfig: "{{ kubeconfig }}"
        context: "{{ context }}"
"""


def services_and_regions(count: int) -> tuple[list[str], list[str]]:
    """Services x regions that make exactly `count` ServiceEntries."""
    regions = [r for r in partitions.all_regions() if partitions.partition_of(r).name == "aws"]
    for per_service in range(min(count, MAX_REGIONS, len(regions)), 0, -1):
        if count % per_service == 0 and count // per_service <= len(SERVICES):
            chosen = (SERVICES[: count // per_service], regions[:per_service])
            made = len(expand(chosen[0], regions=chosen[1], name_prefix="aws-bench").endpoints)
            if made != count:
                raise SystemExit(
                    f"{count}: {len(chosen[0])} services x {per_service} regions made {made} entries, not {count}"
                )
            return chosen
    raise SystemExit(f"cannot make {count} ServiceEntries from {len(SERVICES)} services x {MAX_REGIONS} regions")


class Bench:
    def __init__(self, cluster: str, context: str, workdir: Path):
        self.cluster = cluster
        self.context = context  # the cluster's own, or its -proxied one (through toxiproxy)
        self.workdir = workdir
        (workdir / "inventory.yml").write_text(
            json.dumps(
                {
                    "all": {
                        "hosts": {
                            cluster: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                        }
                    }
                }
            )
        )
        (workdir / "role.yml").write_text(ROLE_PLAY)
        (workdir / "profile.yml").write_text(ROLE_PLAY + PROFILE_TASK)
        (workdir / "naive.yml").write_text(NAIVE_PLAY)
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        }

    def kubectl(self, *args: str) -> subprocess.CompletedProcess:
        return localcluster.kubectl(self.cluster, *args)

    def namespace(self, prefix: str) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        self.kubectl("create", "namespace", name)
        return name

    def playbook(self, playbook: str, variables: dict) -> tuple[float, str]:
        extra = self.workdir / f"vars-{uuid.uuid4().hex[:6]}.json"
        extra.write_text(json.dumps(variables))
        command = [
            str(BIN / "ansible-playbook"),
            "-i",
            str(self.workdir / "inventory.yml"),
            str(self.workdir / playbook),
            "-e",
            f"@{extra}",
        ]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{playbook} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
        return elapsed, done.stdout

    def role(self, variables: dict, playbook: str = "role.yml") -> tuple[float, str]:
        return self.playbook(
            playbook,
            {
                "istio_aws_egress_kubeconfig": str(localcluster.KUBECONFIG),
                "istio_aws_egress_context": self.context,
                **variables,
            },
        )

    def naive(self, manifests: Path) -> float:
        return self.playbook(
            "naive.yml",
            {"manifests": str(manifests), "kubeconfig": str(localcluster.KUBECONFIG), "context": self.context},
        )[0]

    def kubectl_apply(self, manifests: Path) -> float:
        started = time.perf_counter()
        subprocess.run(
            [
                str(localcluster.BIN / "kubectl"),
                f"--kubeconfig={localcluster.KUBECONFIG}",
                f"--context={self.context}",
                "apply",
                "--server-side",
                "--field-manager=kubectl-bench",
                "-f",
                str(manifests),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return time.perf_counter() - started

    def kubectl_delete(self, manifests: Path) -> float:
        started = time.perf_counter()
        subprocess.run(
            [
                str(localcluster.BIN / "kubectl"),
                f"--kubeconfig={localcluster.KUBECONFIG}",
                f"--context={self.context}",
                "delete",
                "-f",
                str(manifests),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return time.perf_counter() - started

    def entries(self, namespace: str) -> int:
        return len(json.loads(self.kubectl("get", "serviceentries", "-n", namespace, "-o", "json").stdout)["items"])

    def manifests(self, variables: dict, namespace: str) -> Path:
        """The role's own manifests for `namespace`, as one multi-document file."""
        rendered = self.workdir / f"rendered-{namespace}"
        self.role({**variables, "istio_aws_egress_namespace": namespace, "istio_aws_egress_render_dir": str(rendered)})
        stream = self.workdir / f"{namespace}.yaml"
        stream.write_text(
            "".join(f"---\n{p.read_text()}" for p in sorted(rendered.iterdir()) if p.name != "kustomization.yaml")
        )
        return stream

    def measure(self, count: int, repeat: int, concurrencies: list[int]) -> dict:
        """{step: best seconds} for the peers, and {(step, concurrency): best seconds} for the role."""
        services, regions = services_and_regions(count)
        variables = {
            "istio_aws_egress_name": "bench",
            "istio_aws_egress_services": services,
            "istio_aws_egress_regions": regions,
        }
        times = {step: [] for step in PEER_STEPS} | {(step, c): [] for step in ROLE_STEPS for c in concurrencies}
        for _run in range(repeat):
            for concurrency in concurrencies:
                role_ns = self.namespace("bench-role")
                declared = {
                    **variables,
                    "istio_aws_egress_namespace": role_ns,
                    "istio_aws_egress_apply_concurrency": concurrency,
                }
                times[("role apply", concurrency)].append(self.role(declared)[0])
                elapsed, output = self.role(declared)
                times[("role no-op", concurrency)].append(elapsed)
                if (
                    f"0 to create, 0 to update, 0 to adopt, 0 to prune, {count} unchanged" not in output
                    or self.entries(role_ns) != count
                ):
                    raise SystemExit(f"the role's rerun at N={count} was not a no-op:\n{output}")
                times[("role prune", concurrency)].append(
                    self.role({**declared, "istio_aws_egress_state": "absent"})[0]
                )
                if self.entries(role_ns) != 0:
                    raise SystemExit(f"the role's prune at N={count} left {self.entries(role_ns)} entries")

            for peer, apply in (("naive", self.naive), ("kubectl", self.kubectl_apply)):
                namespace = self.namespace(f"bench-{peer}")
                manifests = self.manifests(variables, namespace)
                times[f"{peer} apply"].append(apply(manifests))
                times[f"{peer} no-op"].append(apply(manifests))
                if self.entries(namespace) != count:
                    raise SystemExit(f"{peer} applied {self.entries(namespace)} entries, not {count}")
                if peer == "kubectl":
                    times["kubectl delete"].append(self.kubectl_delete(manifests))
                else:
                    self.kubectl("delete", "serviceentries", "--all", "-n", namespace, "--wait=false")
        return {step: min(values) for step, values in times.items()}

    def profile(self, count: int) -> None:
        """The role's own timings (plan reads, access review, lease, apply, prune) at N=count."""
        services, regions = services_and_regions(count)
        namespace = self.namespace("bench-profile")
        variables = {
            "istio_aws_egress_name": "bench",
            "istio_aws_egress_services": services,
            "istio_aws_egress_regions": regions,
            "istio_aws_egress_namespace": namespace,
        }
        for label in ("apply", "no-op"):
            elapsed, output = self.role(variables, playbook="profile.yml")
            timings = json.loads(base64.b64decode(output.split("TIMINGS ", 1)[1].split()[0].strip("'\"")))
            steps = ", ".join(f"{step} {seconds:.2f}s" for step, seconds in timings.items())
            print(f"role {label} at N={count}: {elapsed:.2f}s wall; in the egress_set task: {steps}")
        self.kubectl("delete", "serviceentries", "--all", "-n", namespace, "--wait=false")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--cluster", default="local-a", help="local cluster to use; started when not running (default: local-a)"
    )
    parser.add_argument(
        "--sizes", default="10,25,100,500", help="numbers of ServiceEntries, comma-separated (default: 10,25,100,500)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per size; the best time of each step counts (default: 3)"
    )
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="talk through the cluster's proxy with this latency per round trip"
    )
    parser.add_argument(
        "--concurrency",
        default="8",
        help="istio_aws_egress_apply_concurrency values the role runs with, comma-separated (default: 8)",
    )
    parser.add_argument("--profile", action="store_true", help="also show the role's own timings at the largest size")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    concurrencies = [int(value) for value in args.concurrency.split(",")]

    localcluster.start([args.cluster])
    context = f"{args.cluster}-proxied" if args.latency_ms else args.cluster
    latency = (
        localcluster.Toxics(args.cluster).latency(args.latency_ms) if args.latency_ms else contextlib.nullcontext()
    )
    with latency, tempfile.TemporaryDirectory(prefix="role-bench-") as workdir:
        bench = Bench(args.cluster, context, Path(workdir))
        # Warm the discovery caches, so no side pays for the first discovery.
        warm = bench.namespace("bench-warmup")
        bench.role(
            {
                **dict(zip(("istio_aws_egress_services", "istio_aws_egress_regions"), services_and_regions(1))),
                "istio_aws_egress_name": "bench-warmup",
                "istio_aws_egress_namespace": warm,
            }
        )
        bench.naive(
            bench.manifests(
                {
                    "istio_aws_egress_name": "bench-warmup",
                    "istio_aws_egress_services": ["sqs"],
                    "istio_aws_egress_regions": ["us-east-1"],
                },
                warm,
            )
        )
        bench.kubectl("api-resources", "--api-group=networking.istio.io")

        where = f"through toxiproxy, {args.latency_ms} ms per round trip" if args.latency_ms else "on loopback"
        print(f"{datetime.date.today()}, {os.cpu_count()} cores, {where}; wall time, best of {args.repeat}\n")
        print(
            "| N | concurrency | role apply | naive | kubectl | role/naive | role/kubectl | role no-op | naive no-op "
            "| role/naive no-op | role prune | kubectl delete | role/kubectl delete |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for count in sizes:
            t = bench.measure(count, args.repeat, concurrencies)
            for concurrency in concurrencies:
                apply, noop, prune = (t[(step, concurrency)] for step in ROLE_STEPS)
                print(
                    f"| {count} | {concurrency} | {apply:.2f} s | {t['naive apply']:.2f} s | {t['kubectl apply']:.2f} s "
                    f"| {apply / t['naive apply']:.2f} | {apply / t['kubectl apply']:.2f} | {noop:.2f} s | {t['naive no-op']:.2f} s "
                    f"| {noop / t['naive no-op']:.2f} | {prune:.2f} s | {t['kubectl delete']:.2f} s "
                    f"| {prune / t['kubectl delete']:.2f} |",
                    flush=True,
                )
        if args.profile:
            bench.profile(max(sizes))


if __name__ == "__main__":
    main()
