# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every kind the collection writes, in one table.

The plan's reads, the API versions written, the permissions checked before a
write, the shipped RBAC and the render directory's file names are all built
from `KINDS`.  Adding a kind is a row here plus its template.
"""

from __future__ import annotations

from dataclasses import dataclass

SPEC = (("spec",),)
OUR_METADATA = (("metadata", "labels"), ("metadata", "annotations"))


@dataclass(frozen=True)
class Kind:
    kind: str
    group: str  # "" for the core group
    plural: str
    # Newest first: the first one the cluster serves is the one written.
    versions: tuple
    # The CustomResourceDefinition whose served versions say whether the cluster
    # has the kind at all; None for kinds built into Kubernetes.
    crd: str | None
    # Where the role's RBAC lets us write it: "entries" (the egress set's
    # namespace), "sidecars" (each listed namespace), "gateway" (the gateway's
    # namespace), or "rbac" (installed by an administrator, cluster-wide); a
    # tuple of them for a kind written in several places.
    writer: str | tuple
    # How the plan reads it: "cluster" lists every object cluster-wide (another
    # owner's objects of this kind matter anywhere: Sidecars, hosts, routes for
    # the mesh, gateway bindings, policies); "namespaces" lists where we write,
    # unfiltered, and ours everywhere else by label.
    read: str
    # The fields the plan compares: what we set.
    compared: tuple = SPEC + OUR_METADATA
    namespaced: bool = True
    # Who installs the kind's CRD, where it comes from, and what else a user can
    # do without it: the refusal of a cluster that does not serve it says so.
    installed_by: str | None = None
    crd_source: str = ""
    alternative: str | None = None
    # Render-mode file names start with the kind in lowercase, or this where two kinds share a name.
    file_kind: str = ""
    # Who acts on it: "istio" (istiod reads it) or "cni" (the network plugin does; istiod never reads it).
    enforced_by: str = "istio"
    # When a concurrent write may write it (apply/batches.py): every kind of a phase is written before the next phase starts.
    phase: int = 0

    @property
    def writers(self):
        return self.writer if isinstance(self.writer, tuple) else (self.writer,)

    @property
    def key(self):
        return (self.group, self.kind)

    @property
    def file_prefix(self):
        return self.file_kind or self.kind.lower()

    def api_version(self, version):
        return f"{self.group}/{version}" if self.group else version

    def collection_path(self, version, namespace=None):
        base = f"/apis/{self.group}/{version}" if self.group else f"/api/{version}"
        return f"{base}/namespaces/{namespace}/{self.plural}" if namespace and self.namespaced else f"{base}/{self.plural}"

    def describe(self):
        return f"{self.plural}.{self.group}" if self.group else self.plural


# The order writes keep (pruning keeps it backwards): what routes and entries point at (the gateway's Gateway, its
# DestinationRule and AuthorizationPolicy, the waypoint, access logs) before the entries, the entries before the
# routes that send them to the gateway, and what narrows traffic (Sidecars, network policies) last, once what it lets
# through is there.
PHASE_TARGETS, PHASE_ENTRIES, PHASE_ROUTES, PHASE_FENCES = range(4)
PHASES = {PHASE_TARGETS: "targets", PHASE_ENTRIES: "entries", PHASE_ROUTES: "routes", PHASE_FENCES: "fences"}

GATEWAY_API_GROUP = "gateway.networking.k8s.io"
ISTIO_NETWORKING = ("v1", "v1beta1", "v1alpha3")
ISTIO_SECURITY = ("v1", "v1beta1")
GATEWAY_API = ("v1",)
ISTIO_TELEMETRY = ("v1", "v1alpha1")

KINDS = (
    Kind("ServiceEntry", "networking.istio.io", "serviceentries", ISTIO_NETWORKING, "serviceentries.networking.istio.io",
         writer="entries", read="cluster", phase=PHASE_ENTRIES),
    Kind("Gateway", "networking.istio.io", "gateways", ISTIO_NETWORKING, "gateways.networking.istio.io",
         writer="entries", read="cluster", phase=PHASE_TARGETS),
    Kind("DestinationRule", "networking.istio.io", "destinationrules", ISTIO_NETWORKING, "destinationrules.networking.istio.io",
         writer="gateway", read="cluster", phase=PHASE_TARGETS),
    Kind("VirtualService", "networking.istio.io", "virtualservices", ISTIO_NETWORKING, "virtualservices.networking.istio.io",
         writer="entries", read="cluster", phase=PHASE_ROUTES),
    Kind("Sidecar", "networking.istio.io", "sidecars", ISTIO_NETWORKING, "sidecars.networking.istio.io",
         writer="sidecars", read="cluster", phase=PHASE_FENCES),
    Kind("AuthorizationPolicy", "security.istio.io", "authorizationpolicies", ISTIO_SECURITY, "authorizationpolicies.security.istio.io",
         writer="gateway", read="cluster", phase=PHASE_TARGETS),
    # Network policies (istio_aws_egress_network_policy): one per listed namespace and one for the
    # egress gateway's pods. Read cluster-wide: others' policies on the same pods add up with ours.
    Kind("NetworkPolicy", "networking.k8s.io", "networkpolicies", ("v1",), None, writer=("sidecars", "gateway"), read="cluster",
         enforced_by="cni", phase=PHASE_FENCES),
    Kind("CiliumNetworkPolicy", "cilium.io", "ciliumnetworkpolicies", ("v2",), "ciliumnetworkpolicies.cilium.io",
         writer=("sidecars", "gateway"), read="cluster", installed_by="Cilium",
         alternative="network_policy: kubernetes (or none)", enforced_by="cni", phase=PHASE_FENCES),
    # Access logs of blocked egress (istio_aws_egress_log_blocked): one per listed namespace, and one at the egress gateway
    # or the waypoint. Read cluster-wide: a namespace's own Telemetry, or the root namespace's, is what ours would replace.
    Kind("Telemetry", "telemetry.istio.io", "telemetries", ISTIO_TELEMETRY, "telemetries.telemetry.istio.io",
         writer=("sidecars", "gateway"), read="cluster", phase=PHASE_TARGETS),
    # Ambient mode's waypoint; read cluster-wide, since a waypoint the set uses may be another owner's.
    Kind("Gateway", GATEWAY_API_GROUP, "gateways", GATEWAY_API, f"gateways.{GATEWAY_API_GROUP}",
         writer="entries", read="cluster", file_kind="gatewayapi-gateway", crd_source="the Gateway API's standard channel",
         phase=PHASE_TARGETS),
)

# The RBAC the role installs for its user; written by an administrator's run.
RBAC_KINDS = (
    Kind("ClusterRole", "rbac.authorization.k8s.io", "clusterroles", ("v1",), None, writer="rbac", read="cluster",
         compared=(("rules",),) + OUR_METADATA, namespaced=False),
    Kind("ClusterRoleBinding", "rbac.authorization.k8s.io", "clusterrolebindings", ("v1",), None, writer="rbac", read="cluster",
         compared=(("roleRef",), ("subjects",)) + OUR_METADATA, namespaced=False),
    Kind("RoleBinding", "rbac.authorization.k8s.io", "rolebindings", ("v1",), None, writer="rbac", read="namespaces",
         compared=(("roleRef",), ("subjects",)) + OUR_METADATA),
)

_BY_KEY = {kind.key: kind for kind in KINDS + RBAC_KINDS}


class UnknownKind(ValueError):
    """A kind the collection never writes: a caller's bug."""


