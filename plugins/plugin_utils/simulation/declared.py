# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What an egress set declares, from the role's variables: the expectations of a simulation.

The AWS hosts come from the aws_endpoints expansion (the SDK's own endpoint
rules), the credential endpoints from the credential sources, and who should
reach them from the mode, the Sidecar namespaces and exportTo (in ambient
mode, the caller namespaces the waypoint's policy admits).  Nothing here
reads what the role rendered: that is what the simulation checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import credentials
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import admits
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand

# What the role passes to the aws_endpoints filter, less name_prefix, which names resources and opens no host.
EXPANSION_OPTIONS = (
    "regions",
    "account_ids",
    "credential_sources",
    "fips",
    "dualstack",
    "sts_legacy_global",
    "vpc_endpoints",
)
# A Sidecar always keeps its own namespace (the role's layout says so; so does its README).
OWN_NAMESPACE = "./*"


@dataclass(frozen=True)
class ApiHost:
    """A declared AWS host (exact, or a leading "*." wildcard), with the service and regions that asked for it."""

    pattern: str
    service: str
    regions: tuple
    partition: str

    @property
    def wildcard(self):
        return self.pattern.startswith("*.")


@dataclass(frozen=True)
class Declared:
    name: str
    namespace: str
    mode: str
    export_to: tuple
    sidecars: tuple
    sidecar_hosts: tuple
    api_hosts: tuple
    # The declared credential sources with a link-local endpoint (imds, ecs, ...).
    credential_sources: tuple
    gateway: dict | None
    # Ambient mode: the waypoint ({name, namespace}; no name: the one rendered beside the entries) and who may use it.
    waypoint: dict | None = None
    caller_namespaces: tuple = ()
    wildcard_resolution: str = "auto"

    @property
    def regions(self):
        return tuple(sorted({region for host in self.api_hosts for region in host.regions}))

    @property
    def services(self):
        return tuple(sorted({host.service for host in self.api_hosts}))

    def admits(self, host):
        """The declared pattern that admits `host`, or None."""
        return next((h.pattern for h in self.api_hosts if admits(h.pattern, host)), None)

    def exported_to(self, namespace):
        """Whether the set's entries are visible in `namespace` without a Sidecar of ours."""
        return (
            "*" in self.export_to
            or namespace in self.export_to
            or ("." in self.export_to and namespace == self.namespace)
        )

    def through_gateway(self, pattern):
        """Exact API hosts go through the egress gateway in its mode; wildcards (many upstreams) cannot."""
        return self.mode == "egress_gateway" and not pattern.startswith("*.")

    def through_waypoint(self, pattern):
        """In ambient mode, exact API hosts go through the waypoint; wildcards only with DYNAMIC_DNS (else nothing routes them)."""
        return self.mode == "ambient" and (not pattern.startswith("*.") or self.wildcard_resolution == "dynamic_dns")

    def sidecar_admits(self, caller_namespace, service_namespace, service_host):
        """Whether our Sidecar in `caller_namespace` keeps an in-mesh Service, by its own egress host rules."""
        for rule in (OWN_NAMESPACE, *self.sidecar_hosts):
            namespace, _slash, dns = rule.partition("/")
            if namespace not in ("*", service_namespace) and not (
                namespace == "." and service_namespace == caller_namespace
            ):
                continue
            if dns == "*" or dns == service_host or (dns.startswith("*.") and service_host.endswith(dns[1:])):
                return True
        return False


def declared(
    services,
    name,
    namespace,
    mode,
    gateway=None,
    sidecars=(),
    sidecar_hosts=(),
    export_to=("*",),
    waypoint=None,
    caller_namespaces=(),
    wildcard_resolution="auto",
    **expansion,
):
    """The Declared of an egress set; `expansion` holds the aws_endpoints options (EXPANSION_OPTIONS)."""
    options = {key: value for key, value in expansion.items() if key in EXPANSION_OPTIONS and value is not None}
    endpoints = expand(list(services or []), **options).endpoints
    hosts = {}
    for endpoint in endpoints:
        if endpoint["kind"] != "api":
            continue
        for pattern in endpoint["hosts"]:
            hosts.setdefault(
                pattern, ApiHost(pattern, endpoint["service"], tuple(endpoint["regions"]), endpoint["partition"])
            )
    sources = tuple(sorted(s for s in options.get("credential_sources") or () if credentials.link_local_endpoint(s)))
    return Declared(
        name=name,
        namespace=namespace,
        mode=mode,
        export_to=tuple(export_to or ("*",)),
        sidecars=tuple(sorted(set(sidecars or ()))),
        sidecar_hosts=tuple(sidecar_hosts or ()),
        api_hosts=tuple(hosts[p] for p in sorted(hosts)),
        credential_sources=sources,
        gateway=dict(gateway) if mode == "egress_gateway" and gateway else None,
        waypoint={
            "name": (waypoint or {}).get("name") or "",
            "namespace": (waypoint or {}).get("namespace") or namespace,
        }
        if mode == "ambient"
        else None,
        caller_namespaces=tuple(sorted(set(caller_namespaces or ()))),
        wildcard_resolution=wildcard_resolution or "auto",
    )
