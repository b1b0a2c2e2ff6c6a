# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What proxies do with the resources the role renders for ambient mode and for DYNAMIC_DNS wildcards.

The role renders each configuration (render mode); the xDS simulation harness runs istiod's config generation on it and
follows calls through the waypoint, a sidecar or the egress gateway. The waypoint's AuthorizationPolicy is shown by the
harness, not evaluated: the collection's `rbac.admits` evaluates the RBAC filters it reports (the matchers our policy
produces, and no other: an unknown matcher raises instead of passing it).

A sidecar in an ambient mesh is simulated beside the waypoint: istiod sends it straight to an entry bound to the waypoint.

What this cannot show: ztunnel (the capture of a client's connection, HBONE, whether ztunnel sends a call to the waypoint
at all), DNS (the VIPs are given as istiod's allocator would write them, the upstreams are never resolved), and Envoy
itself (filters are not run, connections are not made).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import policies
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import harness, rbac, waypoint
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.rbac import admits

from role_helpers import run_role
from simulation_helpers import GATEWAY_IP, docs, gateway_kubernetes, istio_config


pytestmark = pytest.mark.integration

REGION = "us-east-1"
SQS = f"sqs.{REGION}.amazonaws.com"
S3_WILDCARD = f"*.s3.{REGION}.amazonaws.com"
BUCKET = f"orders-archive.s3.{REGION}.amazonaws.com"
ENTRIES = "aws-egress"
WAYPOINT = "aws-xds-waypoint"
GATEWAY_HOST = "istio-egressgateway.istio-system.svc.cluster.local"
ORDERS = rbac.principal("orders")
BILLING = rbac.principal("billing")
FLAG = {"ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS": "true"}
SNI_FORWARD_PROXY = "envoy.extensions.filters.network.sni_dynamic_forward_proxy"
SIDECAR = {"type": "sidecar", "namespace": "orders", "labels": {"app": "orders"}, "ips": ["10.0.0.10"]}


# --------------------------------------------------------------------------
# The role's resources


def render(tmp_path: Path, tag: str, **variables) -> list[dict]:
    out = tmp_path / tag
    settings = {
        "istio_aws_egress_name": "xds",
        "istio_aws_egress_namespace": ENTRIES,
        "istio_aws_egress_render_dir": str(out),
        "istio_aws_egress_kubeconfig": str(tmp_path / "no-such-kubeconfig"),
        "istio_aws_egress_context": "nowhere",
        "istio_aws_egress_services": ["sqs", "s3"],
        "istio_aws_egress_regions": [REGION],
        "istio_aws_egress_credential_sources": ["imds"],
        "istio_aws_egress_wildcard_resolution": "dynamic_dns",
        **variables,
    }
    run_role(None, settings, tmp_path).assert_ok()
    return [
        yaml.safe_load(path.read_text()) for path in sorted(out.glob("*.yaml")) if path.name != "kustomization.yaml"
    ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The role's resources for ambient mode, sidecar mode and egress-gateway mode, all with DYNAMIC_DNS wildcards."""
    tmp = tmp_path_factory.mktemp("xds-ambient")
    return {
        "ambient": render(
            tmp, "ambient", istio_aws_egress_mode="ambient", istio_aws_egress_caller_namespaces=["orders"]
        ),
        "sidecar": render(tmp, "sidecar", istio_aws_egress_sidecars=["orders"]),
        "egress_gateway": render(
            tmp,
            "egress_gateway",
            istio_aws_egress_mode="egress_gateway",
            istio_aws_egress_gateway={
                "namespace": "istio-system",
                "service": "istio-egressgateway",
                "selector": {"istio": "egressgateway"},
            },
        ),
    }


WAYPOINT_KUBERNETES = docs(*waypoint.kubernetes_objects(ENTRIES, WAYPOINT, ["orders"]))
WAYPOINT_PROXY = waypoint.Waypoint(ENTRIES, WAYPOINT).proxy
GATEWAY_KUBERNETES = docs(*gateway_kubernetes())


def tls_call(call_id: str, sni: str, address: str, proxy: str, port: int = 443) -> dict:
    return {"id": call_id, "proxy": proxy, "address": address, "port": port, "protocol": "tcp", "tls": True, "sni": sni}


def simulate(config: str, calls: list[dict], proxies: dict, kubernetes: str = "", **extra) -> tuple[dict, dict]:
    response = harness.simulate(
        {
            "istio_version": "1.30.0",
            "mesh": {"outbound_traffic_policy": "REGISTRY_ONLY", "root_namespace": "istio-system"},
            "config": config,
            "kubernetes": kubernetes,
            "proxies": proxies,
            "calls": calls,
            **extra,
        }
    )
    assert response["rejected_config"] == [], response["rejected_config"]
    return response, {result["id"]: result for result in response["results"]}


# --------------------------------------------------------------------------
# Ambient mode: the waypoint


def waypoint_run(rendered_resources: list[dict], flags: dict | None = None) -> tuple[dict, dict, dict[str, str]]:
    addresses = waypoint.vips(rendered_resources)
    calls = [
        tls_call("sqs", SQS, addresses[SQS], "wp"),
        tls_call("bucket", BUCKET, addresses[S3_WILDCARD], "wp"),
        # A client that connects to the buckets' VIP and names another host in its handshake.
        tls_call("spoofed", "metadata.example.com", addresses[S3_WILDCARD], "wp"),
        tls_call("undeclared", "sns.us-east-1.amazonaws.com", "240.240.9.9", "wp"),
    ]
    response, results = simulate(
        docs(*waypoint.with_addresses(rendered_resources, addresses)),
        calls,
        {"wp": WAYPOINT_PROXY},
        WAYPOINT_KUBERNETES,
        **({"istiod_env": flags} if flags else {}),
    )
    return response, results, addresses


def test_the_waypoint_sends_declared_hosts_to_aws_and_admits_the_caller_namespaces_only(rendered):
    response, results, addresses = waypoint_run(rendered["ambient"], FLAG)
    assert response["istio"]["ambient"] is True
    assert set(addresses) == {
        SQS,
        S3_WILDCARD,
        f"s3.{REGION}.amazonaws.com",
        f"s3express-control.{REGION}.amazonaws.com",
        "s3.amazonaws.com",
        "*.s3.amazonaws.com",
    }

    sqs = results["sqs"]
    assert (sqs["error"], sqs["listener"], sqs["filter_chain"]) == ("", "main_internal", f"inbound-vip|443|tcp|{SQS}")
    assert (sqs["cluster"], sqs["cluster_type"], sqs["endpoints"]) == (
        f"inbound-vip|443|tcp|{SQS}",
        "STRICT_DNS",
        [f"{SQS}:443"],
    )
    assert admits(sqs["rbac"], SQS, ORDERS)
    assert not admits(sqs["rbac"], SQS, BILLING), "a caller outside istio_aws_egress_caller_namespaces"
    assert not admits(sqs["rbac"], "sns.us-east-1.amazonaws.com", ORDERS), "an SNI the policy does not declare"

    bucket = results["bucket"]
    assert bucket["filter_chain"] == f"inbound-vip|443|tcp|{S3_WILDCARD}"
    assert bucket["cluster_type"] == "dynamic_forward_proxy"
    # The host is resolved from the SNI, by the filter that fills the forward proxy's DNS cache.
    assert SNI_FORWARD_PROXY in bucket["network_filters"]
    assert bucket["network_filters"].index("envoy.filters.network.rbac") < bucket["network_filters"].index(
        SNI_FORWARD_PROXY
    )
    assert admits(bucket["rbac"], BUCKET, ORDERS) and not admits(bucket["rbac"], BUCKET, BILLING)

    # SNI spoofing: the buckets' chain takes any SNI, and would resolve it; the policy refuses what the wildcard does not cover.
    spoofed = results["spoofed"]
    assert spoofed["filter_chain"] == bucket["filter_chain"]
    assert not admits(spoofed["rbac"], "metadata.example.com", ORDERS)

    # A host no entry declares has no chain at the waypoint (ztunnel sends such calls straight out: not modelled here).
    assert results["undeclared"]["error"] == "no filter chains matched"


def test_without_istiods_flag_the_waypoint_has_no_route_for_wildcards(rendered):
    _response, results, _addresses = waypoint_run(rendered["ambient"])
    assert results["bucket"]["error"] == "no filter chains matched"
    assert results["sqs"]["cluster_type"] == "STRICT_DNS"


def test_the_policy_is_bound_to_the_waypoint_and_credentials_stay_off_it(rendered):
    resources = {(obj["kind"], obj["metadata"]["name"]): obj for obj in rendered["ambient"]}
    policy = resources[("AuthorizationPolicy", WAYPOINT)]
    assert policy["spec"]["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": WAYPOINT}]
    imds = resources[("ServiceEntry", "aws-xds-credentials-imds")]
    assert "istio.io/use-waypoint" not in imds["metadata"]["labels"]
    # The waypoint has nothing for the node's credential endpoint: it stays with ztunnel, on the node.
    addresses = waypoint.vips(rendered["ambient"])
    _response, results = simulate(
        docs(*waypoint.with_addresses(rendered["ambient"], addresses)),
        [
            {
                "id": "imds",
                "proxy": "wp",
                "address": "169.254.169.254",
                "port": 80,
                "protocol": "http",
                "host": "169.254.169.254",
            }
        ],
        {"wp": WAYPOINT_PROXY},
        WAYPOINT_KUBERNETES,
    )
    assert results["imds"]["error"] == "no filter chains matched"


# --------------------------------------------------------------------------
# DYNAMIC_DNS at a sidecar, and why wildcards do not go through the egress gateway


def test_a_sidecar_resolves_wildcards_from_the_sni_and_blackholes_other_names(rendered):
    calls = [
        tls_call("bucket", BUCKET, "52.216.0.1", "app"),
        tls_call("other-region", "b.s3.us-west-2.amazonaws.com", "52.216.0.1", "app"),
        tls_call("sqs", SQS, "52.94.0.1", "app"),
    ]
    _response, results = simulate(docs(*rendered["sidecar"]), calls, {"app": SIDECAR})
    bucket = results["bucket"]
    assert (bucket["cluster"], bucket["cluster_type"]) == (f"outbound|443||{S3_WILDCARD}", "dynamic_forward_proxy")
    assert SNI_FORWARD_PROXY in bucket["network_filters"]
    # The address the application dialled is not used: the name in the handshake is resolved (NONE would trust the address).
    assert bucket["endpoints"] == []
    assert results["other-region"]["cluster"] == "BlackHoleCluster"
    assert results["sqs"]["cluster_type"] == "STRICT_DNS"


def test_in_egress_gateway_mode_wildcards_resolve_at_the_sidecar_and_exact_hosts_go_through_the_gateway(rendered):
    calls = [
        tls_call("sqs", SQS, "52.94.0.1", "app"),
        tls_call("bucket", BUCKET, "52.216.0.1", "app"),
        tls_call("gateway-sqs", SQS, GATEWAY_IP, "egw", port=8443),
    ]
    proxies = {
        "app": SIDECAR,
        "egw": {
            "type": "router",
            "namespace": "istio-system",
            "labels": {"istio": "egressgateway"},
            "ips": [GATEWAY_IP],
        },
    }
    _response, results = simulate(docs(*rendered["egress_gateway"]), calls, proxies, GATEWAY_KUBERNETES)
    assert results["sqs"]["cluster"] == f"outbound|443|aws-xds|{GATEWAY_HOST}"
    assert results["gateway-sqs"]["cluster"] == f"outbound|443||{SQS}"
    assert results["bucket"]["cluster"] == f"outbound|443||{S3_WILDCARD}"
    assert SNI_FORWARD_PROXY in results["bucket"]["network_filters"]


def test_a_wildcard_routed_through_the_gateway_gets_a_forward_proxy_cluster_but_nothing_that_resolves_into_it(rendered):
    """Why the role keeps wildcards direct in egress_gateway mode: the gateway side of a hand-made route.

    The sidecar sends the wildcard's SNI to the gateway, and the gateway picks a dynamic forward proxy cluster, but
    Istio gives a gateway's chain no SNI forward proxy filter (sidecars and waypoints get one): nothing puts the name
    and port 443 into the cluster's DNS cache, and Envoy's forward proxy cluster then has no host (or, where it
    resolves by itself, picks port 80 for a cluster without TLS of its own).
    """
    entry = next(
        obj
        for obj in rendered["egress_gateway"]
        if obj["kind"] == "ServiceEntry" and obj["spec"]["hosts"] == [S3_WILDCARD]
    )
    assert entry["spec"]["resolution"] == "DYNAMIC_DNS"
    gateway = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "by-hand", "namespace": ENTRIES},
        "spec": {
            "selector": {"istio": "egressgateway"},
            "servers": [
                {
                    "port": {"number": 443, "name": "tls", "protocol": "TLS"},
                    "hosts": [S3_WILDCARD],
                    "tls": {"mode": "PASSTHROUGH"},
                }
            ],
        },
    }
    rule = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "by-hand", "namespace": ENTRIES},
        "spec": {"host": GATEWAY_HOST, "subsets": [{"name": "by-hand"}]},
    }
    route = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "by-hand", "namespace": ENTRIES},
        "spec": {
            "hosts": [S3_WILDCARD],
            "gateways": ["mesh", "by-hand"],
            "tls": [
                {
                    "match": [{"gateways": ["mesh"], "port": 443, "sniHosts": [S3_WILDCARD]}],
                    "route": [{"destination": {"host": GATEWAY_HOST, "subset": "by-hand", "port": {"number": 443}}}],
                },
                {
                    "match": [{"gateways": ["by-hand"], "port": 443, "sniHosts": [S3_WILDCARD]}],
                    "route": [{"destination": {"host": S3_WILDCARD, "port": {"number": 443}}}],
                },
            ],
        },
    }
    calls = [
        tls_call("sidecar", BUCKET, "52.216.0.1", "app"),
        tls_call("gateway", BUCKET, GATEWAY_IP, "egw", port=8443),
    ]
    proxies = {
        "app": SIDECAR,
        "egw": {
            "type": "router",
            "namespace": "istio-system",
            "labels": {"istio": "egressgateway"},
            "ips": [GATEWAY_IP],
        },
    }
    _response, results = simulate(docs(entry, gateway, rule, route), calls, proxies, GATEWAY_KUBERNETES)
    assert results["sidecar"]["cluster"] == f"outbound|443|by-hand|{GATEWAY_HOST}"
    at_gateway = results["gateway"]
    assert (at_gateway["error"], at_gateway["cluster"], at_gateway["cluster_type"]) == (
        "",
        f"outbound|443||{S3_WILDCARD}",
        "dynamic_forward_proxy",
    )
    assert SNI_FORWARD_PROXY not in at_gateway["network_filters"]
    assert at_gateway["network_filters"] == ["istio.stats", "envoy.filters.network.tcp_proxy"]


