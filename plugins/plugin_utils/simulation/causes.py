# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Why a call goes the wrong way, and what to change: the cause of each violation, and the violations grouped by it.

One broken object (a gateway Service without port 443) turns every call
routed through it into a violation: each call keeps its own line in the
report, and the console gets the cause once, with its fix and the calls it
affects.  Fixes are worded like the plan's refusals: the object, then
"set <variable> ..." or what to change in it, naming the role's variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import SERVICE_ENTRY, SIDECAR
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.calls import DENY, LEAVE, REACH, STAY
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.judge import (
    LEAVING,
    PASSTHROUGH_CLUSTER,
    VIA_GATEWAY,
    gateway_host,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

# How many hosts and namespaces a console line names before it counts the rest.
SHOWN = 3


@dataclass(frozen=True)
class Cause:
    what: str  # the object at fault and what it does
    fix: str  # the variable or object to change


@dataclass
class Context:
    """What the causes are looked up in: the set's own names and the mesh's objects."""

    namespace: str = ""  # the egress set's
    gateway: object = None  # mesh.Gateway
    waypoint: str = ""  # namespace/name
    sidecars: dict = field(default_factory=dict)  # namespace -> the mesh's own Sidecar names there
    entries: dict = field(default_factory=dict)  # host -> the mesh's own ServiceEntries naming it, "namespace/name"


def context(given, namespace="", gateway=None, waypoint=""):
    """The Context of the mesh's own objects `given` (the egress set's left out)."""
    found = Context(namespace, gateway, waypoint)
    for obj in given:
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        where = f"{meta.get('namespace') or 'default'}/{meta.get('name')}"
        if obj.get("kind") == SIDECAR.kind and not spec.get("workloadSelector"):
            found.sidecars.setdefault(meta.get("namespace") or "default", []).append(where)
        elif obj.get("kind") == SERVICE_ENTRY.kind:
            for host in spec.get("hosts") or []:
                found.entries.setdefault(host, []).append(where)
    return found


def of(call, cell, ctx):
    """The Cause of the violation `cell` (judge.Cell) of `call`."""
    target, caller = call.target, call.caller
    if caller.at_waypoint and cell.outcome in LEAVING and call.expect in (DENY, STAY):
        return Cause(
            f"the AuthorizationPolicies on waypoint {ctx.waypoint} admit calls the egress set's own refuses",
            f"remove or narrow the other ALLOW policies that target waypoint {ctx.waypoint} (ALLOW policies add "
            f"up; the egress set's own admits {option_ref('caller_namespaces')} to the declared hosts)",
        )
    gateway = ctx.gateway
    if gateway and gateway.fault and gateway_host(cell.path[0] if cell.path else cell.cluster) == gateway.service_host:
        return Cause(gateway.fault, gateway.fix)
    if call.expect == STAY and cell.outcome in LEAVING:
        return _leak(cell, caller, ctx)
    if call.expect == REACH:
        if target.kind == "in-mesh":
            return Cause(
                f"the Sidecar of namespace {caller.namespace} does not keep {target.host}",
                f"set {option_ref('sidecar_hosts')} to include {target.namespace}/{target.host}",
            )
        return Cause(
            f"{target.why} ({target.host}) is cut off from namespace {caller.namespace}",
            f"check {option_ref('credential_sources')} and the ServiceEntries of {target.host}",
        )
    if call.expect == LEAVE and caller.role == "gateway":
        return Cause(
            f"no AuthorizationPolicy on the egress gateway {gateway.namespace}/{gateway.service} names the SNI of "
            f"declared hosts"
            if gateway
            else "no AuthorizationPolicy on the egress gateway names declared hosts",
            f"set {option_ref('gateway.selector')} to the labels of the gateway's pods, so the egress set's policy selects them",
        )
    if call.expect == LEAVE and call.via == "gateway" and cell.outcome in LEAVING and cell.outcome != VIA_GATEWAY:
        return Cause(
            f"{target.host} leaves directly, not through the egress gateway",
            f"remove the mesh's VirtualService or ServiceEntry that routes {target.host} elsewhere, "
            f"or set {option_ref('mode')} to direct",
        )
    if call.expect == LEAVE and cell.outcome == VIA_GATEWAY:
        return Cause(
            f"{target.host} goes through the egress gateway where it should leave directly",
            f"remove the mesh's VirtualService that routes {target.host} to the gateway",
        )
    if call.expect == LEAVE:
        hiding = ctx.sidecars.get(caller.namespace) if caller.role != "listed" else None
        if hiding:
            return Cause(
                f"Sidecar {', '.join(hiding)} of the mesh hides declared hosts from namespace {caller.namespace}",
                f"add {ctx.namespace}/<host> (or {ctx.namespace}/*) to its egress hosts, or remove it and set "
                f"{option_ref('sidecars')} to include {caller.namespace}",
            )
        return Cause(
            f"declared {target.host} does not leave from namespace {caller.namespace}: {cell.outcome}",
            f"set {option_ref('export_to')} to include {caller.namespace}, and remove the mesh's objects that override "
            f"{target.host} there",
        )
    return Cause(cell.violation, f"change the {option_ref('*')} variables that declare {target.host}")


def refused(message, ctx):
    """The Cause of one of the egress set's own objects that istio's validation refuses."""
    return Cause(
        message, f"the egress set renders it: change the value of the {option_ref('*')} variables it comes from"
    )


def _leak(cell, caller, ctx):
    if cell.cluster == PASSTHROUGH_CLUSTER:
        return Cause(
            f"namespace {caller.namespace} passes unknown hosts through (ALLOW_ANY)",
            f"set {option_ref('sidecars')} to include {caller.namespace} (its Sidecar is REGISTRY_ONLY), or set the mesh's "
            f"outboundTrafficPolicy to REGISTRY_ONLY",
        )
    host = cell.cluster.split("|")[-1]
    entries = ctx.entries.get(host)
    if entries:
        return Cause(
            f"ServiceEntry {', '.join(entries)} of the mesh opens {host} to undeclared hosts",
            f"narrow its hosts or its exportTo to the namespaces that need them, or declare the hosts in "
            f"{option_ref('services')}",
        )
    return Cause(
        f"undeclared hosts leave the mesh through {cell.cluster}",
        f"remove the mesh's object that serves {host}, or declare the hosts in {option_ref('services')}",
    )


def grouped(found):
    """The violations grouped by cause, in order of first appearance: `found` is (Cause, call or None, violation) triples."""
    groups = {}
    for cause, call, violation in found:
        group = groups.setdefault(
            cause, {"cause": cause.what, "fix": cause.fix, "count": 0, "hosts": [], "namespaces": [], "violations": []}
        )
        group["count"] += 1
        group["violations"].append(violation)
        if call is not None:
            _add(group["hosts"], call.target.host)
            _add(group["namespaces"], call.caller.namespace)
    for group in groups.values():
        group["line"] = line(group)
    return list(groups.values())


def line(group):
    """The console's line of a group: the cause, the fix, and which calls it affects."""
    text = f"{group['cause']}; {group['fix']}"
    if group["hosts"]:
        count = group["count"]
        text += (
            f" ({count} call{'' if count == 1 else 's'}: {_brief(group['hosts'])} "
            f"from namespace{'' if len(group['namespaces']) == 1 else 's'} {_brief(group['namespaces'])})"
        )
    return text


def _brief(items):
    shown = ", ".join(items[:SHOWN])
    return shown if len(items) <= SHOWN else f"{shown} and {len(items) - SHOWN} more"


def _add(items, item):
    if item not in items:
        items.append(item)
