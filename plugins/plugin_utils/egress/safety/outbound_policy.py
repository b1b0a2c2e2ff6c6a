# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the set's ServiceEntries do in each namespace: restrict, only route, or nothing.

A ServiceEntry restricts egress only where the outbound traffic policy is
REGISTRY_ONLY; elsewhere it adds routing and telemetry, and unknown hosts stay
reachable.  Which policy holds, first match wins:

* a namespace in ambient mode: none - ztunnel ignores outbound policies, so
  the entries restrict nothing there; only a waypoint's policy (for the hosts
  bound to it) and a network policy limit egress;
* a namespace where this set writes its Sidecar: REGISTRY_ONLY;
* the namespace's own Sidecar (no workload selector) with an
  outboundTrafficPolicy;
* the mesh config of the namespace's revision (plan/mesh_config.py): unset means
  ALLOW_ANY.  ALLOW_ANY_DYNAMIC_DNS lets unknown hosts out through dynamic
  DNS from Istio 1.31; istiod 1.30 and earlier test for ALLOW_ANY alone
  (IsAllowAnyOutbound), so there it acts as REGISTRY_ONLY.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import mesh_config
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import unless_forbidden

PARALLEL_READS = 8

RESTRICT, ROUTE, NOTHING, UNKNOWN = "restrict", "only route", "nothing", "unknown"
DYNAMIC_DNS_MODE = "ALLOW_ANY_DYNAMIC_DNS"
# The first release whose mesh config has ALLOW_ANY_DYNAMIC_DNS (istio.io/api 1.30.8), and the first whose istiod lets
# unknown hosts out under it.
DYNAMIC_DNS_IN_API_FROM = (1, 30)
DYNAMIC_DNS_HONOURED_FROM = (1, 31)
AMBIENT_LABEL = "istio.io/dataplane-mode"

_SAID = {
    RESTRICT: "the entries restrict egress: only registered hosts are reached",
    ROUTE: "the entries only route: unknown hosts stay reachable",
    NOTHING: "the entries restrict nothing (ztunnel ignores outbound policies); only a waypoint's policy and a network policy limit egress",
}


@dataclass(frozen=True)
class Verdict:
    """What the entries do in one namespace, and why."""

    namespace: str
    effect: str  # RESTRICT, ROUTE, NOTHING or UNKNOWN
    policy: str  # the policy and where it comes from, as said

    def public(self):
        return {"namespace": self.namespace, "effect": self.effect, "policy": self.policy}


def mesh_effect(policy):
    """(effect, what is said of the policy) for a MeshPolicy."""
    where = f"ConfigMap {policy.configmap}"
    if policy.state == mesh_config.FORBIDDEN:
        return UNKNOWN, f"{where} not read (forbidden): the outbound policy is not known"
    if policy.state == mesh_config.MISSING:
        return UNKNOWN, f"{where} not found: the outbound policy is not known"
    if policy.state == mesh_config.UNPARSABLE:
        return UNKNOWN, f"{where} holds no readable mesh config: the outbound policy is not known"
    mode = policy.effective_mode
    said = f"{mode}{'' if policy.mode else ' (unset)'} in {where}"
    if mode == "REGISTRY_ONLY":
        return RESTRICT, said
    if mode == DYNAMIC_DNS_MODE:
        if policy.release is None:
            return UNKNOWN, (
                f"{said}, which names no release: from Istio 1.31 the entries only route (unknown hosts leave "
                f"through dynamic DNS); istiod 1.30 and earlier treat it as REGISTRY_ONLY"
            )
        if policy.release < DYNAMIC_DNS_IN_API_FROM:
            return (
                UNKNOWN,
                f"{said}, which Istio {_release(policy.release)}'s mesh config does not know: the outbound policy is not known",
            )
        if policy.release >= DYNAMIC_DNS_HONOURED_FROM:
            return ROUTE, f"{said} (Istio {_release(policy.release)}: unknown hosts leave through dynamic DNS)"
        return RESTRICT, f"{said} (Istio {_release(policy.release)}: istiod treats it as REGISTRY_ONLY)"
    if mode == "ALLOW_ANY":
        return ROUTE, said
    return UNKNOWN, f"{said}: a mode this collection does not know"


def _release(release):
    return ".".join(map(str, release))


