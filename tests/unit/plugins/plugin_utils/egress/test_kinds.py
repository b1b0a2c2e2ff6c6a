# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One table of kinds: the versions written, and every kind in the RBAC, the access checks and the file names."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import render_files as files

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress import kinds

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.rbac import rules as rbac
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.needed_access import plan_checks
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import Plan

SERVICE_ENTRY = kinds.kind_of({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry"})
POLICY = kinds.kind_of({"apiVersion": "security.istio.io/v1beta1", "kind": "AuthorizationPolicy"})


def an(kind, namespace="ns"):
    return {
        "apiVersion": kind.api_version(kind.versions[0]),
        "kind": kind.kind,
        "metadata": {"name": f"x-{kind.plural}", **({"namespace": namespace} if kind.namespaced else {})},
    }


@pytest.mark.parametrize(
    "served, pin, networking, security",
    [
        (["v1", "v1beta1", "v1alpha3"], "auto", "v1", "v1"),
        (["v1beta1", "v1alpha3"], "auto", "v1beta1", "v1beta1"),
        (["v1", "v1beta1", "v1alpha3"], "v1alpha3", "v1alpha3", "v1beta1"),
        (["v1", "v1beta1", "v1alpha3"], "v1beta1", "v1beta1", "v1beta1"),
        (["v1beta1", "v1alpha3"], "v1", None, None),
    ],
)
def test_the_version_written_is_the_newest_served_or_the_pinned_one(served, pin, networking, security):
    assert kinds.chosen_version(SERVICE_ENTRY, served, pin) == networking
    assert kinds.chosen_version(POLICY, [v for v in served if v != "v1alpha3"], pin) == security


def test_a_kind_is_known_by_group_and_kind_not_version():
    assert kinds.kind_of({"apiVersion": "networking.istio.io/v1alpha3", "kind": "ServiceEntry"}) is SERVICE_ENTRY
    # Istio's Gateway and the Gateway API's (ambient mode's waypoint) share a kind's name, not a group.
    istio_gateway = kinds.kind_of({"apiVersion": "networking.istio.io/v1", "kind": "Gateway"})
    waypoint = kinds.kind_of({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway"})
    assert istio_gateway is not waypoint and waypoint.crd == "gateways.gateway.networking.k8s.io"
    with pytest.raises(kinds.UnknownKind, match="no kind 'HTTPRoute' in group 'gateway.networking.k8s.io'"):
        kinds.kind_of({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute"})


def test_paths_are_built_from_the_table():
    assert (
        SERVICE_ENTRY.collection_path("v1", "istio-system")
        == "/apis/networking.istio.io/v1/namespaces/istio-system/serviceentries"
    )
    assert SERVICE_ENTRY.collection_path("v1") == "/apis/networking.istio.io/v1/serviceentries"
    role = kinds.kind_of({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole"})
    assert role.collection_path("v1", "ignored") == "/apis/rbac.authorization.k8s.io/v1/clusterroles"


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: f"{k.group}/{k.kind}")
def test_every_kind_is_in_the_rbac_and_the_access_checks(kind):
    roles = {role["name"].rsplit("-", 1)[-1]: role["rules"] for role in rbac.cluster_roles()}
    listed = [rule for rule in roles["read"] if kind.plural in rule["resources"] and kind.group in rule["apiGroups"]]
    assert listed and listed[0]["verbs"] == ["list"], "the plan lists every kind cluster-wide"
    crds = next(rule["resourceNames"] for rule in roles["read"] if rule["resources"] == ["customresourcedefinitions"])
    if kind.crd:
        assert kind.crd in crds
    else:  # built into Kubernetes: served whatever is installed, and no CRD to read
        assert kind.group.endswith(".k8s.io") and not any(crd.startswith(f"{kind.plural}.") for crd in crds)
    for writer in kind.writers:
        written = [
            rule for rule in roles[writer] if kind.plural in rule["resources"] and kind.group in rule["apiGroups"]
        ]
        assert written and set(written[0]["verbs"]) == {"get", "create", "patch", "delete"}, writer

    checks = plan_checks(Plan(apply=[an(kind)], create=[f"{kind.kind} ns/x-{kind.plural}"], prune=[an(kind)]))
    assert {check["verb"] for check in checks if check["resource"] == kind.plural and check["group"] == kind.group} == {
        "get",
        "patch",
        "create",
        "delete",
    }


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: f"{k.group}/{k.kind}")
def test_every_kind_renders_to_a_file_that_a_later_run_can_prune(kind):
    rendered = files.render_files(
        [{**an(kind), "metadata": {**an(kind)["metadata"], "labels": {"meshops.io/egress-set": "s"}}}], "s"
    )
    ((name, text),) = rendered["files"].items()
    assert name == f"{kind.file_prefix}-ns-x-{kind.plural}.yaml"
    # Two kinds never write the same file name.
    assert [k.file_prefix for k in kinds.KINDS].count(kind.file_prefix) == 1
    import re

    assert re.fullmatch(rendered["prune_pattern"], name)
    assert re.search(rendered["prune_marker"], text, re.MULTILINE)
    assert not re.search(files.render_files([], "other")["prune_marker"], text, re.MULTILINE)


def test_the_rbac_subject_is_checked_and_named():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(
        AnsibleFilterError, match=r"^rbac_subject: \{'kind': 'ServiceAccount', 'name': 'ci'\} is not a subject"
    ):
        rbac.rbac("istio-system", subject={"kind": "ServiceAccount", "name": "ci"})
    bound = rbac.rbac("istio-system", ["orders", "orders"], "gateways", {"kind": "User", "name": "CI Bot"})
    assert [(b["role"], b["namespace"]) for b in bound["role_bindings"]] == [
        ("meshops-aws-egress-entries", "istio-system"),
        ("meshops-aws-egress-sidecars", "orders"),
        ("meshops-aws-egress-gateway", "gateways"),
    ]
    assert bound["cluster_role_bindings"][0]["name"] == "meshops-aws-egress-read-user-ci-bot"
