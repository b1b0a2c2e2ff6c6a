# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The mesh around an egress set, as the simulation models it: the egress gateway and the in-mesh Services.

Pods and EndpointSlices are cluster state, not manifests, so the egress
gateway's are made up here: one ready pod with the gateway's labels and no
`security.istio.io/tlsMode` label (Istio's gateway charts set none, so the
application's own TLS reaches the gateway's passthrough listener).  Its
Service is the one given with the mesh's objects, or else the one Istio's
egress gateway chart installs (80 -> 8080, 443 -> 8443).
"""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass, field

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

GATEWAY_POD_IP = "10.254.255.10"
# Sidecars get 10.254.0.1, .2, ...; Services given without a cluster IP get one from here.
SIDECAR_NETWORK = ipaddress.ip_network("10.254.0.0/24")
SERVICE_NETWORK = ipaddress.ip_network("10.254.128.0/20")
# The ports of the egress gateway chart's Service.
CHART_PORTS = ({"name": "http2", "port": 80, "targetPort": 8080}, {"name": "https", "port": 443, "targetPort": 8443})
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
HTTP_PORT_PREFIXES = ("http", "http2", "grpc")


@dataclass
class Gateway:
    """The modelled egress gateway: its objects, and the port its listeners bind for `port` of its Service."""

    namespace: str
    service: str
    selector: dict
    port: int
    target_port: int | None
    objects: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    # What is wrong with the gateway as given, and its fix: every call routed to the gateway fails for it, so it is
    # said once (causes.py).
    fault: str = ""
    fix: str = ""

    @property
    def service_host(self):
        return f"{self.service}.{self.namespace}.svc.cluster.local"

    @property
    def listener_port(self):
        # Without a Service port to bind, the listener binds the Gateway server's port.
        return self.target_port or self.port


def gateway(settings, kubernetes, port=443):
    """Model the egress gateway of `settings` (namespace, service, selector) next to the given objects."""
    namespace, name, selector = settings["namespace"], settings["service"], dict(settings["selector"])
    given = next((o for o in kubernetes if o.get("kind") == "Service" and _named(o, namespace, name)), None)
    notes = []
    if given is None:
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(selector)},
            "spec": {"selector": dict(selector), "ports": [dict(p, protocol="TCP") for p in CHART_PORTS]},
        }
        notes.append(
            f"the gateway Service {namespace}/{name} is modelled as Istio's egress gateway chart installs it "
            f"(80 -> 8080, 443 -> 8443); give yours with the mesh's objects if it differs"
        )
    else:
        service = given
    ports = (service.get("spec") or {}).get("ports") or []
    served = next((p for p in ports if p.get("port") == port), None)
    target_port, container_ports = None, []
    fault = fix = ""
    if served is None:
        fault = f"the gateway Service {namespace}/{name} has no port {port}: the mesh's route to it has nowhere to go"
        fix = (
            f"add port {port} to Service {namespace}/{name} (Istio's egress gateway chart serves {port} -> {port + 8000}), "
            f"or set {option_ref('gateway.service')} to the egress gateway's Service"
        )
        notes.append(fault)
    else:
        target_port = _number(served.get("targetPort", port))
        if target_port is None:
            # A named targetPort is resolved through the pod's container ports, as istiod does.
            target_port = port + 8000
            container_ports.append({"name": str(served["targetPort"]), "containerPort": target_port})
    objects = [] if given else [service]
    pod_name = f"{name}-simulated"
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": pod_name, "namespace": namespace, "labels": dict(selector)},
            "spec": {"containers": [{"name": "istio-proxy", "image": "proxyv2", "ports": container_ports}]},
            "status": {
                "phase": "Running",
                "podIP": GATEWAY_POD_IP,
                "podIPs": [{"ip": GATEWAY_POD_IP}],
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
    )
    service_selector = (service.get("spec") or {}).get("selector") or {}
    if service_selector and all(selector.get(k) == v for k, v in service_selector.items()):
        slice_ports = [
            {
                "name": p.get("name", ""),
                "port": target_port if p is served else _number(p.get("targetPort", p.get("port"))),
                "protocol": "TCP",
            }
            for p in ports
        ]
        objects.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {"name": pod_name, "namespace": namespace, "labels": {SERVICE_NAME_LABEL: name}},
                "addressType": "IPv4",
                "ports": [p for p in slice_ports if p["port"] is not None],
                "endpoints": [
                    {
                        "addresses": [GATEWAY_POD_IP],
                        "conditions": {"ready": True},
                        "targetRef": {"kind": "Pod", "name": pod_name, "namespace": namespace},
                    }
                ],
            }
        )
    else:
        unselected = f"the gateway Service {namespace}/{name} does not select the gateway's pods ({_labels(selector)}): it has no endpoints"
        notes.append(unselected)
        if not fault:
            fault = unselected
            fix = f"make Service {namespace}/{name} select the gateway's pods, or set {option_ref('gateway.selector')} to their labels"
    return Gateway(namespace, name, selector, port, target_port, objects, notes, fault, fix)


def _number(port):
    """A port number, or None for a port name."""
    if isinstance(port, int):
        return port
    return int(port) if str(port).isdigit() else None


def _named(obj, namespace, name):
    meta = obj.get("metadata") or {}
    return meta.get("namespace") == namespace and meta.get("name") == name


def _labels(labels):
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


@dataclass(frozen=True)
class MeshService:
    """An in-mesh Service a call can be made to."""

    namespace: str
    name: str
    address: str
    port: int
    http: bool

    @property
    def host(self):
        return f"{self.name}.{self.namespace}.svc.cluster.local"


def services(kubernetes, exclude=()):
    """The given Services callers can reach, one per port, and the objects as the harness gets them.

    Headless and ExternalName Services have no address to call; a Service
    without a cluster IP (a hand-written manifest) gets a made-up one.
    """
    found, objects = [], []
    spare = SERVICE_NETWORK.hosts()
    for obj in kubernetes:
        if obj.get("kind") != "Service" or (obj.get("metadata") or {}).get("name") is None:
            objects.append(obj)
            continue
        meta, spec = obj["metadata"], obj.get("spec") or {}
        namespace = meta.get("namespace") or "default"
        if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None":
            objects.append(obj)
            continue
        if not spec.get("clusterIP"):
            obj = copy.deepcopy(obj)
            obj.setdefault("spec", {})["clusterIP"] = str(next(spare))
            obj["metadata"].setdefault("namespace", namespace)
            spec = obj["spec"]
        objects.append(obj)
        if (namespace, meta["name"]) in exclude:
            continue
        for port in spec.get("ports") or []:
            name = str(port.get("name") or "")
            # Istio's protocol selection: appProtocol, else the port name's prefix (http-web, grpc-admin).
            http = (
                str(port.get("appProtocol") or "").startswith(HTTP_PORT_PREFIXES)
                or name.partition("-")[0] in HTTP_PORT_PREFIXES
            )
            found.append(MeshService(namespace, meta["name"], spec["clusterIP"], int(port["port"]), http))
    return found, objects


def sidecar_ips():
    """Addresses for sidecar proxies, one each."""
    return (str(ip) for ip in SIDECAR_NETWORK.hosts())
