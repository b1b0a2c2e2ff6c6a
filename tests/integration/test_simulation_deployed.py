# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Simulating a set that is already deployed: the mesh's objects hold the set's own, and the rendered ones replace them.

On a scratch cluster of its own (the dump is of every namespace, as the README writes it, and must hold nothing but what
this test put there): the set is applied, dumped with the README's `kubectl get`, and simulated with that dump.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import EGRESS_SET_LABEL
from conftest import ROOT, localcluster
from role_helpers import run_role
from test_simulation_runbook import inventory, report, simulate

pytestmark = pytest.mark.integration

VARIABLES = {
    "istio_aws_egress_name": "sim",
    "istio_aws_egress_services": ["sqs", "s3"],
    "istio_aws_egress_regions": ["eu-west-1"],
    "istio_aws_egress_sidecars": ["orders"],
}


def readme_dump_command() -> list[str]:
    """The `kubectl get` the simulate runbook step tells users to dump the mesh's objects with."""
    [command] = set(re.findall(r"`(kubectl get services,serviceentries[^`]*)`", (ROOT / "README.md").read_text()))
    return shlex.split(command)


@pytest.fixture()
def scratch_cluster(tmp_path):
    state = tmp_path / "localcluster"
    env = {
        **{k: v for k, v in os.environ.items() if k != "LATENCY_MS"},
        "LOCALCLUSTER_DIR": str(state),
        "LOCALCLUSTER_CRDS": "istio",
    }
    launcher = [sys.executable, str(ROOT / "tests" / "cluster" / "localcluster.py")]
    try:
        started = subprocess.run([*launcher, "up", "scratch"], capture_output=True, text=True, check=False, env=env)
        assert started.returncode == 0, started.stderr
        yield SimpleNamespace(kubeconfig=str(state / "kubeconfig"), context="scratch")
    finally:
        subprocess.run([*launcher, "down"], capture_output=True, text=True, check=False, env=env)
        for pid_file in state.glob("**/*.pid"):
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_the_readmes_dump_of_a_deployed_set_simulates_green(scratch_cluster, tmp_path):
    kubectl = [
        str(localcluster.BIN / "kubectl"),
        f"--kubeconfig={scratch_cluster.kubeconfig}",
        f"--context={scratch_cluster.context}",
    ]
    subprocess.run([*kubectl, "create", "namespace", "orders"], capture_output=True, check=True)
    run_role(scratch_cluster, VARIABLES, tmp_path).assert_ok()

    mesh = tmp_path / "mesh"
    mesh.mkdir()
    command = readme_dump_command()
    assert command[0] == "kubectl"
    dumped = subprocess.run([*kubectl, *command[1:]], capture_output=True, text=True, check=True)
    (mesh / "mesh.yaml").write_text(dumped.stdout)
    items = yaml.safe_load(dumped.stdout)["items"]
    owned = [o for o in items if (o["metadata"].get("labels") or {}).get(EGRESS_SET_LABEL) == "sim"]
    assert {o["kind"] for o in owned} >= {"ServiceEntry", "Sidecar"}

    out = tmp_path / "simulate"
    run = simulate(inventory(tmp_path, mesh, **VARIABLES), out)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    data = report(out, "sim-a")
    assert data["violations"] == []
    deployed = [
        note for note in data["notes"] if "of the mesh's objects are egress set 'sim''s own as deployed" in note
    ]
    assert deployed == [
        f"{len(owned)} of the mesh's objects are egress set 'sim''s own as deployed: the rendered ones replace them"
    ]
    assert json.dumps(data).count("already exists") == 0
