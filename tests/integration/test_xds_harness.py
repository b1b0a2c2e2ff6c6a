# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The xDS simulation harness tells the truth about the egress patterns we ship.

Each test runs the real xds-simulate binary (istiod's config generation,
in-process) on hand-written config and checks the path a call takes. Every
positive result is paired with the change that must undo it, so each test can
fail.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import build, harness, waypoint
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.rbac import dicts
from conftest import ROOT, localcluster
from simulation_helpers import GATEWAY_IP, docs, gateway_kubernetes

pytestmark = pytest.mark.integration

SQS = "sqs.us-east-1.amazonaws.com"
S3_WILDCARD = "*.s3.us-east-1.amazonaws.com"
BUCKET = "bucket.s3.us-east-1.amazonaws.com"
GATEWAY_HOST = "istio-egressgateway.istio-system.svc.cluster.local"
SIDECAR = {"type": "sidecar", "namespace": "orders", "labels": {"app": "orders"}, "ips": ["10.0.0.10"]}
EGRESS_GATEWAY = {
    "type": "router",
    "namespace": "istio-system",
    "labels": {"istio": "egressgateway"},
    "ips": [GATEWAY_IP],
}


# --------------------------------------------------------------------------
# Building requests


def _entry(name: str, host: str, resolution: str, namespace: str = "istio-system", **spec) -> dict:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "hosts": [host],
            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            "resolution": resolution,
            "location": "MESH_EXTERNAL",
            **spec,
        },
    }


IMDS_ENTRY = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "ServiceEntry",
    "metadata": {"name": "imds", "namespace": "istio-system"},
    "spec": {
        "hosts": ["imds.aws.internal"],
        "addresses": ["169.254.169.254"],
        "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
        "resolution": "STATIC",
        "location": "MESH_EXTERNAL",
        "endpoints": [{"address": "169.254.169.254"}],
    },
}


def _tls_call(call_id: str, sni: str, proxy: str = "app", address: str = "52.94.0.1", port: int = 443) -> dict:
    return {"id": call_id, "proxy": proxy, "address": address, "port": port, "protocol": "tcp", "tls": True, "sni": sni}


def _http_call(call_id: str, host: str, address: str, port: int, proxy: str = "app") -> dict:
    return {"id": call_id, "proxy": proxy, "address": address, "port": port, "protocol": "http", "host": host}


def _simulate(
    config: str,
    calls: list[dict],
    proxies: dict | None = None,
    kubernetes: str = "",
    policy: str = "REGISTRY_ONLY",
    **extra,
) -> tuple[dict, dict]:
    """Run one request; return the response and its results by call id."""
    request = {
        "istio_version": "1.30.0",
        "mesh": {"outbound_traffic_policy": policy, "root_namespace": "istio-system"},
        "config": config,
        "kubernetes": kubernetes,
        "proxies": proxies or {"app": SIDECAR},
        "calls": calls,
        **extra,
    }
    response = harness.simulate(request)
    return response, {r["id"]: r for r in response["results"]}


def _clusters(response: dict, proxy: str) -> dict[str, str]:
    return {c["name"]: c["type"] for c in response["proxies"][proxy]["clusters"]}


# --------------------------------------------------------------------------
# Sidecars, REGISTRY_ONLY


def test_exact_host_reaches_its_dns_cluster_and_an_undeclared_sni_is_blackholed():
    calls = [_tls_call("declared", SQS), _tls_call("undeclared", "sns.us-east-1.amazonaws.com")]
    response, results = _simulate(docs(_entry("sqs", SQS, "DNS")), calls)

    declared = results["declared"]
    assert declared["error"] == ""
    assert declared["listener"] == "0.0.0.0_443"
    assert declared["cluster"] == f"outbound|443||{SQS}"
    assert declared["cluster_type"] == "STRICT_DNS"
    assert declared["endpoints"] == [f"{SQS}:443"]
    assert declared["network_filters"] == ["istio.stats", "envoy.filters.network.tcp_proxy"]
    assert results["undeclared"]["cluster"] == "BlackHoleCluster"
    assert response["rejected_config"] == []
    assert response["proxies"]["app"]["istio_version"] == "1.30.0"

    # The blackhole is REGISTRY_ONLY's doing: under ALLOW_ANY the same call passes through.
    results = _simulate(docs(_entry("sqs", SQS, "DNS")), calls, policy="ALLOW_ANY")[1]
    assert results["undeclared"]["cluster"] == "PassthroughCluster"
    assert results["declared"]["cluster"] == f"outbound|443||{SQS}"


