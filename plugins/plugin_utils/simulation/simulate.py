# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One egress set on one cluster, simulated: rendered manifests and the mesh's objects in, the judged call matrix out.

    manifests + mesh objects --manifests--> Istio config, Kubernetes objects
    declaration ------------------calls---> callers x targets, each with its expectation
    one harness request -------harness----> what each proxy does with each call
    results --------------------judge-----> the matrix and its violations
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import calls as call_matrix
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import harness, manifests, mesh
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.judge import LEAVING, judge, outcome

GATEWAY_PORT = 443


def simulate_egress(declared, rendered_dir, mesh_dir=None, outbound_traffic_policy="REGISTRY_ONLY", unlisted=None, binary=None,
                    istio_version=None):
    """The judged matrix of `declared` (a declared.Declared) against the manifests in `rendered_dir`.

    Raises manifests.ManifestError for unreadable manifests and harness.HarnessError when the harness cannot run.
    """
    rendered = manifests.read_dir(rendered_dir)
    given = manifests.read_dir(mesh_dir) if mesh_dir else []
    ours = {manifests.identity(o) for o in rendered}
    policies = [o for o in rendered + given if manifests.is_cni_policy(o)]
    objects = [o for o in rendered + given if not manifests.is_cni_policy(o)]
    config = [o for o in objects if manifests.is_istio_config(o)]
    kubernetes = [o for o in objects if not manifests.is_istio_config(o)]
    notes = []
    if policies:
        notes.append(f"{len(policies)} network policies are left out: the CNI enforces them, and the simulation runs istiod's "
                     "config generation only")
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
    request = {
        "mesh": {"outbound_traffic_policy": outbound_traffic_policy},
        "config": manifests.to_yaml(config),
        "kubernetes": manifests.to_yaml(kubernetes),
        "proxies": call_matrix.proxies(callers, gateway),
        "calls": [call.request(gateway) for call in calls],
    }
    if istio_version:
        request["istio_version"] = istio_version
    response = harness.simulate(request, binary=binary)
    return _report(declared, calls, callers, response, gateway, ours, notes, outbound_traffic_policy)


def _report(declared, calls, callers, response, gateway, ours, notes, policy):
    results = {r["id"]: r for r in response["results"]}
    at_gateway = {call.target.host: outcome(results[call.id]) for call in calls if call.caller.role == "gateway"}
    rows, violations = {}, []
    for call in calls:
        cell = judge(call, results[call.id], at_gateway.get(call.target.host), gateway.service_host if gateway else "")
        target = call.target
        row = rows.setdefault((target.host, target.port), {
            "target": target.host, "port": target.port, "kind": target.kind, "declared": target.declared, "why": target.why,
            "cells": {}})
        row["cells"][call.caller.name] = cell.as_dict()
        if cell.violation:
            violations.append(cell.violation)
    for rejected in response.get("rejected_config") or []:
        message = f"istio refuses {rejected['kind']} {rejected['namespace']}/{rejected['name']}: {rejected['error']}"
        if (rejected["kind"], rejected["namespace"], rejected["name"]) in ours:
            violations.append(message)
        else:
            notes.append(f"{message} (left out, as the API server would refuse it)")
    notes.extend(f"istio warns about {w['kind']} {w['namespace']}/{w['name']}: {w['error']}" for w in response.get("config_warnings") or [])
    cells = [cell for row in rows.values() for cell in row["cells"].values()]
    counts = {
        "calls": len(cells),
        "leave": sum(cell["outcome"] in LEAVING for cell in cells),
        "stay": sum(cell["outcome"] not in LEAVING for cell in cells),
        "violations": len(violations),
    }
    summary = (f"{counts['calls']} calls: {counts['leave']} leave the mesh, {counts['stay']} do not; "
               f"{counts['violations']} violation{'' if counts['violations'] == 1 else 's'}")
    return {
        "summary": summary,
        "counts": counts,
        "mode": declared.mode,
        "outbound_traffic_policy": policy,
        "callers": [{"name": c.name, "role": c.role, "namespace": c.namespace} for c in callers],
        "matrix": list(rows.values()),
        "violations": violations,
        "notes": notes,
        "gateway": {"service": gateway.service_host, "listener_port": gateway.listener_port} if gateway else None,
        "istio": response.get("istio") or {},
    }
