# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Access records -> blocked calls: which lines say the mesh kept a call in, and where that call went.

What blocking looks like in Envoy's access log (sidecar, egress gateway, waypoint):

* TLS (or TCP) to a host no ServiceEntry admits, under REGISTRY_ONLY: upstream
  cluster `BlackHoleCluster` (flag UH), the SNI in REQUESTED_SERVER_NAME;
* HTTP to such a host: a 502 the sidecar answers itself, route `block_all`;
* an AuthorizationPolicy's denial: `rbac_access_denied_matched_policy[...]` as
  the response code details (HTTP, 403) or the connection termination details (TCP);
* a name no filter chain serves (a gateway or waypoint given an SNI it does not
  route): flag NR, details `filter_chain_not_found`.

ztunnel logs each connection it ends with an error at level error or warn
(`error=...`): a policy's denial, a waypoint's refusal, a connection that failed.

The destination is the TLS SNI, else the HTTP authority, else the address the
client connected to; hosts are lower case and without port.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.formats import EMPTY

BLACK_HOLE_CLUSTER = "BlackHoleCluster"
BLOCK_ALL_ROUTE = "block_all"
RBAC_DENIED = "rbac_access_denied"
NO_FILTER_CHAIN = "filter_chain_not_found"
# Bytes that any blocked Envoy line holds: a cheap test before a line is read.
ENVOY_MARKERS = (BLACK_HOLE_CLUSTER.encode(), BLOCK_ALL_ROUTE.encode(), RBAC_DENIED.encode(), NO_FILTER_CHAIN.encode())
ZTUNNEL_FAILED_LEVELS = ("error", "warn")
SIDECAR, GATEWAY, WAYPOINT, ZTUNNEL = "sidecar", "gateway", "waypoint", "ztunnel"
PROXIES = (SIDECAR, GATEWAY, WAYPOINT, ZTUNNEL)
# A waypoint's upstream clusters; no sidecar or gateway has them.
WAYPOINT_CLUSTER_PREFIX = "inbound-vip|"
TLS_PORT, HTTP_PORT = 443, 80


@dataclass(frozen=True)
class Caller:
    """Who made a call, as far as the log and its file say."""

    namespace: str = ""
    pod: str = ""
    identity: str = ""
    file: str = ""

    @property
    def shown(self):
        if self.namespace:
            return f"{self.namespace}/{self.pod}" if self.pod else self.namespace
        return self.pod or self.file


@dataclass(frozen=True)
class BlockedCall:
    destination: str  # host name, lower case, no port; the address when there is no name
    port: int
    protocol: str  # tls, http, tcp
    proxy: str  # sidecar, gateway, waypoint, ztunnel
    time: str
    caller: Caller
    how: str  # what the log says happened


def from_envoy(record, proxy, caller):
    """The BlockedCall an Envoy access record shows, or None when the call was not blocked."""
    how = _envoy_block(record)
    if how is None:
        return None
    if record["upstream_cluster"].startswith(WAYPOINT_CLUSTER_PREFIX):
        proxy = WAYPOINT
    sni, authority, address = record["requested_server_name"], record["authority"], record["downstream_local_address"]
    host, port = _split(address)
    authority_host, authority_port = _split(authority) if authority != EMPTY else ("", None)
    if sni != EMPTY:
        destination, protocol = sni, "tls"
    elif authority_host:
        destination, protocol = authority_host, "http"
    else:
        destination, protocol = host, "tcp"
    # A gateway's local address is its own pod's; the port the client called is the protocol's.
    if proxy == GATEWAY:
        port = authority_port or (HTTP_PORT if protocol == "http" else TLS_PORT)
    else:
        port = authority_port or port or (HTTP_PORT if protocol == "http" else TLS_PORT)
    if not destination:
        return None
    return BlockedCall(destination.lower().rstrip("."), port, protocol, proxy, record["start_time"], caller, how)


def _envoy_block(record):
    details, termination = record["response_code_details"], record["connection_termination_details"]
    if record["upstream_cluster"] == BLACK_HOLE_CLUSTER:
        return f"{BLACK_HOLE_CLUSTER} ({record['response_flags']})"
    if record["route_name"] == BLOCK_ALL_ROUTE:
        return f"{record['response_code']} from the proxy itself, route {BLOCK_ALL_ROUTE}"
    for denial in (details, termination):
        if denial.startswith(RBAC_DENIED):
            return f"denied by an AuthorizationPolicy: {denial}"
    if details == NO_FILTER_CHAIN:
        return f"no filter chain for it ({record['response_flags']} {NO_FILTER_CHAIN})"
    return None


def from_ztunnel(event, caller):
    """The BlockedCall of a ztunnel access event that ended in an error, or None."""
    if event.get("level") not in ZTUNNEL_FAILED_LEVELS or "error" not in event:
        return None
    address = event.get("dst.hbone_addr") or event.get("dst.addr") or ""
    host, port = _split(address)
    destination = event.get("dst.service") or host
    if not destination:
        return None
    namespace = event.get("src.namespace", "")
    caller = Caller(
        namespace or caller.namespace,
        event.get("src.workload") or caller.pod,
        event.get("src.identity", ""),
        caller.file,
    )
    return BlockedCall(
        destination.lower().rstrip("."),
        port or TLS_PORT,
        "tcp",
        ZTUNNEL,
        event.get("time", ""),
        caller,
        f"ztunnel: {event['error']}",
    )


def _split(address):
    """(host, port or None) of "host:port", "[v6]:port", a bare host or a bare IPv6 address."""
    if not address or address == EMPTY:
        return "", None
    if address.startswith("["):
        host, _bracket, rest = address[1:].partition("]")
        return host, _port(rest.lstrip(":"))
    try:
        ipaddress.ip_address(address)
        return address, None  # an IPv6 address without brackets has colons but no port
    except ValueError:
        pass
    host, colon, port = address.rpartition(":")
    return (host, _port(port)) if colon else (address, None)


def _port(text):
    return int(text) if text.isdigit() else None
