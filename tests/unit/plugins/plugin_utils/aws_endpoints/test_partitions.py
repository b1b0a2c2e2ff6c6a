# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Partitions and regions from botocore's partitions.json."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import partitions


def test_every_partition_botocore_knows():
    names = {p.name for p in partitions.partitions()}
    assert {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"} <= names


@pytest.mark.parametrize(
    "region, partition, suffix",
    [
        ("us-east-1", "aws", "amazonaws.com"),
        ("cn-northwest-1", "aws-cn", "amazonaws.com.cn"),
        ("us-gov-east-1", "aws-us-gov", "amazonaws.com"),
        ("us-iso-west-1", "aws-iso", "c2s.ic.gov"),
        ("us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"),
        ("eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk"),
        ("us-isof-south-1", "aws-iso-f", "csp.hci.ic.gov"),
        ("eusc-de-east-1", "aws-eusc", "amazonaws.eu"),
    ],
)
def test_partition_of_a_region(region, partition, suffix):
    found = partitions.partition_of(region)
    assert (found.name, found.dns_suffix) == (partition, suffix)


def test_pseudo_regions_are_not_regions():
    assert partitions.partition_of("aws-global") is None
    assert partitions.is_pseudo_region("aws-cn-global")
    assert not partitions.is_pseudo_region("my-global")
    assert "aws-global" not in partitions.all_regions()


def test_unknown_regions_that_look_right_are_told_apart_from_typos():
    assert partitions.pattern_partition("us-west-9").name == "aws"
    assert partitions.pattern_partition("us_west_2") is None


def test_probe_region_is_another_region_of_the_same_partition():
    assert partitions.probe_region("us-east-1") != "us-east-1"
    assert partitions.partition_of(partitions.probe_region("cn-north-1")).name == "aws-cn"
    assert partitions.probe_region("eusc-de-east-1") is None  # a partition of one region
