# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Real boto3 clients against the filter: every host the SDK contacts must be admitted.

Each client gets fake static credentials and a before-send handler that
records the request URL and answers with a canned response, so no request
leaves the process.  The filter's output for the same service, region and
settings must admit every recorded host (exactly, or by a leading wildcard).
"""

from __future__ import annotations

import datetime
import functools
import os
import zlib
from urllib.parse import urlsplit

import pytest

boto3 = pytest.importorskip("boto3")

import botocore.loaders  # noqa: E402  (after the skip above)
from botocore import xform_name  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import EndpointResolutionError, MissingDependencyException, NoRegionError, ParamValidationError  # noqa: E402

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import admits  # noqa: E402
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand  # noqa: E402
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.partitions import partition_of  # noqa: E402

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
BUCKETS = ("amzn-egress-test", "egress.test.dotted", "egress-test--use1-az4--x-s3")


# --- harness -----------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def no_aws_configuration_from_the_environment():
    """Clients must see only what a test gives them: no profiles, regions or endpoint settings."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("AWS_"):
                patch.delenv(name)
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


class _CannedBody:
    """Stands in for urllib3's response object."""

    def __init__(self, body):
        self._body = body

    def stream(self, *args, **kwargs):
        yield self._body


class Recorder:
    """A before-send handler: notes the URL, answers 200 with a canned body."""

    def __init__(self, answers=None):
        self.urls = []
        self._answers = answers or {}

    def note(self, request, **kwargs):
        self.urls.append(request.url)

    def __call__(self, request, **kwargs):
        self.urls.append(request.url)
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        body = next((answer for operation, answer in self._answers.items() if target.endswith(operation)), b"{}")
        return AWSResponse(request.url, 200, {}, _CannedBody(body))

    @property
    def hosts(self):
        return {urlsplit(url).hostname for url in self.urls}


@functools.lru_cache(maxsize=None)
def _default_session():
    return boto3.session.Session()


@functools.lru_cache(maxsize=None)
def _legacy_sts_session():
    session = boto3.session.Session()
    core = session._session  # pylint: disable=protected-access
    core.set_config_variable("sts_regional_endpoints", "legacy")
    core.register_component("data_loader", botocore_session().get_component("data_loader"))  # share loaded models
    return session


def _session(sts_legacy):
    return _legacy_sts_session() if sts_legacy else _default_session()


def make_client(service, region, account_id=None, fips=False, dualstack=False, s3_regional=False, sts_legacy=False, answers=None):
    settings = {"retries": {"total_max_attempts": 1}, "use_fips_endpoint": fips, "use_dualstack_endpoint": dualstack}
    if s3_regional:
        settings["s3"] = {"us_east_1_regional_endpoint": "regional"}
    client = _session(sts_legacy).client(
        service,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
        aws_account_id=account_id,
        config=Config(**settings),
    )
    recorder = Recorder(answers)
    # before-sign sees the final URL too, and comes first: SigV4a signing
    # (cloudfront-keyvaluestore) needs the optional awscrt package and fails
    # without it before anything is sent.
    client.meta.events.register("before-sign", recorder.note)
    client.meta.events.register("before-send", recorder)
    return client, recorder


def _minimal(shape, overrides, name=None, depth=0):
    """The smallest input botocore's parameter validation accepts for a shape."""
    if name in overrides:
        return overrides[name]
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False) or depth > 8:
            return {}
        if shape.metadata.get("union"):
            first = next(iter(shape.members))
            return {first: _minimal(shape.members[first], overrides, first, depth + 1)}
        return {m: _minimal(shape.members[m], overrides, m, depth + 1) for m in shape.required_members}
    if kind == "string":
        return shape.enum[0] if shape.enum else "a" * max(1, int(shape.metadata.get("min", 1)))
    if kind in ("integer", "long"):
        return max(1, int(shape.metadata.get("min", 1)))
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return datetime.datetime(2024, 1, 1)
    if kind == "blob":
        return b"a" * max(1, int(shape.metadata.get("min", 1)))
    if kind == "list":
        return [_minimal(shape.member, overrides, None, depth + 1) for dummy in range(int(shape.metadata.get("min", 0)))]
    return {}


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
    params = _minimal(model.input_shape, overrides) if model.input_shape else {}
    try:
        method(**params)
    except (EndpointResolutionError, NoRegionError) as exc:
        return f"no endpoint: {exc}"
    except MissingDependencyException:
        return NEEDS_CRT
    except ParamValidationError as exc:  # a bug in _minimal, not in the filter
        raise AssertionError(f"{operation_name}: {exc}") from exc
    except Exception:  # pylint: disable=broad-except
        pass  # parsing the canned answer may fail; the request was sent
    return None


def not_admitted(hosts, endpoints):
    patterns = [h for e in endpoints if e["port"] == 443 for h in e["hosts"]]
    return sorted(h for h in hosts if not any(admits(p, h) for p in patterns))


@functools.lru_cache(maxsize=None)
def _operations(service):
    return botocore_session().get_service_model(service).operation_names


def botocore_session():
    return _default_session()._session  # pylint: disable=protected-access


def operations_to_call(service):
    """The operation with the fewest required members, plus every operation with endpoint traits.

    Traits are read through botocore's own model API, not through the code under test.
    """
    model = botocore_session().get_service_model(service)
    chosen = set()
    plain = []
    for name in model.operation_names:
        op = model.operation_model(name)
        if op.endpoint or op.static_context_parameters or op.context_parameters or op.operation_context_parameters or op.endpoint_discovery:
            chosen.add(name)
        else:
            required = len(op.input_shape.required_members) if op.input_shape else 0
            plain.append((required, name))
    if plain:
        chosen.add(min(plain)[1])
    return sorted(chosen)


