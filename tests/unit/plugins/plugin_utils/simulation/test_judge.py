# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a simulated call did, and whether the declaration wanted that."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import calls, judge

GATEWAY_HOST = "istio-egressgateway.istio-system.svc.cluster.local"


def result(cluster="", cluster_type="", endpoints=(), error="", virtual_host="", rbac=()):
    return {
        "cluster": cluster,
        "cluster_type": cluster_type,
        "endpoints": list(endpoints),
        "error": error,
        "virtual_host": virtual_host,
        "rbac": list(rbac),
    }


@pytest.mark.parametrize(
    "seen, code",
    [
        (result("outbound|443||sqs", "STRICT_DNS", ["sqs:443"]), judge.ALLOWED),
        (result("outbound|443||*.s3", "ORIGINAL_DST"), judge.ALLOWED),
        (result("PassthroughCluster", "ORIGINAL_DST"), judge.PASSTHROUGH),
        (result("BlackHoleCluster", "STATIC"), judge.BLACK_HOLED),
        (result(virtual_host="block_all"), judge.BLACK_HOLED),
        (result(error="no filter chains matched"), judge.BLACK_HOLED),
        (result("outbound|443|aws-a|gw"), judge.DROPPED),
        (result("outbound|443||*.s3", "EDS"), judge.DROPPED),
    ],
)
def test_outcomes(seen, code):
    assert judge.outcome(seen).code == code


def test_a_credential_call_must_reach_its_link_local_endpoint():
    assert (
        judge.outcome(result("outbound|80||imds", "EDS", ["169.254.169.254:80"]), endpoint="169.254.169.254:80").code
        == judge.ALLOWED
    )
    assert (
        judge.outcome(result("outbound|80||imds", "EDS", ["10.0.0.1:80"]), endpoint="169.254.169.254:80").code
        == judge.DROPPED
    )


def test_an_in_mesh_service_without_endpoints_is_still_reached():
    assert (
        judge.outcome(result("outbound|8080||api.orders.svc.cluster.local", "EDS"), needs_endpoints=False).code
        == judge.ALLOWED
    )


SIDECAR = calls.Caller("orders", "sidecar/orders", "listed", "orders")
GATEWAY = calls.Caller("egress gateway", "gateway", "gateway", "istio-system")
SQS = calls.Target(
    "sqs.eu-west-1.amazonaws.com",
    "aws",
    True,
    "sqs in eu-west-1",
    calls.PUBLIC_ADDRESS,
    443,
    "tls",
    pattern="sqs.eu-west-1.amazonaws.com",
)
EC2 = calls.Target(
    "ec2.eu-west-1.amazonaws.com", "aws", False, "ec2 in eu-west-1, not declared", calls.PUBLIC_ADDRESS, 443, "tls"
)
TO_GATEWAY = result(f"outbound|443|aws-prod|{GATEWAY_HOST}", "EDS", ["10.254.255.10:8443"])
DIRECT = result("outbound|443||sqs.eu-west-1.amazonaws.com", "STRICT_DNS", ["sqs.eu-west-1.amazonaws.com:443"])
SNI_POLICY = {
    "rules": {
        "policies": {
            "ns[istio-system]-policy[aws-prod-egress-gateway]-rule[0]": {
                "permissions": [
                    {
                        "andRules": {
                            "rules": [
                                {
                                    "orRules": {
                                        "rules": [{"requestedServerName": {"exact": "sqs.eu-west-1.amazonaws.com"}}]
                                    }
                                }
                            ]
                        }
                    }
                ],
                "principals": [{"any": True}],
            }
        }
    }
}


def test_a_call_to_the_gateway_leaves_only_if_the_gateway_lets_it_out():
    call = calls.Call("c", SIDECAR, SQS, calls.LEAVE, "gateway")
    out = judge.judge(call, TO_GATEWAY, judge.outcome(DIRECT), GATEWAY_HOST)
    assert (out.outcome, out.cluster, out.violation) == (judge.VIA_GATEWAY, DIRECT["cluster"], "")
    assert out.path == (TO_GATEWAY["cluster"], DIRECT["cluster"])
    stopped = judge.judge(call, TO_GATEWAY, judge.outcome(result(error="no filter chains matched")), GATEWAY_HOST)
    assert stopped.outcome == judge.DROPPED and "does not leave the mesh from namespace orders" in stopped.violation


def test_a_routed_host_that_leaves_directly_bypasses_the_gateway():
    out = judge.judge(calls.Call("c", SIDECAR, SQS, calls.LEAVE, "gateway"), DIRECT, None, GATEWAY_HOST)
    assert out.outcome == judge.ALLOWED and "not through the egress gateway" in out.violation


def test_at_the_gateway_an_allowed_host_needs_a_policy_naming_its_sni():
    call = calls.Call("c", GATEWAY, SQS, calls.LEAVE, "gateway")
    assert judge.judge(call, {**DIRECT, "rbac": [SNI_POLICY]}).violation == ""
    assert judge.judge(call, {**DIRECT, "rbac": [SNI_POLICY]}).rbac == (
        "ns[istio-system]-policy[aws-prod-egress-gateway]-rule[0]",
    )
    assert "with no AuthorizationPolicy" in judge.judge(call, DIRECT).violation
    other = {"rules": {"policies": {"other": {"permissions": [{"any": True}]}}}}
    assert "names SNI sqs.eu-west-1.amazonaws.com" in judge.judge(call, {**DIRECT, "rbac": [other]}).violation


