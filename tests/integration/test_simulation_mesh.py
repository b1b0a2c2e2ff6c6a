# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the role's resources do to the rest of the mesh, on istiod's own config generation.

In-mesh traffic where the role put a Sidecar (istio_aws_egress_sidecar_hosts
does what its documentation says), the hosts of another egress set, wildcards
in egress_gateway mode (and why they stay direct), and egress sets that share
one egress gateway.
"""

from __future__ import annotations

import copy

import pytest

from simulation_helpers import (
    BLACK_HOLE,
    GATEWAY_IP,
    GATEWAY_TARGET_PORT,
    HTTP_BLACK_HOLED,
    NO_CHAIN,
    MeshService,
    Simulation,
    dns,
    gateway_kubernetes,
    original_dst,
    render_role,
    sni_policies,
    to_gateway,
)

pytestmark = pytest.mark.integration

SQS = "sqs.us-east-1.amazonaws.com"
SNS = "sns.us-east-1.amazonaws.com"
GATEWAY_HOST = "istio-egressgateway.istio-system.svc.cluster.local"
# A bucket host boto3 contacts for s3 in us-east-1 (sdk_capture), and the wildcard the role opens for it without buckets.
BUCKET = "orders-archive.s3.us-east-1.amazonaws.com"
S3_WILDCARD = "*.s3.us-east-1.amazonaws.com"

OWN = MeshService("orders", "api", "10.96.1.10", "10.1.1.10")
OTHER = MeshService("shop", "frontend", "10.96.2.10", "10.1.2.10")


def _egress(name, namespace="istio-system", **variables):
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_regions": ["us-east-1"],
        **variables,
    }


# --------------------------------------------------------------------------
# In-mesh traffic through our Sidecar


@pytest.mark.parametrize("mode", ["sidecar", "egress_gateway"])
@pytest.mark.parametrize(
    "sidecar_hosts, other_namespace",
    [
        (None, OTHER.expected()),
        ([], HTTP_BLACK_HOLED),
        (["shop/*"], OTHER.expected()),
    ],
    ids=["default", "none", "shop-only"],
)
def test_our_sidecar_keeps_the_mesh_that_istio_aws_egress_sidecar_hosts_names(
    tmp_path, mode, sidecar_hosts, other_namespace
):
    variables = _egress(
        "mesh", istio_aws_egress_mode=mode, istio_aws_egress_services=["sqs"], istio_aws_egress_sidecars=["orders"]
    )
    if sidecar_hosts is not None:
        variables["istio_aws_egress_sidecar_hosts"] = sidecar_hosts
    rendered = render_role(tmp_path, variables)
    [sidecar] = rendered.of_kind("Sidecar")
    assert sidecar["metadata"]["namespace"] == "orders"

    sim = Simulation(
        rendered.objects, OWN.objects() + OTHER.objects() + (gateway_kubernetes() if mode == "egress_gateway" else [])
    )
    orders, unlisted = sim.sidecar("orders"), sim.sidecar("unlisted-app")
    # Its own namespace always; another namespace as the variable says; AWS still as declared.
    sim.http(orders, OWN.host, OWN.cluster_ip, OWN.port, OWN.expected())
    sim.http(orders, OTHER.host, OTHER.cluster_ip, OTHER.port, other_namespace)
    sim.tls(orders, SQS, to_gateway(GATEWAY_HOST) if mode == "egress_gateway" else dns(SQS))
    sim.tls(orders, SNS, BLACK_HOLE)
    # A namespace without our Sidecar is not touched.
    sim.http(unlisted, OTHER.host, OTHER.cluster_ip, OTHER.port, OTHER.expected())
    sim.run()
    sim.assert_as_expected()


# --------------------------------------------------------------------------
# Another egress set


def test_another_egress_sets_hosts_are_not_visible_through_our_sidecar(tmp_path):
    ours = render_role(
        tmp_path, _egress("ours", "team-a", istio_aws_egress_services=["sqs"], istio_aws_egress_sidecars=["orders"])
    )
    theirs = render_role(
        tmp_path, _egress("theirs", "team-b", istio_aws_egress_services=["sns"], istio_aws_egress_sidecars=["billing"])
    )
    sim = Simulation(ours.objects + theirs.objects)
    orders, billing, unlisted = sim.sidecar("orders"), sim.sidecar("billing"), sim.sidecar("unlisted-app")
    sim.tls(orders, SQS, dns(SQS))
    sim.tls(orders, SNS, BLACK_HOLE)
    sim.tls(billing, SNS, dns(SNS))
    sim.tls(billing, SQS, BLACK_HOLE)
    # Both sets export their entries to every namespace: where neither put a Sidecar, both are open.
    sim.tls(unlisted, SQS, dns(SQS))
    sim.tls(unlisted, SNS, dns(SNS))
    sim.run()
    sim.assert_as_expected()


# --------------------------------------------------------------------------
# Wildcards in egress_gateway mode


def _route_through_gateway(objects, host):
    """The rendered routing, extended by hand to send `host` through the gateway too, as the role does not."""
    objects = copy.deepcopy(objects)
    for obj in objects:
        spec = obj["spec"]
        if obj["kind"] == "Gateway":
            spec["servers"][0]["hosts"].append(host)
        elif obj["kind"] == "VirtualService":
            spec["hosts"].append(host)
            mesh_route, gateway_route = spec["tls"][0], copy.deepcopy(spec["tls"][1])
            mesh_route["match"][0]["sniHosts"].append(host)
            gateway_route["match"][0]["sniHosts"] = [host]
            gateway_route["route"][0]["destination"]["host"] = host
            spec["tls"].append(gateway_route)
        elif obj["kind"] == "AuthorizationPolicy":
            spec["rules"][0]["when"][0]["values"].append(host)
    return objects


def test_wildcard_hosts_stay_direct_in_gateway_mode_because_a_gateway_cannot_resolve_them(tmp_path):
    rendered = render_role(
        tmp_path,
        _egress(
            "wild",
            istio_aws_egress_mode="egress_gateway",
            istio_aws_egress_services=["s3", "sqs"],
            istio_aws_egress_sidecars=["orders"],
        ),
    )
    sim = Simulation(rendered.objects, gateway_kubernetes())
    orders, gateway = sim.sidecar("orders"), sim.gateway()
    sim.tls(orders, BUCKET, original_dst(S3_WILDCARD))
    sim.tls(orders, SQS, to_gateway(GATEWAY_HOST))
    sim.tls(gateway, BUCKET, NO_CHAIN, port=GATEWAY_TARGET_PORT)
    sim.tls(gateway, SQS, dns(SQS), port=GATEWAY_TARGET_PORT)
    sim.run()
    sim.assert_as_expected()

    # Why: routed through the gateway, the wildcard (resolution NONE) is an EDS cluster without
    # endpoints there; the sidecar hands the connection over and the gateway has nowhere to send it.
    routed = Simulation(_route_through_gateway(rendered.objects, S3_WILDCARD), gateway_kubernetes())
    orders, gateway = routed.sidecar("orders"), routed.gateway()
    routed.tls(orders, BUCKET, to_gateway(GATEWAY_HOST))
    bucket_at_gateway = routed.tls(
        gateway, BUCKET, (f"outbound|443||{S3_WILDCARD}", "EDS", ()), port=GATEWAY_TARGET_PORT
    )
    routed.run()
    routed.assert_as_expected()
    assert sni_policies(routed.results[bucket_at_gateway], S3_WILDCARD) == [], (
        "a wildcard is no exact SNI an RBAC rule can name"
    )


# --------------------------------------------------------------------------
# Egress sets sharing one egress gateway

SETS = {"team-a": ("a", SQS), "team-b": ("b", SNS)}


def _sets_through_one_gateway(tmp_path, namespaces):
    objects = []
    for namespace in namespaces:
        name, host = SETS[namespace]
        service = host.split(".")[0]
        objects += render_role(
            tmp_path,
            _egress(name, namespace, istio_aws_egress_mode="egress_gateway", istio_aws_egress_services=[service]),
        ).objects
    return objects


def _simulate_sets(objects, namespaces):
    """From a sidecar of a third namespace, each set's host goes to the gateway; there, on to AWS under its set's policy."""
    sim = Simulation(objects, gateway_kubernetes())
    client, gateway = sim.sidecar("orders"), sim.gateway()
    at_gateway = {}
    for namespace in namespaces:
        host = SETS[namespace][1]
        sim.tls(client, host, to_gateway(GATEWAY_HOST))
        at_gateway[host] = sim.tls(gateway, host, dns(host), port=GATEWAY_TARGET_PORT)
    sim.run()
    return sim, at_gateway


def test_at_a_shared_gateway_each_sets_host_goes_on_to_aws_under_an_ALLOW_policy_naming_it(tmp_path):
    sim, at_gateway = _simulate_sets(_sets_through_one_gateway(tmp_path, ["team-a", "team-b"]), ["team-a", "team-b"])
    gateway_calls = set(at_gateway.values())
    assert {k: v for k, v in sim.mismatches().items() if k in gateway_calls} == {}
    for host, call_id in at_gateway.items():
        assert sni_policies(sim.results[call_id], host), host


# Istio looks a sidecar's DestinationRules up in the sidecar's namespace, then the host's (the gateway's), then
# the root namespace; a rule in any other namespace is never found. So each set's DestinationRule (its gateway
# subset) lives in the gateway's namespace, where Istio merges the rules of all sets for the one host.


@pytest.mark.parametrize("namespaces", [["team-a"], ["team-a", "team-b"]], ids=["one-set", "two-sets"])
def test_sets_outside_the_gateways_namespace_reach_the_gateway_from_a_third_namespace(tmp_path, namespaces):
    objects = _sets_through_one_gateway(tmp_path, namespaces)
    rules = [o for o in objects if o["kind"] == "DestinationRule"]
    assert {r["metadata"]["namespace"] for r in rules} == {"istio-system"}
    assert len({s["name"] for r in rules for s in r["spec"]["subsets"]}) == len(namespaces), "one subset per set"
    sim, _at_gateway = _simulate_sets(objects, namespaces)
    sim.assert_as_expected()
    # Both sets' rules, merged by Istio for the one host: a cluster per subset, the gateway pod its endpoint.
    subsets = {
        c["name"]
        for c in sim.response["proxies"]["sidecar/orders"]["clusters"]
        if c["name"].endswith(f"|{GATEWAY_HOST}")
    }
    assert {c for c in subsets if c.startswith("outbound|443|") and c != f"outbound|443||{GATEWAY_HOST}"} == {
        f"outbound|443|{s['name']}|{GATEWAY_HOST}" for r in rules for s in r["spec"]["subsets"]
    }
    assert all(
        f"{GATEWAY_IP}:{GATEWAY_TARGET_PORT}" in sim.results[c["id"]]["endpoints"]
        for c in sim.calls
        if c["proxy"] != "gateway"
    )


# --------------------------------------------------------------------------
# exportTo in egress_gateway mode

# The gateway proxy runs in its own namespace: what is routed to it (the routed entries, the VirtualService) is
# exported to it too, or it has no listener for the routed hosts and every routed call dies there.


def _exported_to_own_namespace(tmp_path):
    return render_role(
        tmp_path,
        _egress(
            "dot",
            "team-a",
            istio_aws_egress_mode="egress_gateway",
            istio_aws_egress_services=["sqs"],
            istio_aws_egress_export_to=["."],
            istio_aws_egress_sidecars=["team-a"],
        ),
    )


def _simulate_own_namespace(objects):
    sim = Simulation(objects, gateway_kubernetes())
    client, gateway = sim.sidecar("team-a"), sim.gateway()
    sim.tls(client, SQS, to_gateway(GATEWAY_HOST))
    sim.tls(gateway, SQS, dns(SQS), port=GATEWAY_TARGET_PORT)
    sim.run()
    return sim


def test_entries_exported_to_their_own_namespace_still_pass_the_egress_gateway(tmp_path):
    objects = _exported_to_own_namespace(tmp_path).objects
    exported = {
        (o["kind"], o["metadata"]["namespace"]): o["spec"]["exportTo"] for o in objects if "exportTo" in o["spec"]
    }
    assert exported == {
        ("ServiceEntry", "team-a"): [".", "istio-system"],
        ("VirtualService", "team-a"): [".", "istio-system"],
        ("DestinationRule", "istio-system"): ["team-a"],
    }
    _simulate_own_namespace(objects).assert_as_expected()
