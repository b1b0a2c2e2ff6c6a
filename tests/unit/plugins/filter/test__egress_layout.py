# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which Istio resources an egress set gets, from real endpoints of the aws_endpoints filter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import aws_endpoints
from ansible_collections.meshops.aws_egress.plugins.filter._egress_layout import FilterModule, egress_layout
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import data_version

# The role's templates, rendered as the role renders them (shared with the integration tests).
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "integration"))
from role_templates import render_all  # noqa: E402  pylint: disable=wrong-import-position

GATEWAY = {"selector": {"istio": "egressgateway"}, "namespace": "istio-system", "service": "istio-egressgateway"}


def endpoints(services=("sqs", "s3"), name="default", **options):
    options.setdefault("regions", ["eu-west-1"])
    return aws_endpoints(list(services), name_prefix=f"aws-{name}", **options)


def layout(found, name="default", **options):
    options.setdefault("namespace", "istio-system")
    return egress_layout(found, name=name, name_prefix=f"aws-{name}", **options)


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"_egress_layout": egress_layout}


def test_sidecar_mode_is_one_service_entry_per_endpoint_and_nothing_else():
    found = endpoints(credential_sources=["imds"])
    result = layout(found)
    assert [e["name"] for e in result["service_entries"]] == [e["name"] for e in found]
    assert result["gateway"] is None and result["sidecars"] == [] and result["direct_in_gateway_mode"] == []
    assert result["labels"] == {
        "app.kubernetes.io/managed-by": "meshops.aws_egress",
        "meshops.io/egress-set": "default",
    }
    assert result["service_entries"] and all(e["export_to"] == ["*"] for e in result["service_entries"])
    assert not any(note.startswith("not through the egress gateway") for note in result["notes"])
    assert {e["route"] for e in result["service_entries"]} == {"direct"}


def test_service_entries_carry_what_they_were_opened_for():
    found = endpoints(services=["sqs"], credential_sources=["irsa", "imds"])
    entries = {e["name"]: e for e in layout(found)["service_entries"]}
    assert entries["aws-default-sqs-eu-west-1"]["annotations"] == {
        "meshops.io/aws-services": "sqs",
        "meshops.io/aws-regions": "eu-west-1",
    }
    assert entries["aws-default-sts-eu-west-1"]["annotations"]["meshops.io/aws-services"] == "credential_source:irsa"
    imds = entries["aws-default-credentials-imds"]
    assert imds["annotations"] == {
        "meshops.io/aws-services": "credential_source:imds"
    }  # no regions: the node's endpoint
    assert (imds["port"], imds["port_name"], imds["protocol"], imds["resolution"]) == (80, "http", "HTTP", "STATIC")
    assert imds["addresses"] == ["169.254.169.254"] and imds["endpoints"] == [{"address": "169.254.169.254"}]
    assert entries["aws-default-sqs-eu-west-1"]["port_name"] == "tls"


def test_gateway_mode_routes_exact_hosts_and_keeps_wildcards_and_credentials_direct():
    found = endpoints(services=["sqs", "s3"], credential_sources=["imds"])
    result = layout(found, mode="egress_gateway", gateway={**GATEWAY, "namespace": "egress"})
    routes = {e["name"]: e["route"] for e in result["service_entries"]}
    assert routes["aws-default-sqs-eu-west-1"] == "gateway"
    assert routes["aws-default-s3-eu-west-1"] == "gateway"
    assert routes["aws-default-s3-eu-west-1-wildcard"] == "direct"
    assert routes["aws-default-credentials-imds"] == "direct"
    assert result["direct_in_gateway_mode"] == ["aws-default-credentials-imds", "aws-default-s3-eu-west-1-wildcard"]
    # Said by the plan and by render mode alike.
    assert result["notes"][0] == (
        "not through the egress gateway (wildcard or link-local hosts): aws-default-credentials-imds, "
        "aws-default-s3-eu-west-1-wildcard"
    )
    gateway = result["gateway"]
    routed_hosts = sorted(h for e in found if routes[e["name"]] == "gateway" for h in e["hosts"])
    assert gateway["hosts"] == routed_hosts and not any(h.startswith("*") for h in gateway["hosts"])
    assert gateway["name"] == "aws-default-egress-gateway"
    # Gateway and VirtualService with the entries; DestinationRule and AuthorizationPolicy with the gateway.
    assert gateway["namespace"] == "istio-system" and gateway["gateway_namespace"] == "egress"
    assert gateway["service_host"] == "istio-egressgateway.egress.svc.cluster.local"
    assert gateway["subset"] == "aws-default" and gateway["port"] == 443
    assert gateway["annotations"]["meshops.io/aws-services"] == "s3,sqs"


