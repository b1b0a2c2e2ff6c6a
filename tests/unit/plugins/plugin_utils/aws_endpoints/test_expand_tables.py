# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tables of expected endpoints: partitions, FIPS, dual-stack, global services, credentials."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand

US = ["us-east-1"]


def _summary(services, **options):
    """{name: (resolution, hosts)} of an expansion, for compact tables."""
    return {e["name"]: (e["resolution"], e["hosts"]) for e in expand(services, **options).endpoints}


# (services, options, {name: (resolution, hosts)}): the whole expected output of each call.
TABLE = [
    pytest.param(
        ["dynamodb"],
        {"regions": ["eu-west-1"]},
        {
            "aws-dynamodb-eu-west-1": (
                "DNS",
                ["dynamodb.eu-west-1.amazonaws.com", "search-dynamodb.eu-west-1.amazonaws.com"],
            ),
            "aws-dynamodb-eu-west-1-wildcard": (
                "NONE",
                ["*.ddb.eu-west-1.amazonaws.com", "*.search-ddb.eu-west-1.amazonaws.com"],
            ),
        },
        id="dynamodb-without-accounts-opens-account-hosts-as-wildcards",
    ),
    pytest.param(
        ["dynamodb", "dynamodbstreams"],
        {"regions": ["us-west-2"], "account_ids": ["444455556666", "111122223333"]},
        {
            "aws-dynamodb-us-west-2": (
                "DNS",
                [
                    "111122223333.ddb.us-west-2.amazonaws.com",
                    "111122223333.search-ddb.us-west-2.amazonaws.com",
                    "444455556666.ddb.us-west-2.amazonaws.com",
                    "444455556666.search-ddb.us-west-2.amazonaws.com",
                    "dynamodb.us-west-2.amazonaws.com",
                    "search-dynamodb.us-west-2.amazonaws.com",
                ],
            ),
            "aws-dynamodbstreams-us-west-2": (
                "DNS",
                [
                    "111122223333.streams-ddb.us-west-2.amazonaws.com",
                    "444455556666.streams-ddb.us-west-2.amazonaws.com",
                    "streams.dynamodb.us-west-2.amazonaws.com",
                ],
            ),
        },
        id="dynamodb-with-accounts-opens-exact-account-hosts",
    ),
    pytest.param(
        ["s3"],
        {"regions": US},
        {
            "aws-s3-aws-global": ("DNS", ["s3.amazonaws.com"]),
            "aws-s3-aws-global-wildcard": ("NONE", ["*.s3.amazonaws.com"]),
            "aws-s3-us-east-1": ("DNS", ["s3.us-east-1.amazonaws.com", "s3express-control.us-east-1.amazonaws.com"]),
            "aws-s3-us-east-1-wildcard": ("NONE", ["*.s3.us-east-1.amazonaws.com"]),
        },
        id="s3-us-east-1-regional-and-legacy-global",
    ),
    pytest.param(
        [{"name": "s3", "buckets": ["app-data", "app.logs.example", "cache--use1-az4--x-s3"]}],
        {"regions": ["us-east-1", "eu-west-1"]},
        {
            "aws-s3-aws-global": ("DNS", ["app-data.s3.amazonaws.com", "s3.amazonaws.com"]),
            "aws-s3-eu-west-1": (
                "DNS",
                [
                    "app-data.s3.eu-west-1.amazonaws.com",
                    "cache--use1-az4--x-s3.s3express-use1-az4.eu-west-1.amazonaws.com",
                    "s3.eu-west-1.amazonaws.com",
                    "s3express-control.eu-west-1.amazonaws.com",
                ],
            ),
            "aws-s3-us-east-1": (
                "DNS",
                [
                    "app-data.s3.us-east-1.amazonaws.com",
                    "cache--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com",
                    "s3.us-east-1.amazonaws.com",
                    "s3express-control.us-east-1.amazonaws.com",
                ],
            ),
        },
        id="s3-buckets-exact-dotted-path-style-directory-bucket",
    ),
    pytest.param(
        [{"name": "s3", "buckets": []}],
        {"regions": ["eu-west-1"]},
        {"aws-s3-eu-west-1": ("DNS", ["s3.eu-west-1.amazonaws.com", "s3express-control.eu-west-1.amazonaws.com"])},
        id="s3-empty-bucket-list-opens-no-bucket-host",
    ),
    pytest.param(
        ["sts"],
        {"regions": ["us-east-1", "ap-southeast-7"]},
        {
            "aws-sts-ap-southeast-7": ("DNS", ["sts.ap-southeast-7.amazonaws.com"]),
            "aws-sts-us-east-1": ("DNS", ["sts.us-east-1.amazonaws.com"]),
        },
        id="sts-regional-only-by-default",
    ),
    pytest.param(
        ["sts"],
        {"regions": ["us-east-1", "eu-west-1", "ap-southeast-7"], "sts_legacy_global": True},
        {
            "aws-sts-ap-southeast-7": ("DNS", ["sts.ap-southeast-7.amazonaws.com"]),
            "aws-sts-aws-global": ("DNS", ["sts.amazonaws.com"]),
            "aws-sts-eu-west-1": ("DNS", ["sts.eu-west-1.amazonaws.com"]),
            "aws-sts-us-east-1": ("DNS", ["sts.us-east-1.amazonaws.com"]),
        },
        id="sts-legacy-global-only-for-legacy-regions",
    ),
    pytest.param(
        ["iam", "route53", "cloudfront", "organizations"],
        {"regions": ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1"]},
        {
            "aws-cloudfront-aws-cn-global": ("DNS", ["cloudfront.cn-northwest-1.amazonaws.com.cn"]),
            # GovCloud clients use the commercial CloudFront endpoint: one host, one entry.
            "aws-cloudfront-aws-global": ("DNS", ["cloudfront.amazonaws.com"]),
            "aws-cloudfront-aws-iso-global": ("DNS", ["cloudfront.c2s.ic.gov"]),
            "aws-iam-aws-cn-global": ("DNS", ["iam.cn-north-1.amazonaws.com.cn"]),
            "aws-iam-aws-global": ("DNS", ["iam.amazonaws.com"]),
            "aws-iam-aws-iso-global": ("DNS", ["iam.us-iso-east-1.c2s.ic.gov"]),
            "aws-iam-aws-us-gov-global": ("DNS", ["iam.us-gov.amazonaws.com"]),
            "aws-organizations-aws-cn-global": ("DNS", ["organizations.cn-northwest-1.amazonaws.com.cn"]),
            "aws-organizations-aws-global": ("DNS", ["organizations.us-east-1.amazonaws.com"]),
            "aws-organizations-aws-iso-global": ("DNS", ["organizations.us-iso-east-1.c2s.ic.gov"]),
            "aws-organizations-aws-us-gov-global": ("DNS", ["organizations.us-gov-west-1.amazonaws.com"]),
            "aws-route53-aws-cn-global": ("DNS", ["route53.amazonaws.com.cn"]),
            "aws-route53-aws-global": ("DNS", ["route53.amazonaws.com"]),
            "aws-route53-aws-iso-global": ("DNS", ["route53.c2s.ic.gov"]),
            "aws-route53-aws-us-gov-global": ("DNS", ["route53.us-gov.amazonaws.com"]),
        },
        id="global-services-once-per-partition",
    ),
    pytest.param(
        ["ecr", "sso", "sso-oidc", "bedrock-runtime", "s3tables"],
        {"regions": ["eu-central-1"]},
        {
            "aws-bedrock-runtime-eu-central-1": ("DNS", ["bedrock-runtime.eu-central-1.amazonaws.com"]),
            "aws-ecr-eu-central-1": ("DNS", ["api.ecr.eu-central-1.amazonaws.com"]),
            "aws-s3tables-eu-central-1": ("DNS", ["s3tables.eu-central-1.amazonaws.com"]),
            "aws-sso-eu-central-1": ("DNS", ["portal.sso.eu-central-1.amazonaws.com"]),
            "aws-sso-oidc-eu-central-1": ("DNS", ["oidc.eu-central-1.amazonaws.com"]),
        },
        id="client-names-are-not-endpoint-prefixes",
    ),
    pytest.param(
        ["dynamodb", "sts", "ec2", "s3", "kms"],
        {"regions": US, "fips": True},
        {
            "aws-dynamodb-us-east-1": (
                "DNS",
                ["dynamodb-fips.us-east-1.amazonaws.com", "search-dynamodb-fips.us-east-1.amazonaws.com"],
            ),
            "aws-ec2-us-east-1": ("DNS", ["ec2-fips.us-east-1.amazonaws.com"]),
            "aws-kms-us-east-1": ("DNS", ["kms-fips.us-east-1.amazonaws.com"]),
            "aws-s3-us-east-1": (
                "DNS",
                ["s3-fips.us-east-1.amazonaws.com", "s3express-control-fips.us-east-1.amazonaws.com"],
            ),
            "aws-s3-us-east-1-wildcard": ("NONE", ["*.s3-fips.us-east-1.amazonaws.com"]),
            "aws-sts-us-east-1": ("DNS", ["sts-fips.us-east-1.amazonaws.com"]),
        },
        id="fips-aws",
    ),
    pytest.param(
        [{"name": "kms", "fips": True}, "iam", "sts"],
        {"regions": ["us-gov-west-1"], "fips": False},
        {
            "aws-iam-aws-us-gov-global": ("DNS", ["iam.us-gov.amazonaws.com"]),
            "aws-kms-us-gov-west-1": ("DNS", ["kms-fips.us-gov-west-1.amazonaws.com"]),
            "aws-sts-us-gov-west-1": ("DNS", ["sts.us-gov-west-1.amazonaws.com"]),
        },
        id="fips-per-service-govcloud",
    ),
    pytest.param(
        ["dynamodb", "s3", "ec2", "sts"],
        {"regions": US, "dualstack": True},
        {
            "aws-dynamodb-us-east-1": ("DNS", ["dynamodb.us-east-1.api.aws", "search-dynamodb.us-east-1.api.aws"]),
            "aws-dynamodb-us-east-1-wildcard": ("NONE", ["*.ddb.us-east-1.api.aws", "*.search-ddb.us-east-1.api.aws"]),
            "aws-ec2-us-east-1": ("DNS", ["ec2.us-east-1.api.aws"]),
            "aws-s3-us-east-1": (
                "DNS",
                ["s3.dualstack.us-east-1.amazonaws.com", "s3express-control.dualstack.us-east-1.amazonaws.com"],
            ),
            "aws-s3-us-east-1-wildcard": ("NONE", ["*.s3.dualstack.us-east-1.amazonaws.com"]),
            "aws-sts-us-east-1": ("DNS", ["sts.us-east-1.api.aws"]),
        },
        id="dualstack",
    ),
    pytest.param(
        ["iam", "kms"],
        {"regions": ["us-east-1", "cn-north-1"], "fips": True, "dualstack": True},
        {
            "aws-iam-aws-cn-global": ("DNS", ["iam-fips.api.amazonwebservices.com.cn"]),
            "aws-iam-aws-global": ("DNS", ["iam-fips.global.api.aws"]),
            "aws-kms-cn-north-1": ("DNS", ["kms-fips.cn-north-1.api.amazonwebservices.com.cn"]),
            "aws-kms-us-east-1": ("DNS", ["kms-fips.us-east-1.api.aws"]),
        },
        id="fips-and-dualstack-across-partitions",
    ),
    pytest.param(
        ["s3", "sts", "kms"],
        {"regions": ["cn-north-1", "us-east-1"]},
        {
            "aws-kms-cn-north-1": ("DNS", ["kms.cn-north-1.amazonaws.com.cn"]),
            "aws-kms-us-east-1": ("DNS", ["kms.us-east-1.amazonaws.com"]),
            "aws-s3-aws-global": ("DNS", ["s3.amazonaws.com"]),
            "aws-s3-aws-global-wildcard": ("NONE", ["*.s3.amazonaws.com"]),
            "aws-s3-cn-north-1": (
                "DNS",
                ["s3.cn-north-1.amazonaws.com.cn", "s3express-control.cn-north-1.amazonaws.com.cn"],
            ),
            "aws-s3-cn-north-1-wildcard": ("NONE", ["*.s3.cn-north-1.amazonaws.com.cn"]),
            "aws-s3-us-east-1": ("DNS", ["s3.us-east-1.amazonaws.com", "s3express-control.us-east-1.amazonaws.com"]),
            "aws-s3-us-east-1-wildcard": ("NONE", ["*.s3.us-east-1.amazonaws.com"]),
            "aws-sts-cn-north-1": ("DNS", ["sts.cn-north-1.amazonaws.com.cn"]),
            "aws-sts-us-east-1": ("DNS", ["sts.us-east-1.amazonaws.com"]),
        },
        id="regions-of-two-partitions-in-one-call",
    ),
    pytest.param(
        ["sts", "kms", "s3"],
        {"regions": ["us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1", "eusc-de-east-1"]},
        {
            "aws-kms-eu-isoe-west-1": ("DNS", ["kms.eu-isoe-west-1.cloud.adc-e.uk"]),
            "aws-kms-eusc-de-east-1": ("DNS", ["kms.eusc-de-east-1.amazonaws.eu"]),
            "aws-kms-us-isob-east-1": ("DNS", ["kms.us-isob-east-1.sc2s.sgov.gov"]),
            "aws-kms-us-isof-south-1": ("DNS", ["kms.us-isof-south-1.csp.hci.ic.gov"]),
            "aws-s3-eu-isoe-west-1": (
                "DNS",
                ["s3.eu-isoe-west-1.cloud.adc-e.uk", "s3express-control.eu-isoe-west-1.cloud.adc-e.uk"],
            ),
            "aws-s3-eu-isoe-west-1-wildcard": ("NONE", ["*.s3.eu-isoe-west-1.cloud.adc-e.uk"]),
            "aws-s3-eusc-de-east-1": (
                "DNS",
                ["s3.eusc-de-east-1.amazonaws.eu", "s3express-control.eusc-de-east-1.amazonaws.eu"],
            ),
            "aws-s3-eusc-de-east-1-wildcard": ("NONE", ["*.s3.eusc-de-east-1.amazonaws.eu"]),
            "aws-s3-us-isob-east-1": (
                "DNS",
                ["s3.us-isob-east-1.sc2s.sgov.gov", "s3express-control.us-isob-east-1.sc2s.sgov.gov"],
            ),
            "aws-s3-us-isob-east-1-wildcard": ("NONE", ["*.s3.us-isob-east-1.sc2s.sgov.gov"]),
            "aws-s3-us-isof-south-1": (
                "DNS",
                ["s3.us-isof-south-1.csp.hci.ic.gov", "s3express-control.us-isof-south-1.csp.hci.ic.gov"],
            ),
            "aws-s3-us-isof-south-1-wildcard": ("NONE", ["*.s3.us-isof-south-1.csp.hci.ic.gov"]),
            "aws-sts-eu-isoe-west-1": ("DNS", ["sts.eu-isoe-west-1.cloud.adc-e.uk"]),
            "aws-sts-eusc-de-east-1": ("DNS", ["sts.eusc-de-east-1.amazonaws.eu"]),
            "aws-sts-us-isob-east-1": ("DNS", ["sts.us-isob-east-1.sc2s.sgov.gov"]),
            "aws-sts-us-isof-south-1": ("DNS", ["sts.us-isof-south-1.csp.hci.ic.gov"]),
        },
        id="iso-and-eusc-partitions",
    ),
    pytest.param(
        ["logs", "stepfunctions", "neptune-graph"],
        {"regions": ["eu-central-1"]},
        {
            "aws-logs-eu-central-1": (
                "DNS",
                ["logs.eu-central-1.amazonaws.com", "stream-logs.eu-central-1.amazonaws.com"],
            ),
            "aws-neptune-graph-eu-central-1": ("DNS", ["neptune-graph.eu-central-1.amazonaws.com"]),
            "aws-neptune-graph-eu-central-1-wildcard": ("NONE", ["*.eu-central-1.neptune-graph.amazonaws.com"]),
            "aws-stepfunctions-eu-central-1": (
                "DNS",
                ["states.eu-central-1.amazonaws.com", "sync-states.eu-central-1.amazonaws.com"],
            ),
        },
        id="operation-host-prefixes",
    ),
    pytest.param(
        ["timestream-query", "timestream-write"],
        {"regions": ["eu-west-1"]},
        {"aws-timestream-query-eu-west-1-wildcard": ("NONE", ["*.timestream.eu-west-1.amazonaws.com"])},
        id="endpoint-discovery-cells",
    ),
    pytest.param(
        ["elbv2", "elb", "sesv2", "ses"],
        {"regions": US},
        {
            "aws-elb-us-east-1": ("DNS", ["elasticloadbalancing.us-east-1.amazonaws.com"]),
            "aws-ses-us-east-1": ("DNS", ["email.us-east-1.amazonaws.com"]),
        },
        id="shared-hosts-belong-to-the-first-service",
    ),
    pytest.param(
        ["kinesis"],
        {"regions": US, "account_ids": ["111122223333"]},
        {
            # 111122223333.control-kinesis... is left to *.control-kinesis... (channel ARNs).
            "aws-kinesis-us-east-1": (
                "DNS",
                [
                    "111122223333.data-kinesis.us-east-1.amazonaws.com",
                    "kinesis-queues.us-east-1.amazonaws.com",
                    "kinesis.us-east-1.amazonaws.com",
                ],
            ),
            "aws-kinesis-us-east-1-wildcard": (
                "NONE",
                [
                    "*.control-kinesis-queues.us-east-1.amazonaws.com",
                    "*.control-kinesis.us-east-1.amazonaws.com",
                    "*.data-kinesis-queues.us-east-1.amazonaws.com",
                ],
            ),
        },
        id="exact-hosts-a-wildcard-admits-are-left-to-it",
    ),
    pytest.param([], {}, {}, id="nothing-in-nothing-out"),
    pytest.param(
        ["sts"],
        {
            "regions": ["eu-west-1"],
            "credential_sources": ["imds", "irsa", "eks_pod_identity", "ecs", "imds_ipv6", "eks_pod_identity_ipv6"],
        },
        {
            "aws-credentials-ecs": ("STATIC", ["ecs.aws.internal"]),
            "aws-credentials-eks-pod-identity": ("STATIC", ["eks-pod-identity.aws.internal"]),
            "aws-credentials-eks-pod-identity-ipv6": ("STATIC", ["eks-pod-identity-ipv6.aws.internal"]),
            "aws-credentials-imds": ("STATIC", ["imds.aws.internal"]),
            "aws-credentials-imds-ipv6": ("STATIC", ["imds-ipv6.aws.internal"]),
            "aws-eks-auth-eu-west-1": ("DNS", ["eks-auth.eu-west-1.api.aws"]),
            "aws-sts-eu-west-1": ("DNS", ["sts.eu-west-1.amazonaws.com"]),
        },
        id="credential-sources",
    ),
    pytest.param(
        ["iam"],
        {"regions": ["cn-northwest-1"], "name_prefix": "team-a"},
        {"team-a-iam-aws-cn-global": ("DNS", ["iam.cn-north-1.amazonaws.com.cn"])},
        id="name-prefix",
    ),
]


@pytest.mark.parametrize("services, options, expected", TABLE)
def test_expected_endpoints(services, options, expected):
    assert _summary(services, **options) == expected


def test_one_endpoint_of_each_kind_in_full():
    result = expand(["dynamodb", "sts"], regions=US, credential_sources=["irsa", "imds"])
    by_name = {e["name"]: e for e in result.endpoints}
    assert list(by_name) == sorted(by_name)
    assert by_name["aws-dynamodb-us-east-1"] == {
        "name": "aws-dynamodb-us-east-1",
        "kind": "api",
        "service": "dynamodb",
        "partition": "aws",
        "regions": ["us-east-1"],
        "hosts": ["dynamodb.us-east-1.amazonaws.com", "search-dynamodb.us-east-1.amazonaws.com"],
        "port": 443,
        "protocol": "TLS",
        "resolution": "DNS",
        "sources": ["dynamodb"],
    }
    assert by_name["aws-dynamodb-us-east-1-wildcard"] == {
        "name": "aws-dynamodb-us-east-1-wildcard",
        "kind": "api",
        "service": "dynamodb",
        "partition": "aws",
        "regions": ["us-east-1"],
        "hosts": ["*.ddb.us-east-1.amazonaws.com", "*.search-ddb.us-east-1.amazonaws.com"],
        "port": 443,
        "protocol": "TLS",
        "resolution": "NONE",
        "sources": ["dynamodb"],
    }
    assert by_name["aws-credentials-imds"] == {
        "name": "aws-credentials-imds",
        "kind": "credentials",
        "service": "imds",
        "partition": None,
        "regions": [],
        "hosts": ["imds.aws.internal"],
        "port": 80,
        "protocol": "HTTP",
        "resolution": "STATIC",
        "addresses": ["169.254.169.254"],
        "endpoints": [{"address": "169.254.169.254"}],
        "sources": ["credential_source:imds"],
    }
    # sts listed and needed by irsa: one host, one entry, both sources.
    assert by_name["aws-sts-us-east-1"]["hosts"] == ["sts.us-east-1.amazonaws.com"]
    assert by_name["aws-sts-us-east-1"]["sources"] == ["credential_source:irsa", "sts"]
    assert result.warnings == []


@pytest.mark.parametrize(
    "source, host, address",
    [
        ("imds", "imds.aws.internal", "169.254.169.254"),
        ("imds_ipv6", "imds-ipv6.aws.internal", "fd00:ec2::254"),
        ("eks_pod_identity", "eks-pod-identity.aws.internal", "169.254.170.23"),
        ("eks_pod_identity_ipv6", "eks-pod-identity-ipv6.aws.internal", "fd00:ec2::23"),
        ("ecs", "ecs.aws.internal", "169.254.170.2"),
    ],
)
def test_link_local_entries_hold_one_host_and_one_bare_ip(source, host, address):
    (entry,) = [e for e in expand([], regions=US, credential_sources=[source]).endpoints if e["kind"] == "credentials"]
    assert (entry["hosts"], entry["addresses"], entry["endpoints"]) == ([host], [address], [{"address": address}])
    assert (entry["port"], entry["protocol"], entry["resolution"]) == (80, "HTTP", "STATIC")


def test_long_names_are_cut_with_a_hash_of_the_full_name():
    prefix = "p" * 40
    names = [
        e["name"]
        for e in expand(["route53-recovery-control-config"], regions=["ap-southeast-2"], name_prefix=prefix).endpoints
    ]
    full = f"{prefix}-route53-recovery-control-config-aws-global"
    assert names == [full[:54] + "-" + hashlib.sha256(full.encode()).hexdigest()[:8]]
    assert all(len(n) <= 63 for n in names)


def test_a_service_listed_twice_merges_its_hosts():
    assert _summary(["kms", {"name": "kms", "fips": True}], regions=US) == {
        "aws-kms-us-east-1": ("DNS", ["kms-fips.us-east-1.amazonaws.com", "kms.us-east-1.amazonaws.com"]),
    }


def test_any_order_gives_byte_identical_output():
    services = ["s3", "dynamodb", {"name": "kms", "fips": True}, "iam", "sts"]
    regions = ["us-east-1", "cn-north-1", "eu-west-1"]
    sources = ["irsa", "imds", "ecs"]
    first = json.dumps(expand(services, regions=regions, credential_sources=sources).endpoints)
    shuffler = random.Random(7)
    for dummy in range(5):
        shuffler.shuffle(services)
        shuffler.shuffle(regions)
        shuffler.shuffle(sources)
        assert json.dumps(expand(services, regions=regions, credential_sources=sources).endpoints) == first


WARNINGS = [
    pytest.param(
        ["amplify"],
        {"regions": ["ap-southeast-7", "eu-west-1"]},
        [
            "amplify: botocore's endpoints.json does not list amplify in ap-southeast-7; "
            "its hosts there (amplify.ap-southeast-7.amazonaws.com, ...) are opened anyway, as the SDK would still contact them"
        ],
        id="endpoints-json-does-not-list-the-region",
    ),
    pytest.param(
        [{"name": "pricing-plan-manager", "fips": True, "dualstack": True}],
        {"regions": US},
        [
            "pricing-plan-manager: the endpoint ruleset has no dualstack variant; the SDK uses the standard endpoint",
            "pricing-plan-manager: the endpoint ruleset has no fips variant; the SDK uses the standard endpoint",
        ],
        id="no-fips-or-dualstack-variant",
    ),
    pytest.param(
        ["opensearchmemory"],
        {"regions": US, "fips": True},
        [
            "opensearchmemory in us-east-1: the SDK cannot resolve an endpoint: Invalid Configuration: FIPS is not supported with OpenSearch Memory."
        ],
        id="ruleset-refuses-the-configuration",
    ),
]


@pytest.mark.parametrize("services, options, warnings", WARNINGS)
def test_warnings(services, options, warnings):
    assert expand(services, **options).warnings == warnings