def test_wildcard_without_resolution_is_an_original_destination_cluster_at_the_sidecar():
    calls = [
        _tls_call("bucket", BUCKET, address="52.216.0.1"),
        _tls_call("other-region", "bucket.s3.us-west-2.amazonaws.com", address="52.216.0.1"),
    ]
    results = _simulate(docs(_entry("s3", S3_WILDCARD, "NONE")), calls)[1]

    assert results["bucket"]["cluster"] == f"outbound|443||{S3_WILDCARD}"
    assert results["bucket"]["cluster_type"] == "ORIGINAL_DST"
    assert results["bucket"]["endpoints"] == []
    assert results["other-region"]["cluster"] == "BlackHoleCluster"


def test_imds_as_a_made_up_host_reaches_its_static_endpoint_and_unknown_hosts_do_not():
    calls = [
        _http_call("imds", "169.254.169.254", "169.254.169.254", 80),
        _http_call("unknown", "metadata.example.com", "169.254.169.254", 80),
    ]
    results = _simulate(docs(IMDS_ENTRY), calls)[1]

    imds = results["imds"]
    assert imds["error"] == ""
    assert imds["route_config"] == "80"
    assert imds["cluster"] == "outbound|80||imds.aws.internal"
    # resolution: STATIC is an EDS cluster; its endpoint comes from istiod's endpoint index.
    assert imds["cluster_type"] == "EDS"
    assert imds["endpoints"] == ["169.254.169.254:80"]
    assert imds["network_filters"] == ["envoy.filters.network.http_connection_manager"]
    # REGISTRY_ONLY answers an unknown HTTP host itself (502), with no cluster at all.
    unknown = results["unknown"]
    assert (unknown["virtual_host"], unknown["cluster"], unknown["error"]) == ("block_all", "", "")


