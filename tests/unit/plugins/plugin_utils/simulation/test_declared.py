# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an egress set declares, from the role's variables."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.declared import EXPANSION_OPTIONS, declared

KMS_VPCE = "vpce-0c1d2e3f4a5b6c7d8-m4n5p6q7.kms.eu-west-1.vpce.amazonaws.com"


def test_a_vpc_endpoint_without_private_dns_declares_its_own_name_as_the_role_does():
    plain = declared(["kms", "sqs"], "staging", "aws-egress", "ambient", regions=["eu-west-1"])
    assert [h.pattern for h in plain.api_hosts] == ["kms.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com"]
    private = declared(
        ["kms", "sqs"],
        "staging",
        "aws-egress",
        "ambient",
        regions=["eu-west-1"],
        vpc_endpoints=[{"service": "sqs"}, {"service": "kms", "private_dns": False, "dns_names": [KMS_VPCE]}],
    )
    assert [h.pattern for h in private.api_hosts] == ["sqs.eu-west-1.amazonaws.com", KMS_VPCE]
    assert "vpc_endpoints" in EXPANSION_OPTIONS


def test_in_ambient_mode_the_waypoint_defaults_to_the_sets_namespace_and_callers_are_sorted():
    ambient = declared(
        ["sqs"],
        "staging",
        "aws-egress",
        "ambient",
        regions=["eu-west-1"],
        caller_namespaces=["orders", "billing", "orders"],
    )
    assert ambient.waypoint == {"name": "", "namespace": "aws-egress"}
    assert ambient.caller_namespaces == ("billing", "orders")
    assert ambient.through_waypoint("sqs.eu-west-1.amazonaws.com") and not ambient.through_waypoint(
        "*.s3.eu-west-1.amazonaws.com"
    )
    named = declared(
        ["sqs"],
        "staging",
        "aws-egress",
        "ambient",
        regions=["eu-west-1"],
        waypoint={"name": "shared", "namespace": "mesh"},
    )
    assert named.waypoint == {"name": "shared", "namespace": "mesh"}
    sidecar = declared(["sqs"], "dev", "istio-system", "sidecar", regions=["eu-west-1"], waypoint={"name": "shared"})
    assert sidecar.waypoint is None and not sidecar.through_waypoint("sqs.eu-west-1.amazonaws.com")
