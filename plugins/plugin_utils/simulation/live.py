# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The mesh around an egress set, read from its cluster: what the simulation needs, by get and list only.

    Istio's config of every namespace (ServiceEntries, Sidecars, VirtualServices, DestinationRules, Gateways,
    AuthorizationPolicies) + the Services of the namespaces the Sidecars keep and the gateway's
    + the outbound traffic policy of the mesh config istiod reads  ->  LiveMesh

What may not be read (403) is "not read": named in the report, never a
failure, and the simulation goes on without it.  A kind the cluster does not
serve has nothing to read.  No dry run, no write.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import mesh_config
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import KINDS
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import (
    PARALLEL_READS,
    unless_forbidden,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.calls import callers

# What istiod builds a proxy's config from, besides Services; the Gateway API's are left to the waypoint model.
CONFIG_KINDS = tuple(k for k in KINDS if k.simulation == "proxy")
MESH_NAMESPACE = "istio-system"
EVERY_NAMESPACE = "*"


@dataclass
class LiveMesh:
    """What was read of the cluster's mesh."""

    cluster: str
    objects: list = field(default_factory=list)
    not_read: list = field(
        default_factory=list
    )  # one line per read that was not allowed: what, and which right it needs
    outbound_traffic_policy: str | None = None  # the mesh config's, when read
    notes: list = field(default_factory=list)


def caller_namespaces(declared, unlisted=None):
    """The namespaces the simulation calls from (calls.callers), but the egress gateway's."""
    return sorted({caller.namespace for caller in callers(declared, unlisted) if caller.role != "gateway"})


def service_namespaces(declared, unlisted=None):
    """The namespaces whose Services the callers may reach: their own, those the Sidecars' hosts name, the gateway's.

    EVERY_NAMESPACE in the result means all of them (a host `*/...`)."""
    namespaces = set(caller_namespaces(declared, unlisted))
    for host in declared.sidecar_hosts:
        namespace = str(host).partition("/")[0]
        if namespace == ".":
            continue  # the Sidecar's own namespace, read already
        if namespace != "~":
            namespaces.add(namespace)
    if declared.gateway:
        namespaces.add(declared.gateway["namespace"])
    return [EVERY_NAMESPACE] if EVERY_NAMESPACE in namespaces else sorted(namespaces)


def read_mesh(reader, declared, unlisted=None):
    """The LiveMesh of the cluster `reader` reads (reads.ClusterReader), for `declared` (declared.Declared)."""
    mesh = LiveMesh(reader.cluster)
    namespaces = service_namespaces(declared, unlisted)
    revisions_of = caller_namespaces(declared, unlisted)
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        configs = [(kind, pool.submit(_config, reader, kind)) for kind in CONFIG_KINDS]
        services = [(namespace, pool.submit(_services, reader, namespace)) for namespace in namespaces]
        namespace_reads = [
            pool.submit(
                unless_forbidden, reader.get, f"/api/v1/namespaces/{name}", f"reading namespace {name}", missing_ok=True
            )
            for name in revisions_of
        ]
        for kind, future in configs:
            _take(mesh, future.result(), f"{kind.plural}.{kind.group} of every namespace (list)")
        for namespace, future in services:
            where = "every namespace" if namespace == EVERY_NAMESPACE else f"namespace {namespace}"
            _take(mesh, future.result(), f"services of {where} (list)")
        revisions = {
            mesh_config.revision_of(found) for allowed, found in (f.result() for f in namespace_reads) if allowed
        }
    _mesh_policy(mesh, reader, revisions)
    return mesh


def _config(reader, kind):
    """(allowed, objects) of `kind` in every namespace; (True, []) where the cluster does not serve it."""
    allowed, served = unless_forbidden(reader.served_versions, kind)
    if not allowed:
        return False, None
    version = next((v for v in kind.versions if v in served), None)
    if version is None:
        return True, []
    allowed, objects = unless_forbidden(reader.list, kind, version)
    return allowed, [_trimmed(obj) for obj in objects or []]


def _services(reader, namespace):
    path = "/api/v1/services" if namespace == EVERY_NAMESPACE else f"/api/v1/namespaces/{namespace}/services"
    where = "every namespace" if namespace == EVERY_NAMESPACE else f"namespace {namespace}"
    allowed, answer = unless_forbidden(reader.get, path, f"listing Services of {where}", missing_ok=True)
    if not allowed:
        return False, None
    items = (answer or {}).get("items") or []
    for item in items:  # a list's items carry no apiVersion and kind
        item["apiVersion"], item["kind"] = "v1", "Service"
    return True, [_trimmed(item) for item in items]


def _trimmed(obj):
    """`obj` without what the API server keeps for itself (its status, who wrote which field): istiod reads neither."""
    meta = {key: value for key, value in (obj.get("metadata") or {}).items() if key != "managedFields"}
    return {**{key: value for key, value in obj.items() if key != "status"}, "metadata": meta}


def _take(mesh, answer, what):
    allowed, objects = answer
    if allowed:
        mesh.objects.extend(objects)
    else:
        mesh.not_read.append(what)


def _mesh_policy(mesh, reader, revisions):
    """The outbound traffic policy of the ConfigMap istiod reads for the callers' revision."""
    revisions = revisions or {None}
    name = mesh_config.configmap_name(next(iter(revisions)) if len(revisions) == 1 else None)
    policy = mesh_config.read(reader.configmap, MESH_NAMESPACE, name)
    if policy.state == mesh_config.READ:
        mesh.outbound_traffic_policy = policy.effective_mode
        mesh.notes.append(
            f"the mesh's outboundTrafficPolicy is {policy.effective_mode}, as ConfigMap {policy.configmap} says "
            f"(read from {mesh.cluster})"
        )
    elif policy.state == mesh_config.FORBIDDEN:
        mesh.not_read.append(f"the mesh config, configmaps {policy.configmap} (get)")
    if len(revisions) > 1:
        mesh.notes.append(
            f"the callers' namespaces are injected by several revisions ({', '.join(sorted(r or 'default' for r in revisions))}): "
            f"the mesh config of the default one, ConfigMap {MESH_NAMESPACE}/{name}, is taken for all"
        )
