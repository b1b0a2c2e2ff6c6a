# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ambient mode's layout (the waypoint, its policy, the entries bound to it) and the resolution of wildcard hosts."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import aws_endpoints
from ansible_collections.meshops.aws_egress.plugins.filter._egress_layout import egress_layout

WAYPOINT_LABEL = "istio.io/use-waypoint"
WAYPOINT_NAMESPACE_LABEL = "istio.io/use-waypoint-namespace"


def endpoints(services=("sqs", "s3"), **options):
    options.setdefault("regions", ["eu-west-1"])
    return aws_endpoints(list(services), name_prefix="aws-amb", **options)


def layout(found, **options):
    options.setdefault("namespace", "aws-egress")
    return egress_layout(found, name="amb", name_prefix="aws-amb", **options)


def ambient(found, **options):
    options.setdefault("caller_namespaces", ["orders", "billing", "orders"])
    return layout(found, mode="ambient", **options)


def entries_of(result):
    return {entry["name"]: entry for entry in result["service_entries"]}


def test_ambient_binds_exact_hosts_to_a_waypoint_it_creates_beside_them():
    result = ambient(endpoints(credential_sources=["imds"]))
    entries = entries_of(result)
    bound = {name for name, entry in entries.items() if entry["route"] == "waypoint"}
    assert bound == {"aws-amb-sqs-eu-west-1", "aws-amb-s3-eu-west-1"}
    for name in bound:
        # The waypoint is in the entries' namespace: no use-waypoint-namespace label.
        assert entries[name]["labels"] == {WAYPOINT_LABEL: "aws-amb-waypoint"}
    # Wildcards without DYNAMIC_DNS get no address to route by, and credentials are on the node: both direct, unlabelled.
    for name in ("aws-amb-s3-eu-west-1-wildcard", "aws-amb-credentials-imds"):
        assert (entries[name]["route"], entries[name]["labels"]) == ("direct", {})
    assert entries["aws-amb-s3-eu-west-1-wildcard"]["resolution"] == "NONE"
    assert entries["aws-amb-credentials-imds"]["resolution"] == "STATIC"

    waypoint = result["waypoint"]
    assert (waypoint["name"], waypoint["namespace"], waypoint["create"]) == ("aws-amb-waypoint", "aws-egress", True)
    assert waypoint["class_name"] == "istio-waypoint"
    assert waypoint["listener"] == {"name": "mesh", "port": 15008, "protocol": "HBONE", "allowed_routes": "Same"}
    assert waypoint["labels"] == {"istio.io/waypoint-for": "service"}
    assert waypoint["policy_name"] == "aws-amb-waypoint"
    assert waypoint["callers"] == ["billing", "orders"]
    assert waypoint["hosts"] == sorted(h for name in bound for h in entries[name]["hosts"])
    assert waypoint["annotations"] == {"meshops.io/aws-services": "s3,sqs", "meshops.io/aws-regions": "eu-west-1"}
    assert result["waypoint_check"] == {"name": "aws-amb-waypoint", "namespace": "aws-egress", "create": True}
    assert result["gateway"] is None and result["gateway_check"] is None
    assert result["notes"] == [
        "not through the waypoint (wildcard or link-local hosts): aws-amb-credentials-imds, "
        "aws-amb-s3-eu-west-1-wildcard; wildcard hosts go through it with wildcard_resolution: dynamic_dns, "
        "once istiod runs with ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true"
    ]


def test_an_existing_waypoint_elsewhere_is_named_by_both_labels_and_gets_the_policy():
    result = ambient(
        endpoints(services=["sqs"]), waypoint={"name": "egress", "namespace": "istio-egress", "create": False}
    )
    [entry] = result["service_entries"]
    assert entry["labels"] == {WAYPOINT_LABEL: "egress", WAYPOINT_NAMESPACE_LABEL: "istio-egress"}
    waypoint = result["waypoint"]
    assert (waypoint["name"], waypoint["namespace"], waypoint["create"], waypoint["policy_name"]) == (
        "egress",
        "istio-egress",
        False,
        "aws-amb-waypoint",
    )
    assert result["waypoint_check"] == {"name": "egress", "namespace": "istio-egress", "create": False}


def test_dynamic_dns_sends_wildcards_through_the_waypoint_and_says_what_istiod_needs():
    result = ambient(endpoints(services=["s3"]), wildcard_resolution="dynamic_dns", export_to=["."])
    entries = entries_of(result)
    wildcard = entries["aws-amb-s3-eu-west-1-wildcard"]
    assert (wildcard["resolution"], wildcard["route"]) == ("DYNAMIC_DNS", "waypoint")
    assert "*.s3.eu-west-1.amazonaws.com" in result["waypoint"]["hosts"]
    assert result["wildcard_resolution"] == "dynamic_dns"
    notes = " ".join(result["notes"])
    assert (
        "aws-amb-s3-eu-west-1-wildcard go through the waypoint with resolution DYNAMIC_DNS: istiod must run with "
        "ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true" in notes
    )
    assert "its policy admits only SNIs of the declared hosts" in notes
    # ztunnel ignores exportTo: the caller namespaces, not exportTo, limit who gets through.
    assert "ztunnel ignores exportTo" in notes
    assert "not through the waypoint" not in notes


