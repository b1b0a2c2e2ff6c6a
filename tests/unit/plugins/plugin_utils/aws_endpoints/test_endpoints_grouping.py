# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Grouping hosts into endpoints, on hand-made contributions."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import (
    Contribution,
    admits,
    build_endpoints,
)


def _c(host, service="svc", region="us-east-1", regional=True, source=None, partition="aws"):
    return Contribution(service, source or service, region, partition, host, regional)


def _names_and_hosts(contributions, link_local=()):
    return {e["name"]: e["hosts"] for e in build_endpoints(contributions, link_local, "aws")}


@pytest.mark.parametrize(
    "pattern, host, expected",
    [
        ("a.x.y", "a.x.y", True),
        ("a.x.y", "b.x.y", False),
        ("*.x.y", "a.x.y", True),
        ("*.x.y", "a.b.x.y", True),
        ("*.x.y", "x.y", False),
        ("*.x.y", "ax.y", False),
        ("*.x.y", "*.a.x.y", True),
        ("*.x.y", "*.x.y", False),
    ],
)
def test_admits(pattern, host, expected):
    assert admits(pattern, host) is expected


def test_exact_and_wildcard_hosts_never_share_an_entry():
    assert _names_and_hosts([_c("svc.us-east-1.x"), _c("*.svc.us-east-1.x")]) == {
        "aws-svc-us-east-1": ["svc.us-east-1.x"],
        "aws-svc-us-east-1-wildcard": ["*.svc.us-east-1.x"],
    }


def test_exact_host_under_a_wildcard_is_left_to_the_wildcard_with_its_sources():
    endpoints = build_endpoints([_c("a.b.us-east-1.x", service="one"), _c("*.b.us-east-1.x", service="two")], (), "aws")
    assert [(e["name"], e["hosts"], e["sources"]) for e in endpoints] == [
        ("aws-two-us-east-1-wildcard", ["*.b.us-east-1.x"], ["one", "two"])
    ]


def test_narrow_wildcards_are_left_to_the_broadest():
    hosts = _names_and_hosts([_c("*.c.b.us-east-1.x"), _c("*.b.us-east-1.x"), _c("d.c.b.us-east-1.x")])
    assert hosts == {"aws-svc-us-east-1-wildcard": ["*.b.us-east-1.x"]}


def test_a_host_of_two_services_belongs_to_the_first_by_name():
    endpoints = build_endpoints([_c("h.us-east-1.x", service="elbv2"), _c("h.us-east-1.x", service="elb")], (), "aws")
    assert [(e["name"], e["service"], e["sources"]) for e in endpoints] == [
        ("aws-elb-us-east-1", "elb", ["elb", "elbv2"])
    ]


def test_a_host_of_several_regions_or_not_regional_is_the_partitions():
    hosts = _names_and_hosts(
        [
            _c("shared.x", region="us-east-1"),
            _c("shared.x", region="eu-west-1"),
            _c("global.x", regional=False),
            _c("own.us-east-1.x"),
        ]
    )
    assert hosts == {"aws-svc-aws-global": ["global.x", "shared.x"], "aws-svc-us-east-1": ["own.us-east-1.x"]}


def test_regions_of_an_entry_are_all_regions_that_asked_for_its_hosts():
    (endpoint,) = build_endpoints(
        [_c("g.x", region="us-east-1", regional=False), _c("g.x", region="ap-south-1", regional=False)], (), "aws"
    )
    assert endpoint["regions"] == ["ap-south-1", "us-east-1"]


def test_credential_endpoints_come_after_api_endpoints_by_name_only():
    names = list(_names_and_hosts([_c("zzz.us-east-1.x", service="zzz")], ("imds",)))
    assert names == ["aws-credentials-imds", "aws-zzz-us-east-1"]
