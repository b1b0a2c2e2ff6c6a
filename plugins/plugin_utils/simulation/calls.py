# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The call matrix: who calls (a Sidecar namespace, an unlisted namespace, the egress gateway), what, and what should happen.

Targets are every declared AWS host (a concrete name for a wildcard), a few
undeclared AWS hosts of the same regions (another service, another region,
another bucket or account where those are exact), a host outside AWS, every
link-local credential endpoint, and the in-mesh Services given with the
mesh's objects.  Each call carries its expectation, taken from the
declaration (declared.py), never from what was rendered.

In ambient mode the callers are the caller namespaces and one other, and
every call starts at the waypoint (ztunnel is not modelled): the declared
hosts that go through it, the undeclared ones, and each undeclared one again
on a declared host's address (a client naming another host in its handshake).
The credential endpoints are reached from the node and in-mesh Services get
no Sidecar of ours, so neither is called there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import credentials, partitions, sdk_hosts
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import mesh

# Any address outside the mesh: DNS answers are not simulated, a TLS call is matched by port and SNI.
PUBLIC_ADDRESS = "203.0.113.10"
TLS_PORT = 443
# Stands for any label a wildcard host admits (a bucket, an account ID).
WILDCARD_LABEL = "simulated"
# Undeclared services tried per region, the first two not declared.
OTHER_SERVICES = ("ec2", "sns", "lambda", "kinesis", "sqs", "sts", "kms", "secretsmanager")
OTHER_SERVICES_PER_REGION = 2
OTHER_BUCKET = "undeclared-bucket"
OTHER_ACCOUNT = "999999999999"
NON_AWS_HOST = "example.com"
UNLISTED_CANDIDATES = ("default", "unlisted")

# What a call should do: leave the mesh, stay in it (black-holed), reach an in-mesh Service, be cut from it,
# be refused by the waypoint's policy; "" is not judged.
LEAVE, STAY, REACH, CUT, DENY = "leave", "stay", "reach", "cut", "deny"
# Ambient mode: the one proxy every call starts at.
WAYPOINT_PROXY = "waypoint"


@dataclass(frozen=True)
class Caller:
    name: str  # as the report shows it
    proxy: str  # the harness's proxy id
    role: str  # listed (our Sidecar; in ambient mode a caller namespace), unlisted, gateway
    namespace: str

    @property
    def at_waypoint(self):
        return self.proxy == WAYPOINT_PROXY


@dataclass(frozen=True)
class Target:
    host: str  # SNI, Host header or Service name
    kind: str  # aws, credentials, non-aws, in-mesh
    declared: bool
    why: str
    address: str
    port: int
    protocol: str  # tls, http, tcp
    pattern: str = ""  # the declared host that admits it (itself, or a wildcard)
    endpoint: str = ""  # credentials: the link-local endpoint it must reach
    namespace: str = ""  # in-mesh: the Service's namespace
    sent_to: str = ""  # ambient: the declared host whose address the call goes to, where not its own


@dataclass(frozen=True)
class Call:
    id: str
    caller: Caller
    target: Target
    expect: str
    via: str  # gateway or direct, for declared AWS hosts; waypoint in ambient mode

    def request(self, gateway=None, waypoint=None):
        call = {"id": self.id, "proxy": self.caller.proxy, "address": self.target.address, "port": self.target.port}
        if self.caller.role == "gateway":
            call.update(address=mesh.GATEWAY_POD_IP, port=gateway.listener_port)
        elif self.caller.at_waypoint:
            call.update(address=waypoint.address_of(self.target.sent_to or self.target.host))
        if self.target.protocol == "tls":
            call.update(protocol="tcp", tls=True, sni=self.target.host)
        elif self.target.protocol == "http":
            call.update(protocol="http", host=self.target.host)
        else:
            call.update(protocol="tcp")
        return call


def callers(declared, unlisted=None):
    """Every listed Sidecar namespace, one unlisted namespace and, in gateway mode, the egress gateway.

    In ambient mode: every caller namespace and one other, all at the waypoint.
    """
    ambient = declared.mode == "ambient"
    listed = declared.caller_namespaces if ambient else declared.sidecars
    taken = set(listed) | {declared.namespace}
    if declared.gateway:
        taken.add(declared.gateway["namespace"])
    if declared.waypoint:
        taken.add(declared.waypoint["namespace"])
    unlisted = unlisted or next(n for n in (*UNLISTED_CANDIDATES, "unlisted-simulated") if n not in taken)
    if ambient:
        return [Caller(ns, WAYPOINT_PROXY, "listed", ns) for ns in listed] + [
            Caller(unlisted, WAYPOINT_PROXY, "unlisted", unlisted)
        ]
    found = [Caller(ns, f"sidecar/{ns}", "listed", ns) for ns in listed]
    found.append(Caller(unlisted, f"sidecar/{unlisted}", "unlisted", unlisted))
    if declared.gateway:
        found.append(gateway_caller(declared.gateway["namespace"]))
    return found


def gateway_caller(namespace):
    """The egress gateway, as a caller."""
    return Caller("egress gateway", "gateway", "gateway", namespace)


def proxies(found, gateway=None, waypoint=None):
    ips = mesh.sidecar_ips()
    result = {}
    for caller in found:
        if caller.at_waypoint:
            result[caller.proxy] = waypoint.proxy
        elif caller.role == "gateway":
            result[caller.proxy] = {
                "type": "router",
                "namespace": gateway.namespace,
                "labels": dict(gateway.selector),
                "ips": [mesh.GATEWAY_POD_IP],
            }
        else:
            result[caller.proxy] = {"type": "sidecar", "namespace": caller.namespace, "ips": [next(ips)]}
    return result


