# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The permissions a plan's writes need: per verb, resource and namespace, creates told apart.

kubernetes.core.k8s reads each object first (GET), then server-side applies it (PATCH, and create
rights for a new object) or deletes it (DELETE).
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.needed_access import plan_checks
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import UnknownKind
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import Plan, build_plan

LABELS = {"app.kubernetes.io/managed-by": "meshops.aws_egress", "meshops.io/egress-set": "default"}


def resource(kind, name, namespace="istio-system", group="networking.istio.io", **spec):
    return {
        "apiVersion": f"{group}/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(LABELS)},
        "spec": {"hosts": ["a.example.com"], **spec},
    }


def live(obj, **spec):
    served = copy.deepcopy(obj)
    served["spec"].update(spec)
    return served


def egress_plan(desired, live_objects, set_name):
    return build_plan(desired, live_objects, ownership_labels(set_name))


def checks(plan, **options):
    return {(c["verb"], c["permission"]): c["purpose"] for c in plan_checks(plan, **options)}


def test_apply_needs_get_patch_and_create_only_for_new_objects():
    new, changed, same = (resource("ServiceEntry", f"aws-default-{n}") for n in ("new", "changed", "same"))
    plan = egress_plan([new, changed, same], [live(changed, hosts=["b.example.com"]), live(same)], set_name="default")
    assert checks(plan) == {
        ("get", "get serviceentries.networking.istio.io in namespace istio-system"): "needed to apply 2 resources",
        ("patch", "patch serviceentries.networking.istio.io in namespace istio-system"): "needed to apply 2 resources",
        (
            "create",
            "create serviceentries.networking.istio.io in namespace istio-system",
        ): "needed to create 1 resource",
    }


def test_an_update_only_plan_needs_no_create():
    entry = resource("ServiceEntry", "aws-default-sqs")
    plan = egress_plan([entry], [live(entry, hosts=["b.example.com"])], set_name="default")
    assert {verb for verb, unused in checks(plan)} == {"get", "patch"}


def test_prune_needs_delete_per_resource_and_namespace():
    kept, gone = resource("ServiceEntry", "aws-default-kept"), resource("ServiceEntry", "aws-default-gone")
    sidecar = resource("Sidecar", "aws-default-egress", namespace="orders")
    policy = resource("AuthorizationPolicy", "aws-default-egress-gateway", group="security.istio.io")
    plan = egress_plan([live(kept, hosts=["c.example.com"])], [kept, gone, sidecar, policy], set_name="default")
    assert checks(plan) == {
        (
            "get",
            "get serviceentries.networking.istio.io in namespace istio-system",
        ): "needed to apply 1 resource and prune 1 resource",
        ("patch", "patch serviceentries.networking.istio.io in namespace istio-system"): "needed to apply 1 resource",
        ("delete", "delete serviceentries.networking.istio.io in namespace istio-system"): "needed to prune 1 resource",
        ("get", "get sidecars.networking.istio.io in namespace orders"): "needed to prune 1 resource",
        ("delete", "delete sidecars.networking.istio.io in namespace orders"): "needed to prune 1 resource",
        ("get", "get authorizationpolicies.security.istio.io in namespace istio-system"): "needed to prune 1 resource",
        (
            "delete",
            "delete authorizationpolicies.security.istio.io in namespace istio-system",
        ): "needed to prune 1 resource",
    }


def test_the_lease_needs_get_and_update_of_its_name_and_create():
    plan = egress_plan([resource("ServiceEntry", "aws-default-sqs")], [], set_name="default")
    found = [c for c in plan_checks(plan, lease_namespace="mesh", lease_name="lock") if c["resource"] == "leases"]
    assert [(c["verb"], c["name"], c["permission"], c["purpose"]) for c in found] == [
        ("get", "lock", "get leases.coordination.k8s.io lock in namespace mesh", "needed to hold the rollout lease"),
        ("create", None, "create leases.coordination.k8s.io in namespace mesh", "needed to hold the rollout lease"),
        (
            "update",
            "lock",
            "update leases.coordination.k8s.io lock in namespace mesh",
            "needed to hold the rollout lease",
        ),
    ]
    assert all(c["group"] == "coordination.k8s.io" for c in found)


def test_a_plan_without_writes_needs_nothing():
    entry = resource("ServiceEntry", "aws-default-sqs")
    assert plan_checks(egress_plan([entry], [live(entry)], set_name="default")) == []


def test_a_kind_the_role_never_writes():
    with pytest.raises(UnknownKind, match="no kind 'ConfigMap' in group 'core' is written by this collection"):
        plan_checks(
            Plan(apply=[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "y"}}])
        )
