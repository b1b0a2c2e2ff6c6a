# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real-boto3 scenarios, rendered by the role in each mode, on istiod's own config generation.

The scenarios are the ones whose hosts the SDK picks from its input: exact and
wildcard S3 buckets (with us-east-1's legacy global hosts), DynamoDB and its
streams with and without account IDs, every credential source, STS's legacy
global endpoint, FIPS and dual-stack. Each is simulated in sidecar and in
egress_gateway mode with the whole matrix of simulation_helpers.EgressMatrix.
"""

from __future__ import annotations

import pytest

from simulation_helpers import EgressMatrix, render_role, wildcard_of

pytestmark = pytest.mark.integration

SCENARIOS = {
    "s3-exact-buckets": {
        "istio_aws_egress_services": [{"name": "s3", "buckets": ["orders-archive", "invoices-2024"]}],
        "istio_aws_egress_regions": ["us-east-1", "eu-west-1"],
    },
    "s3-and-dynamodb-wildcards": {
        "istio_aws_egress_services": ["s3", "dynamodb", "dynamodbstreams"],
        "istio_aws_egress_regions": ["eu-west-1"],
    },
    "dynamodb-exact-accounts": {
        "istio_aws_egress_services": ["dynamodb", "dynamodbstreams"],
        "istio_aws_egress_regions": ["us-west-2"],
        "istio_aws_egress_account_ids": ["123456789012", "444455556666"],
    },
    "every-credential-source": {
        "istio_aws_egress_services": ["sqs"],
        "istio_aws_egress_regions": ["eu-west-1"],
        "istio_aws_egress_credential_sources": [
            "irsa",
            "imds",
            "imds_ipv6",
            "eks_pod_identity",
            "eks_pod_identity_ipv6",
            "ecs",
        ],
    },
    "sts-legacy-global": {
        "istio_aws_egress_services": ["sts", "sqs"],
        "istio_aws_egress_regions": ["us-east-1"],
        "istio_aws_egress_sts_legacy_global": True,
    },
    "fips": {
        "istio_aws_egress_services": ["kms", "sqs"],
        "istio_aws_egress_regions": ["us-east-2"],
        "istio_aws_egress_fips": True,
    },
    "dualstack": {
        "istio_aws_egress_services": ["s3", "ec2"],
        "istio_aws_egress_regions": ["us-west-2"],
        "istio_aws_egress_dualstack": True,
    },
}
MODES = ("sidecar", "egress_gateway")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_host_boto3_contacts_leaves_the_mesh_and_nothing_else_does(tmp_path, scenario, mode, record_property):
    rendered = render_role(
        tmp_path,
        {
            "istio_aws_egress_name": "sim",
            "istio_aws_egress_mode": mode,
            "istio_aws_egress_sidecars": ["orders", "billing"],
            **SCENARIOS[scenario],
        },
    )
    matrix = EgressMatrix(rendered)
    sim = matrix.run_and_check()
    record_property("simulated_calls", len(sim.calls))
    # The scenario exercises what it is named for.
    wildcards = {h for h in matrix.declared if wildcard_of(h)}
    assert bool(wildcards) == (scenario == "s3-and-dynamodb-wildcards" or scenario == "dualstack"), wildcards
    if mode == "egress_gateway":
        assert any(call["proxy"] == "gateway" for call in sim.calls)
