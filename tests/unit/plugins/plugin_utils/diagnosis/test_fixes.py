# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixes: the narrowest change to the variables that opens a blocked host, and only what its service and region declare.

Proving them on the simulation is the integration tests' (test_diagnose_runbook.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.reverse_index import identify
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import causes
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.declaration import declaration
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.findings import Finding
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.fixes import fix_for, opened
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

PREFIX = "istio_aws_egress_"
NOT_DECLARED = causes.Cause(causes.NOT_DECLARED, "")


def egress_set(**options):
    base = {
        "name": "prod",
        "namespace": "istio-system",
        "mode": "sidecar",
        "gateway": None,
        "sidecars": ["orders"],
        "sidecar_hosts": ["*/*.svc.cluster.local"],
        "export_to": ["*"],
        "waypoint": None,
        "caller_namespaces": [],
        "wildcard_resolution": "auto",
        "services": ["sqs", "sts"],
        "regions": ["us-east-1"],
        "account_ids": [],
        "credential_sources": [],
        "fips": False,
        "dualstack": False,
        "sts_legacy_global": False,
        "vpc_endpoints": [],
    }
    return {**base, **options}


def fixed(host, cause=NOT_DECLARED, proxy="sidecar", port=443, protocol="tls", **options):
    options = egress_set(**options)
    fix, why = fix_for(
        Finding(host, port, proxy, protocol), identify(host, options["regions"]), cause, options, declaration(options)
    )
    return (replace(fix, change=named_options(fix.change, PREFIX)) if fix else None), why


@pytest.mark.parametrize(
    "host, entry, opens",
    [
        ("sqs.us-east-2.amazonaws.com", {"name": "sqs", "regions": ["us-east-2"]}, ["sqs.us-east-2.amazonaws.com"]),
        (
            "sqs-fips.us-east-1.amazonaws.com",
            {"name": "sqs", "regions": ["us-east-1"], "fips": True},
            ["sqs-fips.us-east-1.amazonaws.com"],
        ),
        (
            "sqs.us-east-1.api.aws",
            {"name": "sqs", "regions": ["us-east-1"], "dualstack": True},
            ["sqs.us-east-1.api.aws"],
        ),
        (
            "sqs.cn-north-1.amazonaws.com.cn",
            {"name": "sqs", "regions": ["cn-north-1"]},
            ["sqs.cn-north-1.amazonaws.com.cn"],
        ),
        ("iam.amazonaws.com", {"name": "iam", "regions": ["us-east-1"]}, ["iam.amazonaws.com"]),
        # The bucket or account the host names, not the wildcard.
        (
            "orders-archive.s3.eu-west-1.amazonaws.com",
            {"name": "s3", "regions": ["eu-west-1"], "buckets": ["orders-archive"]},
            [
                "orders-archive.s3.eu-west-1.amazonaws.com",
                "s3.eu-west-1.amazonaws.com",
                "s3express-control.eu-west-1.amazonaws.com",
            ],
        ),
        (
            "123456789012.ddb.us-east-1.amazonaws.com",
            {"name": "dynamodb", "regions": ["us-east-1"], "account_ids": ["123456789012"]},
            [
                "123456789012.ddb.us-east-1.amazonaws.com",
                "123456789012.search-ddb.us-east-1.amazonaws.com",
                "dynamodb.us-east-1.amazonaws.com",
                "search-dynamodb.us-east-1.amazonaws.com",
            ],
        ),
    ],
)
def test_a_host_the_set_does_not_declare_is_opened_by_its_service_in_its_region_alone(host, entry, opens):
    fix, why = fixed(host)
    assert why == "" and fix.options == {"services": ["sqs", "sts", entry]}
    assert list(fix.opens) == opens
    assert fix.change.startswith("add {name: ") and fix.change.endswith(f"to {PREFIX}services")


def test_a_setting_of_the_whole_set_is_undone_for_the_added_service_where_the_host_needs_it():
    fix, _why = fixed("kms.us-east-1.amazonaws.com", fips=True)
    assert fix.options["services"][-1] == {"name": "kms", "regions": ["us-east-1"], "fips": False}


def test_stss_legacy_global_host_is_a_switch_where_the_set_has_sts_in_a_legacy_region():
    fix, _why = fixed("sts.amazonaws.com")
    assert fix.options == {"sts_legacy_global": True} and fix.opens == ("sts.amazonaws.com",)
    assert fix.change == f"set {PREFIX}sts_legacy_global to true"
    without_sts, _why = fixed("sts.amazonaws.com", services=["sqs"], regions=["eu-west-1"])
    assert without_sts.options == {
        "services": ["sqs", {"name": "sts", "regions": ["eu-west-1"]}],
        "sts_legacy_global": True,
    }