PAYMENTS = docs(
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "payments", "namespace": "orders"},
        "spec": {
            "clusterIP": "10.96.0.20",
            "selector": {"app": "payments"},
            "ports": [{"name": "http", "port": 8080, "targetPort": 8080}],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "payments-1", "namespace": "orders", "labels": {"app": "payments"}},
        "spec": {"containers": [{"name": "app", "image": "payments"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.20",
            "podIPs": [{"ip": "10.0.0.20"}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    },
    {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "payments-1", "namespace": "orders", "labels": {"kubernetes.io/service-name": "payments"}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [
            {
                "addresses": ["10.0.0.20"],
                "conditions": {"ready": True},
                "targetRef": {"kind": "Pod", "name": "payments-1", "namespace": "orders"},
            }
        ],
    },
)


@pytest.mark.parametrize(
    "hosts, cluster, endpoints",
    [
        (["istio-system/*"], "BlackHoleCluster", []),
        (["./*", "istio-system/*"], "outbound|8080||payments.orders.svc.cluster.local", ["10.0.0.20:8080"]),
    ],
    ids=["without-own-namespace", "with-own-namespace"],
)
def test_a_sidecar_resource_decides_whether_the_namespace_sees_its_own_services(hosts, cluster, endpoints):
    sidecar = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Sidecar",
        "metadata": {"name": "default", "namespace": "orders"},
        "spec": {"egress": [{"hosts": hosts}]},
    }
    calls = [_http_call("payments", "payments.orders.svc.cluster.local", "10.96.0.20", 8080)]
    results = _simulate(docs(sidecar, IMDS_ENTRY), calls, kubernetes=PAYMENTS)[1]

    assert results["payments"]["error"] == ""
    assert results["payments"]["cluster"] == cluster
    assert results["payments"]["endpoints"] == endpoints


# --------------------------------------------------------------------------
# Through the egress gateway


def _through_gateway(host: str, name: str, mesh_route: bool = True) -> list[dict]:
    """Gateway, DestinationRule with a subset, VirtualService for mesh and gateway (egress-facts.md)."""
    mesh_rule = {
        "match": [{"gateways": ["mesh"], "port": 443, "sniHosts": [host]}],
        "route": [{"destination": {"host": GATEWAY_HOST, "subset": name, "port": {"number": 443}}}],
    }
    gateway_rule = {
        "match": [{"gateways": [f"istio-system/egress-{name}"], "port": 443, "sniHosts": [host]}],
        "route": [{"destination": {"host": host, "port": {"number": 443}}}],
    }
    return [
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "Gateway",
            "metadata": {"name": f"egress-{name}", "namespace": "istio-system"},
            "spec": {
                "selector": {"istio": "egressgateway"},
                "servers": [
                    {
                        "port": {"number": 443, "name": "tls", "protocol": "TLS"},
                        "hosts": [host],
                        "tls": {"mode": "PASSTHROUGH"},
                    }
                ],
            },
        },
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "DestinationRule",
            "metadata": {"name": f"egressgateway-{name}", "namespace": "istio-system"},
            "spec": {"host": GATEWAY_HOST, "subsets": [{"name": name}]},
        },
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": f"{name}-through-egress", "namespace": "istio-system"},
            "spec": {
                "hosts": [host],
                "gateways": (["mesh"] if mesh_route else []) + [f"istio-system/egress-{name}"],
                "tls": ([mesh_rule] if mesh_route else []) + [gateway_rule],
            },
        },
    ]


SNI_POLICY = {
    "apiVersion": "security.istio.io/v1",
    "kind": "AuthorizationPolicy",
    "metadata": {"name": "egress-sni", "namespace": "istio-system"},
    "spec": {
        "selector": {"matchLabels": {"istio": "egressgateway"}},
        "action": "ALLOW",
        "rules": [
            {"from": [{"source": {"namespaces": ["orders"]}}], "when": [{"key": "connection.sni", "values": [SQS]}]}
        ],
    },
}

GATEWAY_CALLS = [
    _tls_call("sidecar", SQS),
    _tls_call("gateway", SQS, proxy="egw", address=GATEWAY_IP, port=8443),
    _tls_call("gateway-service-port", SQS, proxy="egw", address=GATEWAY_IP, port=443),
    # What arrives when the sidecar wraps the hop in Istio mTLS: Istio's own SNI for the subset.
    _tls_call("gateway-istio-sni", f"outbound_.443_.sqs_.{GATEWAY_HOST}", proxy="egw", address=GATEWAY_IP, port=8443),
]


def test_through_the_egress_gateway_sidecar_to_gateway_to_host():
    config = docs(_entry("sqs", SQS, "DNS"), *_through_gateway(SQS, "sqs"), SNI_POLICY)
    response, results = _simulate(
        config, GATEWAY_CALLS, proxies={"app": SIDECAR, "egw": EGRESS_GATEWAY}, kubernetes=docs(*gateway_kubernetes())
    )

    sidecar = results["sidecar"]
    assert sidecar["cluster"] == f"outbound|443|sqs|{GATEWAY_HOST}"
    assert sidecar["cluster_type"] == "EDS"
    assert sidecar["endpoints"] == [f"{GATEWAY_IP}:8443"]

    # The gateway listens on the Service's targetPort, not on the Gateway server's port.
    assert "0.0.0.0_8443" in response["proxies"]["egw"]["listeners"]
    assert results["gateway-service-port"]["error"] == "no listener matched"
    gateway = results["gateway"]
    assert gateway["error"] == ""
    assert gateway["listener"] == "0.0.0.0_8443"
    assert gateway["cluster"] == f"outbound|443||{SQS}"
    assert gateway["cluster_type"] == "STRICT_DNS"
    # Authorization first, then the default install's metrics, then the proxying.
    assert gateway["network_filters"] == [
        "envoy.filters.network.rbac",
        "istio.stats",
        "envoy.filters.network.tcp_proxy",
    ]
    [rbac] = gateway["rbac"]
    assert rbac["@type"].endswith("envoy.extensions.filters.network.rbac.v3.RBAC")
    assert rbac["rules"].get("action", "ALLOW") == "ALLOW"
    [policy] = rbac["rules"]["policies"].values()
    assert {"requestedServerName": {"exact": SQS}} in dicts(policy["permissions"])
    assert any("/ns/orders/" in json.dumps(p) for p in policy["principals"])
    # A passthrough server has no chain for Istio mTLS from the sidecar.
    assert results["gateway-istio-sni"]["error"] == "no filter chains matched"


