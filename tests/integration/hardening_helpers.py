# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the hardening tests: scratch clusters, users' kubeconfigs, runs in the background,
and the role's templates rendered the way the role renders them."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import BACKGROUND_RUNS, LocalCluster, ansible_env, localcluster
from role_helpers import OURS, ROOT, RoleRun
from role_templates import render_all

HARDENING = ROOT / "tests" / "integration" / "playbooks" / "hardening"


@contextlib.contextmanager
def scratch_clusters(prefix: str, count: int = 1, crds: list[str] | None = None, audit: str | None = None):
    """`count` clusters of their own (killed and restarted by the test), removed afterwards.

    `crds`: the CRD sets they are created with (localcluster.CRD_SETS), rather than what LOCALCLUSTER_CRDS says;
    `audit`: their audit level (localcluster.AUDIT_LEVELS) rather than LOCALCLUSTER_AUDIT's. The variables are set
    only while they start, so nothing else started in the test sees them.
    """
    names = [f"{prefix}-{uuid.uuid4().hex[:5]}" for unused in range(count)]
    try:
        with pytest.MonkeyPatch.context() as patch:
            if crds is not None:
                patch.setenv("LOCALCLUSTER_CRDS", ",".join(crds))
            if audit is not None:
                patch.setenv("LOCALCLUSTER_AUDIT", audit)
            localcluster.start(names)
        yield [LocalCluster(name) for name in names]
    finally:
        with contextlib.redirect_stdout(None):
            localcluster.down(names)


def user_kubeconfig(
    cluster, user: str, path: Path, *, server: str | None = None, inline: bool = True, context: str = "hardening"
) -> Path:
    """A kubeconfig for one of the cluster's token users. `inline`: the token and the CA in the file itself
    (`token`, `certificate-authority-data`); otherwise both in files next to it (`tokenFile`, `certificate-authority`)."""
    ca_file = cluster.info["ca_file"]
    if inline:
        cluster_entry = {
            "server": server or cluster.info["server"],
            "certificate-authority-data": base64.b64encode(Path(ca_file).read_bytes()).decode(),
        }
        user_entry = {"token": cluster.token(user)}
    else:
        token_file = path.with_suffix(".token")
        token_file.write_text(cluster.token(user))
        cluster_entry = {"server": server or cluster.info["server"], "certificate-authority": ca_file}
        user_entry = {"tokenFile": str(token_file)}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": context,
                "clusters": [{"name": "scratch", "cluster": cluster_entry}],
                "users": [{"name": user, "user": user_entry}],
                "contexts": [{"name": context, "context": {"cluster": "scratch", "user": user}}],
            }
        )
    )
    path.chmod(0o600)
    return path


class Background:
    """ansible-playbook running while the test does something else; its output is kept in files."""

    def __init__(self, command: list[str], tmp_path: Path):
        tag = uuid.uuid4().hex[:6]
        self.stdout_path, self.stderr_path = tmp_path / f"out-{tag}.txt", tmp_path / f"err-{tag}.txt"
        with self.stdout_path.open("w") as out, self.stderr_path.open("w") as err:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=ansible_env(),
                stdout=out,
                stderr=err,  # pylint: disable=consider-using-with
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        BACKGROUND_RUNS.append(self.process)

    def wait(self, timeout: float = 300) -> RoleRun:
        self.process.wait(timeout=timeout)
        return RoleRun(self.process.returncode, self.stdout_path.read_text(), self.stderr_path.read_text())


def declared(namespace: str, name: str, services: list[str], regions: list[str], **extra) -> dict:
    """The role's variables for egress set `name` in `namespace`: each of `services` in each of `regions`, and `extra`."""
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": services,
        "istio_aws_egress_regions": regions,
        **extra,
    }


def entries(name: str, services: list[str], regions: list[str]) -> list[str]:
    """The names of the ServiceEntries of `declared`, sorted."""
    return sorted(f"aws-{name}-{service}-{region}" for service in services for region in regions)


def writes_of(cluster, verb: str, namespace: str) -> int:
    """How many ServiceEntry writes of `verb` in `namespace` the API server made since its audit log's last mark
    (a write it refused changed nothing and is not counted)."""
    return sum(
        1
        for w in cluster.audit.writes()
        if w["verb"] == verb
        and w["objectRef"].get("namespace") == namespace
        and w["objectRef"].get("resource") == "serviceentries"
        and w["responseStatus"]["code"] < 300
    )


def host_recaps(result: RoleRun) -> dict[str, dict[str, int]]:
    """changed and failed of every host in the PLAY RECAP."""
    recap = result.stdout.rsplit("PLAY RECAP", 1)[-1]
    return {
        match.group(1): {"changed": int(match.group(2)), "failed": int(match.group(3))}
        for match in re.finditer(
            r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", recap, re.MULTILINE
        )
    }


def wait_for(condition, timeout: float, interval: float = 0.01, what: str = "the condition"):
    """Poll until `condition()` is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def labelled(cluster, kind: str, namespace: str, egress_set: str) -> list[str]:
    """Names of the egress set's objects of `kind` in `namespace`, as the API server lists them."""
    out = cluster.kubectl(
        "get",
        kind,
        "-n",
        namespace,
        "-l",
        f"{OURS},meshops.io/egress-set={egress_set}",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ).stdout
    return out.split()


def lease_holder(cluster, namespace: str) -> str | None:
    """The rollout lease's holder; None when there is no lease, '' when it is free."""
    got = cluster.kubectl("get", "lease", "meshops-aws-egress", "-n", namespace, "-o", "json", check=False)
    if got.returncode != 0:
        return None
    return json.loads(got.stdout)["spec"].get("holderIdentity") or ""


def render_role_template(name: str, **template_vars) -> str:
    """A template of the role, rendered as the role renders it (see role_templates)."""
    rendered = render_all([(name, template_vars)])[0]
    if "error" in rendered:
        raise AssertionError(f"{name} did not render: {rendered['error']}")
    return rendered["text"]


from generated_files import SHIPPED_RBAC_FOR, shipped_rbac_text  # noqa: E402,F401  pylint: disable=unused-import,wrong-import-position
