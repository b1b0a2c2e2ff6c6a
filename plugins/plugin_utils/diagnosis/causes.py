# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Findings -> causes: why the mesh kept each call in, decided on the simulation.

A log line says a call was blocked, not why: no ServiceEntry admits the host,
or one does but the caller cannot see it (another owner's Sidecar, exportTo),
or the waypoint's policy does not admit the caller's namespace.  Each blocked
call is made again on istiod's config generation (probes.py) against the
egress set as rendered and the mesh's own objects, and the cause read from
where it ends.  Without the mesh's objects, or without the harness, the cause
is `unknown`, and the text says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import probes
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import (
    OURS,
    owner_of,
    ownership_labels,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import manifests
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.harness import HarnessError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.judge import DENIED, LEAVING
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.simulate import simulate_egress
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import SIDECAR

NOT_DECLARED = "not_declared"
HIDDEN_BY_SIDECAR = "hidden_by_sidecar"
NOT_EXPORTED = "not_exported"
NOT_CALLER_NAMESPACE = "not_caller_namespace"
HIDDEN = "hidden"
NOT_REPRODUCED = "not_reproduced"
UNKNOWN = "unknown"
# Every code, with what it means in general (the report's legend).
CODES = {
    NOT_DECLARED: "no ServiceEntry the caller sees admits the host: the egress set does not declare it",
    HIDDEN_BY_SIDECAR: "the egress set declares the host, but another owner's Sidecar in the caller's namespace hides it",
    NOT_EXPORTED: "the egress set declares the host, but its exportTo does not reach the caller's namespace",
    NOT_CALLER_NAMESPACE: "the egress set declares the host, but the waypoint admits its caller namespaces only",
    HIDDEN: "the egress set declares the host, but the call still does not leave (the text says where it ends)",
    NOT_REPRODUCED: "the simulation lets this call out: the logs predate the egress set, or the mesh differs from its objects given",
    UNKNOWN: "not decided: the text says what is missing",
}


@dataclass(frozen=True)
class Cause:
    code: str
    text: str
    namespace: str = ""  # the caller's namespace the cause is about, where one is

    def as_dict(self):
        return {"code": self.code, "text": self.text}


def causes(findings, declared, rendered_dir, mesh_dir, outbound_traffic_policy, binary=None):
    """{finding key: Cause} for every finding (blocked.BlockedCall keys: destination, port, proxy)."""
    if not mesh_dir:
        return {_key(f): _without_mesh(f, declared) for f in findings}
    planned, decided = [], {}
    for index, finding in enumerate(findings):
        for namespace in probes.callers_of(finding.proxy, finding.namespaces, declared):
            try:
                call = probes.probe(
                    f"diagnose {index} from {namespace}",
                    finding.destination,
                    finding.port,
                    finding.protocol,
                    finding.proxy,
                    namespace,
                    declared,
                )
            except probes.NotSimulated as err:
                decided[_key(finding)] = Cause(UNKNOWN, f"not simulated: {err}")
                break
            planned.append((finding, namespace, call))
    if not planned:
        return decided
    try:
        report = simulate_egress(
            declared,
            rendered_dir,
            mesh_dir,
            outbound_traffic_policy,
            binary=binary,
            probes=[call for _f, _ns, call in planned],
        )
    except HarnessError as err:
        return {
            **{_key(f): Cause(UNKNOWN, f"the simulation could not run: {err}") for f, _ns, _c in planned},
            **decided,
        }
    cells = {cell["id"]: cell for cell in report["probes"]}
    others = _foreign_sidecars(mesh_dir, declared.name)
    by_finding = {}
    for finding, namespace, call in planned:
        cause = _cause(finding, namespace, call, cells[call.id], declared, others)
        by_finding.setdefault(_key(finding), []).append(cause)
    for key, found in by_finding.items():
        decided[key] = _together(found)
    return decided


def _key(finding):
    return (finding.destination, finding.port, finding.proxy)


def _without_mesh(finding, declared):
    state = "declares" if probes.declares(declared, finding) else "does not declare"
    return Cause(
        UNKNOWN,
        f"the mesh's objects were not given (simulate_mesh_objects), so whether another owner's ServiceEntry, "
        f"Sidecar or exportTo decides this call cannot be told; this egress set {state} {finding.destination}",
    )


def _cause(finding, namespace, call, cell, declared, foreign_sidecars):
    where = _where(finding, namespace)
    ends = f"{cell['outcome']}" + (f" ({cell['detail']})" if cell.get("detail") else "")
    named = finding.proxy == "gateway" or namespace in finding.namespaces
    if cell["outcome"] in LEAVING and named:
        return Cause(NOT_REPRODUCED, f"the simulation lets this call out {where} ({cell['cluster']})", namespace)
    if cell["outcome"] not in LEAVING and not call.target.declared:
        return Cause(
            NOT_DECLARED,
            f"this egress set does not declare {finding.destination}, and no ServiceEntry among the mesh's "
            f"objects opens it {where}: {ends}",
            namespace,
        )
    if not named:
        return Cause(
            UNKNOWN,
            f"no log names the caller's namespace (ztunnel's log of the same call does, as does a directory "
            f"of logs named after it); {where}, which stands in, the call ends {cell['outcome']}"
            + (f" ({cell['cluster'] or cell['detail']})" if cell['cluster'] or cell['detail'] else ""),
            namespace,
        )
    if cell["outcome"] == DENIED and call.caller.role != "listed":
        callers = ", ".join(declared.caller_namespaces) or "none"
        return Cause(
            NOT_CALLER_NAMESPACE,
            f"the waypoint's AuthorizationPolicy admits the caller namespaces only ({callers}); "
            f"{namespace} is not one of them",
            namespace,
        )
    if finding.proxy == "sidecar" and namespace in foreign_sidecars:
        return Cause(
            HIDDEN_BY_SIDECAR,
            f"Sidecar {namespace}/{foreign_sidecars[namespace]} (not this egress set's) hides "
            f"{finding.destination} from namespace {namespace}: {ends}; its owner can add "
            f"{declared.namespace}/{finding.destination} to its egress hosts",
            namespace,
        )
    if finding.proxy == "sidecar" and namespace not in declared.sidecars and not declared.exported_to(namespace):
        return Cause(
            NOT_EXPORTED,
            f"this egress set's entries are exported to {', '.join(declared.export_to)}, which does not reach "
            f"namespace {namespace}: {ends}",
            namespace,
        )
    return Cause(HIDDEN, f"this egress set declares {finding.destination}, but {where} the call ends {ends}", namespace)


def _where(finding, namespace):
    if finding.proxy == "gateway":
        return "at the egress gateway"
    at = "at the waypoint" if finding.proxy in ("waypoint", "ztunnel") else "at its sidecar"
    return f"from namespace {namespace} {at}"


def _together(found):
    """One cause for a finding whose callers' namespaces may differ: the first that is not a non-reproduction, naming the rest."""
    first = next((c for c in found if c.code != NOT_REPRODUCED), found[0])
    rest = [c for c in found if c is not first]
    if not rest or all(c.code == first.code for c in rest):
        return first
    others = listed(f"{c.namespace}: {c.code}" for c in rest)
    return Cause(first.code, f"{first.text} (other namespaces: {others})", first.namespace)


def _foreign_sidecars(mesh_dir, egress_set):
    """{namespace: name} of the Sidecars without a workload selector that another owner keeps among the mesh's objects."""
    found = {}
    for obj in manifests.read_dir(mesh_dir):
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        if obj.get("kind") != SIDECAR.kind or spec.get("workloadSelector"):
            continue
        if owner_of(obj, ownership_labels(egress_set)) == OURS:
            continue
        found.setdefault(meta.get("namespace") or "default", meta.get("name"))
    return found