def test_without_the_authorization_policy_the_gateway_chain_has_no_rbac():
    config = docs(_entry("sqs", SQS, "DNS"), *_through_gateway(SQS, "sqs"))
    results = _simulate(
        config, GATEWAY_CALLS, proxies={"app": SIDECAR, "egw": EGRESS_GATEWAY}, kubernetes=docs(*gateway_kubernetes())
    )[1]
    assert results["gateway"]["cluster"] == f"outbound|443||{SQS}"
    assert results["gateway"]["rbac"] == []
    assert results["gateway"]["network_filters"] == ["istio.stats", "envoy.filters.network.tcp_proxy"]


@pytest.mark.parametrize(
    "pod_labels, mtls",
    [
        ({}, []),
        ({"security.istio.io/tlsMode": "istio"}, [f"{GATEWAY_IP}:8443"]),
    ],
    ids=["gateway-pod-unlabelled", "gateway-pod-labelled-istio"],
)
def test_the_sidecar_to_gateway_hop_uses_istio_mtls_only_for_labelled_endpoints(pod_labels, mtls):
    config = docs(_entry("sqs", SQS, "DNS"), *_through_gateway(SQS, "sqs"))
    results = _simulate(
        config,
        GATEWAY_CALLS[:1],
        proxies={"app": SIDECAR, "egw": EGRESS_GATEWAY},
        kubernetes=docs(*gateway_kubernetes(pod_labels=pod_labels)),
    )[1]
    assert results["sidecar"]["upstream_tls"] == "auto_mtls"
    assert results["sidecar"]["istio_mtls_endpoints"] == mtls


@pytest.mark.parametrize(
    "resolution, sidecar_type, gateway_type",
    [
        ("NONE", "ORIGINAL_DST", "EDS"),
        ("DYNAMIC_DNS", "dynamic_forward_proxy", "dynamic_forward_proxy"),
    ],
)
def test_wildcard_at_the_gateway(resolution, sidecar_type, gateway_type):
    # The VirtualService binds the gateway only, so the sidecar's own cluster shows too.
    config = docs(_entry("s3", S3_WILDCARD, resolution), *_through_gateway(S3_WILDCARD, "s3", mesh_route=False))
    calls = [
        _tls_call("sidecar", BUCKET, address="52.216.0.1"),
        _tls_call("gateway", BUCKET, proxy="egw", address=GATEWAY_IP, port=8443),
    ]
    response, results = _simulate(
        config, calls, proxies={"app": SIDECAR, "egw": EGRESS_GATEWAY}, kubernetes=docs(*gateway_kubernetes())
    )

    assert response["rejected_config"] == []
    for call, cluster_type in (("sidecar", sidecar_type), ("gateway", gateway_type)):
        assert results[call]["error"] == ""
        assert results[call]["cluster"] == f"outbound|443||{S3_WILDCARD}", call
        assert results[call]["cluster_type"] == cluster_type, call
    # An EDS cluster for a wildcard has nothing to connect to: the gateway drops the connection.
    assert results["gateway"]["endpoints"] == []


