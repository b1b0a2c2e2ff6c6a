# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One egress set on one cluster, simulated: rendered manifests and the mesh's objects in, the judged call matrix out.

    manifests + mesh objects --manifests--> Istio config, Kubernetes objects
    declaration ------------------calls---> callers x targets, each with its expectation
    the mesh around them ---mesh, waypoint-> the egress gateway, in-mesh Services, the waypoint
    one harness request -------harness----> what each proxy does with each call
    results --------------------judge-----> the matrix and its violations

In ambient mode every call starts at the waypoint: ztunnel is not modelled.
"""

from __future__ import annotations

from dataclasses import replace

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.resources import GATEWAY_PORT
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import (
    OURS,
    owner_of,
    ownership_labels,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.wildcards import assumed, for_cluster
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import calls as call_matrix
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import (
    causes,
    harness,
    manifests,
    mesh,
    rbac,
    waypoint,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.judge import LEAVING, judge, outcome


def simulate_egress(
    declared,
    rendered_dir,
    mesh_dir=None,
    outbound_traffic_policy="REGISTRY_ONLY",
    unlisted=None,
    binary=None,
    istio_version=None,
    probes=(),
    decided_by="",
    live=None,
):
    """The judged matrix of `declared` (a declared.Declared) against the manifests in `rendered_dir`.

    `probes` (calls.Call) are calls to make besides the matrix, from callers of their own where the matrix has
    none: each is judged and returned in order under `probes`, outside the matrix and its counts.
    `decided_by`: the cluster the manifests' `auto` choices were decided against (none: they were assumed).
    `live`: the mesh's objects as read from that cluster (live.LiveMesh), when `mesh_dir` is not given.
    Raises manifests.ManifestError for unreadable manifests and harness.HarnessError when the harness cannot run.
    """
    rendered = manifests.read_dir(rendered_dir)
    ours = {manifests.identity(o) for o in rendered}
    live = None if mesh_dir else live
    given, notes = _without_the_sets_own(
        manifests.read_dir(mesh_dir) if mesh_dir else live.objects if live else [], ours, declared.name
    )
    if live:
        notes[:0] = [
            f"the mesh's objects were read from {live.cluster}: {len(live.objects)} objects"
            + (f"; not read (the reader may not): {'; '.join(live.not_read)}" if live.not_read else "")
        ] + live.notes
    if decided_by:
        notes.insert(
            0,
            f"the auto choices (API versions, wildcard resolution) were decided against {decided_by}, as site.yml "
            f"decides them: the manifests simulated are what it applies",
        )
    else:
        # No cluster decided `auto` for what is simulated: say what was taken, and which variable pins it.
        notes[:0] = assumed(rendered, for_cluster(declared.wildcard_resolution, declared.mode))
    policies = [o for o in rendered + given if manifests.is_cni_policy(o)]
    objects = [o for o in rendered + given if not manifests.is_cni_policy(o)]
    config = [o for o in objects if manifests.is_istio_config(o)]
    kubernetes = [o for o in objects if not manifests.is_istio_config(o)]
    if policies:
        notes.append(
            f"{len(policies)} network policies are left out: the CNI enforces them, and the simulation runs istiod's "
            "config generation only"
        )
    gateway = None
    if declared.gateway:
        gateway = mesh.gateway(declared.gateway, kubernetes, GATEWAY_PORT)
        kubernetes = kubernetes + gateway.objects
        notes.extend(gateway.notes)
    exclude = {(gateway.namespace, gateway.service)} if gateway else set()
    services, kubernetes = mesh.services(kubernetes, exclude)

    callers = call_matrix.callers(declared, unlisted)
    targets = call_matrix.targets(declared, services)
    calls = call_matrix.matrix(callers, targets, declared)
    probes = _with_gateway_probes(probes, gateway)
    matrix_proxies = {c.proxy for c in callers}
    probe_callers = list({p.caller.proxy: p.caller for p in probes if p.caller.proxy not in matrix_proxies}.values())
    the_waypoint, istiod_env = None, {}
    if declared.waypoint:
        namespace = declared.waypoint["namespace"]
        name = declared.waypoint["name"] or waypoint.rendered_name(rendered, namespace)
        callers_there = [c.namespace for c in callers] + [p.caller.namespace for p in probes]
        the_waypoint = waypoint.model(namespace, name, config, kubernetes, callers_there)
        config, kubernetes, istiod_env = the_waypoint.config, the_waypoint.kubernetes, the_waypoint.istiod_env
        notes[:0] = _ambient_notes(declared, the_waypoint, services)
        notes.extend(the_waypoint.notes)
    request = {
        "mesh": {"outbound_traffic_policy": outbound_traffic_policy},
        "config": manifests.to_yaml(config),
        "kubernetes": manifests.to_yaml(kubernetes),
        "proxies": call_matrix.proxies(callers + probe_callers, gateway, the_waypoint),
        "calls": [call.request(gateway, the_waypoint) for call in calls + probes],
    }
    if istiod_env:
        request["istiod_env"] = istiod_env
    if istio_version:
        request["istio_version"] = istio_version
    response = harness.simulate(request, binary=binary)
    where = causes.context(
        given, declared.namespace, gateway, f"{the_waypoint.namespace}/{the_waypoint.name}" if the_waypoint else ""
    )
    report = _report(
        declared, calls, callers, response, gateway, the_waypoint, ours, notes, outbound_traffic_policy, where
    )
    report["not_read"] = list(live.not_read) if live else []
    if probes:
        report["probes"] = _probes(probes, response, gateway)
    return report


def _without_the_sets_own(given, ours, name):
    """The mesh's objects less the egress set's own as deployed: the rendered ones replace them, as an apply (and its
    prune) would. Both would otherwise be modelled, and istiod's config store refuses the second of a name."""
    owner = ownership_labels(name)
    kept = [o for o in given if manifests.identity(o) not in ours and owner_of(o, owner) != OURS]
    replaced = len(given) - len(kept)
    notes = (
        [f"{replaced} of the mesh's objects are egress set {name!r}'s own as deployed: the rendered ones replace them"]
        if replaced
        else []
    )
    return kept, notes


