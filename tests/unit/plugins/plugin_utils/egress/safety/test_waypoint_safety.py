# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ambient mode on a cluster: the waypoint must be there and usable, and our policy must not cut its other users."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress import kinds

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import waypoint as waypoints
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import others_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import LiveState
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

OURS = ownership_labels("mine")
GATEWAY_API_GATEWAY = kinds.kind_of({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway"})
CREATED = {"name": "aws-mine-waypoint", "namespace": "aws", "create": True}
EXISTING = {"name": "egress", "namespace": "istio-egress", "create": False}


def waypoint(namespace="istio-egress", name="egress", labels=None, allowed=None, class_name="istio-waypoint"):
    listener = {
        "name": "mesh",
        "port": 15008,
        "protocol": "HBONE",
        **({"allowedRoutes": {"namespaces": allowed}} if allowed else {}),
    }
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"gatewayClassName": class_name, "listeners": [listener]},
    }


def entry(namespace, name, labels=None):
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"hosts": [f"{name}.example.com"]},
    }


def policy(namespace, name, target, action="ALLOW", labels=None):
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": target}],
            "action": action,
        },
    }


def namespace(name, **labels):
    return {"metadata": {"name": name, "labels": labels}}


OUR_ENTRY = entry(
    "aws",
    "aws-mine-sqs",
    {**OURS, "istio.io/use-waypoint": "egress", "istio.io/use-waypoint-namespace": "istio-egress"},
)
OUR_POLICY = policy("istio-egress", "aws-mine-waypoint", "egress", labels=OURS)
OUR_POLICY["spec"]["rules"] = [{"from": [{"source": {"namespaces": ["orders", "billing"]}}]}]


CALLERS = (namespace("orders"), namespace("billing"))


def check(live, the_waypoint="existing", namespaces=CALLERS, unserved=(), desired=(OUR_ENTRY, OUR_POLICY)):
    """(refusals as text, notes); `the_waypoint` is the existing one unless given."""
    state = LiveState(objects=list(live), namespace_list=list(namespaces), unserved=list(unserved))
    others = others_of(list(desired), state.objects, OURS)
    refusals, notes = waypoints.check(
        list(desired), state, others, EXISTING if the_waypoint == "existing" else the_waypoint, "aws", "prod-use1"
    )
    return named_options(([finding.text() for finding in refusals], notes))


def refusals_of(*args, **kwargs):
    return check(*args, **kwargs)[0]


def notes_of(*args, **kwargs):
    return check(*args, **kwargs)[1]


def test_nothing_is_checked_without_a_waypoint():
    assert check([], the_waypoint=None, unserved=[GATEWAY_API_GATEWAY]) == ([], [])


@pytest.mark.parametrize("the_waypoint", [CREATED, EXISTING])
def test_a_cluster_without_the_gateway_api_is_refused_naming_the_fix(the_waypoint):
    refused = refusals_of([], the_waypoint=the_waypoint, unserved=[GATEWAY_API_GATEWAY])
    assert refused == [
        "ambient mode's waypoint is a Gateway API Gateway, and prod-use1 serves no gateways.gateway.networking.k8s.io: "
        "install the Gateway API's CRDs (standard channel), then run again"
    ]


def test_a_named_waypoint_that_does_not_exist_is_refused():
    refused = refusals_of([waypoint(name="other")])
    assert refused == [
        "the waypoint Gateway istio-egress/egress does not exist, so the entries bound to it would reach nothing: "
        "create it first (istioctl waypoint apply -n istio-egress --name egress), or let the role create one "
        "(leave the waypoint's create and name out)"
    ]


def test_a_waypoint_we_create_need_not_exist_yet():
    assert check([], the_waypoint=CREATED) == ([], [])


@pytest.mark.parametrize(
    "allowed, admitted",
    [
        (None, False),
        ({"from": "Same"}, False),
        ({"from": "All"}, True),
        ({"from": "Selector", "selector": {"matchLabels": {"egress": "aws"}}}, True),
        ({"from": "Selector", "selector": {"matchLabels": {"egress": "other"}}}, False),
    ],
)
def test_a_waypoint_elsewhere_must_admit_routes_from_the_entries_namespace(allowed, admitted):
    refused = refusals_of([waypoint(allowed=allowed)], namespaces=[*CALLERS, namespace("aws", egress="aws")])
    if admitted:
        assert refused == []
    else:
        assert refused == [
            "the waypoint istio-egress/egress admits no routes from namespace aws (its HBONE listener's allowedRoutes), "
            "so the entries there could not use it and their traffic would skip it: set allowedRoutes.namespaces.from: "
            "All (or a selector that matches aws) on its HBONE listener, or use a waypoint in namespace aws"
        ]


