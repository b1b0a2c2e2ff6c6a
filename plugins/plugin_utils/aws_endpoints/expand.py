# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""services -> endpoints: the whole expansion, one step after the other.

arguments --service_spec----> EgressRequest
          --vpc_endpoints---> the VPC endpoints per service and region
          --sdk_hosts-------> hosts per service and region (or a VPC endpoint's own names)
          --listed_regions--> warnings for regions endpoints.json lacks
          --endpoints-------> endpoint dicts (one per ServiceEntry), marked with the VPC endpoint carrying them
"""

from __future__ import annotations

import contextlib
import gc
from collections import namedtuple

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import (
    listed_regions,
    partitions,
    sdk_hosts,
    service_spec,
    vpc_endpoints,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import (
    Contribution,
    build_endpoints,
)

Expansion = namedtuple("Expansion", ["endpoints", "warnings"])


def expand(services, /, **options):
    """Expand AWS services into endpoint dicts.

    `services` is a list of boto3 client names or dicts {name, regions,
    account_ids, fips, dualstack, buckets}; `options` are the filter's keyword
    arguments (regions, account_ids, fips, dualstack, credential_sources,
    sts_legacy_global, name_prefix, vpc_endpoints).  Returns
    Expansion(endpoints, warnings); raises AnsibleFilterError for bad input.
    """
    with _cyclic_gc_paused():
        request = service_spec.parse_request(services, options)
        vpc = vpc_endpoints.parse(options.get("vpc_endpoints"), request.regions)
        contributions, warnings, carried = [], set(), {}
        for spec in request.services:
            opened = {}
            for region in spec.regions:
                endpoint = vpc.get((spec.name, region))
                if endpoint and endpoint.kind == vpc_endpoints.ENDPOINT_SPECIFIC:
                    findings, notes = (
                        vpc_endpoints.hosts(endpoint, spec),
                        [vpc_endpoints.endpoint_url_warning(endpoint)],
                    )
                else:
                    findings, notes = sdk_hosts.sdk_hosts(spec, region)
                warnings.update(notes)
                partition = partitions.partition_of(region).name
                contributions.extend(
                    Contribution(spec.name, spec.source, region, partition, f.host, f.regional) for f in findings
                )
                for finding in findings:
                    carried.setdefault(finding.host, []).append(
                        endpoint.kind if endpoint and vpc_endpoints.covers(endpoint, finding.host) else None
                    )
                if findings:
                    opened[region] = sdk_hosts.plain_host(spec.name, region)
            warnings.add(listed_regions.unlisted_regions_warning(spec.name, opened))
        warnings.discard(None)
        endpoints = build_endpoints(contributions, request.link_local_sources, request.name_prefix)
        _mark_vpc_endpoints(endpoints, carried)
    return Expansion(endpoints, sorted(warnings))


def _mark_vpc_endpoints(endpoints, carried):
    """Give `vpc_endpoint` to each endpoint whose hosts one kind of VPC endpoint carries, for every service asking for them.

    A host folded into a wildcard is the wildcard's to carry.
    """
    for endpoint in endpoints:
        kinds = {kind for host in endpoint["hosts"] for kind in carried.get(host, [None])}
        if endpoint["kind"] == "api" and len(kinds) == 1 and None not in kinds:
            endpoint["vpc_endpoint"] = kinds.pop()


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Pause the cyclic garbage collector while the expansion runs.

    A cold expansion of every service builds about 200,000 long-lived objects
    from botocore's data, and allocates many short-lived ones; the collector
    would rescan the growing heap again and again (a quarter of the run time).
    Nothing here relies on it: whatever cycles arise are freed once it runs again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
