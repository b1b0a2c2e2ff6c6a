# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ambient mode on a cluster: what to refuse, and point out, about the waypoint before a write.

* a cluster that does not serve the Gateway API's Gateway (the waypoint is one);
* a waypoint named but not there, one that serves no Services
  (`istio.io/waypoint-for: workload` or `none`), or one in another namespace
  whose HBONE listener admits no routes from the entries' namespace (Istio
  would leave the entries unbound: their traffic would skip the waypoint);
* an ALLOW policy on a waypoint that other ServiceEntries or namespaces use
  while no other ALLOW policy covers it (their traffic would be denied);
* and, as notes, the namespaces in ambient mode bound to no waypoint (ztunnel
  does not enforce REGISTRY_ONLY, so nothing in the mesh limits their egress),
  and caller namespaces that do not exist (istioctl analyze IST0101).

Kubernetes Services bound to a waypoint by their own label are not read (the
role does not list Services); the namespaces' labels and every ServiceEntry are.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.ambient import (
    DATAPLANE_MODE_LABEL,
    USE_WAYPOINT_NAMESPACE_LABEL,
    WAYPOINT_CLASS,
    WAYPOINT_FOR_LABEL,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import (
    AUTHORIZATION_POLICY,
    SERVICE_ENTRY,
    WAYPOINT,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import labels_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import describe, identity
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety.mesh import Finding
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.wildcards import USE_WAYPOINT_LABEL
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed

_SHOWN = 10


def check(desired, state, others, waypoint, entries_namespace, cluster):
    """(refusals, notes) for an egress set that uses `waypoint` ({name, namespace, create}); none without one.

    `others`: what the cluster holds besides the declared objects and ours (plan.others_of).
    """
    if not waypoint:
        return [], []
    where = f"{waypoint['namespace']}/{waypoint['name']}"
    if any(kind is WAYPOINT for kind in state.unserved):
        return [
            Finding(
                f"ambient mode's waypoint is a Gateway API Gateway, and {cluster} serves no {WAYPOINT.describe()}",
                "install the Gateway API's CRDs (standard channel), then run again",
            )
        ], []
    refusals, notes = [], []
    if not waypoint["create"]:
        wanted = (*WAYPOINT.key, waypoint["namespace"], waypoint["name"])
        gateway = next((obj for obj in state.objects if identity(obj) == wanted), None)
        if gateway is None:
            return [
                Finding(
                    f"the waypoint Gateway {where} does not exist, so the entries bound to it would reach nothing",
                    f"create it first (istioctl waypoint apply -n {waypoint['namespace']} --name {waypoint['name']}), "
                    f"or let the role create one (leave the waypoint's create and name out)",
                )
            ], []
        refusals += _unusable(gateway, where, entries_namespace, state.namespace_list)
        notes += _other_class(gateway, where)
    refusals_shared, notes_shared = _shared(waypoint, where, entries_namespace, others, state.namespace_list)
    refusals += refusals_shared
    notes += (
        notes_shared
        + _missing_callers(desired, waypoint, state.namespace_list)
        + _unbound_ambient(state.namespace_list)
    )
    return refusals, notes


def _unusable(gateway, where, entries_namespace, namespaces):
    findings = []
    serves = labels_of(gateway).get(WAYPOINT_FOR_LABEL, "service")
    if serves not in ("service", "all"):
        findings.append(
            Finding(
                f"the waypoint {where} serves no Services ({WAYPOINT_FOR_LABEL}: {serves}), so ServiceEntries cannot "
                f"use it",
                f"label it {WAYPOINT_FOR_LABEL}=service (or all), or use another waypoint",
            )
        )
    namespace = where.split("/", 1)[0]
    if namespace != entries_namespace and not _admits(gateway, entries_namespace, namespaces):
        findings.append(
            Finding(
                f"the waypoint {where} admits no routes from namespace {entries_namespace} (its HBONE listener's "
                f"allowedRoutes), so the entries there could not use it and their traffic would skip it",
                f"set allowedRoutes.namespaces.from: All (or a selector that matches {entries_namespace}) on its HBONE "
                f"listener, or use a waypoint in namespace {entries_namespace}",
            )
        )
    return findings


def _admits(gateway, namespace, namespaces):
    """Whether the waypoint's HBONE listener admits routes from `namespace`, as istiod decides it."""
    listeners = (gateway.get("spec") or {}).get("listeners") or []
    hbone = next(
        (listener for listener in listeners if listener.get("protocol") == "HBONE" and listener.get("port") == 15008),
        None,
    )
    allowed = ((hbone or {}).get("allowedRoutes") or {}).get("namespaces") or {}
    mode = allowed.get("from", "Same")
    if mode == "All":
        return True
    if mode == "Selector":
        selector = allowed.get("selector") or {}
        labels = next(
            (
                (ns.get("metadata") or {}).get("labels") or {}
                for ns in namespaces or []
                if (ns.get("metadata") or {}).get("name") == namespace
            ),
            {},
        )
        # matchExpressions are not evaluated here: a selector that has any is taken as admitting.
        return bool(selector.get("matchExpressions")) or all(
            labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()
        )
    return False


def _other_class(gateway, where):
    class_name = (gateway.get("spec") or {}).get("gatewayClassName")
    if class_name == WAYPOINT_CLASS:
        return []
    return [f"the waypoint {where} is of class {class_name}, not {WAYPOINT_CLASS}: make sure it is a waypoint"]


def _bound_to(labels, own_namespace, waypoint):
    """Whether an object (or namespace) with `labels`, in `own_namespace`, names `waypoint` in istio.io/use-waypoint."""
    return (
        labels.get(USE_WAYPOINT_LABEL) == waypoint["name"]
        and labels.get(USE_WAYPOINT_NAMESPACE_LABEL, own_namespace) == waypoint["namespace"]
    )


def _shared(waypoint, where, entries_namespace, others, namespaces):
    """Others that use the waypoint, and whether our ALLOW policy would cut them."""
    users = [
        describe(obj)
        for obj in others
        if identity(obj)[:2] == SERVICE_ENTRY.key and _bound_to(labels_of(obj), identity(obj)[2], waypoint)
    ]
    # The entries' own namespace may be enrolled too (istioctl waypoint apply --enroll-namespace); its
    # ServiceEntries are counted one by one above.
    users += [
        f"namespace {(ns.get('metadata') or {}).get('name')}"
        for ns in namespaces or []
        if (ns.get("metadata") or {}).get("name") != entries_namespace
        and _bound_to((ns.get("metadata") or {}).get("labels") or {}, (ns.get("metadata") or {}).get("name"), waypoint)
    ]
    if not users:
        return [], []
    allowing = [
        describe(policy)
        for policy in others
        if identity(policy)[:3] == (*AUTHORIZATION_POLICY.key, waypoint["namespace"])
        and (policy.get("spec") or {}).get("action", "ALLOW") == "ALLOW"
        and any(
            ref.get("kind") == WAYPOINT.kind
            and ref.get("group", WAYPOINT.group) == WAYPOINT.group
            and ref.get("name") == waypoint["name"]
            for ref in _target_refs(policy)
        )
    ]
    if allowing:
        return [], [
            f"the waypoint {where} also serves {listed(users, _SHOWN)}; ALLOW policies already limit it ({listed(allowing, _SHOWN)}), "
            f"and ours only adds the declared hosts"
        ]
    return [
        Finding(
            f"the waypoint {where} also serves {listed(users, _SHOWN)}, and no other ALLOW policy covers it: our ALLOW policy "
            f"would deny their traffic",
            "add an ALLOW AuthorizationPolicy for that traffic first (targetRefs: the waypoint)",
            "cut_shared_waypoint",
        )
    ], []


def _target_refs(policy):
    spec = policy.get("spec") or {}
    return list(spec.get("targetRefs") or []) + ([spec["targetRef"]] if spec.get("targetRef") else [])


def _missing_callers(desired, waypoint, namespaces):
    if namespaces is None:
        return []
    existing = {(ns.get("metadata") or {}).get("name") for ns in namespaces}
    callers = {
        caller
        for policy in desired
        if identity(policy)[:3] == (*AUTHORIZATION_POLICY.key, waypoint["namespace"])
        and any(ref.get("name") == waypoint["name"] for ref in _target_refs(policy))
        for rule in (policy.get("spec") or {}).get("rules") or []
        for source in rule.get("from") or []
        for caller in (source.get("source") or {}).get("namespaces") or []
    }
    missing = sorted(callers - existing)
    if not missing:
        return []
    return [
        f"the waypoint's policy admits callers from namespaces that do not exist: {listed(missing, _SHOWN)} (istioctl analyze IST0101); "
        f"their workloads get through once the namespaces are made"
    ]


def _unbound_ambient(namespaces):
    unbound = sorted(
        (ns.get("metadata") or {}).get("name")
        for ns in namespaces or []
        if ((ns.get("metadata") or {}).get("labels") or {}).get(DATAPLANE_MODE_LABEL) == "ambient"
        and USE_WAYPOINT_LABEL not in ((ns.get("metadata") or {}).get("labels") or {})
    )
    if not unbound:
        return []
    return [
        f"namespaces in ambient mode bound to no waypoint ({DATAPLANE_MODE_LABEL}=ambient, no {USE_WAYPOINT_LABEL}): "
        f"{listed(unbound, _SHOWN)}; ztunnel does not enforce REGISTRY_ONLY, so their egress is open except to hosts a waypoint "
        f"serves (this egress set's, for its caller namespaces only): close the rest with NetworkPolicy"
    ]