# --------------------------------------------------------------------------
# Invalid config


def test_invalid_objects_are_reported_and_left_out():
    ip_host = {
        **IMDS_ENTRY,
        "metadata": {"name": "imds-by-ip", "namespace": "istio-system"},
        "spec": {**IMDS_ENTRY["spec"], "hosts": ["169.254.169.254"], "resolution": "DNS"},
    }
    ip_host["spec"].pop("endpoints")
    ip_host["spec"].pop("addresses")
    misspelt = _entry("sqs-typo", SQS, "DNS")
    misspelt["spec"]["resolutoin"] = misspelt["spec"].pop("resolution")
    calls = [_http_call("by-ip", "169.254.169.254", "169.254.169.254", 80), _tls_call("sqs", SQS)]
    response, results = _simulate(
        docs(ip_host, misspelt, _entry("sns", "sns.us-east-1.amazonaws.com", "DNS")),
        calls,
        kubernetes=docs(_entry("sqs-misplaced", SQS, "DNS")),
    )

    rejected = {r["name"]: r for r in response["rejected_config"]}
    assert set(rejected) == {"imds-by-ip", "sqs-typo", "sqs-misplaced"}
    assert rejected["sqs-misplaced"]["source"] == "kubernetes"
    assert rejected["imds-by-ip"]["kind"] == "ServiceEntry"
    assert rejected["imds-by-ip"]["source"] == "config"
    assert "cannot be all-numeric" in rejected["imds-by-ip"]["error"]
    assert "resolutoin" in rejected["sqs-typo"]["error"]
    # Left out, as the API server would have refused them; the valid entry still applies.
    clusters = _clusters(response, "app")
    assert "outbound|80||169.254.169.254" not in clusters
    assert "outbound|443||sns.us-east-1.amazonaws.com" in clusters
    assert results["by-ip"]["cluster"] != "outbound|80||169.254.169.254"
    assert results["sqs"]["cluster"] == "BlackHoleCluster"


# --------------------------------------------------------------------------
# Ambient: a waypoint for egress

SQS_VIP = "240.240.0.1"
WAYPOINT_PROXY = waypoint.Waypoint("egress", "egress-waypoint").proxy


def _waypoint_config(use_waypoint: bool) -> str:
    sqs = _entry("sqs", SQS, "DNS", namespace="egress")
    if use_waypoint:
        sqs["metadata"]["labels"] = {"istio.io/use-waypoint": "egress-waypoint"}
    # What istiod's IP allocator writes for an entry without addresses; ztunnel
    # sends the SDK's connection to that VIP, and the waypoint matches on it.
    sqs["status"] = {"addresses": [{"value": SQS_VIP, "host": SQS}]}

    def policy(name: str, gateway: str) -> dict:
        return {
            "apiVersion": "security.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "metadata": {"name": name, "namespace": "egress"},
            "spec": {
                "targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": gateway}],
                "action": "ALLOW",
                "rules": [{"from": [{"source": {"namespaces": ["orders"]}}]}],
            },
        }

    return docs(
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "egress-waypoint", "namespace": "egress"},
            "spec": {
                "gatewayClassName": "istio-waypoint",
                "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
            },
        },
        sqs,
        policy("egress-waypoint-allow", "egress-waypoint"),
        policy("other-waypoint-allow", "other-waypoint"),
    )


WAYPOINT_KUBERNETES = docs(*waypoint.kubernetes_objects("egress", "egress-waypoint", []))


