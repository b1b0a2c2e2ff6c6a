# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Our network policies next to what the cluster holds: what they would cut is refused, what they cannot narrow is said."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.filter._egress_layout import egress_layout
from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import aws_endpoints
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import policies as policy_safety
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import others_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

OURS = ownership_labels("shop")
THEIRS = ownership_labels("theirs")
GATEWAY = {"selector": {"istio": "egressgateway"}, "namespace": "egress", "service": "istio-egressgateway"}


def desired(network_policy="kubernetes", services=("sqs",), **options):
    """Our resources as the role declares them: the policies and the Sidecars, as objects."""
    found = aws_endpoints(list(services), regions=["eu-west-1"], credential_sources=["imds"], name_prefix="aws-shop")
    result = egress_layout(
        found,
        name="shop",
        namespace="aws-egress",
        name_prefix="aws-shop",
        sidecars=["orders"],
        network_policy=network_policy,
        **options,
    )
    objects = [
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "Sidecar",
            "metadata": {"name": s["name"], "namespace": s["namespace"], "labels": OURS},
            "spec": {"egress": [{"hosts": s["hosts"]}]},
        }
        for s in result["sidecars"]
    ]
    for policy in result["network_policies"]:
        cilium = policy["kind"] == "CiliumNetworkPolicy"
        spec = {"endpointSelector" if cilium else "podSelector": policy["selector"], "egress": policy["egress"]}
        if not cilium:
            spec["policyTypes"] = ["Egress"]
        objects.append(
            {
                "apiVersion": "cilium.io/v2" if cilium else "networking.k8s.io/v1",
                "kind": policy["kind"],
                "metadata": {"name": policy["name"], "namespace": policy["namespace"], "labels": OURS},
                "spec": spec,
            }
        )
    return objects


def entry(namespace, name, hosts, port, protocol="TLS", labels=None, **spec):
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"hosts": hosts, "ports": [{"number": port, "name": "p", "protocol": protocol}], **spec},
    }


def network_policy(namespace, name, selector=None, egress=None, types=("Egress",)):
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "podSelector": selector or {},
            "policyTypes": list(types),
            "egress": egress if egress is not None else [],
        },
    }


def gateway(namespace, name, servers, labels=None, selector=None):
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"selector": selector or {"istio": "egressgateway"}, "servers": servers},
    }


def server(port, protocol, hosts):
    return {"port": {"number": port, "name": f"p{port}", "protocol": protocol}, "hosts": hosts}


def check(ours, live):
    refusals, notes = policy_safety.check(ours, others_of(ours, live, OURS))
    return named_options(([finding.text() for finding in refusals], notes), "istio_aws_egress_")


DATABASE = entry("data", "orders-db", ["db.partner.example"], 5432, "TCP")
PARTNER_API = entry("data", "partner-api", ["api.partner.example"], 443)


def test_nothing_to_say_without_our_policies():
    assert check(desired("none"), [DATABASE]) == ([], [])


def test_an_external_entry_the_sidecar_admits_on_a_port_the_policy_closes_is_refused():
    refused, notes = check(desired(sidecar_hosts=["*/*"]), [DATABASE, PARTNER_API])
    assert refused == [
        "NetworkPolicy orders/aws-shop-egress would be the first egress policy on the pods of namespace orders and cut what the "
        "mesh lets them reach today: db.partner.example:5432 (ServiceEntry data/orders-db (not managed by meshops.aws_egress)): "
        "allow it with a rule in istio_aws_egress_network_policy_egress, or stop listing orders, or accept it "
        "(istio_aws_egress_accept: [network_policy_cut])"
    ]
    assert notes == []


def test_what_the_sidecar_hides_already_is_not_ours_to_cut():
    # The default Sidecar hosts admit in-cluster names only: the mesh cuts the database already.
    assert check(desired(), [DATABASE]) == ([], [])
    assert check(
        desired(sidecar_hosts=["data/*"]), [entry("data", "local", ["db.data.svc.cluster.local"], 5432, "TCP")]
    ) == ([], [])


def test_an_entry_the_policy_allows_is_no_cut():
    # 443 at any address (sidecar mode), and the declared link-local endpoint on 80.
    imds_elsewhere = entry(
        "other",
        "imds",
        ["imds.other.internal"],
        80,
        "HTTP",
        addresses=["169.254.169.254"],
        endpoints=[{"address": "169.254.169.254"}],
        resolution="STATIC",
    )
    assert check(desired(sidecar_hosts=["*/*"]), [PARTNER_API, imds_elsewhere]) == ([], [])
    # The user's own rule opens the database.
    extra = [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 5432}]}]
    static_db = entry(
        "data",
        "orders-db",
        ["db.partner.example"],
        5432,
        "TCP",
        resolution="STATIC",
        endpoints=[{"address": "10.20.1.5"}],
    )
    assert check(desired(sidecar_hosts=["*/*"], network_policy_egress=extra), [static_db]) == ([], [])
    assert check(desired(sidecar_hosts=["*/*"], network_policy_egress=extra), [DATABASE])[0]  # its address is unknown


def test_cilium_cuts_external_hosts_it_does_not_name():
    refused = check(desired("cilium", sidecar_hosts=["*/*"]), [PARTNER_API])[0]
    assert len(refused) == 1 and "api.partner.example:443 (ServiceEntry data/partner-api" in refused[0]
    # Named among the Sidecar hosts, Cilium opens it by name.
    assert check(
        desired("cilium", sidecar_hosts=["*/*.svc.cluster.local", "data/api.partner.example"]), [PARTNER_API]
    ) == ([], [])


