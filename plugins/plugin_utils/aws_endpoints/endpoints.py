# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Group hosts into endpoints: one dict per ServiceEntry, complete and sorted.

Rules, each for a reason:

* one entry per (service, region, resolution) for regional hosts and per
  (service, partition, resolution) for a partition's global hosts, so that
  `kubectl get serviceentries` reads like the input;
* exact hosts (resolution DNS) and wildcards (resolution NONE) never share an
  entry: Istio refuses wildcards with DNS resolution;
* a host appears once: a host several services resolve to (elb and elbv2)
  belongs to the first service by name, and a host a wildcard already admits
  (a.x.y under *.x.y, or *.a.x.y under *.x.y) is left to the wildcard, whose
  entry lists the sources of both;
* a host that several requested regions resolve to is the partition's;
* link-local credential endpoints get one entry each, with their IP.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import credentials
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import naming

API_PORT = 443
API_PROTOCOL = "TLS"

# One host seen by one service in one region.
Contribution = namedtuple("Contribution", ["service", "source", "region", "partition", "host", "regional"])


class _HostFacts:
    """Everything known about one host, from every contribution to it."""

    __slots__ = ("services", "sources", "regions", "partitions", "regional")

    def __init__(self, contribution):
        self.services = {contribution.service}
        self.sources = {contribution.source}
        self.regions = {contribution.region}
        self.partitions = {contribution.partition}
        self.regional = contribution.regional

    def add(self, contribution):
        self.services.add(contribution.service)
        self.sources.add(contribution.source)
        self.regions.add(contribution.region)
        self.partitions.add(contribution.partition)
        self.regional = self.regional and contribution.regional


def build_endpoints(contributions, link_local_sources, name_prefix):
    """The endpoint dicts for API hosts and link-local credential sources, sorted by name."""
    facts = {}
    for contribution in contributions:
        fact = facts.get(contribution.host)
        if fact is None:
            facts[contribution.host] = _HostFacts(contribution)
        else:
            fact.add(contribution)
    _fold_covered_hosts(facts)
    groups = {}
    for host, fact in facts.items():
        region = next(iter(fact.regions)) if fact.regional and len(fact.regions) == 1 else None
        key = (min(fact.services), min(fact.partitions), region, "NONE" if host.startswith("*.") else "DNS")
        groups.setdefault(key, []).append(host)
    endpoints = [_api_endpoint(key, hosts, facts, name_prefix) for key, hosts in groups.items()]
    endpoints.extend(_credential_endpoint(source, name_prefix) for source in link_local_sources)
    return sorted(_unique_names(endpoints), key=lambda e: e["name"])


def admits(pattern, host):
    """Whether a ServiceEntry host (exact or leading "*." wildcard) admits `host`."""
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and host != pattern
    return host == pattern


def _fold_covered_hosts(facts):
    """Leave hosts a wildcard admits to the broadest such wildcard."""
    wildcards = {h for h in facts if h.startswith("*.")}
    for host in sorted(facts):
        labels = host.split(".")
        # Candidate wildcards are "*." + each proper suffix, broadest first.
        candidates = ("*." + ".".join(labels[i:]) for i in range(len(labels) - 1, 0, -1))
        cover = next((w for w in candidates if w in wildcards and w != host), None)
        if cover is not None:
            facts[cover].sources |= facts.pop(host).sources


def _api_endpoint(key, hosts, facts, name_prefix):
    service, partition, region, resolution = key
    scope = region or f"{partition}-global"
    return {
        "name": naming.resource_name(name_prefix, service, scope, "wildcard" if resolution == "NONE" else ""),
        "kind": "api",
        "service": service,
        "partition": partition,
        "regions": sorted(set().union(*(facts[h].regions for h in hosts))),
        "hosts": sorted(hosts),
        "port": API_PORT,
        "protocol": API_PROTOCOL,
        "resolution": resolution,
        "sources": sorted(set().union(*(facts[h].sources for h in hosts))),
    }


def _credential_endpoint(source, name_prefix):
    link_local = credentials.link_local_endpoint(source)
    return {
        "name": naming.resource_name(name_prefix, "credentials", source),
        "kind": "credentials",
        "service": source,
        "partition": None,
        "regions": [],
        "hosts": [link_local.host],
        "port": credentials.LINK_LOCAL_PORT,
        "protocol": credentials.LINK_LOCAL_PROTOCOL,
        "resolution": "STATIC",
        "addresses": [link_local.address],
        "endpoints": [{"address": link_local.address}],
        "sources": [f"credential_source:{source}"],
    }


def _unique_names(endpoints):
    """Names are unique by construction; should two ever meet, both get a hash of their hosts."""
    seen = {}
    for endpoint in endpoints:
        seen.setdefault(endpoint["name"], []).append(endpoint)
    for name, clashing in seen.items():
        if len(clashing) > 1:
            for endpoint in clashing:
                endpoint["name"] = naming.resource_name(name, ",".join(endpoint["hosts"]))
    return endpoints
