# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least privilege: the role installs exactly its RBAC, and a right short fails the run before any write, naming it.

On a cluster of its own: the tests bind and unbind cluster-wide rights of the token users.
"""

from __future__ import annotations

import json

import pytest
import yaml

from hardening_helpers import labelled, render_role_template, scratch_clusters, user_kubeconfig
from role_helpers import fresh_namespace, run_role, unique_name
from role_templates import ROLE

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster():
    with scratch_clusters("rbac") as clusters:
        yield clusters[0]


def egress(namespace: str, name: str, **overrides) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs", "sns"],
        "istio_aws_egress_regions": ["eu-west-1"],
        **overrides,
    }


def as_admin(cluster) -> dict:
    return {"istio_aws_egress_kubeconfig": cluster.kubeconfig, "istio_aws_egress_context": cluster.context}


def test_install_rbac_writes_once_then_the_subject_runs_the_role(cluster, tmp_path):
    namespace, apps, name = (
        fresh_namespace(cluster, "rbac-install"),
        fresh_namespace(cluster, "rbac-apps"),
        unique_name("inst"),
    )
    admin = {
        **egress(namespace, name, istio_aws_egress_sidecars=[apps]),
        **as_admin(cluster),
        "istio_aws_egress_install_rbac": True,
        "istio_aws_egress_rbac_subject": {"kind": "User", "name": "operator"},
    }
    cluster.audit.mark()
    run_role(None, admin, tmp_path).assert_ok()
    rbac = sorted(
        (w["objectRef"]["resource"], w["objectRef"].get("namespace") or "")
        for w in cluster.audit.writes()
        if w["objectRef"].get("apiGroup") == "rbac.authorization.k8s.io"
    )
    assert rbac == sorted(
        [("clusterroles", "")] * 4 + [("clusterrolebindings", ""), ("rolebindings", namespace), ("rolebindings", apps)]
    )

    # Installed and applied already: a rerun writes nothing at all, not even RBAC.
    cluster.audit.mark()
    assert run_role(None, admin, tmp_path).assert_ok().changed == 0
    assert cluster.audit.writes() == []

    # The subject needs nothing more to change the egress set.
    operator = {
        **egress(namespace, name, istio_aws_egress_sidecars=[apps], istio_aws_egress_services=["sqs", "kms"]),
        "istio_aws_egress_kubeconfig": str(user_kubeconfig(cluster, "operator", tmp_path / "operator.kubeconfig")),
        "istio_aws_egress_context": "hardening",
    }
    # kms created, sns pruned: one task applies and prunes.
    assert run_role(None, operator, tmp_path).assert_ok().changed == 1
    assert sorted(labelled(cluster, "serviceentries", namespace, name)) == [
        f"aws-{name}-kms-eu-west-1",
        f"aws-{name}-sqs-eu-west-1",
    ]


def test_the_shipped_file_applies_as_it_is(cluster):
    applied = cluster.kubectl("apply", "--dry-run=server", "-f", str(ROLE / "files" / "rbac.yaml"))
    assert applied.stdout.count("(server dry run)") == 7, applied.stdout


def shipped_rbac_without(namespace: str, tag: str, removed: dict[str, set[str]]) -> list[dict]:
    """The role's RBAC for user `unprivileged`, with the ClusterRoles renamed for this test and `removed` verbs taken out."""
    docs = [
        d
        for d in yaml.safe_load_all(
            render_role_template(
                "rbac.yaml.j2",
                namespace=namespace,
                sidecar_namespaces=[],
                gateway_namespace=None,
                subject={"kind": "User", "name": "unprivileged", "apiGroup": "rbac.authorization.k8s.io"},
            )
        )
        if d
    ]
    for doc in docs:
        if doc["kind"] == "ClusterRole":
            doc["metadata"]["name"] += f"-{tag}"
            # One rule per resource, so that a verb is taken from that resource alone.
            rules = [{**rule, "resources": [resource]} for rule in doc["rules"] for resource in rule["resources"]]
            for rule in rules:
                rule["verbs"] = [v for v in rule["verbs"] if v not in removed.get(rule["resources"][0], set())]
            doc["rules"] = [rule for rule in rules if rule["verbs"]]
        else:
            doc["metadata"]["name"] += f"-{tag}"
            doc["roleRef"]["name"] += f"-{tag}"
    return docs


MISSING = {
    "create-and-lease": (
        {"serviceentries": {"create"}, "leases": {"update"}},
        False,
        [
            "missing permission on hardening: cannot create serviceentries.networking.istio.io in namespace {ns} (needed to create 2 resources); "
            "cannot update leases.coordination.k8s.io meshops-aws-egress in namespace {ns} (needed to hold the rollout lease)"
        ],
    ),
    "delete": (
        {"serviceentries": {"delete"}},
        True,
        [
            "missing permission on hardening: cannot delete serviceentries.networking.istio.io in namespace {ns} (needed to prune 1 resource)"
        ],
    ),
    "list": (
        {"sidecars": {"list"}},
        False,
        [
            "listing sidecars.networking.istio.io cluster-wide from hardening failed: 403 Forbidden:",
            'User "unprivileged" cannot list resource "sidecars" in API group "networking.istio.io" at the cluster scope',
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(MISSING))
def test_a_missing_right_fails_before_any_write_naming_it(cluster, tmp_path, case):
    removed, prune, messages = MISSING[case]
    namespace, name = fresh_namespace(cluster, f"rbac-{case}"), unique_name("short")
    declared = egress(namespace, name)
    if prune:  # something to prune: the set as it was, written by the admin
        run_role(
            None, {**declared, **as_admin(cluster), "istio_aws_egress_services": ["sqs", "sns", "kms"]}, tmp_path
        ).assert_ok()
    before = labelled(cluster, "serviceentries", namespace, name)
    rbac = shipped_rbac_without(namespace, unique_name(case), removed)
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": rbac}))
    try:
        cluster.audit.mark()
        failed = run_role(
            None,
            {
                **declared,
                "istio_aws_egress_context": "hardening",
                "istio_aws_egress_kubeconfig": str(
                    user_kubeconfig(cluster, "unprivileged", tmp_path / "unprivileged.kubeconfig")
                ),
            },
            tmp_path,
        )
        assert failed.returncode != 0
        for message in messages:
            assert failed.said(message.format(ns=namespace)), failed.stdout
        # Nothing written: at most the access reviews, which the API server answers and stores nowhere.
        assert {(w["verb"], w["objectRef"]["resource"]) for w in cluster.audit.writes()} <= {
            ("create", "selfsubjectaccessreviews")
        }
        assert labelled(cluster, "serviceentries", namespace, name) == before
    finally:
        for doc in rbac:
            cluster.kubectl(
                "delete",
                doc["kind"].lower(),
                doc["metadata"]["name"],
                *(["-n", doc["metadata"]["namespace"]] if doc["metadata"].get("namespace") else []),
                check=False,
            )
