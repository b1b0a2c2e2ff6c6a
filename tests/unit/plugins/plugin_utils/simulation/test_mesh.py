# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modelled egress gateway and the in-mesh Services callers reach."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import mesh
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

SETTINGS = {"namespace": "istio-system", "service": "istio-egressgateway", "selector": {"istio": "egressgateway"}}


def gateway_service(ports, selector=None):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "istio-egressgateway", "namespace": "istio-system"},
        "spec": {"selector": selector or {"istio": "egressgateway"}, "ports": ports},
    }


def by_kind(objects):
    return {o["kind"]: o for o in objects}


def test_without_a_given_service_the_charts_is_modelled_with_a_ready_pod_and_its_endpoints():
    gateway = mesh.gateway(SETTINGS, [])
    objects = by_kind(gateway.objects)
    assert set(objects) == {"Service", "Pod", "EndpointSlice"}
    assert [(p["port"], p["targetPort"]) for p in objects["Service"]["spec"]["ports"]] == [(80, 8080), (443, 8443)]
    assert (
        gateway.listener_port == 8443 and gateway.service_host == "istio-egressgateway.istio-system.svc.cluster.local"
    )
    # As Istio's gateway charts run it: no tlsMode label, so the app's own TLS reaches the passthrough listener.
    assert objects["Pod"]["metadata"]["labels"] == {"istio": "egressgateway"}
    assert objects["EndpointSlice"]["endpoints"][0]["addresses"] == [mesh.GATEWAY_POD_IP]
    assert sorted(p["port"] for p in objects["EndpointSlice"]["ports"]) == [8080, 8443]
    assert any("modelled" in note for note in gateway.notes)


def test_a_given_service_decides_the_port_the_gateway_listens_on():
    gateway = mesh.gateway(SETTINGS, [gateway_service([{"name": "tls", "port": 443, "targetPort": 9443}])])
    assert gateway.listener_port == 9443
    assert set(by_kind(gateway.objects)) == {"Pod", "EndpointSlice"}, "the given Service is not duplicated"
    assert gateway.notes == []


def test_a_named_target_port_is_resolved_through_the_pods_container_port():
    gateway = mesh.gateway(SETTINGS, [gateway_service([{"name": "tls", "port": 443, "targetPort": "https"}])])
    pod = by_kind(gateway.objects)["Pod"]
    assert pod["spec"]["containers"][0]["ports"] == [{"name": "https", "containerPort": 8443}]
    assert gateway.listener_port == 8443


def test_a_service_without_the_port_or_without_the_pods_is_said_so():
    no_port = mesh.gateway(SETTINGS, [gateway_service([{"name": "http2", "port": 80, "targetPort": 8080}])])
    assert no_port.target_port is None and no_port.listener_port == 443
    assert any("has no port 443" in note for note in no_port.notes)
    elsewhere = mesh.gateway(
        SETTINGS, [gateway_service([{"name": "tls", "port": 443, "targetPort": 8443}], {"app": "other"})]
    )
    assert "EndpointSlice" not in by_kind(elsewhere.objects)
    assert any("does not select the gateway's pods" in note for note in elsewhere.notes)


def test_services_callers_reach_one_per_port_headless_and_external_names_left_out():
    services = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "api", "namespace": "orders"},
            "spec": {
                "clusterIP": "10.96.0.9",
                "ports": [
                    {"name": "http", "port": 8080},
                    {"name": "grpc-admin", "port": 9090},
                    {"name": "db", "port": 5432},
                ],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "bare", "namespace": "shop"},
            "spec": {"ports": [{"port": 80}]},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "headless", "namespace": "shop"},
            "spec": {"clusterIP": "None", "ports": [{"port": 80}]},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "ext", "namespace": "shop"},
            "spec": {"type": "ExternalName", "externalName": "example.com"},
        },
        gateway_service([{"port": 443}]),
    ]
    found, objects = mesh.services(services, exclude={("istio-system", "istio-egressgateway")})
    assert [(s.host, s.port, s.http) for s in found] == [
        ("api.orders.svc.cluster.local", 8080, True),
        ("api.orders.svc.cluster.local", 9090, True),
        ("api.orders.svc.cluster.local", 5432, False),
        ("bare.shop.svc.cluster.local", 80, False),
    ]
    # A Service written without a cluster IP gets one, in the copy the harness gets.
    bare = next(o for o in objects if o["metadata"]["name"] == "bare")
    assert bare["spec"]["clusterIP"] == found[-1].address and "clusterIP" not in services[1]["spec"]
    assert len(objects) == len(services)


def test_a_faulty_gateway_service_carries_its_fault_and_the_fix_naming_the_variable():
    no_port = mesh.gateway(SETTINGS, [gateway_service([{"name": "http2", "port": 80, "targetPort": 8080}])])
    assert no_port.fault == (
        "the gateway Service istio-system/istio-egressgateway has no port 443: the mesh's route to it has nowhere to go"
    )
    assert named_options(no_port.fix, "istio_aws_egress_") == (
        "add port 443 to Service istio-system/istio-egressgateway (Istio's egress gateway chart serves 443 -> 8443), or set "
        "istio_aws_egress_gateway.service to the egress gateway's Service"
    )
    elsewhere = mesh.gateway(
        SETTINGS, [gateway_service([{"name": "tls", "port": 443, "targetPort": 8443}], {"app": "other"})]
    )
    assert "does not select the gateway's pods" in elsewhere.fault
    assert named_options(elsewhere.fix, "istio_aws_egress_").endswith(
        "or set istio_aws_egress_gateway.selector to their labels"
    )
    assert mesh.gateway(SETTINGS, []).fault == ""
