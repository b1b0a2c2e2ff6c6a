# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_defaults for group/meshops.aws_egress.egress set the kube auth of our modules and of kubernetes.core's."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, ansible_env, run_playbook
from role_helpers import unique_name

pytestmark = pytest.mark.integration

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "public_surface" / "module_defaults.yml"


def test_the_group_sets_the_kube_auth_of_every_module_in_a_play(local_cluster, tmp_path):
    namespace = unique_name("group")
    result_file = tmp_path / "result.json"
    # No kubeconfig anywhere else: without the group's defaults, no module could reach the cluster.
    nowhere = ansible_env(KUBECONFIG=str(tmp_path / "no-kubeconfig"), HOME=str(tmp_path))
    done = run_playbook(
        PLAYBOOK,
        extra_vars={
            "kubeconfig": local_cluster.kubeconfig,
            "context": local_cluster.context,
            "target_namespace": namespace,
            "egress_set": unique_name("group"),
            "result_file": str(result_file),
        },
        env=nowhere,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    found = json.loads(result_file.read_text())
    uid = json.loads(local_cluster.kubectl("get", "namespace", "kube-system", "-o", "json").stdout)["metadata"]["uid"]
    assert (
        found["kube_system"] == uid and found["identity"] == uid
    )  # kubernetes.core's k8s_info and our cluster_identity
    local_cluster.kubectl("get", "namespace", namespace)  # created by kubernetes.core.k8s
    planned = found["planned"]
    assert not planned.get("failed") and planned["changed"] is False and planned["cluster"] == local_cluster.context
    assert "serviceentries.networking.istio.io" in planned["api_versions"]  # read from the cluster
    assert found["reviewed"]["allowed"] == ["get namespaces"]