def test_gateway_mode_with_nothing_to_route_has_no_gateway_resources():
    result = layout(endpoints(services=[], credential_sources=["imds"]), mode="egress_gateway", gateway=GATEWAY)
    assert result["gateway"] is None
    assert result["direct_in_gateway_mode"] == ["aws-default-credentials-imds"]


def test_sidecars_keep_their_namespace_and_the_mesh_and_narrow_aws_to_the_declared_hosts():
    found = endpoints(services=["sqs"])
    result = layout(found, namespace="aws-egress", sidecars=["orders", "billing", "orders"])
    assert [s["namespace"] for s in result["sidecars"]] == ["billing", "orders"]
    sidecar = result["sidecars"][0]
    assert sidecar["name"] == "aws-default-egress"
    assert sidecar["hosts"] == ["*/*.svc.cluster.local", "./*", "aws-egress/sqs.eu-west-1.amazonaws.com"]


def test_sidecars_name_the_declared_hosts_exactly_even_in_istio_system():
    # istio-system/* would admit every other egress set's hosts there too.
    result = layout(endpoints(services=["sqs"]), namespace="istio-system", sidecars=["orders"])
    assert result["sidecars"][0]["hosts"] == [
        "*/*.svc.cluster.local",
        "./*",
        "istio-system/sqs.eu-west-1.amazonaws.com",
    ]


def test_a_sidecar_in_the_entries_namespace_has_them_through_its_own():
    result = layout(endpoints(services=["sqs"]), namespace="orders", sidecars=["orders"])
    assert result["sidecars"][0]["hosts"] == ["*/*.svc.cluster.local", "./*"]


def test_the_in_mesh_hosts_are_the_users_to_choose():
    result = layout(
        endpoints(services=["sqs"]), namespace="aws-egress", sidecars=["orders"], sidecar_hosts=["payments/*"]
    )
    assert result["sidecars"][0]["hosts"] == ["./*", "aws-egress/sqs.eu-west-1.amazonaws.com", "payments/*"]
    assert layout(endpoints(services=[]), sidecars=["orders"], sidecar_hosts=[])["sidecars"][0]["hosts"] == ["./*"]


@pytest.mark.parametrize("host", ["payments", "/x", "Payments/*", "payments/foo_bar", "*/**.svc", "payments/a..b", 7])
def test_a_sidecar_host_that_is_not_namespace_slash_host_is_refused(host):
    with pytest.raises(AnsibleFilterError, match=r"sidecar_hosts\[0\]: .* is not a Sidecar egress host"):
        layout(endpoints(services=[]), sidecars=["orders"], sidecar_hosts=[host])


def test_sidecars_reach_the_gateway_service():
    for gateway_namespace in ("egress", "istio-system"):
        result = layout(
            endpoints(services=["sqs"]),
            namespace="aws-egress",
            sidecars=["orders"],
            mode="egress_gateway",
            gateway={**GATEWAY, "namespace": gateway_namespace},
        )
        assert (
            f"{gateway_namespace}/istio-egressgateway.{gateway_namespace}.svc.cluster.local"
            in result["sidecars"][0]["hosts"]
        )


def test_what_the_gateway_must_offer_is_said_only_when_hosts_go_through_it():
    routed = layout(endpoints(services=["sqs"]), mode="egress_gateway", gateway=GATEWAY)
    assert routed["gateway_check"] == {
        "namespace": GATEWAY["namespace"],
        "service": GATEWAY["service"],
        "selector": GATEWAY["selector"],
        "port": 443,
    }
    assert layout(endpoints(services=["sqs"]))["gateway_check"] is None
    assert (
        layout(endpoints(services=[], credential_sources=["imds"]), mode="egress_gateway", gateway=GATEWAY)[
            "gateway_check"
        ]
        is None
    )


def test_two_egress_sets_never_share_a_name():
    first = layout(endpoints(name="alpha"), name="alpha", mode="egress_gateway", gateway=GATEWAY, sidecars=["a"])
    second = layout(endpoints(name="beta"), name="beta", mode="egress_gateway", gateway=GATEWAY, sidecars=["a"])

    def names(result):
        return (
            {e["name"] for e in result["service_entries"]}
            | {result["gateway"]["name"]}
            | {s["name"] for s in result["sidecars"]}
        )

    assert not names(first) & names(second)


