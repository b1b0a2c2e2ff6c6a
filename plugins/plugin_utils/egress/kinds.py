# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every kind the collection writes, in one table.

The plan's reads, the API versions written, the permissions checked before a
write, the shipped RBAC (`make rbac`), the role's template dispatch
(`make generated`), the simulation's classes and the render directory's file
names are all built from `KINDS`.  Adding a kind is a row here, its template,
and its own logic; the unit tests (tests/unit/.../egress/test_kinds.py) fail
until each part is there.  No other module spells a group or a kind: they name
the constants below.
"""

from __future__ import annotations

from dataclasses import dataclass

SPEC = (("spec",),)
OUR_METADATA = (("metadata", "labels"), ("metadata", "annotations"))


# Who defines a kind (its product); Istio's are written in the versions istio_aws_egress_api_version pins.
ISTIO, KUBERNETES, CILIUM, GATEWAY_API_PRODUCT = "Istio", "Kubernetes", "Cilium", "the Gateway API"
# How the simulation (plugins/plugin_utils/simulation) takes a kind: "proxy" goes to istiod's generator and is
# read live; "logs" goes to istiod's config but is not read live (it changes what is logged, not where traffic
# goes); "waypoint" is the waypoint model's; "cni" is left out (the CNI enforces it, istiod never reads it).
SIMULATION_CLASSES = ("proxy", "logs", "waypoint", "cni")
ISTIO_GROUP_SUFFIX = ".istio.io"


@dataclass(frozen=True)
class Rendering:
    """One template of the role and what of the layout it renders: a document per item of `each` that `when` keeps."""

    template: str  # under roles/istio_aws_egress/templates/
    each: str  # a Jinja expression of the layout: a list, or a list of one object
    name: str  # what the template calls the item
    when: str = ""  # a Jinja test of the item (or of the layout)


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
    product: str = ""  # ISTIO, KUBERNETES, CILIUM or GATEWAY_API_PRODUCT: every row says
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
    # When a concurrent write may write it (apply/batches.py): every kind of a phase is written before the next starts.
    phase: int = 0
    # Why the role's RBAC lets it write the kind, in the ClusterRoles' comments (rbac/rules.py).
    rbac_reason: str = ""
    simulation: str = ""  # one of SIMULATION_CLASSES: every row of KINDS says

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
        return (
            f"{base}/namespaces/{namespace}/{self.plural}" if namespace and self.namespaced else f"{base}/{self.plural}"
        )

    def describe(self):
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def manifest(self, version, name, namespace=None):
        """The skeleton of an object of this kind: what a reference to one (a GET, a check) needs."""
        metadata = {"name": name, "namespace": namespace} if namespace and self.namespaced else {"name": name}
        return {"apiVersion": self.api_version(version), "kind": self.kind, "metadata": metadata}

    def of(self, obj):
        """Whether the manifest or live object `obj` is of this kind."""
        api_version = obj.get("apiVersion") or ""
        return obj.get("kind") == self.kind and (api_version.split("/")[0] if "/" in api_version else "") == self.group


# The order writes keep (pruning keeps it backwards): what routes and entries point at (the gateway's Gateway, its
# DestinationRule and AuthorizationPolicy, the waypoint, access logs) before the entries, the entries before the
# routes that send them to the gateway, and what narrows traffic (Sidecars, network policies) last, once what it lets
# through is there.
PHASE_TARGETS, PHASE_ENTRIES, PHASE_ROUTES, PHASE_FENCES = range(4)
PHASES = {PHASE_TARGETS: "targets", PHASE_ENTRIES: "entries", PHASE_ROUTES: "routes", PHASE_FENCES: "fences"}

GATEWAY_API_GROUP = "gateway.networking.k8s.io"
# The label a waypoint's pods and Service carry, naming their Gateway.
WAYPOINT_NAME_LABEL = f"{GATEWAY_API_GROUP}/gateway-name"
ISTIO_NETWORKING = ("v1", "v1beta1", "v1alpha3")
ISTIO_SECURITY = ("v1", "v1beta1")
GATEWAY_API = ("v1",)
ISTIO_TELEMETRY = ("v1", "v1alpha1")
# Not written: a CRD that says the cluster runs Istio 1.30 or later (layout/wildcards.py).
ISTIO_1_30_CRD = "trafficextensions.extensions.istio.io"

# One row a kind, kept as a table (not as the formatter would lay it out).
# fmt: off
SERVICE_ENTRY = Kind(
    "ServiceEntry", "networking.istio.io", "serviceentries", ISTIO_NETWORKING, "serviceentries.networking.istio.io",
    writer="entries", read="cluster", product=ISTIO, simulation="proxy", phase=PHASE_ENTRIES,
    rbac_reason="its ServiceEntries")
ISTIO_GATEWAY = Kind(
    "Gateway", "networking.istio.io", "gateways", ISTIO_NETWORKING, "gateways.networking.istio.io",
    writer="entries", read="cluster", product=ISTIO, simulation="proxy", phase=PHASE_TARGETS,
    rbac_reason="the Gateway that binds the egress gateway")
DESTINATION_RULE = Kind(
    "DestinationRule", "networking.istio.io", "destinationrules", ISTIO_NETWORKING,
    "destinationrules.networking.istio.io", writer="gateway", read="cluster", product=ISTIO, simulation="proxy",
    phase=PHASE_TARGETS, rbac_reason="the egress gateway's subset (DestinationRule)")
VIRTUAL_SERVICE = Kind(
    "VirtualService", "networking.istio.io", "virtualservices", ISTIO_NETWORKING, "virtualservices.networking.istio.io",
    writer="entries", read="cluster", product=ISTIO, simulation="proxy", phase=PHASE_ROUTES,
    rbac_reason="the VirtualService that routes through the gateway")
SIDECAR = Kind(
    "Sidecar", "networking.istio.io", "sidecars", ISTIO_NETWORKING, "sidecars.networking.istio.io",
    writer="sidecars", read="cluster", product=ISTIO, simulation="proxy", phase=PHASE_FENCES,
    rbac_reason="the namespace's Sidecar")
AUTHORIZATION_POLICY = Kind(
    "AuthorizationPolicy", "security.istio.io", "authorizationpolicies", ISTIO_SECURITY,
    "authorizationpolicies.security.istio.io", writer="gateway", read="cluster", phase=PHASE_TARGETS,
    rbac_reason="the AuthorizationPolicy of the egress gateway or the waypoint", product=ISTIO, simulation="proxy")
# Network policies (istio_aws_egress_network_policy): one per listed namespace and one for the
# egress gateway's pods. Read cluster-wide: others' policies on the same pods add up with ours.
NETWORK_POLICY = Kind(
    "NetworkPolicy", "networking.k8s.io", "networkpolicies", ("v1",), None, writer=("sidecars", "gateway"),
    read="cluster", product=KUBERNETES, enforced_by="cni", phase=PHASE_FENCES, simulation="cni",
    rbac_reason="a NetworkPolicy when istio_aws_egress_network_policy asks for one")
CILIUM_NETWORK_POLICY = Kind(
    "CiliumNetworkPolicy", "cilium.io", "ciliumnetworkpolicies", ("v2",), "ciliumnetworkpolicies.cilium.io",
    writer=("sidecars", "gateway"), read="cluster", product=CILIUM, installed_by="Cilium",
    alternative="network_policy: kubernetes (or none)", enforced_by="cni", phase=PHASE_FENCES, simulation="cni",
    rbac_reason="a CiliumNetworkPolicy when istio_aws_egress_network_policy asks for one")
# Access logs of blocked egress (istio_aws_egress_log_blocked): one per listed namespace, and one at the egress gateway
# or the waypoint. Read cluster-wide: a namespace's own Telemetry, or the root namespace's, is what ours would replace.
TELEMETRY = Kind(
    "Telemetry", "telemetry.istio.io", "telemetries", ISTIO_TELEMETRY, "telemetries.telemetry.istio.io",
    writer=("sidecars", "gateway"), read="cluster", phase=PHASE_TARGETS, product=ISTIO, simulation="logs",
    rbac_reason="a Telemetry when istio_aws_egress_log_blocked asks for one")
# Ambient mode's waypoint; read cluster-wide, since a waypoint the set uses may be another owner's.
WAYPOINT = Kind(
    "Gateway", GATEWAY_API_GROUP, "gateways", GATEWAY_API, f"gateways.{GATEWAY_API_GROUP}",
    writer="entries", read="cluster", product=GATEWAY_API_PRODUCT, file_kind="gatewayapi-gateway",
    crd_source="the Gateway API's standard channel", phase=PHASE_TARGETS, simulation="waypoint",
    rbac_reason="the waypoint (a Gateway API Gateway) when the set creates it")

KINDS = (SERVICE_ENTRY, ISTIO_GATEWAY, DESTINATION_RULE, VIRTUAL_SERVICE, SIDECAR, AUTHORIZATION_POLICY, NETWORK_POLICY,
         CILIUM_NETWORK_POLICY, TELEMETRY, WAYPOINT)

# The role's templates/resources.yaml.j2 is generated from this (`make generated`), in this order: what each kind
# is rendered from, and by which template.
RENDERINGS = (
    (SERVICE_ENTRY, Rendering("service_entry.yaml.j2", "layout.service_entries", "entry")),
    (ISTIO_GATEWAY, Rendering("gateway.yaml.j2", "[layout.gateway]", "gateway", "gateway")),
    (DESTINATION_RULE, Rendering("destination_rule.yaml.j2", "[layout.gateway]", "gateway", "gateway")),
    (VIRTUAL_SERVICE, Rendering("virtual_service.yaml.j2", "[layout.gateway]", "gateway", "gateway")),
    (AUTHORIZATION_POLICY, Rendering("authorization_policy.yaml.j2", "[layout.gateway]", "gateway", "gateway")),
    (WAYPOINT, Rendering("waypoint.yaml.j2", "[layout.waypoint]", "waypoint", "waypoint and waypoint.create")),
    (AUTHORIZATION_POLICY, Rendering("waypoint_policy.yaml.j2", "[layout.waypoint]", "waypoint", "waypoint")),
    (SIDECAR, Rendering("sidecar.yaml.j2", "layout.sidecars", "sidecar")),
    (NETWORK_POLICY, Rendering("network_policy.yaml.j2", "layout.network_policies", "policy",
                               f"policy.kind == {NETWORK_POLICY.kind!r}")),
    (CILIUM_NETWORK_POLICY, Rendering("cilium_network_policy.yaml.j2", "layout.network_policies", "policy",
                                      f"policy.kind == {CILIUM_NETWORK_POLICY.kind!r}")),
    (TELEMETRY, Rendering("telemetry.yaml.j2", "layout.telemetries", "telemetry")),
)

# The RBAC the role installs for its user; written by an administrator's run.
CLUSTER_ROLE = Kind("ClusterRole", "rbac.authorization.k8s.io", "clusterroles", ("v1",), None, writer="rbac",
                    read="cluster", product=KUBERNETES, compared=(("rules",),) + OUR_METADATA, namespaced=False)
CLUSTER_ROLE_BINDING = Kind("ClusterRoleBinding", "rbac.authorization.k8s.io", "clusterrolebindings", ("v1",), None,
                            writer="rbac", read="cluster", product=KUBERNETES,
                            compared=(("roleRef",), ("subjects",)) + OUR_METADATA, namespaced=False)
ROLE_BINDING = Kind("RoleBinding", "rbac.authorization.k8s.io", "rolebindings", ("v1",), None, writer="rbac",
                    read="namespaces", product=KUBERNETES, compared=(("roleRef",), ("subjects",)) + OUR_METADATA)
RBAC_KINDS = (CLUSTER_ROLE, CLUSTER_ROLE_BINDING, ROLE_BINDING)
# fmt: on


def is_istio_group(group):
    """Whether an API group is one of Istio's (another owner's objects included: a WorkloadEntry, an EnvoyFilter)."""
    return str(group).endswith(ISTIO_GROUP_SUFFIX)


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
        raise UnknownKind(
            f"no kind {obj.get('kind')!r} in group {group or 'core'!r} is written by this collection; known: {known}"
        ) from None


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
