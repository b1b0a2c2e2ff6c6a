# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""VPC endpoints in the aws_endpoints filter: checked input, the hosts that follow, and real SDK clients pointed at them.

A client given an endpoint's own name (endpoint_url, or the service's
AWS_ENDPOINT_URL_<SERVICE> variable) must contact only hosts the filter opens
for that endpoint; the clients are real boto3 clients whose requests are
recorded and answered in-process (the capture of test_real_sdk_hosts).
"""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.filter import aws_endpoints as plugin
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand

boto3 = pytest.importorskip("boto3")

from botocore.config import Config  # noqa: E402  (after the skip above)

from sdk_recording import Recorder, botocore_session, clean_aws_environment  # noqa: E402
from test_real_sdk_hosts import ACCOUNT, _overrides, call, not_admitted  # noqa: E402

PREFIX = "istio_aws_egress_"
SQS_VPCE = "vpce-0123456789abcdef0-abcd1234.sqs.eu-west-1.vpce.amazonaws.com"
KMS_VPCE = "vpce-0123456789abcdef0-wxyz5678.kms.eu-west-1.vpce.amazonaws.com"


@pytest.fixture(autouse=True)
def no_aws_configuration_from_the_environment():
    with clean_aws_environment():
        yield


def endpoints(services, vpc_endpoints, regions=("eu-west-1",), **options):
    return expand(list(services), regions=list(regions), vpc_endpoints=vpc_endpoints, **options)


def hosts_by_name(expansion):
    return {e["name"]: (e["hosts"], e.get("vpc_endpoint")) for e in expansion.endpoints}


# --- the hosts that follow ---------------------------------------------------------------------------


def test_private_dns_and_gateway_endpoints_keep_the_hosts_and_mark_them():
    plain = endpoints(["sqs", "dynamodb"], None)
    private = endpoints(["sqs", "dynamodb"], [{"service": "sqs"}, {"service": "dynamodb", "type": "gateway"}])
    assert [e["hosts"] for e in private.endpoints] == [e["hosts"] for e in plain.endpoints]
    assert private.warnings == plain.warnings
    assert {e["name"]: e.get("vpc_endpoint") for e in private.endpoints} == {
        "aws-dynamodb-eu-west-1": "gateway",
        "aws-dynamodb-eu-west-1-wildcard": "gateway",
        "aws-sqs-eu-west-1": "private_dns",
    }
    # Without the option, no endpoint dict gains a key.
    assert all("vpc_endpoint" not in e for e in plain.endpoints)


def test_an_endpoints_own_names_replace_the_services_hosts_with_a_warning():
    expansion = endpoints(["sqs", "kms"], [{"service": "kms", "private_dns": False, "dns_names": [KMS_VPCE.upper()]}])
    assert hosts_by_name(expansion) == {
        "aws-kms-eu-west-1": ([KMS_VPCE], "endpoint_specific"),
        "aws-sqs-eu-west-1": (["sqs.eu-west-1.amazonaws.com"], None),
    }
    assert expansion.warnings == [
        f"kms in eu-west-1: opened the VPC endpoint's own names ({KMS_VPCE}) instead of kms.eu-west-1.amazonaws.com; the SDK "
        f"calls them only when told to: endpoint_url='https://{KMS_VPCE}' or the environment variable AWS_ENDPOINT_URL_KMS"
    ]


def test_s3_keeps_its_buckets_below_the_endpoints_name():
    name = "vpce-1a2b3c4d-5e6f7g8h.s3.us-east-1.vpce.amazonaws.com"
    expansion = endpoints(["s3"], [{"service": "s3", "dns_names": ["*." + name]}], regions=["us-east-1"])
    assert hosts_by_name(expansion) == {
        "aws-s3-us-east-1": ([name], "endpoint_specific"),
        "aws-s3-us-east-1-wildcard": (["*." + name], "endpoint_specific"),
    }


def test_what_a_private_dns_endpoint_does_not_carry_stays_unmarked():
    # S3 in us-east-1 also uses the legacy global names, which no regional endpoint's private DNS answers.
    private = {
        name: kind
        for name, (hosts, kind) in hosts_by_name(endpoints(["s3"], [{"service": "s3"}], regions=["us-east-1"])).items()
    }
    assert private == {
        "aws-s3-aws-global": None,
        "aws-s3-aws-global-wildcard": None,
        "aws-s3-us-east-1": "private_dns",
        "aws-s3-us-east-1-wildcard": "private_dns",
    }
    routed = {
        n: k
        for n, (h, k) in hosts_by_name(
            endpoints(["s3"], [{"service": "s3", "type": "gateway"}], regions=["us-east-1"])
        ).items()
    }
    assert routed["aws-s3-aws-global"] == "gateway" and routed["aws-s3-us-east-1-wildcard"] == "gateway"


def test_an_endpoint_of_a_service_or_region_not_opened_changes_nothing():
    plain = endpoints(["sqs"], None, regions=["eu-west-1", "us-east-1"])
    other = endpoints(
        ["sqs"],
        [{"service": "kms", "region": "eu-west-1"}, {"service": "sqs", "region": "ap-south-1"}],
        regions=["eu-west-1", "us-east-1"],
    )
    assert other == plain


def test_a_credential_sources_service_takes_the_endpoint_too():
    expansion = endpoints([], [{"service": "sts"}], credential_sources=["irsa"])
    assert hosts_by_name(expansion) == {"aws-sts-eu-west-1": (["sts.eu-west-1.amazonaws.com"], "private_dns")}


@pytest.mark.parametrize(
    "vpc_endpoints, message",
    [
        (
            "sqs",
            "vpc_endpoints: expected a list of dicts (service, region, type, private_dns, dns_names), got str 'sqs'",
        ),
        (
            [{"region": "eu-west-1"}],
            "vpc_endpoints[0]: the dict has no 'service' key (a boto3 client name, such as 'sqs')",
        ),
        (
            [{"service": "sqs", "privat_dns": True}],
            "vpc_endpoints[0]: unknown key 'privat_dns'; did you mean 'private_dns'?",
        ),
        (
            [{"service": "sqs"}, {"service": "simple-queue"}],
            "vpc_endpoints[1].service: 'simple-queue' is not a service botocore knows",
        ),
        (
            [{"service": "sqs", "region": "eu_west_1"}],
            "vpc_endpoints[0].region: 'eu_west_1' is not an AWS region; did you mean 'eu-west-1'?",
        ),
        (
            [{"service": "sqs", "type": "gateway"}],
            "vpc_endpoints[0].type: AWS has gateway endpoints for dynamodb and s3 only, not 'sqs': give it an interface endpoint",
        ),
        (
            [{"service": "s3", "type": "gateway", "private_dns": True}],
            "vpc_endpoints[0]: a gateway endpoint routes the service's own names: it has neither private_dns nor dns_names",
        ),
        (
            [{"service": "sqs", "type": "transit"}],
            "vpc_endpoints[0].type: expected one of interface, gateway, got str 'transit'",
        ),
        (
            [{"service": "sqs", "private_dns": False}],
            "vpc_endpoints[0]: an interface endpoint without private DNS is reached by its own names only: list them in dns_names",
        ),
        (
            [{"service": "sqs", "private_dns": True, "dns_names": [SQS_VPCE]}],
            "vpc_endpoints[0]: private_dns: true makes the service's own names reach the endpoint, and dns_names are for an endpoint",
        ),
        (
            [{"service": "sqs", "private_dns": "yes"}],
            "vpc_endpoints[0].private_dns: expected true or false, got str 'yes'",
        ),
        (
            [{"service": "sqs", "dns_names": []}],
            "vpc_endpoints[0].dns_names: expected a non-empty list of the endpoint's DNS names",
        ),
        (
            [{"service": "sqs", "dns_names": ["sqs.eu-west-1.amazonaws.com"]}],
            "vpc_endpoints[0].dns_names[0]: 'sqs.eu-west-1.amazonaws.com' is not a VPC endpoint's own DNS name",
        ),
        (
            [{"service": "kms", "dns_names": [SQS_VPCE]}],
            f"vpc_endpoints[0].dns_names[0]: '{SQS_VPCE}' is not a name of a kms endpoint in eu-west-1: those end in "
            ".kms.eu-west-1.vpce.amazonaws.com",
        ),
        (
            [{"service": "sqs", "region": "us-east-1", "dns_names": [SQS_VPCE]}],
            f"vpc_endpoints[0].dns_names[0]: '{SQS_VPCE}' is not a name of a sqs endpoint in us-east-1: those end in "
            ".sqs.us-east-1.vpce.amazonaws.com",
        ),
        (
            [{"service": "sqs"}, {"service": "sqs", "region": "eu-west-1", "dns_names": [SQS_VPCE]}],
            "vpc_endpoints[1]: a second VPC endpoint for sqs in eu-west-1 (the first is vpc_endpoints[0]); a VPC reaches a service",
        ),
    ],
)
def test_bad_vpc_endpoints_are_refused_naming_the_variable_and_the_value(vpc_endpoints, message):
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.aws_endpoints(["sqs"], regions=["eu-west-1"], vpc_endpoints=vpc_endpoints, variable_prefix=PREFIX)
    assert caught.value.message.startswith(PREFIX + message), caught.value.message


def test_an_endpoint_without_region_needs_one_region():
    expected = (
        r"^vpc_endpoints\[0\]\.region: give the endpoint's region \(the filter's regions are eu-west-1, us-east-1\)"
    )
    with pytest.raises(AnsibleFilterError, match=expected):
        expand(["sqs"], regions=["eu-west-1", "us-east-1"], vpc_endpoints=[{"service": "sqs"}])


# --- real clients given the endpoint's names ---------------------------------------------------------

VPCE_ID = "vpce-0a1b2c3d4e5f67890-k2j3h4g5"
SERVICES = ["sqs", "kms", "dynamodb", "s3", "sts", "secretsmanager", "ecr", "logs", "sns", "eks-auth"]


def vpce_name(service, region="eu-west-1"):
    prefix = {"ecr": "api.ecr"}.get(service, service)
    return f"{VPCE_ID}.{prefix}.{region}.vpce.amazonaws.com"


def recorded(service, endpoint_url=None, **settings):
    """The hosts a real client contacts calling the operations of `service` that may choose their own host, and one plain one."""
    client = boto3.session.Session().client(
        service,
        region_name="eu-west-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
        aws_account_id=ACCOUNT,
        config=Config(retries={"total_max_attempts": 1}, **settings),
    )
    recorder = Recorder()
    client.meta.events.register("before-sign", recorder.note)
    client.meta.events.register("before-send", recorder)
    for operation in botocore_session().get_service_model(service).operation_names:
        call(client, operation, _overrides("eu-west-1"))
    assert recorder.urls, f"{service}: nothing was sent"
    return recorder.hosts


@pytest.mark.parametrize("service", SERVICES)
def test_a_client_given_the_endpoints_name_contacts_only_what_is_opened(service):
    expansion = endpoints([service], [{"service": service, "dns_names": [vpce_name(service)]}], account_ids=[ACCOUNT])
    hosts = recorded(service, endpoint_url=f"https://{vpce_name(service)}")
    assert not_admitted(hosts, expansion.endpoints) == []
    # And nothing but the endpoint's names (with what the SDK puts before them) is opened for it.
    assert all(h.endswith(vpce_name(service)) for e in expansion.endpoints for h in e["hosts"])


@pytest.mark.parametrize(
    "settings, endpoint_url",
    [
        ({"s3": {"addressing_style": "virtual"}}, f"https://{vpce_name('s3')}"),
        ({}, f"https://bucket.{vpce_name('s3')}"),  # the form AWS's guide gives for bucket operations
        ({"s3": {"addressing_style": "path"}}, f"https://bucket.{vpce_name('s3')}"),
    ],
)
def test_s3_clients_given_the_endpoints_name_any_way_contact_only_what_is_opened(settings, endpoint_url):
    expansion = endpoints(["s3"], [{"service": "s3", "dns_names": [vpce_name("s3")]}])
    assert not_admitted(recorded("s3", endpoint_url=endpoint_url, **settings), expansion.endpoints) == []


@pytest.mark.parametrize("service", ["sqs", "secretsmanager", "eks-auth"])
def test_the_environment_variable_the_warning_names_points_the_sdk_at_the_endpoint(service, monkeypatch):
    expansion = endpoints([service], [{"service": service, "dns_names": [vpce_name(service)]}])
    (warning,) = [w for w in expansion.warnings if "VPC endpoint" in w]
    variable = warning.rsplit(" ", 1)[1]
    monkeypatch.setenv(variable, f"https://{vpce_name(service)}")
    assert recorded(service) == {vpce_name(service)}