def kind_of(obj):
    """The Kind of a manifest or live object, from its apiVersion's group and its kind."""
    api_version = obj.get("apiVersion") or ""
    group = api_version.split("/")[0] if "/" in api_version else ""
    try:
        return _BY_KEY[(group, obj.get("kind"))]
    except KeyError:
        known = ", ".join(sorted(f"{k.kind} ({k.group or 'core'})" for k in _BY_KEY.values()))
        raise UnknownKind(f"no kind {obj.get('kind')!r} in group {group or 'core'!r} is written by this collection; known: {known}") from None


def pinned_version(kind, pin):
    """The version `pin` (istio_aws_egress_api_version) means for `kind`, or None when it pins nothing there.

    Istio serves its networking and security groups side by side; security has
    no v1alpha3, so a pinned v1alpha3 or v1beta1 means security.istio.io/v1beta1.
    """
    if pin in (None, "", "auto") or kind.versions not in (ISTIO_NETWORKING, ISTIO_SECURITY):
        return None
    if pin in kind.versions:
        return pin
    return kind.versions[-1]


def chosen_version(kind, served, pin=None):
    """The version to write `kind` in: the pinned one, else the newest the cluster serves; None when it serves none."""
    wanted = pinned_version(kind, pin)
    if wanted:
        return wanted if wanted in served else None
    return next((version for version in kind.versions if version in served), None)
