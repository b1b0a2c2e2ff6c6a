# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS partitions and their regions, from botocore's partitions.json.

Endpoint rulesets accept any region string (an unknown one just yields a host
that does not exist), so regions are checked here against the partitions'
region lists instead.
"""

from __future__ import annotations

import functools
import re
from collections import namedtuple

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import botocore_data

Partition = namedtuple("Partition", ["name", "dns_suffix", "dualstack_dns_suffix", "regions", "region_pattern"])


def _is_pseudo_region(name):
    # "aws-global", "aws-cn-global", ...: ruleset inputs for global endpoints, not places.
    return name.endswith("-global")


@functools.lru_cache(maxsize=None)
def partitions():
    """Every partition botocore knows, in partitions.json order (aws first)."""
    found = []
    for data in botocore_data.partitions_data()["partitions"]:
        regions = tuple(sorted(r for r in data["regions"] if not _is_pseudo_region(r)))
        outputs = data["outputs"]
        found.append(
            Partition(
                data["id"],
                outputs["dnsSuffix"],
                outputs["dualStackDnsSuffix"],
                regions,
                re.compile(data["regionRegex"]),
            )
        )
    return tuple(found)


@functools.lru_cache(maxsize=None)
def _partition_by_region():
    return {region: partition for partition in partitions() for region in partition.regions}


def partition_of(region):
    """The partition that lists this region, or None."""
    return _partition_by_region().get(region)


def partition_named(name):
    """The partition with this id ("aws", "aws-cn", ...), or None."""
    return next((p for p in partitions() if p.name == name), None)


def all_regions():
    """Every real region of every partition, sorted."""
    return tuple(sorted(_partition_by_region()))


def pattern_partition(region):
    """The partition whose region pattern matches a region it does not list, or None.

    Tells a region that a newer botocore may know (us-west-9) from a typo (us_west_2).
    """
    return next((p for p in partitions() if p.region_pattern.match(region)), None)


def is_pseudo_region(region):
    """True for "aws-global" and friends, which partitions.json lists but nobody deploys to."""
    return _is_pseudo_region(region) and any(
        region in p_data["regions"] for p_data in botocore_data.partitions_data()["partitions"]
    )


def probe_region(region):
    """Another region of the same partition, or None when the partition has only one.

    A host the ruleset also gives for the probe does not depend on the region:
    it is the partition's global host (iam, route53, ...).
    """
    partition = partition_of(region)
    return next((r for r in partition.regions if r != region), None) if partition else None