# --- every service ---------------------------------------------------------------

# Listed at collection time, before the environment is cleared: no session yet.
ALL_SERVICES = botocore.loaders.create_loader().list_available_services("service-2")
AWS_REGIONS = ["eu-central-1", "ap-southeast-2", "sa-east-1", "us-west-2", "ap-northeast-1", "ca-central-1", "eu-west-2", "ap-south-1"]
OTHER_PARTITION_REGIONS = ["cn-north-1", "us-gov-west-1", "us-iso-east-1", "cn-northwest-1", "us-gov-east-1", "eusc-de-east-1", "us-isob-east-1"]
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
    regions = ["us-east-1", AWS_REGIONS[digest % len(AWS_REGIONS)], OTHER_PARTITION_REGIONS[index % len(OTHER_PARTITION_REGIONS)]]
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
        for operation in operations or operations_to_call(service):
            reason = call(client, operation, _overrides(region))
            reasons.append(reason)
            if reason and reason.startswith("no endpoint"):
                # The SDK refused this configuration; the filter must have said so too.
                assert any(w.startswith(f"{service} in {region}: ") for w in expansion.warnings), (service, region, operation, reason)
        sent += len(recorder.urls)
        assert not_admitted(recorder.hosts, expansion.endpoints) == [], (service, region, settings)
        if not recorder.urls and NEEDS_CRT in reasons:
            pytest.skip(f"{service}: SigV4a signing needs awscrt (pip install botocore[crt])")
    return sent


@pytest.mark.parametrize("index, service", list(enumerate(ALL_SERVICES)), ids=ALL_SERVICES)
def test_every_service_contacts_only_admitted_hosts(index, service):
    regions, settings = _plan(index, service)
    if not _check_service(service, regions, settings):
        # Nothing sent: the SDK refused every region, and the filter said so for each.
        warnings = expand([service], regions=regions, fips=settings.get("fips", False), dualstack=settings.get("dualstack", False)).warnings
        assert all(any(w.startswith(f"{service} in {r}: the SDK cannot resolve") for w in warnings) for r in regions), warnings


# --- every operation of the services with unusual hosts -----------------------------

DEEP_SERVICES = ["s3", "s3control", "dynamodb", "dynamodbstreams", "kinesis", "sts", "cloudfront-keyvaluestore", "eventbridgev2", "neptune-graph", "location"]
DEEP_REGIONS = ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"]


@pytest.mark.parametrize("region", DEEP_REGIONS)
@pytest.mark.parametrize("service", DEEP_SERVICES)
@pytest.mark.parametrize("settings", [{}, {"account_id": ACCOUNT}, {"fips": True}, {"dualstack": True}], ids=["plain", "account", "fips", "dualstack"])
def test_every_operation_contacts_only_admitted_hosts(service, region, settings):
    sent = _check_service(service, [region], settings, operations=_operations(service))
    # Nothing sent only where the SDK cannot resolve an endpoint (S3 FIPS in China, ...).
    assert sent or any("cannot resolve" in w for w in expand([service], regions=[region], fips=settings.get("fips", False)).warnings)


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
    endpoints = expand([{"name": "s3", "buckets": list(BUCKETS)}], regions=[region], dualstack=settings.get("dualstack", False)).endpoints
    assert {e["resolution"] for e in endpoints} == {"DNS"}, "no wildcard where buckets are given"
    opened = {h for e in endpoints for h in e["hosts"]}
    # Every host opened is contacted by some operation, with the legacy or the regional us-east-1 setting.
    assert opened == contacted


def test_s3_us_east_1_contacts_both_legacy_global_and_regional_hosts():
    contacted = _all_s3_hosts("us-east-1")
    assert {"amzn-egress-test.s3.amazonaws.com", "s3.amazonaws.com", "amzn-egress-test.s3.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com"} <= contacted
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
    attempt(client.describe_stream, StreamArn=f"arn:aws:dynamodb:us-west-2:{OTHER_ACCOUNT}:table/t/stream/2024-01-01T00:00:00.000")
    assert recorder.hosts == {f"{ACCOUNT}.streams-ddb.us-west-2.amazonaws.com", f"{OTHER_ACCOUNT}.streams-ddb.us-west-2.amazonaws.com"}
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
    attempt(client.assume_role_with_web_identity, RoleArn=f"arn:aws:iam::{ACCOUNT}:role/role", RoleSessionName="session", WebIdentityToken="token")
    assert not_admitted(recorder.hosts, expand([], regions=["eu-north-1"], credential_sources=["irsa"]).endpoints) == []


def test_eks_pod_identity_opens_eks_auth():
    client, recorder = make_client("eks-auth", "eu-west-1")
    attempt(client.assume_role_for_pod_identity, clusterName="c", token="t")
    assert recorder.hosts == {"eks-auth.eu-west-1.api.aws"}
    assert not_admitted(recorder.hosts, expand([], regions=["eu-west-1"], credential_sources=["eks_pod_identity"]).endpoints) == []


def test_timestream_cells_found_by_endpoint_discovery_are_admitted():
    cell = b'{"Endpoints": [{"Address": "query-cell2.timestream.us-east-1.amazonaws.com", "CachePeriodInMinutes": 1}]}'
    client, recorder = make_client("timestream-query", "us-east-1", answers={"DescribeEndpoints": cell})
    attempt(client.query, QueryString="SELECT 1")
    assert recorder.hosts == {"query.timestream.us-east-1.amazonaws.com", "query-cell2.timestream.us-east-1.amazonaws.com"}
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
    endpoints = expand([service], regions=[region], fips=settings.get("fips", False), dualstack=settings.get("dualstack", False)).endpoints
    assert not_admitted(recorder.hosts, endpoints) == []