@pytest.mark.parametrize("mode", ["sidecar", "egress_gateway"])
def test_dynamic_dns_changes_only_the_wildcards_resolution_in_the_other_modes(mode):
    found = endpoints(services=["s3", "dynamodb"], credential_sources=["imds"])
    options = {"mode": mode, "gateway": {"selector": {"istio": "egressgateway"}, "namespace": "gw", "service": "egw"}}
    plain, dynamic = layout(found, **options), layout(found, wildcard_resolution="dynamic_dns", **options)
    changed = {name for name, entry in entries_of(dynamic).items() if entry != entries_of(plain)[name]}
    assert changed == {"aws-amb-s3-eu-west-1-wildcard", "aws-amb-dynamodb-eu-west-1-wildcard"}
    assert {entries_of(dynamic)[name]["resolution"] for name in changed} == {"DYNAMIC_DNS"}
    # Through an egress gateway, wildcards stay direct: a gateway gets no SNI forward proxy filter (see the xDS tests).
    assert {entries_of(dynamic)[name]["route"] for name in changed} == {"direct"}
    # The notes are the mode's own: none about a waypoint or what istiod needs.
    direct = (
        []
        if mode == "sidecar"
        else [
            "not through the egress gateway (wildcard or link-local hosts): aws-amb-credentials-imds, "
            "aws-amb-dynamodb-eu-west-1-wildcard, aws-amb-s3-eu-west-1-wildcard"
        ]
    )
    assert (
        dynamic["gateway"] == plain["gateway"]
        and dynamic["waypoint"] is None
        and dynamic["notes"] == plain["notes"] == direct
    )


@pytest.mark.parametrize(
    "mode, choice, for_cluster",
    [
        ("sidecar", "auto", "auto"),
        ("egress_gateway", "auto", "auto"),
        ("ambient", "auto", "none"),
        ("sidecar", "none", "none"),
        ("sidecar", "dynamic_dns", "dynamic_dns"),
    ],
)
def test_auto_is_rendered_as_none_and_left_to_the_cluster_except_in_ambient_mode(mode, choice, for_cluster):
    result = layout(
        endpoints(services=["s3"]),
        mode=mode,
        wildcard_resolution=choice,
        caller_namespaces=["orders"],
        gateway={"selector": {"istio": "egressgateway"}, "namespace": "gw", "service": "egw"},
    )
    assert result["wildcard_resolution"] == for_cluster
    expected = "DYNAMIC_DNS" if choice == "dynamic_dns" else "NONE"
    assert entries_of(result)["aws-amb-s3-eu-west-1-wildcard"]["resolution"] == expected


def test_ambient_without_anything_to_route_has_no_waypoint_and_needs_no_callers():
    result = layout(endpoints(services=[], credential_sources=["imds"]), mode="ambient")
    assert result["waypoint"] is None and result["waypoint_check"] is None
    assert result["notes"] == ["not through the waypoint (wildcard or link-local hosts): aws-amb-credentials-imds"]


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"caller_namespaces": []},
            "caller_namespaces: ambient mode needs the namespaces whose workloads may call the declared hosts",
        ),
        ({"caller_namespaces": ["Orders"]}, "caller_namespaces[0]: 'Orders' is not a namespace name"),
        ({"caller_namespaces": "orders"}, "caller_namespaces: expected a list of namespace names, got str 'orders'"),
        (
            {"waypoint": {"namespace": "istio-egress"}},
            "waypoint.namespace: a waypoint the role creates lives beside the entries, in namespace aws-egress; to use a waypoint in "
            "'istio-egress', set create: false and give its name",
        ),
        ({"waypoint": {"create": False}}, "waypoint.name: name the existing waypoint to use (create: false)"),
        ({"waypoint": {"create": "no"}}, "waypoint.create: expected true or false, got str 'no'"),
        ({"waypoint": {"name": "w", "port": 1}}, "waypoint: unknown key 'port' (keys: name, namespace, create)"),
        ({"waypoint": ["w"]}, "waypoint: expected a dict with any of name, namespace, create, got list"),
        ({"waypoint": {"name": "Egress"}}, "waypoint.name: 'Egress' is not a Gateway name"),
        ({"wildcard_resolution": "dns"}, "wildcard_resolution: expected one of auto, none, dynamic_dns, got str 'dns'"),
    ],
)
def test_bad_ambient_options_name_the_variable(options, message):
    options = {"caller_namespaces": ["orders"], **options}
    with pytest.raises(AnsibleFilterError) as raised:
        egress_layout(
            endpoints(services=["sqs"]),
            name="amb",
            namespace="aws-egress",
            name_prefix="aws-amb",
            mode="ambient",
            variable_prefix="istio_aws_egress_",
            **options,
        )
    assert str(raised.value.message).startswith(f"istio_aws_egress_{message}")
