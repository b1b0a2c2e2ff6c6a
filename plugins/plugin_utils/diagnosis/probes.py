# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A blocked call, made again on the simulation: the same host and port, from the same namespace, at the same proxy.

A sidecar's call starts at a sidecar of the caller's namespace, a gateway's
at the egress gateway; in ambient mode a waypoint's or ztunnel's call starts
at the waypoint (ztunnel itself is not modelled), with the caller
namespace's identity.  A link-local credential endpoint is called over HTTP
on its address, anything else over TLS with the host as SNI (HTTP with the
host as Host header where the log saw HTTP).
"""

from __future__ import annotations

import ipaddress

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import credentials
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.reverse_index import credential_source_at
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import blocked
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import calls

# Callers' namespaces a blocked call is made again from, most lines first.
MAX_NAMESPACES = 3


class NotSimulated(ValueError):
    """A call the simulation cannot make again, and why."""


def where(proxy, mode):
    """Why a blocked call at `proxy` cannot be made again for an egress set in `mode`, or ""."""
    if proxy == blocked.GATEWAY and mode != "egress_gateway":
        return f"it was blocked at an egress gateway, which this egress set does not route through (its mode is {mode})"
    if proxy in (blocked.WAYPOINT, blocked.ZTUNNEL) and mode != "ambient":
        return (
            f"it was blocked at a {proxy}, which only ambient mode sends it through (this egress set's mode is {mode})"
        )
    return ""


def probe(call_id, destination, port, protocol, proxy, namespace, declared):
    """The calls.Call that makes a blocked call again; NotSimulated when it cannot be."""
    why = where(proxy, declared.mode)
    if why:
        raise NotSimulated(why)
    return calls.Call(
        call_id,
        _caller(proxy, namespace, declared),
        _target(destination, port, protocol, declared),
        calls.LEAVE,
        "direct",
    )


def declares(declared, finding):
    """Whether the egress set declares what a blocked call went to: an API host, or a credential source's address."""
    try:
        return _target(finding.destination, finding.port, finding.protocol, declared).declared
    except NotSimulated:
        return False


def callers_of(proxy, namespaces, declared):
    """The namespaces to make a blocked call again from: the egress gateway's, the logs' callers (the first few), else the stand-in."""
    if proxy == blocked.GATEWAY:
        return [declared.gateway["namespace"]] if declared.gateway else [""]
    return list(dict.fromkeys(ns for ns in namespaces if ns))[:MAX_NAMESPACES] or [stand_in(declared)]


def stand_in(declared):
    """The namespace that calls where no log names the caller: the first the egress set serves (a caller namespace in
    ambient mode, a Sidecar namespace otherwise), else one it does not."""
    served = declared.caller_namespaces if declared.mode == "ambient" else declared.sidecars
    return served[0] if served else unlisted(declared)


def unlisted(declared):
    """The namespace without a Sidecar of the egress set (in ambient mode, outside its caller namespaces) the simulation calls from."""
    return next(c.namespace for c in calls.callers(declared) if c.role == "unlisted")


def _caller(proxy, namespace, declared):
    if proxy == blocked.GATEWAY:
        return calls.gateway_caller(declared.gateway["namespace"])
    if proxy in (blocked.WAYPOINT, blocked.ZTUNNEL):
        role = "listed" if namespace in declared.caller_namespaces else "unlisted"
        return calls.Caller(namespace, calls.WAYPOINT_PROXY, role, namespace)
    role = "listed" if namespace in declared.sidecars else "unlisted"
    return calls.Caller(namespace, f"sidecar/{namespace}", role, namespace)


def _target(destination, port, protocol, declared):
    address = _address(destination)
    if address is not None:
        source = credential_source_at(str(address))
        if source is None or port != credentials.LINK_LOCAL_PORT:
            raise NotSimulated(
                f"the log names no host, only the address {destination}: the simulation needs the name the client asked for"
            )
        shown = f"[{address}]" if address.version == 6 else str(address)
        return calls.Target(
            shown,
            "credentials",
            source in declared.credential_sources,
            f"credential source {source}",
            str(address),
            port,
            "http",
            endpoint=f"{shown}:{port}",
        )
    pattern = declared.admits(destination) or ""
    # As the matrix has them: a declared AWS host, or a host the set does not declare.
    kind = "aws" if pattern else "non-aws"
    return calls.Target(
        destination,
        kind,
        bool(pattern),
        "blocked in the logs",
        calls.PUBLIC_ADDRESS,
        port,
        "http" if protocol == "http" else "tls",
        pattern=pattern,
    )


def _address(destination):
    try:
        return ipaddress.ip_address(destination)
    except ValueError:
        return None
