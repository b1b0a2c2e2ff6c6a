# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The reverse index: a host back to the service, region and settings whose SDK contacts it.

Every host real boto3 clients contact is mapped back in test_real_sdk_hosts.py;
here, the forward expansion read backwards in every partition (each answer
must produce the host going forwards), hosts of one kind at a time, and hosts
that must map to nothing.
"""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import reverse_index
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import admits
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.partitions import (
    partition_of,
    partitions,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.reverse_index import identify
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.vpc_endpoints import (
    parse as parse_vpc_endpoints,
)

# One region of every partition, and a second of aws.
REGIONS = [
    "us-east-1",
    "eu-west-1",
    "cn-north-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-isob-east-1",
    "eu-isoe-west-1",
    "us-isof-south-1",
    "eusc-de-east-1",
]
SERVICES = [
    "s3",
    "dynamodb",
    "dynamodbstreams",
    "sqs",
    "sts",
    "kms",
    "iam",
    "ec2",
    "lambda",
    "bedrock-runtime",
    "eks-auth",
    "route53",
    "cloudfront",
    "organizations",
    "kinesis",
    "s3control",
    "ecr",
    "sso",
    "logs",
    "elb",
    "elbv2",
]
SETTINGS = [(False, False), (True, False), (False, True), (True, True)]


def produces(candidate, host):
    """Whether the forward expansion of the candidate's service, region and settings admits the host."""
    endpoints = expand(
        [{"name": candidate["service"], "fips": candidate["fips"], "dualstack": candidate["dualstack"]}],
        regions=[candidate["found_in"]],
        sts_legacy_global=candidate["sts_legacy_global"],
    ).endpoints
    return any(admits(pattern, host) for e in endpoints for pattern in e["hosts"])


def concrete(pattern):
    return "some-label" + pattern[1:] if pattern.startswith("*.") else pattern


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("fips, dualstack", SETTINGS, ids=["plain", "fips", "dualstack", "fips-dualstack"])
def test_every_host_the_expansion_opens_maps_back_to_what_opened_it_and_only_to_what_produces_it(
    region, fips, dualstack
):
    for service in SERVICES:
        endpoints = expand([service], regions=[region], fips=fips, dualstack=dualstack).endpoints
        for host in {concrete(pattern) for e in endpoints for pattern in e["hosts"]}:
            identity = identify(host)
            assert identity is not None, (service, region, host)
            candidates = identity.as_dict()["candidates"]
            # Back to what opened it: the service, the region (or a global host), settings no richer than asked.
            assert any(
                c["service"] == service
                and c["region"] in (region, None)
                and c["fips"] <= fips
                and c["dualstack"] <= dualstack
                for c in candidates
            ), (host, candidates)
            # And only to what produces it: a host of another service, region or partition is never mapped to one that does not.
            for candidate in candidates:
                assert produces(candidate, host), (host, candidate)


@pytest.mark.parametrize(
    "host, service, region, partition, fips, dualstack",
    [
        ("sqs.us-east-2.amazonaws.com", "sqs", "us-east-2", "aws", False, False),
        ("sqs-fips.us-east-1.amazonaws.com", "sqs", "us-east-1", "aws", True, False),
        ("sqs.us-east-1.api.aws", "sqs", "us-east-1", "aws", False, True),
        ("kms-fips.us-gov-east-1.amazonaws.com", "kms", "us-gov-east-1", "aws-us-gov", True, False),
        ("sqs.us-gov-west-1.amazonaws.com", "sqs", "us-gov-west-1", "aws-us-gov", False, False),
        ("sqs.cn-north-1.amazonaws.com.cn", "sqs", "cn-north-1", "aws-cn", False, False),
        ("bedrock-runtime.us-west-2.amazonaws.com", "bedrock-runtime", "us-west-2", "aws", False, False),
        ("eks-auth.eu-west-1.api.aws", "eks-auth", "eu-west-1", "aws", False, False),
        ("api.ecr.eu-west-1.amazonaws.com", "ecr", "eu-west-1", "aws", False, False),
        ("portal.sso.eu-west-1.amazonaws.com", "sso", "eu-west-1", "aws", False, False),
        # Account-based DynamoDB, S3 virtual-hosted and dual-stack buckets: by the wildcard the expansion opens.
        ("123456789012.ddb.eu-west-1.amazonaws.com", "dynamodb", "eu-west-1", "aws", False, False),
        ("123456789012.streams-ddb.us-west-2.amazonaws.com", "dynamodbstreams", "us-west-2", "aws", False, False),
        ("orders-archive.s3.us-east-1.amazonaws.com", "s3", "us-east-1", "aws", False, False),
        ("orders-archive.s3.dualstack.eu-west-1.amazonaws.com", "s3", "eu-west-1", "aws", False, True),
        # Global endpoints: region None.
        ("iam.amazonaws.com", "iam", None, "aws", False, False),
        ("iam.us-gov.amazonaws.com", "iam", None, "aws-us-gov", False, False),
        ("iam.cn-north-1.amazonaws.com.cn", "iam", None, "aws-cn", False, False),
        ("route53.amazonaws.com", "route53", None, "aws", False, False),
        ("cloudfront.amazonaws.com", "cloudfront", None, "aws", False, False),
        ("s3.amazonaws.com", "s3", None, "aws", False, False),
        ("orders-archive.s3.amazonaws.com", "s3", None, "aws", False, False),
    ],
)
def test_hosts_map_to_the_service_region_and_settings_that_produce_them(
    host, service, region, partition, fips, dualstack
):
    aws = identify(host).as_dict()
    assert (aws["service"], aws["region"], aws["partition"], aws["fips"], aws["dualstack"]) == (
        service,
        region,
        partition,
        fips,
        dualstack,
    )
    assert aws["credential_source"] is None


