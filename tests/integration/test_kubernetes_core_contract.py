# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubernetes.core as a contract: what the collection relies on of it (module_utils/kubernetes_core.py) holds with the
oldest and the newest kubernetes.core of the range galaxy.yml allows, and with the one the ansible package bundles.

Real kubernetes.core.k8s failures from the local API server (a missing namespace, an object refused as invalid, a
write and a prune the user may not make) go through the collection's reading of them; our modules make their
client through kubernetes.core, in a module and on the controller. A release that changes what we read fails here.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

import kubernetes_core_releases
from conftest import ROOT, ansible_env, run_playbook
from hardening_helpers import user_kubeconfig
from kubernetes_core_releases import RELEASES
from role_helpers import fresh_namespace

from ansible_collections.meshops.aws_egress.plugins.module_utils.kubernetes_core import k8s_failure_status
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import (
    failure_text,
    write_failure,
)

pytestmark = pytest.mark.integration

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "kubernetes_core" / "failures.yml"
ENTRY = "ServiceEntry {namespace}/aws-contract-sqs"


def test_the_tested_releases_are_the_ends_of_the_range_galaxy_yml_allows():
    declared = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["dependencies"]["kubernetes.core"]
    assert declared == RELEASES["range"]
    environment = yaml.safe_load((ROOT / "docs" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert environment["dependencies"]["galaxy"]["collections"] == [{"name": "kubernetes.core", "version": declared}]
    lower, upper = re.fullmatch(r">=([0-9.]+),<([0-9.]+)", declared).groups()
    assert str(RELEASES["oldest"]["version"]) == lower

    def key(version):
        return tuple(int(part) for part in str(version).split("."))

    bundled = kubernetes_core_releases.manifest_version(kubernetes_core_releases.bundled())
    assert key(lower) <= key(bundled) <= key(RELEASES["newest"]["version"]) < key(upper)


@pytest.fixture(scope="module", params=["oldest", "bundled", "newest"])
def release(request) -> tuple[str, Path, str]:
    """(version, the kubernetes.core directory Ansible must load, a collections path that finds it first) of one release."""
    if request.param == "bundled":
        collection = kubernetes_core_releases.bundled()
        return kubernetes_core_releases.manifest_version(collection), collection, str(ROOT / ".collections")
    found = kubernetes_core_releases.collections_dir(RELEASES[request.param])
    return (
        str(RELEASES[request.param]["version"]),
        found / kubernetes_core_releases.MEMBERS.rstrip("/"),
        os.pathsep.join([str(found), str(ROOT / ".collections")]),
    )


def run_failures(local_cluster, release, tmp_path) -> tuple[dict, str]:
    version, collection, collections_path = release
    namespace = fresh_namespace(local_cluster, "contract")
    forbidden = user_kubeconfig(local_cluster, "unprivileged", tmp_path / "unprivileged.yaml")
    result_file = tmp_path / "results.json"
    ran = run_playbook(
        PLAYBOOK,
        "-vvv",
        env=ansible_env(ANSIBLE_COLLECTIONS_PATH=collections_path),
        extra_vars={
            "kubeconfig": local_cluster.kubeconfig,
            "context": local_cluster.context,
            "forbidden_kubeconfig": str(forbidden),
            "namespace": namespace,
            "result_file": str(result_file),
        },
        check=True,
    )
    # Ansible's loader, not the path we meant: the kubernetes.core.k8s module it ran is this release's.
    used = set(re.findall(r"Using module file (\S+/kubernetes/core/plugins/modules/k8s\.py)", ran.stdout))
    assert used == {str(collection / "plugins" / "modules" / "k8s.py")}, (
        f"kubernetes.core {version} expected, ran {used}"
    )
    return json.loads(result_file.read_text(encoding="utf-8")), namespace


def test_failures_read_as_the_collection_reads_them(local_cluster, release, tmp_path):
    results, namespace = run_failures(local_cluster, release, tmp_path)
    entry = ENTRY.format(namespace=namespace)
    absent = f"{namespace}-absent"

    def typed(step, name):
        result = results[name]
        assert result["failed"] is True, f"{name} did not fail: {result}"
        objects = [ENTRY.format(namespace=absent)] if name == "missing_namespace" else [entry]
        return write_failure(step, f"{step} 1 resource", k8s_failure_status(result), failure_text(result), objects)

    missing = typed("apply", "missing_namespace")
    assert missing.status == {
        "code": 404,
        "reason": "NotFound",
        "message": f'namespaces "{absent}" not found',
        "details": {"name": absent, "kind": "namespaces"},
    }
    assert missing.obj == ENTRY.format(namespace=absent) and missing.converges is False
    assert missing.fix == f"namespace {absent} does not exist: create it, then run again"

    invalid = typed("apply", "invalid")
    assert (invalid.status["code"], invalid.status["reason"]) == (422, "Invalid")
    assert invalid.status["details"]["name"] == "aws-contract-sqs" and "EVERYWHERE" in invalid.status["message"]
    assert invalid.obj == entry and invalid.converges is False and "refused the object as invalid" in invalid.fix

    for name, step, verb in (("forbidden_apply", "apply", "get"), ("forbidden_prune", "prune", "get")):
        forbidden = typed(step, name)
        assert (forbidden.status["code"], forbidden.status["reason"]) == (403, "Forbidden"), name
        assert forbidden.status["details"] == {
            "name": "aws-contract-sqs",
            "group": "networking.istio.io",
            "kind": "serviceentries",
        }
        assert f'User "unprivileged" cannot {verb} resource "serviceentries"' in forbidden.status["message"], name
        assert forbidden.obj == entry and forbidden.converges is False
        assert forbidden.reason.startswith(
            "403 Forbidden: serviceentries.networking.istio.io \"aws-contract-sqs\" is forbidden"
        )

    # Our modules' client, made by kubernetes.core: in a module, and on the controller.
    review = results["access_review"]
    assert review["failed"] is True and review["allowed"] == []
    assert [(check["verb"], check["resource"], check["namespace"]) for check in review["missing"]] == [
        ("patch", "serviceentries", None)
    ]
    uid = local_cluster.kubectl("get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}").stdout
    assert results["identity"]["uid"] == uid