def test_names_stay_dns_labels_for_the_longest_set_name():
    name = "a" * 30
    result = layout(
        endpoints(name=name, services=["sqs"], regions=["ap-southeast-2"]),
        name=name,
        mode="egress_gateway",
        gateway=GATEWAY,
        sidecars=["x"],
    )
    for found in result["service_entries"] + [result["gateway"]] + result["sidecars"]:
        assert len(found["name"]) <= 63 and found["name"].startswith(f"aws-{name}-")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"namespace": "Istio_System"}, "namespace: 'Istio_System' is not a namespace name"),
        ({"name": "-x"}, "name: '-x' is not an egress set name"),
        ({"mode": "gateway"}, "mode: expected one of sidecar, egress_gateway, ambient, got str 'gateway'"),
        ({"sidecars": ["orders", "Billing"]}, "sidecars[1]: 'Billing' is not a namespace name"),
        ({"sidecars": "orders"}, "sidecars: expected a list, got str 'orders'"),
        ({"export_to": ["*", "*"]}, "export_to[1]: '*' is listed twice; Istio refuses duplicates in exportTo"),
        ({"export_to": ["all"]}, None),  # a namespace may be called "all"
        ({"export_to": ["a/b"]}, "export_to[0]: 'a/b' is not '*', '.', '~' or a namespace name"),
        (
            {"mode": "egress_gateway", "gateway": {"selector": {"istio": "egressgateway"}}},
            "gateway: egress_gateway mode needs selector, namespace, service; missing or empty: namespace, service",
        ),
        (
            {"mode": "egress_gateway", "gateway": {**GATEWAY, "selector": "istio=egressgateway"}},
            "gateway.selector: expected a dict of pod labels (strings to strings), got str 'istio=egressgateway'",
        ),
        (
            {"mode": "egress_gateway", "gateway": {**GATEWAY, "namespace": "Egress"}},
            "gateway.namespace: 'Egress' is not a namespace name",
        ),
        (
            {"mode": "egress_gateway", "gateway": None},
            "gateway: egress_gateway mode needs a dict with selector, namespace, service, got None",
        ),
        ({"gateway": None}, None),  # sidecar mode does not use the gateway
    ],
)
def test_bad_options_name_the_option(options, message):
    name = options.pop("name", "default")
    options.setdefault("namespace", "istio-system")
    if message is None:
        egress_layout(endpoints(), name=name, name_prefix="aws-default", **options)
        return
    with pytest.raises(AnsibleFilterError) as raised:
        egress_layout(endpoints(), name=name, name_prefix="aws-default", **options)
    assert str(raised.value.message).startswith(f"meshops.aws_egress._egress_layout: {message}")


def test_endpoints_that_are_not_endpoints_are_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="expected endpoint dicts from meshops.aws_egress.aws_endpoints"):
        layout([{"name": "x"}])


def test_in_gateway_mode_what_is_routed_is_seen_where_the_entries_are_and_by_the_gateway():
    gateway = {**GATEWAY, "namespace": "egress"}
    found = endpoints(services=["sqs"], credential_sources=["imds"])
    routed = layout(found, namespace="team-a", mode="egress_gateway", gateway=gateway, export_to=["orders", "billing"])
    entries = {e["name"]: e["export_to"] for e in routed["service_entries"]}
    assert entries == {
        "aws-default-sqs-eu-west-1": ["billing", "egress", "orders"],
        "aws-default-credentials-imds": ["orders", "billing"],
    }
    assert routed["gateway"]["routing_export_to"] == ["billing", "egress", "orders"]
    assert routed["gateway"]["rule_export_to"] == ["billing", "orders"]
    # "." is the entries' namespace; the DestinationRule lives with the gateway and names it.
    own = layout(found, namespace="team-a", mode="egress_gateway", gateway=gateway, export_to=["."])
    assert [e["export_to"] for e in own["service_entries"] if e["route"] == "gateway"] == [[".", "egress"]]
    assert own["gateway"]["routing_export_to"] == [".", "egress"] and own["gateway"]["rule_export_to"] == ["team-a"]
    # "~" (nowhere) is for ServiceEntries only: routed ones are seen by the gateway alone, the routing stays home.
    hidden = layout(found, namespace="team-a", mode="egress_gateway", gateway=gateway, export_to=["~"])
    assert [e["export_to"] for e in hidden["service_entries"] if e["route"] == "gateway"] == [["egress"]]
    assert hidden["gateway"]["routing_export_to"] == ["egress"] and hidden["gateway"]["rule_export_to"] == ["."]
    everywhere = layout(found, mode="egress_gateway", gateway=gateway)
    assert everywhere["gateway"]["routing_export_to"] == everywhere["gateway"]["rule_export_to"] == ["*"]