def test_sts_legacy_global_host_needs_the_legacy_setting():
    [candidate] = identify("sts.amazonaws.com").as_dict()["candidates"]
    assert (candidate["service"], candidate["region"], candidate["sts_legacy_global"]) == ("sts", None, True)
    assert not identify("sts.eu-west-1.amazonaws.com").as_dict()["candidates"][0]["sts_legacy_global"]


def test_a_host_several_services_share_lists_every_one():
    aws = identify("elasticloadbalancing.eu-west-1.amazonaws.com").as_dict()
    assert {c["service"] for c in aws["candidates"]} == {"elb", "elbv2"}


def test_a_global_host_is_looked_for_in_the_preferred_regions_first():
    aws = identify("iam.amazonaws.com", preferred_regions=["ap-southeast-2"]).as_dict()
    assert aws["candidates"][0]["found_in"] == "ap-southeast-2" and aws["region"] is None


@pytest.mark.parametrize(
    "address, source",
    [
        ("169.254.169.254", "imds"),
        ("fd00:ec2::254", "imds_ipv6"),
        ("[fd00:ec2::254]", "imds_ipv6"),
        ("FD00:EC2:0::254", "imds_ipv6"),
        ("169.254.170.2", "ecs"),
        ("169.254.170.23", "eks_pod_identity"),
        ("fd00:ec2::23", "eks_pod_identity_ipv6"),
    ],
)
def test_link_local_addresses_are_their_credential_sources(address, source):
    identity = identify(address)
    assert identity.credential_source == source and identity.as_dict()["service"] is None


def test_vpc_endpoint_names_map_to_their_service_declared_or_not():
    name = "vpce-0c1d2e3f4a5b6c7d8-m4n5p6q7.kms.eu-west-1.vpce.amazonaws.com"
    aws = identify(name).as_dict()
    assert (aws["service"], aws["region"], aws["candidates"][0]["vpc_endpoint"]) == ("kms", "eu-west-1", True)
    below = identify("orders.vpce-0c1d2e3f4a5b6c7d8-m4n5p6q7.s3.eu-west-1.vpce.amazonaws.com").as_dict()
    assert (below["service"], below["region"]) == ("s3", "eu-west-1")
    declared = parse_vpc_endpoints(
        [{"service": "kms", "region": "eu-west-1", "dns_names": [name]}], ["eu-west-1"]
    ).values()
    assert identify(name, vpc_endpoints_declared=declared).as_dict()["candidates"][0]["host"] == name


def test_hosts_of_another_service_region_setting_or_partition_never_map_to_what_is_declared():
    declared = ("sqs", "us-east-1", False, False)  # plain SQS in us-east-1
    for host in (
        "sqs.us-east-2.amazonaws.com",
        "sqs.cn-north-1.amazonaws.com.cn",
        "sqs.us-gov-east-1.amazonaws.com",
        "sns.us-east-1.amazonaws.com",
        "sqs-fips.us-east-1.amazonaws.com",
        "sqs.us-east-1.api.aws",
        "sqs.eu-west-1.amazonaws.com",
    ):
        candidates = identify(host).as_dict()["candidates"]
        assert candidates and all(
            (c["service"], c["found_in"], c["fips"], c["dualstack"]) != declared for c in candidates
        ), host
    assert (identify("sqs.us-east-1.amazonaws.com").as_dict()["candidates"][0]["service"], "us-east-1") == declared[:2]


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "amazonaws.com",
        "amazonaws.com.example.net",
        "sqs.us-east-1.amazonaws.com.example.net",
        "my-alb-1234.eu-west-1.elb.amazonaws.com",
        "ec2-54-1-2-3.compute-1.amazonaws.com",
        "10.0.0.1",
        "169.254.169.253",
        "sqs.us-east-1.amazonaws.co",
        "sqs.us-east-9.amazonaws.com",
    ],
)
def test_hosts_no_sdk_contacts_map_to_nothing(host):
    assert identify(host) is None


def test_a_few_hosts_index_only_their_own_regions():
    reverse_index.region_index.cache_clear()
    for host in (
        "sqs.eu-west-2.amazonaws.com",
        "kms-fips.eu-west-2.amazonaws.com",
        "123456789012.ddb.eu-west-2.amazonaws.com",
        "example.com",
        "169.254.169.254",
    ):
        identify(host)
    assert reverse_index.region_index.cache_info().currsize == 1
    identify("iam.amazonaws.com", preferred_regions=["eu-west-2"])
    assert reverse_index.region_index.cache_info().currsize == 1


def test_every_global_host_of_a_partition_is_where_the_index_looks_for_it():
    """A global host is looked for only where its partition's global endpoints live: no other region yields one they do not."""
    for partition in partitions():
        searched = set().union(*(_global_hosts(r) for r in reverse_index._global_regions(partition, ())))
        for region in partition.regions:
            assert _global_hosts(region) <= searched, (partition.name, region, sorted(_global_hosts(region) - searched))


def _global_hosts(region):
    index = reverse_index.region_index(region)
    return {
        host
        for table in (index.exact, index.wildcards)
        for host, producers in table.items()
        if not any(p.regional for p in producers) and not any(partition_of(label) for label in host.split("."))
    }
