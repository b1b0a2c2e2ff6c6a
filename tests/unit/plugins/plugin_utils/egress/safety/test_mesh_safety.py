# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a plan refuses, or points out, before any write: the mesh is never left worse than found."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import mesh as safety
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import others_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

OURS = ownership_labels("mine")
THEIRS = ownership_labels("theirs")
GATEWAY = {
    "namespace": "istio-system",
    "service": "istio-egressgateway",
    "selector": {"istio": "egressgateway"},
    "port": 443,
}
GATEWAY_SERVICE = {"spec": {"ports": [{"port": 80}, {"port": 443, "targetPort": 8443}]}}


def obj(kind, namespace, name, labels=None, group="networking.istio.io", **spec):
    return {
        "apiVersion": f"{group}/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": spec,
    }


def entry(namespace, name, hosts, labels=None, **spec):
    return obj("ServiceEntry", namespace, name, labels, hosts=list(hosts), **spec)


def sidecar(namespace, name, labels=None, hosts=("./*",), **spec):
    return obj("Sidecar", namespace, name, labels, egress=[{"hosts": list(hosts)}], **spec)


def check(desired, live, variable_prefix="", **options):
    refusals, notes = safety.check(desired, others_of(desired, live, OURS), **options)
    return named_options(([finding.text() for finding in refusals], notes), variable_prefix)


def test_a_second_selectorless_sidecar_is_refused_whoever_owns_it():
    ours = sidecar("orders", "aws-mine-egress", OURS)
    for other, owner in (
        (sidecar("orders", "default"), "not managed by meshops.aws_egress"),
        (sidecar("orders", "aws-theirs-egress", THEIRS), "of egress set 'theirs'"),
    ):
        refused, unused = check([ours], [other])
        assert len(refused) == 1
        assert (
            f"namespace orders already has {other['kind']} orders/{other['metadata']['name']} without a workload selector ({owner})"
            in refused[0]
        )
        assert "IST0111" in refused[0] and "stop listing orders" in refused[0]


def test_sidecars_that_can_coexist_are_not_refused():
    ours = sidecar("orders", "aws-mine-egress", OURS)
    scoped = sidecar("orders", "canary", workloadSelector={"labels": {"app": "canary"}})
    elsewhere = sidecar("billing", "default")
    previous_run = sidecar("orders", "aws-mine-egress", OURS)  # our own, as an earlier run left it
    assert check([ours], [scoped, elsewhere, previous_run]) == ([], [])


def test_a_host_another_entry_of_the_namespace_declares_is_refused():
    ours = entry(
        "istio-system", "aws-mine-sqs", ["sqs.us-east-1.amazonaws.com", "sqs-fips.us-east-1.amazonaws.com"], OURS
    )
    theirs = entry("istio-system", "aws-theirs-sqs", ["sqs.us-east-1.amazonaws.com"], THEIRS)
    refused, unused = check([ours], [theirs])
    assert refused == [
        "ServiceEntry istio-system/aws-theirs-sqs (of egress set 'theirs') already declares sqs.us-east-1.amazonaws.com, which "
        "ServiceEntry istio-system/aws-mine-sqs declares too; Istio keeps one ServiceEntry per host and namespace, the older: "
        "declare each host in one egress set only, or put the egress sets in different namespaces"
    ]
    hand_made = entry("istio-system", "sqs", ["sqs.us-east-1.amazonaws.com"])
    # An entry of no egress set: the host can be left to it.
    assert check([ours], [hand_made], variable_prefix="istio_aws_egress_")[0] == [
        "ServiceEntry istio-system/sqs (not managed by meshops.aws_egress) already declares sqs.us-east-1.amazonaws.com, which "
        "ServiceEntry istio-system/aws-mine-sqs declares too; Istio keeps one ServiceEntry per host and namespace, the older: "
        "leave it to that entry (istio_aws_egress_exclude_hosts: ['sqs.us-east-1.amazonaws.com']), or remove it"
    ]


