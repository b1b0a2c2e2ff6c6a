# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ambient mode's part of the layout: which entries go through the waypoint, the waypoint, and its policy.

ztunnel does not enforce REGISTRY_ONLY and ignores exportTo, so in ambient
mode egress is controlled at a waypoint:

* exact API hosts, and wildcard hosts with resolution DYNAMIC_DNS, are labelled
  `istio.io/use-waypoint` (and `istio.io/use-waypoint-namespace` when the
  waypoint lives elsewhere): ztunnel sends their traffic to the waypoint.
  Link-local credential endpoints are on the node and stay direct; so do
  wildcards with resolution NONE, which get no address to route by;
* the waypoint is a Gateway API Gateway of class istio-waypoint, created in
  the entries' namespace (`<prefix>-waypoint`), or an existing one named;
* one ALLOW AuthorizationPolicy bound to the waypoint (`targetRefs`), in its
  namespace, admits the declared SNI hosts from the caller namespaces only.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils import naming
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import wildcards
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.wildcards import USE_WAYPOINT_LABEL
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import provenance_annotations
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import (
    check_keys,
    described,
    input_error,
    shown,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

USE_WAYPOINT_NAMESPACE_LABEL = "istio.io/use-waypoint-namespace"
WAYPOINT_FOR_LABEL = "istio.io/waypoint-for"
DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
WAYPOINT_CLASS = "istio-waypoint"
# The listener every waypoint has: HBONE from ztunnel. Routes from its own namespace only (the
# entries are there), as the API server would default it: said, so that a rerun finds nothing to change.
HBONE_LISTENER = {"name": "mesh", "port": 15008, "protocol": "HBONE", "allowed_routes": "Same"}
WAYPOINT_KEYS = ("name", "namespace", "create")


def layout(pairs, namespace, name_prefix, mode, waypoint, callers, export_to, wildcard_resolution):
    """The ambient part of the layout, given (endpoint, entry) pairs; marks the entries that use the waypoint.

    Returns {"waypoint": ..., "waypoint_check": ..., "notes": [...]}; nothing outside ambient mode.
    """
    if mode != "ambient":
        return {"waypoint": None, "waypoint_check": None, "notes": []}
    settings = _settings(waypoint, namespace, name_prefix)
    routed = [(endpoint, entry) for endpoint, entry in pairs if _through_waypoint(endpoint, entry)]
    routed_names = {entry["name"] for _endpoint, entry in routed}
    direct = [entry["name"] for _endpoint, entry in pairs if entry["name"] not in routed_names]
    callers = _callers(callers, required=bool(routed))
    notes = _notes(pairs, direct, routed, export_to, wildcard_resolution)
    if not routed:
        return {"waypoint": None, "waypoint_check": None, "notes": notes}
    labels = {USE_WAYPOINT_LABEL: settings["name"]}
    if settings["namespace"] != namespace:
        labels[USE_WAYPOINT_NAMESPACE_LABEL] = settings["namespace"]
    for _endpoint, entry in routed:
        entry["route"] = "waypoint"
        entry["labels"] = {**entry.get("labels", {}), **labels}
    endpoints = [endpoint for endpoint, _entry in routed]
    return {
        "waypoint": {
            "name": settings["name"],
            "namespace": settings["namespace"],
            "create": settings["create"],
            "listener": dict(HBONE_LISTENER),
            "class_name": WAYPOINT_CLASS,
            # What the waypoint itself carries besides our labels: it serves Services (ServiceEntries among them).
            "labels": {WAYPOINT_FOR_LABEL: "service"},
            "policy_name": naming.resource_name(name_prefix, "waypoint"),
            "hosts": sorted({host for endpoint in endpoints for host in endpoint["hosts"]}),
            "callers": callers,
            "annotations": provenance_annotations(
                {s for e in endpoints for s in e.get("sources") or [e["service"]]},
                {r for e in endpoints for r in e.get("regions") or []},
            ),
        },
        # What egress_set checks on the cluster before any write (its waypoint option).
        "waypoint_check": {"name": settings["name"], "namespace": settings["namespace"], "create": settings["create"]},
        "notes": notes,
    }


def _through_waypoint(endpoint, entry):
    exact = endpoint["kind"] == "api" and entry["resolution"] == "DNS" and entry["protocol"] == "TLS"
    return exact or (wildcards.is_wildcard(endpoint) and entry["resolution"] == wildcards.DYNAMIC_DNS)


def _settings(waypoint, namespace, name_prefix):
    waypoint = {} if waypoint is None else waypoint
    if not isinstance(waypoint, dict):
        raise input_error(
            "waypoint", f"expected a dict with any of {', '.join(WAYPOINT_KEYS)}, got {described(waypoint)}"
        )
    check_keys(waypoint, "waypoint", WAYPOINT_KEYS)
    create = True if waypoint.get("create") is None else waypoint["create"]
    if not isinstance(create, bool):
        raise input_error("waypoint.create", f"expected true or false, got {described(create)}")
    where = waypoint.get("namespace") or namespace
    naming.check_label(where, "waypoint.namespace", "a namespace name")
    if create and where != namespace:
        raise input_error(
            "waypoint.namespace",
            f"a waypoint the role creates lives beside the entries, in namespace {namespace}; "
            f"to use a waypoint in {shown(where)}, set create: false and give its name",
        )
    if not create and not waypoint.get("name"):
        raise input_error(
            "waypoint.name", "name the existing waypoint to use (create: false), or leave create out to have one made"
        )
    name = waypoint.get("name") or naming.resource_name(name_prefix, "waypoint")
    naming.check_label(name, "waypoint.name", "a Gateway name")
    return {"name": name, "namespace": where, "create": create}


def _callers(callers, required):
    if not isinstance(callers, (list, tuple)):
        raise input_error("caller_namespaces", f"expected a list of namespace names, got {described(callers)}")
    for index, caller in enumerate(callers):
        naming.check_label(caller, f"caller_namespaces[{index}]", "a namespace name")
    if required and not callers:
        raise input_error(
            "caller_namespaces",
            "ambient mode needs the namespaces whose workloads may call the declared hosts "
            "through the waypoint (its policy admits no one else; ztunnel ignores exportTo)",
        )
    return sorted(set(callers))


def _notes(pairs, direct, routed, export_to, wildcard_resolution):
    notes = []
    if direct:
        hint = ""
        if wildcard_resolution != "dynamic_dns" and any(wildcards.is_wildcard(endpoint) for endpoint, _entry in pairs):
            hint = (
                f"; wildcard hosts go through it with {option_ref('wildcard_resolution')}: dynamic_dns, "
                f"once istiod runs with {wildcards.WAYPOINT_FLAG}=true"
            )
        notes.append(f"not through the waypoint (wildcard or link-local hosts): {', '.join(direct)}{hint}")
    dynamic = [entry["name"] for _endpoint, entry in routed if entry["resolution"] == wildcards.DYNAMIC_DNS]
    if dynamic:
        notes.append(
            f"{', '.join(dynamic)} go through the waypoint with resolution {wildcards.DYNAMIC_DNS}: istiod must run with "
            f"{wildcards.WAYPOINT_FLAG}=true, or the waypoint has no route for their hosts and their connections fail; "
            f"the waypoint trusts the SNI a client sends, and its policy admits only SNIs of the declared hosts"
        )
    if routed and list(export_to) != ["*"]:
        notes.append(
            f"ztunnel ignores exportTo: every ambient workload's calls to the declared hosts go to the waypoint, "
            f"whose policy admits {option_ref('caller_namespaces')} only"
        )
    return notes
