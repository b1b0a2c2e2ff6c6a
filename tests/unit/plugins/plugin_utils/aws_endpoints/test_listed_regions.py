# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Warnings when endpoints.json knows a service, but not in a region."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.listed_regions import (
    unlisted_regions_warning,
)


def test_listed_region_no_warning():
    assert unlisted_regions_warning("ecr", {"eu-west-1": "api.ecr.eu-west-1.amazonaws.com"}) is None


def test_unlisted_regions_warn_once_and_keep_the_hosts():
    warning = unlisted_regions_warning(
        "amplify",
        {
            "eu-west-1": "amplify.eu-west-1.amazonaws.com",
            "ap-southeast-7": "amplify.ap-southeast-7.amazonaws.com",
            "ca-west-1": "amplify.ca-west-1.amazonaws.com",
        },
    )
    assert warning == (
        "amplify: botocore's endpoints.json does not list amplify in ap-southeast-7, ca-west-1; "
        "its hosts there (amplify.ap-southeast-7.amazonaws.com, ...) are opened anyway, as the SDK would still contact them"
    )


def test_services_endpoints_json_does_not_know_are_not_warned_about():
    assert (
        unlisted_regions_warning("bedrock-runtime", {"ap-southeast-7": "bedrock-runtime.ap-southeast-7.amazonaws.com"})
        is None
    )


def test_global_hosts_and_unresolved_regions_are_not_warned_about():
    assert unlisted_regions_warning("iam", {"ap-southeast-7": "iam.amazonaws.com", "eu-west-1": None}) is None
