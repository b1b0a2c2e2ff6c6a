# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""hosts -> services: which AWS service, region and settings make the SDK contact a host.

The forward expansion, read backwards.  Nothing here knows a host by heart:
for the region a host names (a label such as `us-east-2`), every service
botocore knows is expanded by sdk_hosts, the filter's own step, in each
setting that changes hosts (FIPS, dual-stack, STS's legacy global endpoint),
and each host or wildcard it yields is indexed by the service, region and
settings that yielded it.  A host several services resolve to (elb and
elbv2) has several producers, all listed.

Indexes are built on first use and kept per region, so that a few hosts
cost one or two regions, not every region of every partition.  A host that
names no region is a partition's global host (iam.amazonaws.com), under its
DNS suffix: it is looked for in the regions the caller prefers, then where
the partition's global endpoints are homed (botocore's endpoints.json); any
other host is none an SDK contacts.

Link-local credential endpoints are recognised by their addresses
(credentials.py); VPC endpoints' own names (`vpce-...`) by the endpoint
service their name carries, or as the caller declared them.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import namedtuple

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import (
    botocore_data,
    credentials,
    partitions,
    sdk_hosts,
    vpc_endpoints,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import admits
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.service_spec import ServiceSpec

# One way the SDK comes to a host: a service in a region with its settings, and the host or wildcard the filter opens.
Producer = namedtuple(
    "Producer",
    ["service", "region", "partition", "fips", "dualstack", "sts_legacy_global", "vpc_endpoint", "pattern", "regional"],
)

# The settings that change a service's hosts, plainest first: a host the plain client reaches needs no FIPS.
_VARIANTS = ((False, False), (True, False), (False, True), (True, True))
_STS = "sts"


class Identity(namedtuple("Identity", ["host", "partition", "producers", "credential_source"])):
    """What a host is: the producers of an AWS API host (best first), or the credential source of a link-local address."""

    __slots__ = ()

    @property
    def first(self):
        return self.producers[0] if self.producers else None

    def as_dict(self):
        """The report's `aws` object: the first producer's service, region (None when global) and settings, and every candidate."""
        first = self.first
        return {
            "service": first.service if first else None,
            "region": first.region if first and first.regional else None,
            "partition": self.partition,
            "fips": bool(first and first.fips),
            "dualstack": bool(first and first.dualstack),
            "credential_source": self.credential_source,
            "candidates": [_candidate(p) for p in self.producers],
        }


def _candidate(producer):
    return {
        "service": producer.service,
        "region": producer.region if producer.regional else None,
        "found_in": producer.region,
        "fips": producer.fips,
        "dualstack": producer.dualstack,
        "sts_legacy_global": producer.sts_legacy_global,
        "vpc_endpoint": producer.vpc_endpoint,
        "host": producer.pattern,
    }


def identify(host, preferred_regions=(), vpc_endpoints_declared=()):
    """The Identity of `host` (a name or an IP address, any case, no port), or None when no AWS SDK contacts it.

    `preferred_regions`: where a global host is looked for first (the cluster's).
    `vpc_endpoints_declared`: vpc_endpoints.VpcEndpoint of the cluster; their own names are theirs.
    """
    host = host.strip().strip("[]").rstrip(".").lower()
    source = credential_source_at(host)
    if source:
        return Identity(host, None, (), source)
    declared = _declared_vpce(host, vpc_endpoints_declared)
    if declared:
        return Identity(host, declared[0].partition, declared, None)
    found = _producers(host, tuple(preferred_regions))
    return Identity(host, found[0].partition, found, None) if found else None


def credential_source_at(address):
    """The credential source whose link-local endpoint has this address (IPv4 or IPv6), or None."""
    try:
        wanted = ipaddress.ip_address(address)
    except ValueError:
        return None
    for name in credentials.credential_source_names():
        endpoint = credentials.link_local_endpoint(name)
        if endpoint and ipaddress.ip_address(endpoint.address) == wanted:
            return name
    return None


def _producers(host, preferred_regions):
    labels = host.split(".")
    # A host that names a region is looked for there, whatever its suffix: rulesets build some on
    # suffixes of their own (`<graph>.neptune-graph.<region>.on.aws`, `<region>.signin.aws.amazon.com`).
    named = [label for label in labels if partitions.partition_of(label)]
    if named:
        region = named[-1]  # the label nearest the suffix: vpce names put an endpoint's zone before it
        return _in_region(host, partitions.partition_of(region), region)
    if any(partitions.pattern_partition(label) for label in labels):
        return ()  # a region botocore does not know: no SDK of this botocore resolves it
    for partition in _partitions_of(host):
        for region in _global_regions(partition, preferred_regions):
            found = _in_region(host, partition, region)
            if found:
                return found
    return ()


def _partitions_of(host):
    """The partitions whose DNS suffixes end the host (aws and aws-us-gov share theirs)."""
    return [p for p in partitions.partitions() if host.endswith(("." + p.dns_suffix, "." + p.dualstack_dns_suffix))]


def _global_regions(partition, preferred):
    """Where a global host of `partition` is looked for: the preferred regions, then its global endpoints' homes (or
    its first region). Every region of a partition yields the global hosts its homes yield (a unit test holds
    botocore's data to that), so the others need not be indexed."""
    homes = _global_homes().get(partition.name) or partition.regions[:1]
    return list(dict.fromkeys(r for r in (*preferred, *homes) if r in partition.regions))


@functools.lru_cache(maxsize=None)
def _global_homes():
    """{partition: regions}, most used first: where endpoints.json scopes the partitions' global endpoints (aws-global -> us-east-1)."""
    counts = {}
    for partition in botocore_data.endpoints_data()["partitions"]:
        for service in partition["services"].values():
            for name, endpoint in service.get("endpoints", {}).items():
                home = endpoint.get("credentialScope", {}).get("region")
                if name.endswith("-global") and home:
                    tally = counts.setdefault(partition["partition"], {})
                    tally[home] = tally.get(home, 0) + 1
    return {name: tuple(sorted(tally, key=lambda r: (-tally[r], r))) for name, tally in counts.items()}


def _in_region(host, partition, region):
    index = region_index(region)
    found = list(index.exact.get(host, ()))
    if not found:
        # The most specific wildcard that admits the host: *.s3.us-east-1... before *.us-east-1...
        labels = host.split(".")
        for start in range(1, len(labels) - 1):
            found = list(index.wildcards.get(".".join(labels[start:]), ()))
            if found:
                break
    if not found:
        found = _undeclared_vpce(host, region)
    return tuple(sorted(found, key=_best_first))


def _best_first(producer):
    return (producer.vpc_endpoint, producer.fips, producer.dualstack, producer.sts_legacy_global, producer.service)


class _RegionIndex(namedtuple("_RegionIndex", ["exact", "wildcards"])):
    """{host: producers} and {suffix after "*.": producers} of one region."""

    __slots__ = ()


@functools.lru_cache(maxsize=None)
def region_index(region):
    """Every host every service's SDK contacts in `region`, in every setting: built once per region."""
    partition = partitions.partition_of(region).name
    exact, wildcards, seen = {}, {}, set()
    for service in sorted(botocore_data.service_names()):
        for fips, dualstack in _VARIANTS:
            for producer in _service_producers(service, region, partition, fips, dualstack):
                key = (service, producer.pattern)
                if key in seen:
                    continue  # a plainer setting reaches it already
                seen.add(key)
                if producer.pattern.startswith("*."):
                    wildcards.setdefault(producer.pattern[2:], []).append(producer)
                else:
                    exact.setdefault(producer.pattern, []).append(producer)
    return _RegionIndex(exact, wildcards)


def _service_producers(service, region, partition, fips, dualstack):
    def hosts(sts_legacy_global=False):
        spec = ServiceSpec(service, (region,), fips=fips, dualstack=dualstack, sts_legacy_global=sts_legacy_global)
        return sdk_hosts.sdk_hosts(spec, region)[0]

    plain = hosts()
    found = [Producer(service, region, partition, fips, dualstack, False, False, f.host, f.regional) for f in plain]
    if service == _STS:
        # The legacy global endpoint is a setting of its own (sts_legacy_global); what it adds needs it.
        opened = {f.host for f in plain}
        found.extend(
            Producer(service, region, partition, fips, dualstack, True, False, f.host, f.regional)
            for f in hosts(sts_legacy_global=True)
            if f.host not in opened
        )
    return found


def _declared_vpce(host, declared):
    """The declared VPC endpoints whose own names (and what S3 puts below them) admit the host."""
    found = []
    for endpoint in declared:
        if endpoint.kind != vpc_endpoints.ENDPOINT_SPECIFIC:
            continue
        spec = ServiceSpec(endpoint.service, (endpoint.region,))
        for finding in vpc_endpoints.hosts(endpoint, spec):
            if admits(finding.host, host):
                found.append(
                    Producer(
                        endpoint.service,
                        endpoint.region,
                        partitions.partition_of(endpoint.region).name,
                        False,
                        False,
                        False,
                        True,
                        finding.host,
                        True,
                    )
                )
                break
    return tuple(found)


def _undeclared_vpce(host, region):
    """Producers of an endpoint-specific name no one declared: the services whose VPC endpoint names end as it does."""
    labels = host.split(".")
    at = next((i for i, label in enumerate(labels) if vpc_endpoints.is_endpoint_label(label)), None)
    if at is None:
        return []
    name = ".".join(labels[at:])
    partition = partitions.partition_of(region).name
    return [
        Producer(service, region, partition, False, False, False, True, ("*." + name) if at else name, True)
        for service, suffix in _vpce_suffixes(region)
        if name.endswith(suffix)
    ]


@functools.lru_cache(maxsize=None)
def _vpce_suffixes(region):
    """(service, how its VPC endpoints' own names end in `region`) for every service that has such names."""
    found = []
    for service in sorted(botocore_data.service_names()):
        suffix = vpc_endpoints.name_suffix(service, region)
        if suffix:
            found.append((service, suffix))
    return tuple(found)