# --------------------------------------------------------------------------
# Ambient mode with sidecars: what a sidecar does with an entry bound to the waypoint, and what its policy lets through


def test_a_sidecar_in_an_ambient_mesh_calls_an_entry_bound_to_the_waypoint_directly_and_its_policy_lets_it(tmp_path):
    """istiod sends only gateways to a Service's waypoint (pilot's endpoint builder, findServiceWaypoint): a sidecar's
    cluster for an entry bound to the waypoint holds the entry's own host, so the sidecar's namespace must reach the AWS
    host itself, and its CiliumNetworkPolicy must name it."""
    resources = render(
        tmp_path,
        "ambient-sidecars",
        istio_aws_egress_mode="ambient",
        istio_aws_egress_caller_namespaces=["orders"],
        istio_aws_egress_sidecars=["orders"],
        istio_aws_egress_network_policy="cilium",
    )
    entry = next(obj for obj in resources if obj["kind"] == "ServiceEntry" and obj["spec"]["hosts"] == [SQS])
    assert entry["metadata"]["labels"]["istio.io/use-waypoint"] == WAYPOINT
    addresses = waypoint.vips(resources)
    calls = [
        tls_call("waypoint", SQS, addresses[SQS], "wp"),
        # The sidecar's own DNS answers with the entry's address (ambient DNS capture does not serve it), or AWS's.
        tls_call("sidecar-vip", SQS, addresses[SQS], "app"),
        tls_call("sidecar", SQS, "52.94.0.1", "app"),
    ]
    response, results = simulate(
        docs(*waypoint.with_addresses(istio_config(resources), addresses)),
        calls,
        {"wp": WAYPOINT_PROXY, "app": SIDECAR},
        WAYPOINT_KUBERNETES,
        istiod_env=FLAG,
    )
    assert response["istio"]["ambient"] is True
    assert results["waypoint"]["filter_chain"] == f"inbound-vip|443|tcp|{SQS}", "the entry is bound to the waypoint"
    for call in ("sidecar-vip", "sidecar"):
        direct = results[call]
        assert (direct["error"], direct["cluster"], direct["cluster_type"], direct["endpoints"]) == (
            "",
            f"outbound|443||{SQS}",
            "STRICT_DNS",
            [f"{SQS}:443"],
        ), call
    (policy,) = [
        obj for obj in resources if obj["kind"] == "CiliumNetworkPolicy" and obj["metadata"]["namespace"] == "orders"
    ]
    allowed = [
        selector
        for rule in policy["spec"]["egress"]
        if rule.get("toPorts") == [{"ports": [{"port": "443", "protocol": "TCP"}]}]
        for selector in rule.get("toFQDNs") or []
    ]
    assert any(policies.fqdn_matches(selector, SQS) for selector in allowed)
    assert not any(policies.fqdn_matches(selector, "sns.us-east-1.amazonaws.com") for selector in allowed)
