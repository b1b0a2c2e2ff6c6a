# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""In a cluster without an internet path, the plan names every declared AWS host no VPC endpoint carries."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.filter._egress_layout import egress_layout
from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import aws_endpoints


def notes(internet_path, vpc_endpoints, services=("sqs", "kms", "dynamodb")):
    found = aws_endpoints(
        list(services),
        regions=["eu-west-1"],
        credential_sources=["imds", "irsa"],
        vpc_endpoints=vpc_endpoints,
        name_prefix="aws-shop",
    )
    return egress_layout(
        found,
        name="shop",
        namespace="aws-egress",
        name_prefix="aws-shop",
        internet_path=internet_path,
        variable_prefix="istio_aws_egress_",
    )["notes"]


def test_with_an_internet_path_nothing_is_said():
    assert notes(True, []) == []


def test_without_one_every_api_host_no_endpoint_carries_is_named_and_credentials_are_not():
    assert notes(False, [{"service": "sqs"}, {"service": "dynamodb", "type": "gateway"}]) == [
        "this cluster has no internet path (istio_aws_egress_internet_path: false), and no VPC endpoint carries "
        "aws-shop-kms-eu-west-1 (kms.eu-west-1.amazonaws.com), aws-shop-sts-eu-west-1 (sts.eu-west-1.amazonaws.com): workloads "
        "cannot reach those hosts; add the VPC endpoints to the VPC and to istio_aws_egress_vpc_endpoints"
    ]


def test_without_one_and_every_service_carried_nothing_is_said():
    carried = [
        {"service": "sqs"},
        {"service": "dynamodb", "type": "gateway"},
        {"service": "sts"},
        {
            "service": "kms",
            "private_dns": False,
            "dns_names": ["vpce-0123456789abcdef0-abcd1234.kms.eu-west-1.vpce.amazonaws.com"],
        },
    ]
    assert notes(False, carried) == []