def test_pods_another_policy_limits_already_only_gain_and_a_note_says_so():
    theirs = network_policy("orders", "default-deny")
    allow_all = network_policy("orders", "allow-all", egress=[{}])
    refused, notes = check(desired(sidecar_hosts=["*/*"]), [DATABASE, theirs, allow_all])
    assert refused == []
    assert notes == [
        "egress of the pods of namespace orders is limited already by NetworkPolicy orders/default-deny (not managed by "
        "meshops.aws_egress), NetworkPolicy orders/allow-all (not managed by meshops.aws_egress); allows of all policies on a "
        "pod add up, so what those allow stays allowed next to NetworkPolicy orders/aws-shop-egress, and NetworkPolicy "
        "orders/allow-all allow all egress: for the pods they select, ours narrows nothing"
    ]


@pytest.mark.parametrize(
    "other, covers_all",
    [
        (network_policy("orders", "some", selector={"matchLabels": {"app": "cart"}}), False),
        (network_policy("orders", "ingress-only", types=("Ingress",)), None),
        (network_policy("billing", "elsewhere"), None),
    ],
)
def test_a_policy_on_some_pods_or_no_egress_leaves_the_rest_to_ours(other, covers_all):
    refused, notes = check(desired(sidecar_hosts=["*/*"]), [DATABASE, other])
    assert len(refused) == 1  # the database is still cut for the pods no other policy limits
    assert bool(notes) == (covers_all is False)


def test_a_cilium_policy_counts_like_a_networkpolicy():
    theirs = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "lockdown", "namespace": "orders"},
        "spec": {"endpointSelector": {}, "egress": [{"toEntities": ["world"]}]},
    }
    refused, notes = check(desired("cilium", sidecar_hosts=["*/*"]), [PARTNER_API, theirs])
    assert refused == [] and "CiliumNetworkPolicy orders/lockdown allow all egress" in notes[0]
    no_default_deny = {**theirs, "spec": {**theirs["spec"], "enableDefaultDeny": {"egress": False}}}
    assert len(check(desired("cilium", sidecar_hosts=["*/*"]), [PARTNER_API, no_default_deny])[0]) == 1


def gateway_policy_case(mode, servers, **options):
    ours = desired(mode, services=("sqs",), mode="egress_gateway", gateway=GATEWAY, **options)
    return check(ours, [gateway("legacy", "legacy-egress", servers)])


def test_other_gateways_on_the_gateway_pods_lose_what_our_policy_does_not_allow():
    refused = gateway_policy_case("kubernetes", [server(80, "HTTP", ["*/httpbin.example"])])[0]
    assert refused == [
        "NetworkPolicy egress/aws-shop-egress-gateway would be the first egress policy on the pods labelled istio=egressgateway in "
        "egress and cut what the mesh lets them reach today: httpbin.example on port 80 of Gateway legacy/legacy-egress (not "
        "managed by meshops.aws_egress): give those Gateways' upstreams an egress policy on the gateway pods first (ours then "
        "only adds), or accept it (istio_aws_egress_accept: [network_policy_cut])"
    ]
    # TLS passthrough on 443: the NetworkPolicy opens 443 anywhere; Cilium only the routed hosts.
    assert gateway_policy_case("kubernetes", [server(443, "TLS", ["api.partner.example"])]) == ([], [])
    refused = gateway_policy_case(
        "cilium", [server(443, "TLS", ["api.partner.example", "sqs.eu-west-1.amazonaws.com"])]
    )[0]
    assert len(refused) == 1 and "api.partner.example on port 443 of Gateway legacy/legacy-egress" in refused[0]
    assert "sqs.eu-west-1" not in refused[0]


def test_gateways_on_other_pods_are_not_ours_to_cut():
    other_pods = gateway("legacy", "legacy-egress", [server(80, "HTTP", ["*"])], selector={"istio": "other-gateway"})
    ours = desired("kubernetes", mode="egress_gateway", gateway=GATEWAY)
    assert check(ours, [other_pods]) == ([], [])


def test_allows_reads_our_rules_as_the_cni_would():
    (ours,) = [
        o
        for o in desired(
            "kubernetes",
            network_policy_egress=[
                {
                    "to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                    "ports": [{"protocol": "TCP", "port": 6000, "endPort": 6010}],
                }
            ],
        )
        if o["kind"] == "NetworkPolicy"
    ]
    assert policy_safety.allows(ours, 443)  # any address
    assert not policy_safety.allows(ours, 80)
    assert policy_safety.allows(ours, 80, addresses=["169.254.169.254"])
    assert not policy_safety.allows(ours, 6005, addresses=["10.2.3.4"])  # an ipBlock with holes is not counted
    (cilium,) = [o for o in desired("cilium") if o["kind"] == "CiliumNetworkPolicy"]
    assert policy_safety.allows(cilium, 443, "sqs.eu-west-1.amazonaws.com")
    assert not policy_safety.allows(cilium, 443, "sns.eu-west-1.amazonaws.com")
    assert not policy_safety.allows(cilium, 8443, "sqs.eu-west-1.amazonaws.com")