def test_hosts_left_to_other_owners_are_said_with_who_declares_them():
    hand_made = entry("istio-system", "team-q-sqs", ["sqs.us-east-1.amazonaws.com"])
    theirs = entry("team-q", "aws-theirs-sqs", ["sqs.us-east-1.amazonaws.com"], THEIRS)
    unused, notes = check(
        [],
        [theirs, hand_made],
        excluded_hosts=["sqs.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com"],
        namespace="istio-system",
        variable_prefix="istio_aws_egress_",
    )
    assert notes == [  # the entry in the set's namespace first: the one Istio would have kept instead of the set's
        "istio_aws_egress_exclude_hosts: sqs.us-east-1.amazonaws.com is left to ServiceEntry istio-system/team-q-sqs (not managed "
        "by meshops.aws_egress), ServiceEntry team-q/aws-theirs-sqs (of egress set 'theirs')",
        "istio_aws_egress_exclude_hosts: sns.us-east-1.amazonaws.com is left to other owners, but no ServiceEntry declares it here: "
        "workloads do not reach it until one does",
    ]


def test_the_same_host_in_another_namespace_or_a_wildcard_beside_an_exact_host_is_fine():
    ours = entry("istio-system", "aws-mine-s3", ["bucket.s3.us-east-1.amazonaws.com"], OURS)
    assert check(
        [ours],
        [
            entry("team-egress", "s3", ["bucket.s3.us-east-1.amazonaws.com"]),
            entry("istio-system", "s3-any", ["*.s3.us-east-1.amazonaws.com"]),
        ],
    ) == ([], [])


def test_a_missing_namespace_is_refused_naming_what_needs_it():
    refused, unused = check([sidecar("orders", "aws-mine-egress", OURS)], [], missing_namespaces=["orders"])
    assert refused == [
        "namespace orders does not exist (Sidecar orders/aws-mine-egress would go there): "
        "create it first, or stop declaring resources there"
    ]


def test_gateway_routing_needs_the_gateway_service_with_its_port():
    desired = [entry("istio-system", "aws-mine-sqs", ["sqs.us-east-1.amazonaws.com"], OURS)]
    missing, unused = check(desired, [], gateway=GATEWAY, services={})
    assert len(missing) == 1 and "Service istio-system/istio-egressgateway does not exist" in missing[0]
    assert missing[0].endswith("or accept it (accept: [missing_gateway])")
    no_port, unused = check(
        desired,
        [],
        gateway=GATEWAY,
        services={("istio-system", "istio-egressgateway"): {"spec": {"ports": [{"port": 80}]}}},
    )
    assert "has no port 443 (it has [80])" in no_port[0]
    assert check(desired, [], gateway=GATEWAY, services={("istio-system", "istio-egressgateway"): GATEWAY_SERVICE}) == (
        [],
        [],
    )


def test_an_allow_policy_on_a_shared_gateway_is_refused_unless_other_allow_policies_cover_it():
    services = {("istio-system", "istio-egressgateway"): GATEWAY_SERVICE}
    other_gateway = obj("Gateway", "payments", "stripe-egress", selector={"istio": "egressgateway"})
    refused, unused = check([], [other_gateway], gateway=GATEWAY, services=services)
    assert len(refused) == 1
    assert (
        "the egress gateway also serves Gateway payments/stripe-egress, and no other ALLOW policy covers it"
        in refused[0]
    )
    assert refused[0].endswith("(accept: [cut_shared_gateway])")

    allow = obj(
        "AuthorizationPolicy",
        "istio-system",
        "stripe",
        group="security.istio.io",
        action="ALLOW",
        selector={"matchLabels": {"istio": "egressgateway"}},
    )
    refused, notes = check([], [other_gateway, allow], gateway=GATEWAY, services=services)
    assert refused == [] and "ALLOW policies already limit it (AuthorizationPolicy istio-system/stripe)" in notes[0]

    deny = obj("AuthorizationPolicy", "istio-system", "deny", group="security.istio.io", action="DENY")
    assert len(check([], [other_gateway, deny], gateway=GATEWAY, services=services)[0]) == 1
    unrelated = obj("Gateway", "payments", "ingress", selector={"istio": "ingressgateway"})
    assert check([], [unrelated], gateway=GATEWAY, services=services) == ([], [])


def test_entries_a_sidecar_would_hide_are_pointed_out():
    ours = sidecar(
        "orders",
        "aws-mine-egress",
        OURS,
        hosts=["./*", "*/*.svc.cluster.local", "istio-system/sqs.us-east-1.amazonaws.com"],
    )
    stripe = entry("payments", "stripe", ["api.stripe.com"])
    private = entry("payments", "vault", ["vault.payments.svc.cluster.local"])
    own = entry("orders", "db", ["db.example.com"])
    not_exported = entry("billing", "mail", ["smtp.example.com"], exportTo=["."])
    unused, notes = check([ours], [stripe, private, own, not_exported])
    assert notes == [
        "Sidecar orders/aws-mine-egress hides from namespace orders what it sees today: "
        "ServiceEntry payments/stripe (api.stripe.com); add what orders needs to the Sidecar hosts of this egress set"
    ]