@pytest.mark.parametrize(
    "address, source, opens",
    [
        ("169.254.169.254", "imds", ["imds.aws.internal"]),
        ("fd00:ec2::254", "imds_ipv6", ["imds-ipv6.aws.internal"]),
        ("169.254.170.23", "eks_pod_identity", ["eks-auth.us-east-1.api.aws", "eks-pod-identity.aws.internal"]),
    ],
)
def test_a_link_local_address_is_opened_by_its_credential_source(address, source, opens):
    fix, _why = fixed(address, port=80, protocol="http")
    assert fix.options == {"credential_sources": [source]} and list(fix.opens) == opens


def test_a_vpc_endpoints_own_name_goes_into_that_endpoints_dns_names():
    name = "vpce-0c1d2e3f4a5b6c7d8-m4n5p6q7.sqs.us-east-1.vpce.amazonaws.com"
    fix, _why = fixed(name)
    assert fix.options == {"vpc_endpoints": [{"service": "sqs", "region": "us-east-1", "dns_names": [name]}]}
    listed = {
        "service": "sqs",
        "private_dns": False,
        "dns_names": ["vpce-0a1b2c3d4e5f6a7b8-a1b2c3d4.sqs.us-east-1.vpce.amazonaws.com"],
    }
    extended, _why = fixed(name, vpc_endpoints=[listed])
    assert extended.options["vpc_endpoints"][0]["dns_names"] == listed["dns_names"] + [name]
    undeclared, _why = fixed("vpce-0c1d2e3f4a5b6c7d8-m4n5p6q7.kms.us-east-1.vpce.amazonaws.com")
    assert undeclared.options["services"] == ["sqs", "sts", {"name": "kms", "regions": ["us-east-1"]}]
    private, why = fixed(name, vpc_endpoints=[{"service": "sqs"}])
    assert private is None and "declared with the service's own names" in why


def test_callers_the_set_does_not_reach_are_added_to_its_namespaces():
    fix, _why = fixed(
        "sqs.us-east-1.amazonaws.com",
        causes.Cause(causes.NOT_CALLER_NAMESPACE, "", "shipping"),
        proxy="ztunnel",
        mode="ambient",
        caller_namespaces=["orders"],
        sidecars=[],
    )
    assert fix.options == {"caller_namespaces": ["orders", "shipping"]} and fix.opens == ()
    fix, _why = fixed(
        "sqs.us-east-1.amazonaws.com", causes.Cause(causes.NOT_EXPORTED, "", "reports"), export_to=["orders"]
    )
    assert (
        fix.options == {"export_to": ["orders", "reports"]}
        and fix.change == f"add reports to {PREFIX}export_to, so that it sees the entries"
    )


@pytest.mark.parametrize(
    "host, cause, options, why",
    [
        (
            "example.com",
            NOT_DECLARED,
            {},
            "example.com is not a host any AWS SDK contacts: this egress set opens AWS only",
        ),
        ("sqs.us-east-1.amazonaws.com", causes.Cause(causes.UNKNOWN, ""), {}, "this egress set declares it already"),
        (
            "sqs.us-east-1.amazonaws.com",
            causes.Cause(causes.HIDDEN_BY_SIDECAR, ""),
            {},
            "another owner's Sidecar hides it",
        ),
        ("sqs.us-east-1.amazonaws.com", causes.Cause(causes.NOT_REPRODUCED, ""), {}, "nothing to open"),
        (
            "sns.us-east-1.amazonaws.com",
            NOT_DECLARED,
            {"proxy": "gateway"},
            "which this egress set does not route through (its mode is sidecar)",
        ),
    ],
)
def test_no_fix_says_why(host, cause, options, why):
    fix, text = fixed(host, cause, **options)
    assert fix is None and why in text


def test_every_fix_opens_only_what_the_expansion_opens_for_its_service_and_region():
    options = egress_set(services=["sqs", {"name": "s3", "buckets": ["a-bucket"]}], regions=["us-east-1", "eu-west-1"])
    before = opened(options)
    for host in (
        "kinesis.eu-west-1.amazonaws.com",
        "b-bucket.s3.us-east-1.amazonaws.com",
        "sqs.ap-south-1.amazonaws.com",
    ):
        fix, _why = fixed(host, **{k: v for k, v in options.items() if k in ("services", "regions")})
        entry = fix.options["services"][-1]
        alone = opened(egress_set(services=[entry], regions=entry["regions"]))
        assert set(fix.opens) == opened({**options, **fix.options}) - before and set(fix.opens) <= alone, host