def test_a_sidecar_namespace_that_does_not_see_the_entries_is_refused():
    with pytest.raises(
        AnsibleFilterError,
        match=r"sidecars\[1\]: 'billing' does not see the entries, which the filter's export_to "
        r"\['\.'\] exports to 'team-a'",
    ):
        layout(endpoints(services=["sqs"]), namespace="team-a", sidecars=["team-a", "billing"], export_to=["."])
    layout(endpoints(services=["sqs"]), namespace="team-a", sidecars=["billing"], export_to=["billing"])


def test_every_resource_records_the_endpoint_data_it_was_produced_with():
    # Beside the labels, as the labels are: the role's templates put them on every resource (rendered below).
    result = layout(
        endpoints(credential_sources=["imds"]),
        mode="egress_gateway",
        gateway=GATEWAY,
        sidecars=["orders"],
        network_policy="cilium",
    )
    versions = data_version.current()
    assert result["endpoint_data"] == versions
    assert result["annotations"] == {
        "meshops.io/botocore-version": versions["botocore"],
        "meshops.io/collection-version": versions["collection"],
    }
    ambient = layout(
        endpoints(), mode="ambient", caller_namespaces=["orders"], network_policy="kubernetes", sidecars=["orders"]
    )
    (gateway_mode, ambient_mode) = render_all(
        [
            ("resources.yaml.j2", {"layout": found, "networking_version": "v1", "security_version": "v1"})
            for found in (result, ambient)
        ]
    )
    documents = [doc for out in (gateway_mode, ambient_mode) for doc in yaml.safe_load_all(out["text"]) if doc]
    assert {doc["kind"] for doc in documents} == {
        "ServiceEntry",
        "Gateway",
        "DestinationRule",
        "VirtualService",
        "AuthorizationPolicy",
        "Sidecar",
        "CiliumNetworkPolicy",
        "NetworkPolicy",
    }
    assert [
        doc["metadata"]["name"]
        for doc in documents
        if not result["annotations"].items() <= doc["metadata"]["annotations"].items()
    ] == []


def test_no_endpoints_record_no_endpoint_data():
    # Removing a set (state: absent) expands nothing, and needs no botocore.
    result = layout([])
    assert result["annotations"] == {} and result["endpoint_data"] is None


def test_a_host_left_to_another_owner_gets_no_entry_and_stays_in_reach_of_the_sidecars():
    found = endpoints(["sqs", "sns"], credential_sources=["imds"])
    result = layout(
        found,
        mode="egress_gateway",
        gateway=GATEWAY,
        sidecars=["orders"],
        exclude_hosts=["sqs.eu-west-1.amazonaws.com"],
    )
    hosts = [host for entry in result["service_entries"] for host in entry["hosts"]]
    assert "sqs.eu-west-1.amazonaws.com" not in hosts and "sns.eu-west-1.amazonaws.com" in hosts
    assert result["gateway"]["hosts"] == ["sns.eu-west-1.amazonaws.com"]
    assert result["excluded_hosts"] == ["sqs.eu-west-1.amazonaws.com"]
    (sidecar,) = result["sidecars"]
    # Whichever namespace declares it: the set does not know where its owner put its entry.
    assert (
        "*/sqs.eu-west-1.amazonaws.com" in sidecar["hosts"]
        and "istio-system/sqs.eu-west-1.amazonaws.com" not in sidecar["hosts"]
    )


def test_a_host_to_leave_that_the_set_does_not_have_is_refused():
    with pytest.raises(AnsibleFilterError) as refused:
        egress_layout(
            endpoints(["sqs"]),
            name="default",
            name_prefix="aws-default",
            namespace="istio-system",
            exclude_hosts=["sqs.eu-west-2.amazonaws.com"],
            variable_prefix="istio_aws_egress_",
        )
    assert refused.value.message == (
        "istio_aws_egress_exclude_hosts[0]: 'sqs.eu-west-2.amazonaws.com' is not a host of this egress "
        "set; did you mean 'sqs.eu-west-1.amazonaws.com'?"
    )
