# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ambient mode's waypoint, as the simulation models it: its Kubernetes objects and the addresses of the entries bound to it.

istiod's deployment controller gives a waypoint Gateway its Service and pods,
and its IP allocator gives each bound ServiceEntry without addresses a VIP
(`status.addresses`); the harness runs neither, so both are made up here.
ztunnel is not modelled: a call starts at the waypoint, sent to the VIP of the
entry that serves its host, or to an address no entry has when none does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.ambient import (
    DATAPLANE_MODE_LABEL,
    WAYPOINT_CLASS,
    WAYPOINT_FOR_LABEL,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import (
    SERVICE_ENTRY,
    WAYPOINT,
    WAYPOINT_NAME_LABEL,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.wildcards import (
    USE_WAYPOINT_LABEL,
    WAYPOINT_FLAG,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.manifests import identity

WAYPOINT_IP = "10.254.255.20"
SERVICE_IP = "10.254.255.21"
HBONE_PORT = 15008
# istiod's allocator hands out 240.240.0.0/16, as vips() does; no entry gets this one.
UNALLOCATED_VIP = "240.240.255.254"


@dataclass
class Waypoint:
    """The modelled waypoint: what is added to the harness request, and the VIP of every host bound to a waypoint."""

    namespace: str
    name: str
    config: list = field(default_factory=list)
    kubernetes: list = field(default_factory=list)
    addresses: dict = field(default_factory=dict)
    istiod_env: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def address_of(self, host):
        """Where a client resolving `host` connects: the VIP of the entry that serves it, else an address no entry has."""
        served_by = covering(host, self.addresses)
        return self.addresses[served_by] if served_by else UNALLOCATED_VIP

    @property
    def proxy(self):
        return {"type": "waypoint", "namespace": self.namespace, "labels": labels(self.name), "ips": [WAYPOINT_IP]}


def model(namespace, name, config, kubernetes, ambient_namespaces):
    """The Waypoint `namespace`/`name` next to the given Istio config and Kubernetes objects.

    Its config and kubernetes are what the harness gets: the given objects (bound entries with their VIPs), the
    waypoint's Service, pod and namespaces, and its Gateway where none is given.
    """
    notes = []
    given = [o for o in config if WAYPOINT.of(o) and identity(o)[1:] == (namespace, name)]
    modelled = []
    if not given:
        modelled.append(gateway(namespace, name))
        notes.append(
            f"the waypoint {namespace}/{name} is in neither the manifests nor the mesh's objects: modelled as "
            f"`istioctl waypoint apply` creates it"
        )
    addresses = vips(config)
    env = {}
    if any(host.startswith("*.") for host in addresses):
        env[WAYPOINT_FLAG] = "true"
        notes.append(
            f"wildcard entries are bound to a waypoint: simulated with istiod's {WAYPOINT_FLAG}=true, without which "
            f"the waypoint has no route for them"
        )
    return Waypoint(
        namespace,
        name,
        with_addresses(config, addresses) + modelled,
        list(kubernetes) + kubernetes_objects(namespace, name, ambient_namespaces, given=kubernetes),
        addresses,
        env,
        notes,
    )


def rendered_name(objects, namespace):
    """The waypoint the role renders beside the entries when none is named; "waypoint" when it renders none."""
    return next(
        (
            identity(o)[2]
            for o in objects
            if identity(o)[:2] == (WAYPOINT.kind, namespace)
            and (o.get("spec") or {}).get("gatewayClassName") == WAYPOINT_CLASS
        ),
        "waypoint",
    )


def labels(name):
    """The labels istiod's deployment controller gives a waypoint's Service and pods."""
    return {WAYPOINT_NAME_LABEL: name, "gateway.istio.io/managed": "istio.io-mesh-controller"}


def gateway(namespace, name):
    """A waypoint Gateway as `istioctl waypoint apply` writes it."""
    return {
        "apiVersion": WAYPOINT.api_version("v1"),
        "kind": WAYPOINT.kind,
        "metadata": {"name": name, "namespace": namespace, "labels": {WAYPOINT_FOR_LABEL: "service"}},
        "spec": {
            "gatewayClassName": WAYPOINT_CLASS,
            "listeners": [{"name": "mesh", "port": HBONE_PORT, "protocol": "HBONE"}],
        },
    }


def vips(objects):
    """{host: VIP} for the hosts of the ServiceEntries bound to a waypoint: their own address, else the one istiod's
    allocator would give them."""
    bound = [obj for obj in objects if _bound(obj)]
    own = {
        host: obj["spec"]["addresses"][0]
        for obj in bound
        if obj["spec"].get("addresses")
        for host in obj["spec"].get("hosts") or []
    }
    hosts = sorted(host for obj in bound if not obj["spec"].get("addresses") for host in obj["spec"].get("hosts") or [])
    return {**{host: f"240.240.{index // 250}.{index % 250 + 1}" for index, host in enumerate(hosts)}, **own}


def with_addresses(objects, addresses):
    """The objects, each bound entry without addresses of its own with the status.addresses the allocator would write."""
    found = []
    for obj in objects:
        hosts = (obj.get("spec") or {}).get("hosts") or []
        if _bound(obj) and not obj["spec"].get("addresses") and hosts and all(host in addresses for host in hosts):
            obj = {**obj, "status": {"addresses": [{"value": addresses[host], "host": host} for host in hosts]}}
        found.append(obj)
    return found


def kubernetes_objects(namespace, name, ambient_namespaces, given=()):
    """The waypoint's namespace, Service and ready pod as istiod's deployment controller leaves them, and the ambient
    namespaces, less the Namespaces and Service `given` already holds."""
    have = {identity(o) for o in given}
    found = []
    for ns in dict.fromkeys([namespace, *ambient_namespaces]):
        if ("Namespace", "", ns) not in have:
            meta = {"name": ns} if ns == namespace else {"name": ns, "labels": {DATAPLANE_MODE_LABEL: "ambient"}}
            found.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
    if ("Service", namespace, name) not in have:
        found.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": namespace, "labels": labels(name)},
                "spec": {
                    "clusterIP": SERVICE_IP,
                    "selector": {WAYPOINT_NAME_LABEL: name},
                    "ports": [{"name": "mesh", "port": HBONE_PORT, "appProtocol": "hbone"}],
                },
            }
        )
    found.append(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"{name}-simulated", "namespace": namespace, "labels": labels(name)},
            "spec": {"serviceAccountName": name, "containers": [{"name": "istio-proxy", "image": "proxyv2"}]},
            "status": {
                "phase": "Running",
                "podIP": WAYPOINT_IP,
                "podIPs": [{"ip": WAYPOINT_IP}],
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
    )
    return found


def covering(host, patterns):
    """The entry host that serves `host`: itself, else the longest wildcard above it; None when none does."""
    if host in patterns:
        return host
    wildcards = [p for p in patterns if p.startswith("*.") and host.endswith(p[1:])]
    return max(wildcards, key=len) if wildcards else None


def _bound(obj):
    meta = obj.get("metadata") or {}
    return (
        obj.get("kind") == SERVICE_ENTRY.kind
        and USE_WAYPOINT_LABEL in (meta.get("labels") or {})
        and isinstance(obj.get("spec"), dict)
    )
