# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The istio_aws_egress role against `kubectl apply --server-side`, on a local cluster.

For each N (ServiceEntries), in fresh namespaces of the same cluster, in the
same run:

  role apply       ansible-playbook running the role, nothing there yet
  role no-op       the same again: nothing to change
  kubectl apply    kubectl apply --server-side -f <every file the role rendered for it>
  kubectl no-op    the same again

Wall time of the whole command each (ansible-playbook and kubectl start-up
included), the best of --repeat runs, and the ratios role/kubectl. N comes
from real services x regions: the same entries the role makes for users.

    .venv/bin/python benchmarks/role_apply.py                  # N = 10, 100, 500
    .venv/bin/python benchmarks/role_apply.py --sizes 50 --profile
"""

from __future__ import annotations

import argparse
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
SERVICES = ["sqs", "sns", "kms", "secretsmanager", "ssm", "logs", "ecr", "lambda", "events", "firehose", "athena", "glue",
            "cloudformation", "ec2", "elasticache", "rds", "ecs", "eks", "acm", "apigateway", "codebuild", "xray", "ses",
            "sesv2", "appconfig", "batch", "cloudtrail", "config", "autoscaling", "elbv2"]
MAX_REGIONS = 25

PLAYBOOK = """\
- name: Benchmark the istio_aws_egress role
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: meshops.aws_egress.istio_aws_egress
"""


def services_and_regions(count: int) -> tuple[list[str], list[str]]:
    """Services x regions that make exactly `count` ServiceEntries."""
    regions = [r for r in partitions.all_regions() if partitions.partition_of(r).name == "aws"]
    for per_service in range(min(count, MAX_REGIONS, len(regions)), 0, -1):
        if count % per_service == 0 and count // per_service <= len(SERVICES):
            chosen = (SERVICES[: count // per_service], regions[:per_service])
            made = len(expand(chosen[0], regions=chosen[1], name_prefix="aws-bench").endpoints)
            if made != count:
                raise SystemExit(f"{count}: {len(chosen[0])} services x {per_service} regions made {made} entries, not {count}")
            return chosen
    raise SystemExit(f"cannot make {count} ServiceEntries from {len(SERVICES)} services x {MAX_REGIONS} regions")


class Bench:
    def __init__(self, cluster: str, workdir: Path, profile: bool):
        self.cluster = cluster
        self.workdir = workdir
        self.profile = profile
        (workdir / "inventory.yml").write_text(json.dumps({"all": {"hosts": {cluster: {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        (workdir / "playbook.yml").write_text(PLAYBOOK)

    def kubectl(self, *args: str) -> subprocess.CompletedProcess:
        return localcluster.kubectl(self.cluster, *args)

    def namespace(self, prefix: str) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        self.kubectl("create", "namespace", name)
        return name

    def role(self, variables: dict, profile: bool = False) -> tuple[float, str]:
        extra = self.workdir / f"vars-{uuid.uuid4().hex[:6]}.json"
        extra.write_text(json.dumps({"istio_aws_egress_kubeconfig": str(localcluster.KUBECONFIG),
                                     "istio_aws_egress_context": self.cluster, **variables}))
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "ANSIBLE_NOCOLOR": "1"}
        if profile:
            env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
        command = [str(BIN / "ansible-playbook"), "-i", str(self.workdir / "inventory.yml"), str(self.workdir / "playbook.yml"), "-e", f"@{extra}"]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"the role failed:\n{done.stdout}\n{done.stderr}")
        return elapsed, done.stdout

    def kubectl_apply(self, files: list[Path]) -> float:
        args = [str(localcluster.BIN / "kubectl"), f"--kubeconfig={localcluster.KUBECONFIG}", f"--context={self.cluster}",
                "apply", "--server-side"]
        for path in files:
            args += ["-f", str(path)]
        started = time.perf_counter()
        subprocess.run(args, capture_output=True, text=True, check=True)
        return time.perf_counter() - started

    def entries(self, namespace: str) -> int:
        return len(json.loads(self.kubectl("get", "serviceentries", "-n", namespace, "-o", "json").stdout)["items"])

    def measure(self, count: int, repeat: int) -> dict:
        services, regions = services_and_regions(count)
        variables = {"istio_aws_egress_name": "bench", "istio_aws_egress_services": services, "istio_aws_egress_regions": regions}
        times = {"role apply": [], "role no-op": [], "kubectl apply": [], "kubectl no-op": []}
        for _run in range(repeat):
            role_ns = self.namespace("bench-role")
            elapsed = self.role({**variables, "istio_aws_egress_namespace": role_ns})[0]
            times["role apply"].append(elapsed)
            elapsed, output = self.role({**variables, "istio_aws_egress_namespace": role_ns})
            times["role no-op"].append(elapsed)
            if f"0 to create, 0 to update, 0 to adopt, 0 to prune, {count} unchanged" not in output or self.entries(role_ns) != count:
                raise SystemExit(f"the role's rerun at N={count} was not a no-op:\n{output}")

            kubectl_ns = self.namespace("bench-kubectl")
            rendered = self.workdir / f"rendered-{kubectl_ns}"
            self.role({**variables, "istio_aws_egress_namespace": kubectl_ns, "istio_aws_egress_render_dir": str(rendered)})
            files = sorted(p for p in rendered.iterdir() if p.name != "kustomization.yaml")
            times["kubectl apply"].append(self.kubectl_apply(files))
            times["kubectl no-op"].append(self.kubectl_apply(files))
            if self.entries(kubectl_ns) != count:
                raise SystemExit(f"kubectl applied {self.entries(kubectl_ns)} entries, not {count}")
            for namespace in (role_ns, kubectl_ns):  # keep the cluster small; namespaces themselves never go away
                self.kubectl("delete", "serviceentries", "--all", "-n", namespace, "--wait=false")
        return {step: min(values) for step, values in times.items()}

    def show_profile(self, count: int) -> None:
        services, regions = services_and_regions(count)
        namespace = self.namespace("bench-profile")
        variables = {"istio_aws_egress_name": "bench", "istio_aws_egress_services": services, "istio_aws_egress_regions": regions,
                     "istio_aws_egress_namespace": namespace}
        for label in ("apply", "no-op"):
            elapsed, output = self.role(variables, profile=True)
            recap = output[output.index("TASKS RECAP"):].splitlines()[3:13]
            print(f"\nrole {label} at N={count}: {elapsed:.2f}s wall; slowest tasks:")
            print("\n".join("  " + line.replace("meshops.aws_egress.istio_aws_egress : ", "") for line in recap))
        self.kubectl("delete", "serviceentries", "--all", "-n", namespace, "--wait=false")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cluster", default="local-a", help="local cluster to use; started when not running (default: local-a)")
    parser.add_argument("--sizes", default="10,100,500", help="numbers of ServiceEntries, comma-separated (default: 10,100,500)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the best time of each step counts (default: 1)")
    parser.add_argument("--profile", action="store_true", help="also show the role's slowest tasks at the largest size")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    localcluster.start([args.cluster])
    with tempfile.TemporaryDirectory(prefix="role-bench-") as workdir:
        bench = Bench(args.cluster, Path(workdir), args.profile)
        # Warm both discovery caches, so neither side pays for the first discovery.
        bench.role({**dict(zip(("istio_aws_egress_services", "istio_aws_egress_regions"), services_and_regions(1))),
                    "istio_aws_egress_name": "bench-warmup", "istio_aws_egress_namespace": bench.namespace("bench-warmup")})
        bench.kubectl("api-resources", "--api-group=networking.istio.io")

        print(f"{'N':>5} | {'role apply':>10} | {'kubectl apply':>13} | {'ratio':>5} | {'role no-op':>10} | {'kubectl no-op':>13} | {'ratio':>5}")
        print("-" * 80)
        for count in sizes:
            t = bench.measure(count, args.repeat)
            print(f"{count:>5} | {t['role apply']:>9.2f}s | {t['kubectl apply']:>12.2f}s | {t['role apply'] / t['kubectl apply']:>5.2f} | "
                  f"{t['role no-op']:>9.2f}s | {t['kubectl no-op']:>12.2f}s | {t['role no-op'] / t['kubectl no-op']:>5.2f}", flush=True)
        if args.profile:
            bench.show_profile(max(sizes))


if __name__ == "__main__":
    main()
