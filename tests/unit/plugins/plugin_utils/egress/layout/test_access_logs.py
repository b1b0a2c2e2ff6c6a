# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Logging blocked egress: which Telemetries the layout has, and what their access log keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.filter._egress_layout import egress_layout
from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import aws_endpoints
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import access_logs

GATEWAY = {"selector": {"istio": "egressgateway"}, "namespace": "egress", "service": "istio-egressgateway"}


def layout(**options):
    found = aws_endpoints(["sqs"], regions=["eu-west-1"], name_prefix="aws-shop")
    return egress_layout(found, name="shop", namespace="aws-egress", name_prefix="aws-shop", **options)


def test_off_by_default():
    assert layout(sidecars=["orders"])["telemetries"] == []


def test_one_per_sidecar_namespace_without_a_selector():
    telemetries = layout(sidecars=["orders", "billing", "orders"], log_blocked=True)["telemetries"]
    assert [(t["namespace"], t["name"], t["selector"], t["target_refs"]) for t in telemetries] == [
        ("billing", "aws-shop-log-blocked", None, None),
        ("orders", "aws-shop-log-blocked", None, None),
    ]
    assert {t["filter"] for t in telemetries} == {access_logs.BLOCKED_FILTER}
    assert {t["provider"] for t in telemetries} == {"envoy"}
    assert telemetries[0]["annotations"]["meshops.io/aws-services"] == "sqs"


def test_the_egress_gateway_gets_one_selecting_its_pods():
    telemetries = layout(sidecars=["orders"], mode="egress_gateway", gateway=GATEWAY, log_blocked=True)["telemetries"]
    assert [(t["namespace"], t["selector"]) for t in telemetries] == [
        ("orders", None),
        ("egress", {"istio": "egressgateway"}),
    ]


def test_a_listed_gateway_namespace_is_covered_by_its_own_telemetry():
    telemetries = layout(sidecars=["egress"], mode="egress_gateway", gateway=GATEWAY, log_blocked=True)["telemetries"]
    assert [(t["namespace"], t["selector"]) for t in telemetries] == [("egress", None)]


def test_the_waypoint_gets_one_bound_to_it():
    telemetries = layout(mode="ambient", caller_namespaces=["orders"], log_blocked=True)["telemetries"]
    assert [(t["namespace"], t["target_refs"]) for t in telemetries] == [
        ("aws-egress", [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "aws-shop-waypoint"}])
    ]


def test_the_filter_is_each_clause_or_the_next():
    assert access_logs.BLOCKED_FILTER.split(" || ") == [clause for _what, clause in access_logs.BLOCKED_CLAUSES]
    # Every attribute is guarded: a TCP log entry has no response, a direct response no cluster.
    for clause in access_logs.BLOCKED_FILTER.split(" || "):
        attribute = clause.split("has(")[1].split(")")[0]
        assert clause.startswith(f"(has({attribute}) && {attribute}")


def test_not_a_boolean_is_refused_by_name():
    with pytest.raises(AnsibleFilterError, match=r"log_blocked: expected true or false, got str 'yes'"):
        layout(sidecars=["orders"], log_blocked="yes")


def test_the_role_readme_shows_the_filter_as_written():
    readme = (Path(__file__).resolve().parents[6] / "roles" / "istio_aws_egress" / "README.md").read_text()
    block = readme.split("## Logging blocked egress", 1)[1].split("```\n", 2)[1]
    assert " ".join(block.split()) == access_logs.BLOCKED_FILTER
