# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Never silence someone's access logs: what our Telemetries (layout/access_logs.py) would replace, refused before a write.

For the workloads it applies to, a Telemetry that configures access logging
replaces the access logging of every less specific level: the mesh config's
`accessLogFile` and `defaultProviders.accessLogging`, and the root
namespace's Telemetry.  Istio applies only the first Telemetry without a
selector of a namespace, so a second one there is ignored, theirs or ours.
So ours is refused (override `replace_access_logs`) where

* the namespace already has a Telemetry without a selector, or the
  workloads ours selects already have one of their own;
* the mesh logs: its config or the root namespace's Telemetry turns on
  access logging, which ours would turn, there, into blocked egress only.

The plan says what each of ours replaces, also when that is nothing.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import mesh_config
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import owner_text
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import describe, identity
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety.mesh import Finding
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import TELEMETRY
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

OVERRIDE = "replace_access_logs"
_SHOWN = 10
_UNREAD = {
    mesh_config.FORBIDDEN: "not read (forbidden)",
    mesh_config.MISSING: "not found",
    mesh_config.UNPARSABLE: "holds no readable mesh config",
}


def telemetries(objects):
    return [obj for obj in objects if identity(obj)[:2] == TELEMETRY.key]


def check(desired, others, mesh, root_namespace):
    """(refusals, notes) for writing the Telemetries of `desired` beside `others` (not declared, not ours).

    `mesh`: the MeshPolicy of the default revision's ConfigMap (mesh_config.read), or None when not read.
    """
    ours = telemetries(desired)
    if not ours:
        return [], []
    theirs = telemetries(others)
    mesh_wide = _mesh_wide(mesh, theirs, root_namespace)
    refusals, notes = [], []
    if mesh is not None and mesh.state != mesh_config.READ:
        notes.append(
            f"ConfigMap {mesh.configmap} {_UNREAD[mesh.state]}: whether the mesh config turns on access logs, which "
            f"the Telemetries of this egress set would replace, is not known"
        )
    fix = f"stop setting {option_ref('log_blocked')}"
    for telemetry in ours:
        scope = _scope(telemetry)
        for other in _in_the_way(telemetry, theirs):
            refusals.append(
                Finding(
                    f"{scope} already {'has' if scope.startswith('namespace') else 'have'} {describe(other)} ({owner_text(other, of='of ')}); "
                    f"{describe(telemetry)} would replace its access logs there, and Istio applies only the first Telemetry without "
                    f"a selector of a namespace, so one of the two would be ignored",
                    f"{fix}, or merge what that Telemetry does with logging blocked egress",
                    OVERRIDE,
                )
            )
        if mesh_wide:
            refusals.append(
                Finding(
                    f"the mesh logs every call ({listed(mesh_wide, _SHOWN)}); {describe(telemetry)} would replace that for {scope}, "
                    f"whose proxies would then log blocked egress only",
                    fix,
                    OVERRIDE,
                )
            )
        else:
            notes.append(
                f"{describe(telemetry)} logs blocked egress of {scope}; it replaces the mesh's access logs there, "
                f"which {'are off' if mesh is not None and mesh.state == mesh_config.READ else 'may be on'} today"
            )
    return refusals, notes


def _scope(telemetry):
    spec = telemetry.get("spec") or {}
    namespace = identity(telemetry)[2]
    if spec.get("selector"):
        return f"the pods of namespace {namespace} labelled {_labels(spec['selector'].get('matchLabels'))}"
    if spec.get("targetRefs"):
        return f"the proxies of {listed([f'{kind} {namespace}/{name}' for kind, name in sorted(_refs(spec))])}"
    return f"namespace {namespace}"


def _labels(labels):
    return ",".join(f"{key}={value}" for key, value in sorted((labels or {}).items()))


def _selects(spec):
    return bool(spec.get("selector") or spec.get("targetRefs") or spec.get("targetRef"))


def _in_the_way(ours, theirs):
    """Their Telemetries of the same namespace that ours would displace or be displaced by."""
    namespace, spec = identity(ours)[2], ours.get("spec") or {}
    in_the_way = []
    for other in theirs:
        other_spec = other.get("spec") or {}
        if identity(other)[2] != namespace:
            continue
        if not _selects(spec):
            # Two without a selector: Istio applies one.
            in_the_way += [other] if not _selects(other_spec) else []
        elif not _selects(other_spec):
            # Theirs covers the namespace; ours, more specific, would replace its access logs on our pods.
            in_the_way += [other] if other_spec.get("accessLogging") else []
        elif _same_workloads(spec, other_spec):
            in_the_way.append(other)
    return in_the_way


def _same_workloads(spec, other_spec):
    """Whether two selecting Telemetries can apply to the same workloads: a shared target, or one selector holds the other."""
    refs, other_refs = _refs(spec), _refs(other_spec)
    if refs or other_refs:
        return bool(refs & other_refs)
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    other_labels = (other_spec.get("selector") or {}).get("matchLabels") or {}
    return all(other_labels.get(k) == v for k, v in labels.items()) or all(
        labels.get(k) == v for k, v in other_labels.items()
    )


def _refs(spec):
    refs = list(spec.get("targetRefs") or []) + ([spec["targetRef"]] if spec.get("targetRef") else [])
    return {(ref.get("kind"), ref.get("name")) for ref in refs}


def _mesh_wide(mesh, theirs, root_namespace):
    """What logs every call mesh-wide: the mesh config's settings, the root namespace's Telemetries that log."""
    said = [f"{setting} in ConfigMap {mesh.configmap}" for setting in (mesh.access_logs if mesh is not None else ())]
    for other in theirs:
        spec = other.get("spec") or {}
        if identity(other)[2] == root_namespace and not _selects(spec) and _logs(spec):
            said.append(f"{describe(other)} in the root namespace")
    return said


def _logs(spec):
    """Whether a Telemetry's access logging is on: some entry not disabled."""
    return any(not entry.get("disabled") for entry in spec.get("accessLogging") or [])