def targets(declared, services=()):
    """Declared and undeclared AWS hosts, a non-AWS host, the credential endpoints and the in-mesh Services.

    In ambient mode: the declared hosts that go through the waypoint, and each undeclared host on its own and on a
    declared host's address.
    """
    found = [_declared(host) for host in declared.api_hosts]
    seen = {t.host for t in found}
    undeclared = []
    for target in _undeclared(declared):
        if target.host not in seen and not declared.admits(target.host):
            seen.add(target.host)
            undeclared.append(target)
    if declared.mode == "ambient":
        return _at_waypoint(declared, found, undeclared)
    found.extend(undeclared)
    for source in credentials.credential_source_names():
        link_local = credentials.link_local_endpoint(source)
        if link_local is None:
            continue
        address = link_local.address
        shown = f"[{address}]" if ":" in address else address
        found.append(
            Target(
                shown,
                "credentials",
                source in declared.credential_sources,
                f"credential source {source}",
                address,
                credentials.LINK_LOCAL_PORT,
                "http",
                endpoint=f"{shown}:{credentials.LINK_LOCAL_PORT}",
            )
        )
    for service in services:
        found.append(
            Target(
                service.host,
                "in-mesh",
                False,
                f"Service {service.namespace}/{service.name}",
                service.address,
                service.port,
                "http" if service.http else "tcp",
                namespace=service.namespace,
            )
        )
    return found


def _at_waypoint(declared, found, undeclared):
    routed = [t for t in found if declared.through_waypoint(t.pattern)]
    # A wildcard's chain resolves whatever name the handshake asks for: the address to try another name on, where there is one.
    decoy = next((t for t in routed if t.pattern != t.host), routed[0] if routed else None)
    spoofed = (
        [replace(t, why=f"{t.why}, sent to {decoy.host}'s address", sent_to=decoy.host) for t in undeclared]
        if decoy
        else []
    )
    return routed + undeclared + spoofed


def not_through_waypoint(declared):
    """In ambient mode, the declared API hosts nothing sends through the waypoint (wildcards without DYNAMIC_DNS)."""
    return [
        h.pattern for h in declared.api_hosts if declared.mode == "ambient" and not declared.through_waypoint(h.pattern)
    ]


def _declared(host):
    concrete = f"{WILDCARD_LABEL}{host.pattern[1:]}" if host.wildcard else host.pattern
    where = f"in {', '.join(host.regions)}" if host.regions else f"{host.partition} global"
    return Target(
        concrete, "aws", True, f"{host.service} {where}", PUBLIC_ADDRESS, TLS_PORT, "tls", pattern=host.pattern
    )


def _aws(host, why):
    return Target(host, "aws", False, why, PUBLIC_ADDRESS, TLS_PORT, "tls")


def _undeclared(declared):
    services = set(declared.services)
    for region in declared.regions:
        suffix = partitions.partition_of(region).dns_suffix
        hosts = ((s, sdk_hosts.plain_host(s, region)) for s in OTHER_SERVICES if s not in services)
        others = [(s, h) for s, h in hosts if h and not declared.admits(h)]
        for service, host in others[:OTHER_SERVICES_PER_REGION]:
            yield _aws(host, f"{service} in {region}, not declared")
        if "s3" in services:
            yield _aws(f"{OTHER_BUCKET}.s3.{region}.{suffix}", f"s3 in {region}, a bucket not declared")
        if "dynamodb" in services:
            yield _aws(f"{OTHER_ACCOUNT}.ddb.{region}.{suffix}", f"dynamodb in {region}, an account not declared")
    other_region = _other_region(declared.regions)
    exact = next((h for h in declared.api_hosts if not h.wildcard and h.regions), None)
    if other_region and exact:
        host = sdk_hosts.plain_host(exact.service, other_region)
        if host:
            yield _aws(host, f"{exact.service} in {other_region}, a region not declared")
    yield Target(NON_AWS_HOST, "non-aws", False, "not an AWS host", PUBLIC_ADDRESS, TLS_PORT, "tls")


def _other_region(regions):
    if not regions:
        return None
    partition = partitions.partition_of(regions[0])
    return next((r for r in partition.regions if r not in regions), None) if partition else None


def matrix(found_callers, found_targets, declared):
    """One call per caller and target it makes, with what should happen."""
    calls = []
    for caller in found_callers:
        for target in found_targets:
            if caller.role == "gateway" and target.kind not in ("aws", "non-aws"):
                continue
            if caller.role != "listed" and target.kind == "in-mesh":
                continue
            via = _via(caller, target, declared)
            call_id = f"{caller.name} -> {target.host}:{target.port}" + (
                f" on {target.sent_to}'s address" if target.sent_to else ""
            )
            calls.append(Call(call_id, caller, target, _expect(caller, target, declared, via), via))
    return calls


def _via(caller, target, declared):
    if caller.at_waypoint:
        return "waypoint"
    return (
        "gateway" if target.kind == "aws" and target.declared and declared.through_gateway(target.pattern) else "direct"
    )


def _expect(caller, target, declared, via):
    if caller.at_waypoint:
        if not target.declared:
            return STAY
        return LEAVE if caller.role == "listed" else DENY
    if target.kind == "in-mesh":
        return REACH if declared.sidecar_admits(caller.namespace, target.namespace, target.host) else CUT
    if not target.declared:
        return STAY
    if caller.role == "listed":
        return LEAVE
    if caller.role == "unlisted":
        return LEAVE if declared.exported_to(caller.namespace) else ""
    # At the gateway only the hosts routed through it are judged.
    return LEAVE if via == "gateway" else ""
