# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Warn when botocore's endpoints.json knows a service but not in a region.

The SDK takes hosts from the endpoint rulesets, which accept any region, so
such a host is still opened; the warning tells the user the service may not
run there.  endpoints.json is keyed by endpoint prefix, not client name, so a
service is recognised by its host with the region cut out
("api.ecr.{region}.amazonaws.com").
"""

from __future__ import annotations

import functools

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import botocore_data, partitions

_REGION = "{region}"


def _template(host, region):
    labels = host.split(".")
    if region not in labels:
        return None
    return ".".join(_REGION if label == region else label for label in labels)


@functools.lru_cache(maxsize=None)
def _listed(name):
    """{host template: regions endpoints.json lists for it} in partition `name`: only the partitions asked about are indexed."""
    index = {}
    for partition in botocore_data.endpoints_data()["partitions"]:
        if partition["partition"] != name:
            continue
        default_hostname = partition["defaults"]["hostname"]
        for service, data in partition["services"].items():
            service_hostname = data.get("defaults", {}).get("hostname", default_hostname)
            for region, endpoint in data.get("endpoints", {}).items():
                region_partition = partitions.partition_of(region)
                if region_partition is None or region_partition.name != name:
                    continue  # fips-us-east-1, aws-global and other aliases
                hostname = endpoint.get("hostname", service_hostname)
                host = hostname.format(service=service, region=region, dnsSuffix=partition["dnsSuffix"])
                template = _template(host, region)
                if template:
                    index.setdefault(template, set()).add(region)
    return index


def unlisted_regions_warning(service, hosts_by_region):
    """One warning for the regions endpoints.json lists this service's host in others only, or None.

    `hosts_by_region` maps each requested region to the service's plain host
    there (no FIPS, no dual-stack), or to None if it has none.
    """
    unlisted = {}
    for region, host in sorted(hosts_by_region.items()):
        template = _template(host, region) if host else None
        listed = _listed(partitions.partition_of(region).name).get(template) if template else None
        if listed is not None and region not in listed:
            unlisted[region] = host
    if not unlisted:
        return None
    example = next(iter(unlisted.values()))
    return (
        f"{service}: botocore's endpoints.json does not list {service} in {', '.join(unlisted)}; "
        f"its hosts there ({example}, ...) are opened anyway, as the SDK would still contact them"
    )
