# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a simulated call did, and whether that is what the declaration says.

A call leaves the mesh when it reaches a cluster that leads out: a DNS or
original-destination cluster, an EDS cluster with endpoints, or the
passthrough cluster.  It stays when it is black-holed (BlackHoleCluster, the
sidecar's own 502 for unknown HTTP hosts, no listener or filter chain) or
dropped (a route to a cluster the proxy does not have, an EDS cluster without
endpoints).  A call routed to the egress gateway leaves only if the same SNI
leaves at the gateway.

At a waypoint (ambient mode) a call that would leave is then weighed by the
chain's RBAC filters for the caller namespace's identity (rbac.py): refused,
it is denied.  ztunnel is not modelled: calls start at the waypoint, so what
ztunnel does with a host no entry binds to it (it sends it straight out) is
not judged here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import rbac as envoy_rbac
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.calls import CUT, DENY, LEAVE, REACH, STAY

ALLOWED, PASSTHROUGH, VIA_GATEWAY, BLACK_HOLED, DROPPED = (
    "allowed",
    "passthrough",
    "via gateway",
    "black-holed",
    "dropped",
)
DENIED = "denied"
LEAVING = (ALLOWED, PASSTHROUGH, VIA_GATEWAY)
BLACK_HOLE_CLUSTER = "BlackHoleCluster"
PASSTHROUGH_CLUSTER = "PassthroughCluster"


@dataclass(frozen=True)
class Outcome:
    code: str
    cluster: str = ""
    detail: str = ""

    @property
    def leaves(self):
        return self.code in LEAVING


def outcome(result, needs_endpoints=True, endpoint=""):
    """The Outcome of one harness result; `endpoint` is the one a credential call must reach."""
    cluster = result.get("cluster") or ""
    if result.get("error"):
        return Outcome(BLACK_HOLED, cluster, result["error"])
    if cluster == BLACK_HOLE_CLUSTER:
        return Outcome(BLACK_HOLED, cluster, BLACK_HOLE_CLUSTER)
    if not cluster:
        if result.get("virtual_host") == "block_all":
            return Outcome(BLACK_HOLED, "", "502 from the sidecar itself, route block_all")
        return Outcome(BLACK_HOLED, "", "no cluster")
    if cluster == PASSTHROUGH_CLUSTER:
        return Outcome(PASSTHROUGH, cluster, "passed through to the address the client chose (ALLOW_ANY)")
    if not result.get("cluster_type"):
        return Outcome(DROPPED, cluster, f"the route names {cluster}, which the proxy does not have")
    endpoints = result.get("endpoints") or []
    if endpoint and endpoint not in endpoints:
        return Outcome(DROPPED, cluster, f"{cluster} has endpoints {endpoints or 'none'}, not {endpoint}")
    if needs_endpoints and result["cluster_type"] == "EDS" and not endpoints:
        return Outcome(DROPPED, cluster, f"{cluster} (EDS) has no endpoints")
    return Outcome(ALLOWED, cluster, result["cluster_type"])


def gateway_host(cluster):
    """The host of an outbound cluster (`outbound|<port>|<subset>|<host>`), or ""."""
    parts = cluster.split("|")
    return parts[3] if len(parts) == 4 and parts[0] == "outbound" else ""


@dataclass(frozen=True)
class Cell:
    """One call of the matrix, judged."""

    outcome: str
    cluster: str
    detail: str
    expected: str
    violation: str = ""
    path: tuple = ()
    rbac: tuple = ()

    def as_dict(self):
        return {
            "outcome": self.outcome,
            "cluster": self.cluster,
            "detail": self.detail,
            "expected": self.expected,
            "violation": self.violation,
            "path": list(self.path),
            "rbac": list(self.rbac),
        }


def judge(call, result, at_gateway=None, gateway_service_host=""):
    """The Cell of `call` from its result; `at_gateway` is the gateway's Outcome for the same host, if simulated."""
    target, caller = call.target, call.caller
    seen = outcome(result, needs_endpoints=target.kind != "in-mesh", endpoint=target.endpoint)
    path = (seen.cluster,) if seen.cluster else ()
    if (
        seen.code == ALLOWED
        and gateway_service_host
        and gateway_host(seen.cluster) == gateway_service_host
        and caller.role != "gateway"
    ):
        if at_gateway is None:
            seen = Outcome(DROPPED, seen.cluster, "sent to the egress gateway, which was not simulated for this host")
        elif at_gateway.leaves:
            seen = Outcome(VIA_GATEWAY, at_gateway.cluster, f"{seen.cluster} -> gateway -> {at_gateway.cluster}")
            path = (path[0], at_gateway.cluster)
        else:
            seen = Outcome(
                DROPPED, seen.cluster, f"sent to the egress gateway, where it is {at_gateway.code}: {at_gateway.detail}"
            )
    unjudged = ""
    if caller.at_waypoint and seen.leaves:
        seen, unjudged = _waypoint_policy(seen, result, call)
    shown_rbac = caller.role == "gateway" or caller.at_waypoint
    rbac = tuple(envoy_rbac.sni_policies(result.get("rbac"), target.host)) if shown_rbac else ()
    violation = _violation(call, seen, result, rbac, unjudged)
    return Cell(seen.code, seen.cluster, seen.detail, expected_shown(call.expect), violation, path, rbac)


def _waypoint_policy(seen, result, call):
    """(the Outcome once the chain's RBAC filters have weighed the caller, why they could not be weighed or "")."""
    peer = envoy_rbac.principal(call.caller.namespace)
    try:
        admitted = envoy_rbac.admits(result.get("rbac"), call.target.host, peer)
    except envoy_rbac.Unevaluated as err:
        return seen, str(err)
    if admitted:
        return seen, ""
    return Outcome(DENIED, seen.cluster, f"the waypoint's AuthorizationPolicy refuses {peer}"), ""


def _violation(call, seen, result, rbac, unjudged=""):
    target, caller, where = call.target, call.caller, _where(call.caller)
    if unjudged and call.expect:
        return f"the waypoint's policy on {target.host} is not judged {where}: {unjudged}"
    if call.expect == DENY and seen.leaves:
        return f"declared {target.host} leaves the mesh {where} through {seen.cluster}: the waypoint's policy admits it"
    if call.expect == LEAVE:
        if not seen.leaves:
            return f"declared {target.host} does not leave the mesh {where}: {seen.code}, {seen.detail}"
        if call.via == "gateway" and caller.role != "gateway" and seen.code != VIA_GATEWAY:
            return f"declared {target.host} leaves {where} directly ({seen.cluster}), not through the egress gateway"
        if call.via == "direct" and seen.code == VIA_GATEWAY:
            return f"declared {target.host} goes through the egress gateway {where}, where it should leave directly"
        if caller.role == "gateway":
            if not result.get("rbac"):
                return f"declared {target.host} passes the egress gateway with no AuthorizationPolicy on its chain"
            if not rbac:
                return f"no AuthorizationPolicy on the egress gateway's chain names SNI {target.host}"
    if call.expect == STAY and seen.leaves:
        return f"undeclared {target.host} ({target.why}) leaves the mesh {where} through {seen.cluster}"
    if call.expect == REACH and seen.code not in (ALLOWED, PASSTHROUGH):
        return f"{target.why} ({target.host}) is cut off {where}: {seen.code}, {seen.detail}"
    return ""


def _where(caller):
    if caller.at_waypoint:
        shown = "a caller namespace" if caller.role == "listed" else "not a caller namespace"
        return f"from namespace {caller.namespace} ({shown}) at the waypoint"
    if caller.role == "gateway":
        return "at the egress gateway"
    if caller.role == "listed":
        return f"from namespace {caller.namespace} (our Sidecar)"
    return f"from namespace {caller.namespace} (no Sidecar of ours)"


def expected_shown(expect):
    return {LEAVE: "leaves", STAY: "black-holed", REACH: "reached", CUT: "cut off", DENY: "denied"}.get(expect, "")