def test_an_undeclared_host_that_leaves_is_a_violation_and_one_that_stays_is_not():
    call = calls.Call("c", SIDECAR, EC2, calls.STAY, "direct")
    assert judge.judge(call, result("BlackHoleCluster", "STATIC")).violation == ""
    leaks = judge.judge(call, result("PassthroughCluster", "ORIGINAL_DST"))
    assert leaks.violation == (
        "undeclared ec2.eu-west-1.amazonaws.com (ec2 in eu-west-1, not declared) leaves the mesh from namespace "
        "orders (our Sidecar) through PassthroughCluster"
    )


def test_an_in_mesh_service_cut_off_where_it_should_be_reached_is_a_violation_and_one_cut_as_asked_is_not():
    api = calls.Target(
        "api.shop.svc.cluster.local", "in-mesh", False, "Service shop/api", "10.96.0.9", 8080, "http", namespace="shop"
    )
    assert (
        "is cut off from namespace orders"
        in judge.judge(calls.Call("c", SIDECAR, api, calls.REACH, "direct"), result(virtual_host="block_all")).violation
    )
    assert (
        judge.judge(calls.Call("c", SIDECAR, api, calls.CUT, "direct"), result(virtual_host="block_all")).violation
        == ""
    )


# At the waypoint: what Istio generates for the role's policy (SNI hosts, from the caller namespace orders).
WAYPOINT_POLICY = {
    "rules": {
        "policies": {
            "ns[aws-egress]-policy[aws-staging-waypoint]-rule[0]": {
                "permissions": [
                    {
                        "andRules": {
                            "rules": [
                                {
                                    "orRules": {
                                        "rules": [{"requestedServerName": {"exact": "sqs.eu-west-1.amazonaws.com"}}]
                                    }
                                }
                            ]
                        }
                    }
                ],
                "principals": [
                    {
                        "andIds": {
                            "ids": [
                                {
                                    "orIds": {
                                        "ids": [
                                            {
                                                "filterState": {
                                                    "key": "io.istio.peer_principal",
                                                    "stringMatch": {"safeRegex": {"regex": ".*/ns/orders/.*"}},
                                                }
                                            }
                                        ]
                                    }
                                }
                            ]
                        }
                    }
                ],
            }
        }
    }
}
AT_WAYPOINT = result(
    "inbound-vip|443|tcp|sqs.eu-west-1.amazonaws.com",
    "STRICT_DNS",
    ["sqs.eu-west-1.amazonaws.com:443"],
    rbac=[WAYPOINT_POLICY],
)
CALLER = calls.Caller("orders", calls.WAYPOINT_PROXY, "listed", "orders")
OTHER = calls.Caller("default", calls.WAYPOINT_PROXY, "unlisted", "default")


def test_at_the_waypoint_the_policy_admits_the_caller_namespaces_and_denies_the_others():
    admitted = judge.judge(calls.Call("c", CALLER, SQS, calls.LEAVE, "waypoint"), AT_WAYPOINT)
    assert (admitted.outcome, admitted.violation) == (judge.ALLOWED, "")
    assert admitted.rbac == ("ns[aws-egress]-policy[aws-staging-waypoint]-rule[0]",)
    denied = judge.judge(calls.Call("c", OTHER, SQS, calls.DENY, "waypoint"), AT_WAYPOINT)
    assert (denied.outcome, denied.expected, denied.violation) == (judge.DENIED, "denied", "")
    assert "spiffe://cluster.local/ns/default/sa/default" in denied.detail


def test_at_the_waypoint_a_policy_that_admits_everyone_or_no_one_is_a_violation():
    everyone = {"rules": {"policies": {"all": {"permissions": [{"any": True}], "principals": [{"any": True}]}}}}
    leaks = judge.judge(calls.Call("c", OTHER, SQS, calls.DENY, "waypoint"), {**AT_WAYPOINT, "rbac": [everyone]})
    assert leaks.outcome == judge.ALLOWED
    assert leaks.violation == (
        "declared sqs.eu-west-1.amazonaws.com leaves the mesh from namespace default (not a caller namespace) "
        "at the waypoint through inbound-vip|443|tcp|sqs.eu-west-1.amazonaws.com: the waypoint's policy admits it"
    )
    spoofed = judge.judge(calls.Call("c", CALLER, EC2, calls.STAY, "waypoint"), {**AT_WAYPOINT, "rbac": [everyone]})
    assert "undeclared ec2.eu-west-1.amazonaws.com" in spoofed.violation
    refused = judge.judge(
        calls.Call("c", CALLER, SQS, calls.LEAVE, "waypoint"), {**AT_WAYPOINT, "rbac": [{"rules": {}}]}
    )
    assert refused.outcome == judge.DENIED
    assert refused.violation.startswith(
        "declared sqs.eu-west-1.amazonaws.com does not leave the mesh from namespace orders "
        "(a caller namespace) at the waypoint: denied"
    )


def test_at_the_waypoint_a_host_no_entry_serves_is_black_holed_and_an_unknown_matcher_is_not_guessed():
    nothing = judge.judge(
        calls.Call("c", CALLER, SQS, calls.LEAVE, "waypoint"), result(error="no filter chains matched")
    )
    assert nothing.outcome == judge.BLACK_HOLED and "does not leave the mesh" in nothing.violation
    by_port = {"rules": {"policies": {"p": {"permissions": [{"destinationPort": 443}], "principals": [{"any": True}]}}}}
    unjudged = judge.judge(calls.Call("c", CALLER, SQS, calls.LEAVE, "waypoint"), {**AT_WAYPOINT, "rbac": [by_port]})
    assert unjudged.violation.startswith(
        "the waypoint's policy on sqs.eu-west-1.amazonaws.com is not judged from namespace orders"
    )
