# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running the istio_aws_egress role the way a user does: ansible-playbook, from the checkout.

The playbooks are in playbooks/istio_aws_egress/ (run by pytest, not ansible-test); every test passes the role's
variables as extra vars and reads the result from the PLAY RECAP, the
cluster (kubectl) and the API server's audit log.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from conftest import ANSIBLE_PLAYBOOK, ansible_env

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "tests" / "integration" / "playbooks" / "istio_aws_egress"
OURS = "app.kubernetes.io/managed-by=meshops.aws_egress"
_RECAP = re.compile(r"^cluster\s+:\s+(.*)$", re.MULTILINE)


@dataclass
class RoleRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def recap(self) -> dict:
        match = _RECAP.search(self.stdout)
        assert match, f"no PLAY RECAP in the output:\n{self.stdout}\n{self.stderr}"
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}

    @property
    def changed(self) -> int:
        return self.recap["changed"]

    def said(self, text: str) -> bool:
        """Whether the output holds `text`, however the callback wrapped its lines."""
        return " ".join(text.split()) in " ".join(self.stdout.split())

    def assert_ok(self) -> "RoleRun":
        assert self.returncode == 0 and self.recap["failed"] == 0, f"the play failed:\n{self.stdout}\n{self.stderr}"
        return self


def role_command(
    variables: dict,
    tmp_path: Path,
    *,
    playbook: Path | None = None,
    inventory: Path | None = None,
    args: tuple[str, ...] = (),
) -> list[str]:
    """ansible-playbook <playbook> (playbooks/istio_aws_egress/apply.yml) with `variables` as extra vars."""
    extra = tmp_path / f"vars-{uuid.uuid4().hex[:8]}.json"
    extra.write_text(json.dumps(variables))
    return [
        str(ANSIBLE_PLAYBOOK),
        "-i",
        str(inventory or TARGET / "inventory.yml"),
        str(playbook or TARGET / "apply.yml"),
        "-e",
        f"@{extra}",
        *args,
    ]


def run(command: list[str], timeout: float = 600, env: dict | None = None) -> RoleRun:
    """Run an ansible-playbook command from the checkout; `env` adds to ansible_env()."""
    result = subprocess.run(
        command, cwd=ROOT, env=ansible_env(**(env or {})), capture_output=True, text=True, check=False, timeout=timeout
    )
    return RoleRun(result.returncode, result.stdout, result.stderr)


def run_role(
    cluster,
    variables: dict,
    tmp_path: Path,
    *,
    playbook: str = "apply.yml",
    check: bool = False,
    python: Path | None = None,
) -> RoleRun:
    """ansible-playbook <playbook> with the role's variables; `cluster` None means no cluster at all. `python` runs
    ansible-playbook (and so the role's filters and modules) instead of the checkout's .venv."""
    if cluster is not None:
        variables = {
            "istio_aws_egress_kubeconfig": cluster.kubeconfig,
            "istio_aws_egress_context": cluster.context,
            **variables,
        }
    command = role_command(variables, tmp_path, playbook=TARGET / playbook, args=("--check", "--diff") if check else ())
    return run([str(python), *command] if python else command)


def rerun_writes_nothing(cluster, variables: dict, tmp_path: Path, python: Path | None = None) -> RoleRun:
    """Idempotence as the project means it: the run reports changed=0 and the API server records no write."""
    cluster.audit.mark()
    rerun = run_role(cluster, variables, tmp_path, python=python).assert_ok()
    assert rerun.changed == 0
    assert writes(cluster.audit) == []
    return rerun


def expect_failure(cluster, variables: dict, tmp_path: Path, *messages: str, python: Path | None = None) -> RoleRun:
    """Run the role, which must fail with every one of `messages` in its failure."""
    run = run_role(
        cluster,
        {**variables, "expected_messages": list(messages)},
        tmp_path,
        playbook="expect_failure.yml",
        python=python,
    )
    assert run.returncode == 0 and run.recap["failed"] == 0 and run.recap["rescued"] >= 1, (
        f"the role did not fail as expected:\n{run.stdout}\n{run.stderr}"
    )
    return run


def refused(cluster, variables: dict, tmp_path: Path, *messages: str, python: Path | None = None) -> None:
    """The role fails with every message, and the cluster records not one write (not even an access review or the lease)."""
    cluster.audit.mark()
    expect_failure(
        cluster, variables, tmp_path, "was refused before any write", "nothing was written", *messages, python=python
    )
    assert cluster.audit.writes() == []


# The region of each test that routes hosts through an egress gateway on the shared clusters, a region of its own:
# a host another egress set routes for the mesh is refused ("already routes"), so what one test left behind would
# fail another. Real regions: the role refuses one botocore does not list.
GATEWAY_REGIONS = {
    "mesh_safety.routes": "sa-east-1",
    "mesh_safety.gateway_service": "ap-northeast-1",
    "mesh_safety.shared_gateway": "ap-northeast-2",
    "mesh_safety.analyze": "ap-south-1",
    "role_absent": "eu-west-2",
    "role_ambient": "ca-central-1",
    "role_apply": "us-east-1",  # where s3 has its global endpoint too
    "role_log_blocked": "il-central-1",
    "role_network_policy": "eu-north-1",
    "role_rbac": "eu-west-3",
}