def judge(listed, namespaces, own_sidecars, ours, policies, unread=()):
    """(verdicts per listed namespace, the mesh default's verdict).

    `listed`: the namespaces the set names; `namespaces`: {name: Namespace or None}; `own_sidecars`: {name: the
    namespace's Sidecars that are not this set's}; `ours`: {namespace: this set's Sidecar name}; `policies`:
    {ConfigMap name: MeshPolicy} (mesh_config.read); `unread`: namespaces the user may not read, or whose Sidecars.
    """
    verdicts = []
    for name in sorted(set(listed)):
        namespace = namespaces.get(name)
        labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
        if name in unread:
            verdicts.append(Verdict(name, UNKNOWN, f"namespace {name} or its Sidecars not read (forbidden)"))
        elif labels.get(AMBIENT_LABEL) == "ambient":
            verdicts.append(Verdict(name, NOTHING, f"{AMBIENT_LABEL}=ambient"))
        elif name in ours:
            verdicts.append(Verdict(name, RESTRICT, f"REGISTRY_ONLY in this set's Sidecar {name}/{ours[name]}"))
        elif _own_policy(own_sidecars.get(name) or []) is not None:
            sidecar, mode = _own_policy(own_sidecars[name])
            verdicts.append(
                Verdict(name, RESTRICT if mode == "REGISTRY_ONLY" else ROUTE, f"{mode} in its Sidecar {name}/{sidecar}")
            )
        else:
            policy = policies.get(mesh_config.configmap_name(mesh_config.revision_of(namespace)))
            effect, said = mesh_effect(policy) if policy else (UNKNOWN, "no mesh config read")
            verdicts.append(Verdict(name, effect, said))
    default = policies.get(mesh_config.configmap_name(None))
    return verdicts, (Verdict("", *mesh_effect(default)) if default else None)


def _own_policy(sidecars):
    """(name, mode) of the namespace-wide Sidecar (no workload selector) that sets an outbound policy; None: none does."""
    for sidecar in sidecars:
        spec = sidecar.get("spec") or {}
        mode = (spec.get("outboundTrafficPolicy") or {}).get("mode")
        if not spec.get("workloadSelector") and mode:
            return sidecar["metadata"]["name"], mode
    return None


def notes(verdicts, default):
    """The plan's notes: the mesh default, then the listed namespaces grouped by what the entries do there."""
    lines = []
    if default is not None:
        effect = _SAID.get(default.effect, "what the entries do is not known")
        lines.append(f"outbound policy of namespaces without a Sidecar of their own: {default.policy}: {effect}")
    groups = {}
    for verdict in verdicts:
        groups.setdefault((verdict.effect, verdict.policy), []).append(verdict.namespace)
    for (effect, policy), names in groups.items():
        said = _SAID.get(effect, "what the entries do there is not known")
        lines.append(
            f"outbound policy in namespace{'s' if len(names) > 1 else ''} {', '.join(names)}: {policy}: {said}"
        )
    return lines


def assess(reader, sidecar_kind, sidecar_version, listed, control_plane, ours):
    """(verdicts, default) read from the cluster: the listed namespaces, their Sidecars, and the mesh config of each
    revision they use, in `control_plane` (istiod's namespace). What the user may not read is said, never a failure.

    `reader`: a reads.ClusterReader; `sidecar_version`: the Sidecar version served (None: not served).
    """
    listed = sorted(set(listed))
    unread = set()
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        namespace_reads = {
            name: pool.submit(
                unless_forbidden, reader.get, f"/api/v1/namespaces/{name}", f"reading namespace {name}", missing_ok=True
            )
            for name in listed
        }
        sidecar_reads = {
            name: pool.submit(unless_forbidden, reader.list, sidecar_kind, sidecar_version, name)
            for name in listed
            if sidecar_version
        }
        namespaces, own_sidecars = {}, {}
        for name in listed:
            allowed, namespaces[name] = namespace_reads[name].result()
            unread.update([name] if not allowed else [])
            if name in sidecar_reads:
                allowed, sidecars = sidecar_reads[name].result()
                unread.update([name] if not allowed else [])
                own_sidecars[name] = [
                    sidecar
                    for sidecar in sidecars or []
                    if (sidecar.get("metadata") or {}).get("name") != ours.get(name)
                ]
        revisions = {mesh_config.revision_of(namespace) for namespace in namespaces.values()}
        policies = dict(zip(*_parallel(pool, reader.configmap, control_plane, revisions)))
    return judge(listed, namespaces, own_sidecars, ours, policies, unread)


def _parallel(pool, configmap, namespace, revisions):
    """(names, MeshPolicies) of the ConfigMaps of `revisions`, read side by side."""
    names = sorted(
        {mesh_config.configmap_name(None)} | {mesh_config.configmap_name(revision) for revision in revisions}
    )
    reads = [pool.submit(mesh_config.read, configmap, namespace, name) for name in names]
    return names, [future.result() for future in reads]