@pytest.mark.parametrize("use_waypoint", [True, False], ids=["entry-uses-waypoint", "entry-without-label"])
def test_a_waypoint_serves_entries_that_use_it_with_policies_bound_to_it(use_waypoint):
    proxies = {"wp": WAYPOINT_PROXY}
    calls = [_tls_call("sqs", SQS, proxy="wp", address=SQS_VIP)]
    response, results = _simulate(
        _waypoint_config(use_waypoint), calls, proxies=proxies, kubernetes=WAYPOINT_KUBERNETES
    )

    assert response["istio"]["ambient"] is True
    assert response["rejected_config"] == []
    assert {"connect_terminate", "main_internal"} <= set(response["proxies"]["wp"]["listeners"])
    sqs = results["sqs"]
    if not use_waypoint:
        assert sqs["error"] == "no filter chains matched"
        assert f"inbound-vip|443|tcp|{SQS}" not in _clusters(response, "wp")
        return
    assert sqs["error"] == ""
    assert sqs["listener"] == "main_internal"
    assert sqs["cluster"] == f"inbound-vip|443|tcp|{SQS}"
    assert sqs["cluster_type"] == "STRICT_DNS"
    assert sqs["endpoints"] == [f"{SQS}:443"]
    policies = {name for rbac in sqs["rbac"] for name in rbac["rules"]["policies"]}
    assert policies == {"ns[egress]-policy[egress-waypoint-allow]-rule[0]"}


@pytest.mark.parametrize(
    "flags, chain",
    [
        ({}, ""),
        ({"ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS": "true"}, f"inbound-vip|443|tcp|{S3_WILDCARD}"),
    ],
    ids=["default-flags", "wildcard-tls-enabled"],
)
def test_istiod_feature_flags_reach_the_generator(flags, chain):
    # A waypoint serves a DYNAMIC_DNS wildcard over TLS only with this flag
    # (SNI spoofing risk); sidecars and gateways need none (test_wildcard_at_the_gateway).
    s3 = _entry("s3", S3_WILDCARD, "DYNAMIC_DNS", namespace="egress")
    s3["metadata"]["labels"] = {"istio.io/use-waypoint": "egress-waypoint"}
    s3["status"] = {"addresses": [{"value": "240.240.0.2", "host": S3_WILDCARD}]}
    proxies = {"wp": WAYPOINT_PROXY}
    calls = [_tls_call("bucket", BUCKET, proxy="wp", address="240.240.0.2")]
    results = _simulate(
        _waypoint_config(True) + "---\n" + docs(s3),
        calls,
        proxies=proxies,
        kubernetes=WAYPOINT_KUBERNETES,
        istiod_env=flags,
    )[1]

    assert results["bucket"]["filter_chain"] == chain
    if chain:
        assert results["bucket"]["cluster_type"] == "dynamic_forward_proxy"
    else:
        assert results["bucket"]["error"] == "no filter chains matched"


# --------------------------------------------------------------------------
# The runner


def test_make_cluster_build_links_the_harness_the_collection_builds_for_itself(monkeypatch):
    monkeypatch.delenv("XDS_SIMULATE", raising=False)
    linked = ROOT / ".localcluster" / "bin" / "xds-simulate"
    found = harness.binary_for()
    assert found == linked.resolve()
    assert found.parent.name.startswith(f"xds-simulate-{build.source_hash()}-go")
    assert build.built_from(found) == build.source_hash()
    monkeypatch.setenv("XDS_SIMULATE", str(linked))
    assert harness.binary_for() == linked


def test_a_missing_binary_is_said_in_one_line(tmp_path):
    with pytest.raises(harness.HarnessError) as err:
        harness.simulate({}, binary=tmp_path / "xds-simulate")
    message = str(err.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(f"xds-simulate not found at {tmp_path / 'xds-simulate'}")


def test_a_bad_request_fails_with_the_binarys_own_words():
    with pytest.raises(harness.HarnessError) as err:
        _simulate("", [_tls_call("c1", SQS, proxy="nope")])
    assert 'proxy "nope" is not in proxies' in str(err.value)


def test_the_simulator_is_istios_own_less_the_one_function_that_cannot_build():
    upstream, ours = localcluster.simulation_files()
    assert ours.read_text() == localcluster.simulation_copy(upstream.read_text())
    assert "func NewSimulationFromConfigGen(" in ours.read_text()
    # A copy of a different simulator is refused, not silently rebuilt.
    with pytest.raises(localcluster.ClusterError, match="NewSimulation"):
        localcluster.simulation_copy(ours.read_text())
