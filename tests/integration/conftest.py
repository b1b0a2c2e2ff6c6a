# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for tests against real Kubernetes API servers.

By default the clusters are the local ones from tests/cluster/localcluster.py
(started here if they are not running). With MESHOPS_TEST_KUBECONFIG set, the
tests use the contexts of that kubeconfig instead; tests that need what only a
local cluster has (its audit log, its process) are then skipped, saying why.

Under pytest-xdist (`make integration` runs two workers) the first worker uses
the clusters in .localcluster and every other worker clusters of its own, in
.localcluster/workers/<worker>: the tests read whole audit logs, stop API
servers and change CRDs, so workers must not share a cluster.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "cluster"))
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
# Before localcluster is imported: it reads its directory once. Ansible runs inherit it.
if WORKER != "gw0" and not os.environ.get("MESHOPS_TEST_KUBECONFIG"):
    os.environ.setdefault("LOCALCLUSTER_DIR", str(ROOT / ".localcluster" / "workers" / WORKER))
OWN_CLUSTERS = (
    WORKER != "gw0" and Path(os.environ.get("LOCALCLUSTER_DIR", "")) == ROOT / ".localcluster" / "workers" / WORKER
)

import localcluster  # noqa: E402  pylint: disable=wrong-import-position

EXTERNAL_KUBECONFIG = os.environ.get("MESHOPS_TEST_KUBECONFIG")
ANSIBLE_PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"


class AuditLog:
    """Writes the API server recorded, read from its audit log."""

    # The API server's own bookkeeping (leases, its identity) is not ours.
    IGNORED_USERS = ("system:apiserver", "system:kube-controller-manager", "system:kube-scheduler")

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        """Forget everything recorded so far."""
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def writes(self) -> list[dict]:
        """Write requests (create/update/patch/delete) since the last mark."""
        if not self.path.exists():
            return []
        with self.path.open("rb") as log:
            log.seek(self.offset)
            data = log.read()
        # The API server may be halfway through writing the last line.
        whole = data[: data.rfind(b"\n") + 1]
        events = [json.loads(line) for line in whole.splitlines() if line.strip()]
        return [
            e
            for e in events
            if e["verb"] in ("create", "update", "patch", "delete", "deletecollection")
            and e["user"]["username"] not in self.IGNORED_USERS
        ]


class LocalCluster:
    """One local cluster: its contexts, tokens, audit log, process and the faults on its proxy."""

    def __init__(self, name: str):
        self.name = name
        self.info = localcluster.Cluster(name).info()
        self.context = name
        # Through the cluster's toxiproxy proxy, where `toxics` sets faults.
        self.proxied_context = f"{name}-proxied"
        self.toxics = localcluster.Toxics(name)
        self.kubeconfig = str(localcluster.KUBECONFIG)
        self.audit = AuditLog(Path(self.info["audit_log"]))

    def kubectl(self, *args: str, check: bool = True, proxied: bool = False, **kwargs) -> subprocess.CompletedProcess:
        return localcluster.kubectl(self.proxied_context if proxied else self.context, *args, check=check, **kwargs)

    def token(self, user: str) -> str:
        return self.info["tokens"][user]


class ExternalCluster:
    """A context of the kubeconfig in MESHOPS_TEST_KUBECONFIG."""

    def __init__(self, kubeconfig: str, context: str):
        self.name = self.context = context
        self.kubeconfig = kubeconfig

    def kubectl(self, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(localcluster.BIN / "kubectl"), f"--kubeconfig={self.kubeconfig}", f"--context={self.context}", *args],
            capture_output=True,
            text=True,
            check=check,
            **kwargs,
        )


def ansible_env(**extra: str) -> dict:
    """The environment ansible-playbook runs in: our venv, our ansible.cfg, our binaries first."""
    env = dict(os.environ)
    env.update(
        PATH=os.pathsep.join([str(ROOT / ".venv" / "bin"), str(localcluster.BIN), env.get("PATH", "")]),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    env.update(extra)
    return env


def run_playbook(
    playbook: str | Path,
    *args: str,
    extra_vars: dict | None = None,
    check: bool = False,
    env: dict | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """Run ansible-playbook from the repository root; output is returned, not printed."""
    cmd = [str(ANSIBLE_PLAYBOOK), str(playbook), *args]
    if extra_vars:
        cmd += ["--extra-vars", json.dumps(extra_vars)]
    result = subprocess.run(
        cmd, cwd=ROOT, env=env or ansible_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd[:2])} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
        )
    return result


# ansible-playbook runs that tests start in the background (hardening_helpers.Background).
# A test that fails before waiting for one must not leave it writing during the next test.
BACKGROUND_RUNS: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_background_run_outlives_its_test():
    yield
    while BACKGROUND_RUNS:
        process = BACKGROUND_RUNS.pop()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _require_local(reason: str) -> None:
    if EXTERNAL_KUBECONFIG:
        pytest.skip(f"{reason}: MESHOPS_TEST_KUBECONFIG points at an existing cluster")


@pytest.fixture(scope="session")
def cluster_names():
    if EXTERNAL_KUBECONFIG:
        yield []
        return
    names = localcluster.names_from(None)
    localcluster.start(names)
    yield names
    if OWN_CLUSTERS:
        localcluster.down(None)  # this worker's clusters, gone with it


@pytest.fixture(scope="session")
def local_cluster(cluster_names) -> LocalCluster:
    """The first local cluster."""
    _require_local("needs a local cluster (audit log, process control)")
    return LocalCluster(cluster_names[0])


@pytest.fixture(scope="module")
def clusters(cluster_names) -> dict:
    """The first two local clusters, by name: the runbooks' inventory of two clusters."""
    if len(cluster_names) < 2:
        pytest.skip("needs two local clusters: MESHOPS_TEST_KUBECONFIG points at an existing cluster")
    return {name: LocalCluster(name) for name in cluster_names[:2]}


@pytest.fixture()
def toxics(local_cluster):
    """Faults on the first local cluster's proxy (its proxied context), cleared after the test."""
    with local_cluster.toxics as faults:
        yield faults


@pytest.fixture(scope="session")
def target_cluster(cluster_names):
    """The cluster under test: the first local one, or the external one."""
    if EXTERNAL_KUBECONFIG:
        context = (
            os.environ.get("MESHOPS_TEST_CONTEXT")
            or subprocess.run(
                [str(localcluster.BIN / "kubectl"), f"--kubeconfig={EXTERNAL_KUBECONFIG}", "config", "current-context"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        return ExternalCluster(EXTERNAL_KUBECONFIG, context)
    return LocalCluster(cluster_names[0])


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    return localcluster.BIN


@pytest.fixture(scope="session")
def istioctl(bin_dir) -> str:
    return str(bin_dir / "istioctl")


def pytest_report_header(config):  # pylint: disable=unused-argument
    if EXTERNAL_KUBECONFIG:
        return f"integration: existing cluster(s) from MESHOPS_TEST_KUBECONFIG={EXTERNAL_KUBECONFIG}"
    return f"integration: local clusters {os.environ.get('CLUSTERS', localcluster.DEFAULT_CLUSTERS)}"