@contextlib.contextmanager
def removed_after(cluster, tmp_path: Path):
    """Egress sets the block writes, removed (state: absent) when it ends, however it ends: their routes for the mesh
    must not outlive the test. Yields the function that registers a set's variables, before the set is written.

    A removal that fails fails the test. When the block failed already, its own error is the one raised, and the
    failed removals are added to it as notes.
    """
    written: list[dict] = []
    try:
        yield written.append
    except BaseException as failure:
        for problem in _remove(cluster, written, tmp_path):
            failure.add_note(problem)
        raise
    problems = _remove(cluster, written, tmp_path)
    assert not problems, "\n".join(problems)


def _remove(cluster, written: list[dict], tmp_path: Path) -> list[str]:
    """Remove each egress set; what went wrong with each removal that failed."""
    problems = []
    for variables in written:
        what = f"removing egress set {variables.get('istio_aws_egress_name')} after the test"
        try:
            gone = run_role(cluster, {**variables, "istio_aws_egress_state": "absent"}, tmp_path)
        except Exception as err:  # noqa: BLE001  reported with the test's outcome, never instead of it
            problems.append(f"{what} failed: {err!r}")
            continue
        if gone.returncode != 0 or _RECAP.search(gone.stdout) is None or gone.recap["failed"] != 0:
            problems.append(f"{what} failed:\n{gone.stdout[-4000:]}\n{gone.stderr[-2000:]}")
    return problems


def unique_name(prefix: str) -> str:
    """An egress set name no other test or earlier run uses: a set's Sidecars are found cluster-wide."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def fresh_namespace(cluster, prefix: str) -> str:
    """A namespace no other test uses (namespaces are never deleted: there is no controller-manager)."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "namespace", name)
    return name


def egress_gateway_service(
    cluster,
    namespace: str,
    selector: dict | None = None,
    name: str = "istio-egressgateway",
    ports: tuple[int, ...] = (80, 443),
) -> None:
    """The Service of an egress gateway as Istio's charts install it (no pods: no scheduler runs here)."""
    selector = selector or {"istio": "egressgateway"}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": selector},
        "spec": {
            "selector": selector,
            "ports": [
                {"name": "http2" if port == 80 else "https", "port": port, "targetPort": port + 8000} for port in ports
            ],
        },
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(service))


def egress_gateway(cluster, prefix: str, ports: tuple[int, ...] = (80, 443)) -> dict:
    """An egress gateway of the test's own: a namespace with its Service, for pods labelled for this test alone.

    Istio binds a Gateway to the gateway pods its selector matches in every namespace, so tests sharing a cluster
    must not share a gateway's labels: each would find the others' Gateways on its gateway, and the role refuses an
    ALLOW policy that would cut them. Returns the role's istio_aws_egress_gateway.
    """
    namespace = fresh_namespace(cluster, prefix)
    selector = {"istio": f"egressgateway-{namespace}"}
    egress_gateway_service(cluster, namespace, selector, ports=ports)
    # Its pod, as an object (no kubelet runs it): istioctl analyze looks for what a Gateway's selector selects.
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "ServiceAccount",
                        "metadata": {"name": "istio-egressgateway", "namespace": namespace},
                    },
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": "istio-egressgateway-0", "namespace": namespace, "labels": selector},
                        "spec": {
                            "serviceAccountName": "istio-egressgateway",
                            "automountServiceAccountToken": False,
                            "containers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.30.0"}],
                        },
                    },
                ],
            }
        ),
    )
    return {"namespace": namespace, "selector": selector}


def objects(
    cluster, kind: str, namespace: str | None = None, selector: str | None = None, managed_fields: bool = False
) -> dict[str, dict]:
    """Live objects of `kind` by 'namespace/name'."""
    args = ["get", kind, "-o", "json", f"--show-managed-fields={str(managed_fields).lower()}"]
    args += ["-n", namespace] if namespace else ["--all-namespaces"]
    if selector:
        args += ["-l", selector]
    items = json.loads(cluster.kubectl(*args).stdout)["items"]
    return {f"{o['metadata']['namespace']}/{o['metadata']['name']}": o for o in items}


LOCK_NAME = "meshops-aws-egress"


def is_rollout_bookkeeping(event: dict) -> bool:
    """A request the role makes around its writes, not a write of a resource it manages.

    Before writing, the role asks which of its writes it may make
    (SelfSubjectAccessReviews: the API server answers them and stores nothing,
    but the audit log records them as creates); while writing, it holds the
    rollout lease (a coordination.k8s.io Lease it creates, renews and releases).
    """
    ref = event["objectRef"]
    return ref.get("resource") == "selfsubjectaccessreviews" or (
        ref.get("resource") == "leases" and ref.get("name") == LOCK_NAME
    )


def resource_events(audit) -> list[dict]:
    """Audit events of writes since the last mark; the rollout bookkeeping is left out when the run wrote
    anything else, and kept when it did not, so that a run that should write nothing and yet took the
    lease or reviewed its rights is still seen."""
    events = audit.writes()
    others = [e for e in events if not is_rollout_bookkeeping(e)]
    return others if others else events


def writes(audit) -> list[tuple[str, str, str, str]]:
    """(verb, resource, namespace, name) of every write since the audit log's last mark (see resource_events)."""
    return [
        (w["verb"], w["objectRef"].get("resource"), w["objectRef"].get("namespace"), w["objectRef"].get("name"))
        for w in resource_events(audit)
    ]
