# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""layout -> which Telemetries log blocked egress (istio_aws_egress_log_blocked), and the filter they log with.

Logging every call is what makes meshes leave access logs off.  A Telemetry
whose access log has a CEL filter keeps only the calls the mesh blocked, so
diagnosis has its data at the cost of the blocked calls alone:

* one per Sidecar namespace, without a workload selector: the namespace's
  sidecars;
* egress_gateway mode: one beside the gateway selecting its pods;
* ambient mode: one beside the waypoint, bound to it by targetRefs.

Envoy evaluates the filter on each log entry.  Every clause reads one thing a
blocked call leaves behind (BLOCKED_CLAUSES says which), guarded with has():
an attribute a call lacks (`response.*` outside HTTP, the cluster of a direct
response, the route of a TCP connection) is an evaluation error otherwise,
which Envoy counts as "do not log" but says nothing about.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils import naming
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import provenance_annotations
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import WAYPOINT

# The envoy file access log provider (to the proxy's stdout) every default mesh config defines.
PROVIDER = "envoy"

# (what was blocked, the CEL that recognises it)
BLOCKED_CLAUSES = (
    # TLS (and other TCP) to a host the registry does not know, under REGISTRY_ONLY: the outbound listener's default chain.
    ("TCP to an unknown host", "(has(xds.cluster_name) && xds.cluster_name == 'BlackHoleCluster')"),
    # HTTP to an unknown host, under REGISTRY_ONLY: the virtual host block_all answers 502 from its route of that name.
    ("HTTP to an unknown host", "(has(xds.route_name) && xds.route_name == 'block_all')"),
    # A network RBAC filter (the egress gateway's or waypoint's AuthorizationPolicy on passthrough TLS) closed the connection.
    (
        "TCP denied by an AuthorizationPolicy",
        "(has(connection.termination_details) && connection.termination_details.startsWith('rbac_access_denied'))",
    ),
    # An HTTP RBAC filter answered 403.
    (
        "HTTP denied by an AuthorizationPolicy",
        "(has(response.code_details) && response.code_details.startsWith('rbac_access_denied'))",
    ),
)
BLOCKED_FILTER = " || ".join(clause for _what, clause in BLOCKED_CLAUSES)


def telemetries(enabled, name_prefix, sidecar_namespaces, gateway_layout=None, waypoint=None, sources=(), regions=()):
    """The Telemetries of an egress set, as plain data for the template; none unless `enabled`."""
    if not enabled:
        return []
    name = naming.resource_name(name_prefix, "log-blocked")
    annotations = provenance_annotations(sources, regions)
    namespaces = sorted(set(sidecar_namespaces))
    made = [_telemetry(name, namespace, annotations) for namespace in namespaces]
    # A namespace's own Telemetry covers the gateway or waypoint there already; a second of one name cannot be.
    if gateway_layout and gateway_layout["gateway_namespace"] not in namespaces:
        made.append(
            _telemetry(name, gateway_layout["gateway_namespace"], annotations, selector=gateway_layout["selector"])
        )
    if waypoint and waypoint["namespace"] not in namespaces:
        made.append(
            _telemetry(
                name,
                waypoint["namespace"],
                annotations,
                target_refs=[{"group": WAYPOINT.group, "kind": WAYPOINT.kind, "name": waypoint["name"]}],
            )
        )
    return made


def _telemetry(name, namespace, annotations, selector=None, target_refs=None):
    return {
        "name": name,
        "namespace": namespace,
        "selector": dict(selector) if selector else None,
        "target_refs": target_refs,
        "provider": PROVIDER,
        "filter": BLOCKED_FILTER,
        "annotations": dict(annotations),
    }
