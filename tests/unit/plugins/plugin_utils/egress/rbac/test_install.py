# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Installing the role's RBAC, with the cluster's reads, the access review and the writes stubbed: what it plans, what it
refuses before any write, and that it never prunes and never takes the rollout lease."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.rbac import install as rbac_install
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import RBAC_KINDS
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels, rbac_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import LiveState
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.rbac.rules import rbac
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options


def rendered():
    """The objects templates/rbac.yaml.j2 renders, built from the same data (rbac.py)."""
    data = rbac("aws", ["orders"], subject={"kind": "User", "name": "operator"})
    roles = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": role["name"], "labels": dict(data["labels"])},
            "rules": role["rules"],
        }
        for role in data["cluster_roles"]
    ]
    bindings = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": binding["name"], "namespace": binding["namespace"], "labels": dict(data["labels"])},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": binding["role"]},
            "subjects": [data["subject"]],
        }
        for binding in data["role_bindings"]
    ]
    return roles + bindings


class Cluster:
    """The live objects, the rights, and every call that would write."""

    def __init__(self, objects=(), denied=()):
        self.objects = list(objects)
        self.denied = set(denied)
        self.reads, self.writes, self.reviews = [], [], []

    def read_live(self, reader, kinds, desired, owner_labels, lease=None, **_options):
        self.reads.append({"kinds": kinds, "labels": owner_labels, "lease": lease})
        return LiveState(
            served={kind: ["v1"] for kind in kinds},
            versions={kind: "v1" for kind in kinds},
            objects=copy.deepcopy(self.objects),
        )

    def review_all(self, api_client, checks):
        self.reviews.extend(checks)
        missing = [check for check in checks if check["verb"] in self.denied]
        return [check["permission"] for check in checks if check not in missing], missing

    def execute_k8s(self, args):
        self.writes.append(args)
        return {"changed": True}


@pytest.fixture()
def install(monkeypatch):
    def install(cluster, resources, **options):
        monkeypatch.setattr(rbac_install, "read_live", cluster.read_live)
        monkeypatch.setattr(rbac_install, "review_all", cluster.review_all)
        return rbac_install.install(resources, "prod", api_client=None, execute_k8s=cluster.execute_k8s, **options)

    return install


def test_a_first_run_creates_everything_in_one_server_side_apply_without_the_lease(install):
    cluster, resources = Cluster(), rendered()
    result = install(cluster, resources)
    assert result["changed"] and result["counts"]["create"] == len(resources) == 6
    [write] = cluster.writes
    assert write["definition"] == resources and write["apply"] is True
    assert write["server_side_apply"] == {"field_manager": "meshops.aws_egress", "force_conflicts": True}
    assert cluster.reads == [{"kinds": RBAC_KINDS, "labels": rbac_labels(), "lease": None}]
    assert {check["resource"] for check in cluster.reviews} == {"clusterroles", "rolebindings"}


def test_a_rerun_writes_nothing_and_reviews_nothing(install):
    cluster = Cluster(objects=rendered())
    result = install(cluster, rendered())
    assert not result["changed"] and result["counts"]["unchanged"] == 6
    assert cluster.writes == [] and cluster.reviews == []


def test_check_mode_plans_and_writes_nothing(install):
    cluster = Cluster()
    result = install(cluster, rendered(), check_mode=True)
    assert result["changed"] and result["summary"].startswith("6 to create")
    assert cluster.writes == [] and cluster.reviews == []


def test_ours_no_longer_declared_is_kept_never_pruned(install):
    cluster = Cluster(objects=rendered())
    result = install(cluster, rendered()[:-1])
    assert not result["changed"] and result["counts"]["keep"] == 1 and result["counts"]["prune"] == 0
    assert cluster.writes == []


@pytest.mark.parametrize(
    "labels, adopt, refused",
    [
        (
            {"app.kubernetes.io/managed-by": "someone-else"},
            False,
            "exists and is managed by 'someone-else'; set istio_aws_egress_adopt",
        ),
        (ownership_labels("prod"), False, "belongs to egress set 'prod'; one set never takes over"),
        (ownership_labels("prod"), True, "belongs to egress set 'prod'; one set never takes over"),
    ],
)
def test_another_owners_object_is_refused_before_any_write(install, labels, adopt, refused):
    theirs = copy.deepcopy(rendered()[0])
    theirs["metadata"]["labels"] = labels
    cluster = Cluster(objects=[theirs])
    with pytest.raises(EgressFailure) as failed:
        install(cluster, rendered(), adopt=adopt)
    reason = named_options(failed.value.reason, "istio_aws_egress_")
    assert failed.value.step == "refuse" and refused in reason and "nothing was written" in reason
    assert cluster.writes == []


def test_a_foreign_object_is_taken_over_when_adopted(install):
    theirs = copy.deepcopy(rendered()[0])
    theirs["metadata"]["labels"] = {}
    cluster = Cluster(objects=[theirs])
    result = install(cluster, rendered(), adopt=True)
    assert result["counts"]["adopt"] == 1 and len(cluster.writes[0]["definition"]) == 6


def test_a_missing_right_fails_before_any_write_naming_it(install):
    cluster = Cluster(denied={"create"})
    with pytest.raises(EgressFailure) as failed:
        install(cluster, rendered())
    assert (
        failed.value.step == "access" and "cannot create clusterroles.rbac.authorization.k8s.io" in failed.value.reason
    )
    assert cluster.writes == []


def test_what_is_not_rbac_is_refused_before_any_read(install):
    cluster = Cluster()
    entry = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": "x", "namespace": "aws"},
    }
    with pytest.raises(EgressFailure, match=r"resources\[6\]: ServiceEntry aws/x is not an RBAC object"):
        install(cluster, rendered() + [entry])
    assert cluster.reads == [] and cluster.writes == []


def test_the_python_that_runs_modules_is_checked_before_the_first_write(install):
    def no_kubernetes():
        raise EgressFailure("target", "checking the Python that runs modules for prod", "no kubernetes client")

    cluster = Cluster()
    with pytest.raises(EgressFailure, match="no kubernetes client"):
        install(cluster, rendered(), check_modules=no_kubernetes)
    assert cluster.writes == []