def test_an_entry_hidden_whose_hosts_the_set_declares_needs_nothing_added():
    sqs = "sqs.eu-west-1.amazonaws.com"
    ours = [
        entry("istio-system", "aws-mine-sqs", [sqs], OURS),
        sidecar("orders", "aws-mine-egress", OURS, hosts=["./*", "*/*.svc.cluster.local", f"istio-system/{sqs}"]),
    ]
    team_q = entry("team-q", "sqs-euw1", [sqs])
    unused, notes = check(ours, [team_q])
    assert notes == [
        "Sidecar orders/aws-mine-egress hides from namespace orders ServiceEntry team-q/sqs-euw1 "
        f"({sqs}), whose hosts this egress set declares itself: orders reaches them through the set's entries"
    ]


@pytest.mark.parametrize(
    "pattern, entry_namespace, host, admitted",
    [
        ("*/*", "a", "x.com", True),
        ("./*", "orders", "x.com", True),
        ("./*", "a", "x.com", False),
        ("a/x.com", "a", "x.com", True),
        ("a/x.com", "b", "x.com", False),
        ("*/*.svc.cluster.local", "a", "s.a.svc.cluster.local", True),
        ("*/*.svc.cluster.local", "a", "api.stripe.com", False),
        ("~/*", "a", "x.com", False),
    ],
)
def test_sidecar_host_patterns(pattern, entry_namespace, host, admitted):
    assert safety._admits([pattern], "orders", entry_namespace, host) is admitted  # pylint: disable=protected-access


def routes(namespace, name, hosts, labels=None, gateways=("mesh", "gw"), export_to=None):
    spec = {"hosts": list(hosts), "gateways": list(gateways)}
    if export_to is not None:
        spec["exportTo"] = list(export_to)
    return obj("VirtualService", namespace, name, labels, **spec)


def test_a_host_another_virtual_service_routes_for_the_mesh_is_refused_where_both_are_seen():
    ours = routes(
        "egress-a", "aws-mine-egress-gateway", ["sqs.us-east-1.amazonaws.com", "kms.us-east-1.amazonaws.com"], OURS
    )
    theirs = routes("egress-b", "aws-theirs-egress-gateway", ["sqs.us-east-1.amazonaws.com"], THEIRS)
    refused, unused = check([ours], [theirs])
    assert refused == [
        "VirtualService egress-b/aws-theirs-egress-gateway (of egress set 'theirs') already routes sqs.us-east-1.amazonaws.com for the "
        "mesh, where VirtualService egress-a/aws-mine-egress-gateway would be seen too; which route applies is undefined "
        "(istioctl analyze IST0109): route each host through one egress set only, or give the sets exportTo that do not overlap"
    ]
    # Routes of a gateway alone, or seen in other namespaces only, do not meet ours.
    assert check([ours], [routes("egress-b", "gw-only", ["sqs.us-east-1.amazonaws.com"], gateways=["gw"])]) == ([], [])
    scoped = routes("egress-a", "aws-mine-egress-gateway", ["sqs.us-east-1.amazonaws.com"], OURS, export_to=["."])
    elsewhere = routes("egress-b", "other", ["sqs.us-east-1.amazonaws.com"], export_to=["orders"])
    assert check([scoped], [elsewhere]) == ([], [])
    assert (
        len(check([scoped], [routes("egress-b", "other", ["sqs.us-east-1.amazonaws.com"], export_to=["egress-a"])])[0])
        == 1
    )


def test_a_destination_rule_for_the_gateway_outside_its_namespace_is_pointed_out():
    services = {("istio-system", "istio-egressgateway"): GATEWAY_SERVICE}
    host = "istio-egressgateway.istio-system.svc.cluster.local"
    theirs = obj("DestinationRule", "orders", "tune-gateway", host=host)
    merged = obj("DestinationRule", "istio-system", "aws-other-egress-gateway", THEIRS, host=host)
    refused, notes = check([], [theirs, merged], gateway=GATEWAY, services=services)
    assert refused == [] and notes == [
        "DestinationRule orders/tune-gateway sets the egress gateway's host for the clients of its namespace, which then do not see "
        "our subset: their routed hosts fail; move such rules to istio-system"
    ]