def _with_gateway_probes(probes, gateway):
    """The probes, and for each one routed through the egress gateway, the same call at the gateway: it leaves only if both do."""
    probes = list(probes)
    if not gateway:
        return probes
    at_gateway = [
        replace(p, id=f"{p.id} at the egress gateway", caller=call_matrix.gateway_caller(gateway.namespace))
        for p in probes
        if p.caller.role != "gateway" and p.target.kind in ("aws", "non-aws")
    ]
    return probes + at_gateway


def _probes(probes, response, gateway):
    results = {r["id"]: r for r in response["results"]}
    at_gateway = {p.target.host: outcome(results[p.id]) for p in probes if p.caller.role == "gateway"}
    cells = []
    for probe in probes:
        cell = judge(
            probe, results[probe.id], at_gateway.get(probe.target.host), gateway.service_host if gateway else ""
        )
        cells.append({"id": probe.id, **cell.as_dict()})
    return cells


def _ambient_notes(declared, the_waypoint, services):
    where = f"{the_waypoint.namespace}/{the_waypoint.name}"
    notes = [
        f"ztunnel is not modelled: every call starts at the waypoint {where}, sent to the address istiod would give the "
        f"entry that serves its host ({waypoint.UNALLOCATED_VIP} where none does). Whether ztunnel sends a call to the "
        f"waypoint at all is not shown: a host no entry binds to it goes straight to its own address, which only a "
        f"network policy limits",
        f"the waypoint's RBAC filters are evaluated for each namespace's identity, {rbac.principal('<namespace>')}",
        "the link-local credential endpoints are reached from the node, not through the waypoint: not called",
    ]
    skipped = call_matrix.not_through_waypoint(declared)
    if skipped:
        notes.append(
            f"declared wildcards without DYNAMIC_DNS go straight out, not through the waypoint: not called ({', '.join(skipped)})"
        )
    if services:
        notes.append("in-mesh Services are not called in ambient mode: the egress set puts no Sidecar in front of them")
    return notes


def _report(declared, calls, callers, response, gateway, the_waypoint, ours, notes, policy, where):
    results = {r["id"]: r for r in response["results"]}
    at_gateway = {call.target.host: outcome(results[call.id]) for call in calls if call.caller.role == "gateway"}
    rows, violations, found = {}, [], []
    for call in calls:
        cell = judge(call, results[call.id], at_gateway.get(call.target.host), gateway.service_host if gateway else "")
        if cell.violation:
            # Each call's violation says what to change; the cause groups it with the others it shares.
            cause = causes.of(call, cell, where)
            cell = replace(cell, violation=f"{cell.violation}; {cause.fix}")
            found.append((cause, call, cell.violation))
        target = call.target
        row = rows.setdefault(
            (target.host, target.port, target.sent_to),
            {
                "target": target.host,
                "port": target.port,
                "kind": target.kind,
                "declared": target.declared,
                "why": target.why,
                "cells": {},
            },
        )
        row["cells"][call.caller.name] = cell.as_dict()
        if cell.violation:
            violations.append(cell.violation)
    for rejected in response.get("rejected_config") or []:
        message = f"istio refuses {rejected['kind']} {rejected['namespace']}/{rejected['name']}: {rejected['error']}"
        if (rejected["kind"], rejected["namespace"], rejected["name"]) in ours:
            cause = causes.refused(message, where)
            violations.append(f"{message}; {cause.fix}")
            found.append((cause, None, violations[-1]))
        else:
            notes.append(f"{message} (left out, as the API server would refuse it)")
    notes.extend(
        f"istio warns about {w['kind']} {w['namespace']}/{w['name']}: {w['error']}"
        for w in response.get("config_warnings") or []
    )
    cells = [cell for row in rows.values() for cell in row["cells"].values()]
    counts = {
        "calls": len(cells),
        "leave": sum(cell["outcome"] in LEAVING for cell in cells),
        "stay": sum(cell["outcome"] not in LEAVING for cell in cells),
        "violations": len(violations),
    }
    summary = (
        f"{counts['calls']} calls: {counts['leave']} leave the mesh, {counts['stay']} do not; "
        f"{counts['violations']} violation{'' if counts['violations'] == 1 else 's'}"
    )
    return {
        "summary": summary,
        "counts": counts,
        "mode": declared.mode,
        "outbound_traffic_policy": policy,
        "callers": [{"name": c.name, "role": c.role, "namespace": c.namespace} for c in callers],
        "matrix": list(rows.values()),
        "violations": violations,
        # The same violations, one entry per cause: what the console prints.
        "violation_groups": causes.grouped(found),
        "notes": notes,
        "gateway": {"service": gateway.service_host, "listener_port": gateway.listener_port} if gateway else None,
        "waypoint": {"name": the_waypoint.name, "namespace": the_waypoint.namespace} if the_waypoint else None,
        "istio": response.get("istio") or {},
    }
