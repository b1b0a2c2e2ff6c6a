# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Real boto3 clients against the filter: every host the SDK contacts must be admitted, and mapped back.

Clients come from tests/sdk_recording.py: fake static credentials and a
before-send handler that records the request URL and answers itself, so no
request leaves the process.  The filter's output for the same service, region and
settings must admit every recorded host (exactly, or by a leading wildcard), and
the reverse index (the diagnosis's) must map every recorded host back to that
service, region and settings.
"""

from __future__ import annotations

import functools
import zlib

import pytest

boto3 = pytest.importorskip("boto3")

import botocore.loaders  # noqa: E402  (after the skip above)
from botocore import xform_name  # noqa: E402
from botocore.exceptions import EndpointResolutionError, MissingDependencyException, NoRegionError, ParamValidationError  # noqa: E402

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import admits  # noqa: E402
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand  # noqa: E402
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.partitions import partition_of  # noqa: E402
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.reverse_index import identify  # noqa: E402
from sdk_recording import botocore_session, clean_aws_environment, make_client, minimal_input, operations_to_call  # noqa: E402

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
BUCKETS = ("amzn-egress-test", "egress.test.dotted", "egress-test--use1-az4--x-s3")


# --- harness -----------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def no_aws_configuration_from_the_environment():
    """Clients must see only what a test gives them: no profiles, regions or endpoint settings."""
    with clean_aws_environment():
        yield


def _overrides(region, account=ACCOUNT, bucket=BUCKETS[0]):
    """Inputs whose value decides the host, valid as the endpoint rulesets parse them."""
    partition = partition_of(region).name
    return {
        "Bucket": bucket,
        "AccountId": account,
        "KvsARN": f"arn:{partition}:cloudfront::{account}:key-value-store/kvs",
        "StreamArn": f"arn:{partition}:dynamodb:{region}:{account}:table/t/stream/2024-01-01T00:00:00.000",
        "StreamARN": f"arn:{partition}:kinesis:{region}:{account}:stream/s",
        "ConsumerARN": f"arn:{partition}:kinesis:{region}:{account}:stream/s/consumer/c:1",
        "QueueARN": f"arn:{partition}:kinesis:{region}:{account}:queue/q",
        "ChannelARN": f"arn:{partition}:kinesis:{region}:{account}:channel/c",
        "EventBusArn": f"arn:{partition}:events:{region}:{account}:event-bus/b",
        "ResourceARN": f"arn:{partition}:kinesis:{region}:{account}:stream/s",
    }


# SigV4a signing (cloudfront-keyvaluestore) needs the optional awscrt package;
# without it botocore stops right after resolving the endpoint, before any event
# shows the URL.
NEEDS_CRT = "needs awscrt"

# Left out by the filter on purpose (see sdk_hosts._SKIPPED_OPERATIONS).
SKIPPED = {("s3", "WriteGetObjectResponse")}


def call(client, operation_name, overrides):
    """Call an operation with minimal input; return the reason it was not sent, or None."""
    model = client.meta.service_model.operation_model(operation_name)
    method = getattr(client, xform_name(operation_name), None)
    if method is None or model.has_event_stream_input:
        return "not callable from botocore"
    if (client.meta.service_model.service_name, operation_name) in SKIPPED:
        return "skipped"
    params = minimal_input(model.input_shape, overrides) if model.input_shape else {}
    try:
        method(**params)
    except (EndpointResolutionError, NoRegionError) as exc:
        return f"no endpoint: {exc}"
    except MissingDependencyException:
        return NEEDS_CRT
    except ParamValidationError as exc:  # a bug in minimal_input, not in the filter
        raise AssertionError(f"{operation_name}: {exc}") from exc
    except Exception:  # pylint: disable=broad-except
        pass  # parsing the canned answer may fail; the request was sent
    return None


def not_admitted(hosts, endpoints):
    patterns = [h for e in endpoints if e["port"] == 443 for h in e["hosts"]]
    return sorted(h for h in hosts if not any(admits(p, h) for p in patterns))


def not_identified(hosts, service, region, settings):
    """The hosts the reverse index does not map back to `service` in `region` (or a global endpoint of its partition), with
    FIPS and dual-stack only where the client used them."""
    wrong = []
    for host in hosts:
        identity = identify(host)
        candidates = identity.as_dict()["candidates"] if identity else []
        if not any(
            c["service"] == service
            and c["region"] in (region, None)
            and c["fips"] <= settings.get("fips", False)
            and c["dualstack"] <= settings.get("dualstack", False)
            for c in candidates
        ):
            wrong.append((host, candidates))
    return wrong


@functools.lru_cache(maxsize=None)
def _operations(service):
    return botocore_session().get_service_model(service).operation_names


# --- every service ---------------------------------------------------------------

# Listed at collection time, before the environment is cleared: no session yet.
ALL_SERVICES = botocore.loaders.create_loader().list_available_services("service-2")
AWS_REGIONS = [
    "eu-central-1",
    "ap-southeast-2",
    "sa-east-1",
    "us-west-2",
    "ap-northeast-1",
    "ca-central-1",
    "eu-west-2",
    "ap-south-1",
]
OTHER_PARTITION_REGIONS = [
    "cn-north-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "eusc-de-east-1",
    "us-isob-east-1",
]
# Each service runs in us-east-1, one more aws region and one region of another
# partition, with settings rotating so that every combination is exercised.
SETTINGS = [
    {},
    {"account_id": ACCOUNT},
    {"fips": True},
    {"dualstack": True},
    {"fips": True, "dualstack": True, "account_id": ACCOUNT},
]


def _plan(index, service):
    digest = zlib.crc32(service.encode())
    regions = [
        "us-east-1",
        AWS_REGIONS[digest % len(AWS_REGIONS)],
        OTHER_PARTITION_REGIONS[index % len(OTHER_PARTITION_REGIONS)],
    ]
    return regions, SETTINGS[index % len(SETTINGS)]


def _check_service(service, regions, settings, operations=None, answers=None):
    """Call the operations in each region; assert the filter admits every contacted host."""
    options = {
        "regions": regions,
        "fips": settings.get("fips", False),
        "dualstack": settings.get("dualstack", False),
        "account_ids": [ACCOUNT],
    }
    expansion = expand([service], **options)
    sent = 0
    for region in regions:
        client, recorder = make_client(service, region, answers=answers, **settings)
        reasons = []
        for operation in operations or operations_to_call(botocore_session().get_service_model(service)):
            reason = call(client, operation, _overrides(region))
            reasons.append(reason)
            if reason and reason.startswith("no endpoint"):
                # The SDK refused this configuration; the filter must have said so too.
                assert any(w.startswith(f"{service} in {region}: ") for w in expansion.warnings), (
                    service,
                    region,
                    operation,
                    reason,
                )
        sent += len(recorder.urls)
        assert not_admitted(recorder.hosts, expansion.endpoints) == [], (service, region, settings)
        assert not_identified(recorder.hosts, service, region, settings) == [], (service, region, settings)
        if not recorder.urls and NEEDS_CRT in reasons:
            pytest.skip(f"{service}: SigV4a signing needs awscrt (pip install botocore[crt])")
    return sent


@pytest.mark.parametrize("index, service", list(enumerate(ALL_SERVICES)), ids=ALL_SERVICES)
def test_every_service_contacts_only_admitted_hosts(index, service):
    regions, settings = _plan(index, service)
    if not _check_service(service, regions, settings):
        # Nothing sent: the SDK refused every region, and the filter said so for each.
        warnings = expand(
            [service], regions=regions, fips=settings.get("fips", False), dualstack=settings.get("dualstack", False)
        ).warnings
        assert all(any(w.startswith(f"{service} in {r}: the SDK cannot resolve") for w in warnings) for r in regions), (
            warnings
        )


# --- every operation of the services with unusual hosts -----------------------------

DEEP_SERVICES = [
    "s3",
    "s3control",
    "dynamodb",
    "dynamodbstreams",
    "kinesis",
    "sts",
    "cloudfront-keyvaluestore",
    "eventbridgev2",
    "neptune-graph",
    "location",
]
DEEP_REGIONS = ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"]


@pytest.mark.parametrize("region", DEEP_REGIONS)
@pytest.mark.parametrize("service", DEEP_SERVICES)
@pytest.mark.parametrize(
    "settings",
    [{}, {"account_id": ACCOUNT}, {"fips": True}, {"dualstack": True}],
    ids=["plain", "account", "fips", "dualstack"],
)
def test_every_operation_contacts_only_admitted_hosts(service, region, settings):
    sent = _check_service(service, [region], settings, operations=_operations(service))
    # Nothing sent only where the SDK cannot resolve an endpoint (S3 FIPS in China, ...).
    assert sent or any(
        "cannot resolve" in w for w in expand([service], regions=[region], fips=settings.get("fips", False)).warnings
    )


def attempt(method, **params):
    """Call an operation; the canned answer may not parse, the request was sent anyway."""
    try:
        method(**params)
    except Exception:  # pylint: disable=broad-except
        pass


def _all_s3_hosts(region, **settings):
    hosts = set()
    for bucket in BUCKETS:
        for s3_regional in (False, True):
            client, recorder = make_client("s3", region, s3_regional=s3_regional, **settings)
            for operation in _operations("s3"):
                call(client, operation, _overrides(region, bucket=bucket))
            hosts |= recorder.hosts
    return hosts


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "us-gov-west-1"])
@pytest.mark.parametrize("settings", [{}, {"dualstack": True}], ids=["plain", "dualstack"])
def test_s3_buckets_open_exactly_the_hosts_the_sdk_contacts(region, settings):
    contacted = _all_s3_hosts(region, **settings)
    endpoints = expand(
        [{"name": "s3", "buckets": list(BUCKETS)}], regions=[region], dualstack=settings.get("dualstack", False)
    ).endpoints
    assert {e["resolution"] for e in endpoints} == {"DNS"}, "no wildcard where buckets are given"
    opened = {h for e in endpoints for h in e["hosts"]}
    # Every host opened is contacted by some operation, with the legacy or the regional us-east-1 setting.
    assert opened == contacted


def test_s3_us_east_1_contacts_both_legacy_global_and_regional_hosts():
    contacted = _all_s3_hosts("us-east-1")
    assert {
        "amzn-egress-test.s3.amazonaws.com",
        "s3.amazonaws.com",
        "amzn-egress-test.s3.us-east-1.amazonaws.com",
        "s3.us-east-1.amazonaws.com",
    } <= contacted
    # The dotted bucket goes path-style: no host of its own.
    assert not any(h.startswith("egress.test.dotted") for h in contacted)


def test_dynamodb_account_hosts_are_the_sdks():
    contacted = set()
    for account_id in (None, ACCOUNT):
        client, recorder = make_client("dynamodb", "eu-west-1", account_id=account_id)
        attempt(client.get_item, TableName="t", Key={"k": {"S": "v"}})
        attempt(client.describe_table, TableName="t")
        # A table of another account, by ARN: that account's host.
        attempt(client.describe_table, TableName=f"arn:aws:dynamodb:eu-west-1:{OTHER_ACCOUNT}:table/t")
        contacted |= recorder.hosts
    assert contacted == {
        "dynamodb.eu-west-1.amazonaws.com",
        f"{ACCOUNT}.ddb.eu-west-1.amazonaws.com",
        f"{OTHER_ACCOUNT}.ddb.eu-west-1.amazonaws.com",
    }
    exact = expand(["dynamodb"], regions=["eu-west-1"], account_ids=[ACCOUNT, OTHER_ACCOUNT]).endpoints
    assert {e["resolution"] for e in exact} == {"DNS"}, "no wildcard where account IDs are given"
    assert not_admitted(contacted, exact) == []
    wildcard = expand(["dynamodb"], regions=["eu-west-1"]).endpoints
    assert not_admitted(contacted, wildcard) == []


def test_dynamodb_streams_account_hosts_are_the_sdks():
    client, recorder = make_client("dynamodbstreams", "us-west-2", account_id=ACCOUNT)
    attempt(client.list_streams)
    attempt(
        client.describe_stream,
        StreamArn=f"arn:aws:dynamodb:us-west-2:{OTHER_ACCOUNT}:table/t/stream/2024-01-01T00:00:00.000",
    )
    assert recorder.hosts == {
        f"{ACCOUNT}.streams-ddb.us-west-2.amazonaws.com",
        f"{OTHER_ACCOUNT}.streams-ddb.us-west-2.amazonaws.com",
    }
    endpoints = expand(["dynamodbstreams"], regions=["us-west-2"], account_ids=[ACCOUNT, OTHER_ACCOUNT]).endpoints
    assert not_admitted(recorder.hosts, endpoints) == []


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-7"])
def test_sts_legacy_global_setting(region):
    client, recorder = make_client("sts", region, sts_legacy=True)
    attempt(client.get_caller_identity)
    legacy = region in ("us-east-1", "eu-west-1")
    assert recorder.hosts == {"sts.amazonaws.com" if legacy else f"sts.{region}.amazonaws.com"}
    assert not_admitted(recorder.hosts, expand(["sts"], regions=[region], sts_legacy_global=True).endpoints) == []
    if legacy:
        assert not_admitted(recorder.hosts, expand(["sts"], regions=[region]).endpoints) == ["sts.amazonaws.com"]


def test_irsa_opens_the_sts_host_assume_role_with_web_identity_uses():
    client, recorder = make_client("sts", "eu-north-1")
    attempt(
        client.assume_role_with_web_identity,
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/role",
        RoleSessionName="session",
        WebIdentityToken="token",
    )
    assert not_admitted(recorder.hosts, expand([], regions=["eu-north-1"], credential_sources=["irsa"]).endpoints) == []


def test_eks_pod_identity_opens_eks_auth():
    client, recorder = make_client("eks-auth", "eu-west-1")
    attempt(client.assume_role_for_pod_identity, clusterName="c", token="t")
    assert recorder.hosts == {"eks-auth.eu-west-1.api.aws"}
    assert (
        not_admitted(
            recorder.hosts, expand([], regions=["eu-west-1"], credential_sources=["eks_pod_identity"]).endpoints
        )
        == []
    )


def test_timestream_cells_found_by_endpoint_discovery_are_admitted():
    cell = b'{"Endpoints": [{"Address": "query-cell2.timestream.us-east-1.amazonaws.com", "CachePeriodInMinutes": 1}]}'
    client, recorder = make_client("timestream-query", "us-east-1", answers={"DescribeEndpoints": cell})
    attempt(client.query, QueryString="SELECT 1")
    assert recorder.hosts == {
        "query.timestream.us-east-1.amazonaws.com",
        "query-cell2.timestream.us-east-1.amazonaws.com",
    }
    assert not_admitted(recorder.hosts, expand(["timestream-query"], regions=["us-east-1"]).endpoints) == []


@pytest.mark.parametrize(
    "service, region, settings, operation, params",
    [
        ("ecr", "eu-west-1", {}, "describe_repositories", {}),
        ("sso", "eu-west-1", {}, "list_accounts", {"accessToken": "t"}),
        ("bedrock-runtime", "us-west-2", {}, "converse", {"modelId": "m", "messages": []}),
        ("s3tables", "us-east-2", {}, "list_table_buckets", {}),
        ("iam", "eu-west-1", {}, "list_roles", {}),
        ("iam", "cn-northwest-1", {}, "list_roles", {}),
        ("route53", "us-gov-west-1", {}, "list_hosted_zones", {}),
        ("cloudfront", "ap-south-1", {}, "list_distributions", {}),
        ("organizations", "eu-west-1", {}, "describe_organization", {}),
        ("kms", "us-east-1", {"fips": True}, "list_keys", {}),
        ("kms", "us-gov-east-1", {"fips": True}, "list_keys", {}),
        ("ec2", "eu-west-1", {"dualstack": True}, "describe_instances", {}),
        ("sqs", "cn-north-1", {}, "list_queues", {}),
        ("lambda", "us-isob-east-1", {}, "list_functions", {}),
    ],
)
def test_representative_calls(service, region, settings, operation, params):
    client, recorder = make_client(service, region, **settings)
    attempt(getattr(client, operation), **params)
    assert recorder.urls
    endpoints = expand(
        [service], regions=[region], fips=settings.get("fips", False), dualstack=settings.get("dualstack", False)
    ).endpoints
    assert not_admitted(recorder.hosts, endpoints) == []