@pytest.mark.parametrize("serves, refused", [("service", False), ("all", False), ("workload", True), ("none", True)])
def test_a_waypoint_that_serves_no_services_is_refused(serves, refused):
    found = refusals_of([waypoint(labels={"istio.io/waypoint-for": serves}, allowed={"from": "All"})])
    assert bool(found) == refused
    if refused:
        assert found[0].startswith(
            f"the waypoint istio-egress/egress serves no Services (istio.io/waypoint-for: {serves})"
        )


def test_a_waypoint_of_another_class_is_pointed_out():
    notes = notes_of([waypoint(allowed={"from": "All"}, class_name="custom-waypoint")])
    assert notes == [
        "the waypoint istio-egress/egress is of class custom-waypoint, not istio-waypoint: make sure it is a waypoint"
    ]


def test_an_allow_policy_on_a_shared_waypoint_is_refused_until_its_other_users_have_their_own():
    theirs = entry(
        "partners", "api", {"istio.io/use-waypoint": "egress", "istio.io/use-waypoint-namespace": "istio-egress"}
    )
    enrolled = namespace("istio-egress", **{"istio.io/use-waypoint": "egress"})
    elsewhere = entry(
        "partners", "other", {"istio.io/use-waypoint": "egress"}
    )  # egress of namespace partners: another waypoint
    live = [waypoint(allowed={"from": "All"}), theirs, elsewhere, OUR_ENTRY, OUR_POLICY]
    refused = refusals_of(live, namespaces=[*CALLERS, enrolled])
    assert refused == [
        "the waypoint istio-egress/egress also serves ServiceEntry partners/api, namespace istio-egress, and no other "
        "ALLOW policy covers it: our ALLOW policy would deny their traffic: add an ALLOW AuthorizationPolicy for that "
        "traffic first (targetRefs: the waypoint), or accept it (accept: [cut_shared_waypoint])"
    ]
    # A DENY policy admits nothing; another owner's ALLOW policy on the waypoint does.
    assert (
        check(live + [policy("istio-egress", "deny-some", "egress", action="DENY")], namespaces=[*CALLERS, enrolled])[0]
        == refused
    )
    refused, notes = check(live + [policy("istio-egress", "partners", "egress")], namespaces=[*CALLERS, enrolled])
    assert refused == []
    assert notes == [
        "the waypoint istio-egress/egress also serves ServiceEntry partners/api, namespace istio-egress; ALLOW policies "
        "already limit it (AuthorizationPolicy istio-egress/partners), and ours only adds the declared hosts"
    ]


def test_the_entries_own_namespace_being_enrolled_is_not_another_user():
    created = {"name": "aws-mine-waypoint", "namespace": "aws", "create": True}
    assert check(
        [],
        the_waypoint=created,
        namespaces=[namespace("aws", **{"istio.io/use-waypoint": "aws-mine-waypoint"})],
        desired=[OUR_ENTRY],
    ) == ([], [])


def test_namespaces_in_ambient_mode_bound_to_no_waypoint_are_pointed_out():
    spaces = [
        namespace("orders", **{"istio.io/dataplane-mode": "ambient"}),
        namespace("billing", **{"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "billing-waypoint"}),
        namespace("legacy"),
        namespace("batch", **{"istio.io/dataplane-mode": "ambient"}),
    ]
    notes = notes_of([], the_waypoint=CREATED, namespaces=[*CALLERS, *spaces])
    assert notes == [
        "namespaces in ambient mode bound to no waypoint (istio.io/dataplane-mode=ambient, no istio.io/use-waypoint): "
        "batch, orders; ztunnel does not enforce REGISTRY_ONLY, so their egress is open except to hosts a waypoint "
        "serves (this egress set's, for its caller namespaces only): close the rest with NetworkPolicy"
    ]


def test_the_role_may_list_namespaces_and_write_the_waypoint_beside_the_entries():
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.rbac.rules import cluster_roles, rbac

    roles = {role["name"].rsplit("-", 1)[-1]: role["rules"] for role in cluster_roles()}
    assert {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list"]} in roles["read"]
    assert {
        "apiGroups": ["gateway.networking.k8s.io"],
        "resources": ["gateways"],
        "verbs": ["get", "create", "patch", "delete"],
    } in roles["entries"]
    # In ambient mode the role binds the gateway role (AuthorizationPolicies) where the waypoint is.
    bound = rbac("aws", gateway_namespace="istio-egress", subject={"kind": "User", "name": "ci"})["role_bindings"]
    assert ("meshops-aws-egress-gateway", "istio-egress") in [(b["role"], b["namespace"]) for b in bound]


def test_caller_namespaces_that_do_not_exist_are_pointed_out():
    notes = notes_of([waypoint(allowed={"from": "All"})], namespaces=[namespace("orders")])
    assert notes == [
        "the waypoint's policy admits callers from namespaces that do not exist: billing (istioctl analyze IST0101); "
        "their workloads get through once the namespaces are made"
    ]
