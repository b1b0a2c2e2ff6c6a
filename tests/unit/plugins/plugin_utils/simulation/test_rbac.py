# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Envoy's RBAC filters as the harness shows them, evaluated for a TLS connection's SNI and peer."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import rbac

ORDERS = "spiffe://cluster.local/ns/orders/sa/orders"
BILLING = "spiffe://cluster.local/ns/billing/sa/billing"
# What Istio generates for an ALLOW policy on connection.sni (suffix) from the source namespace orders, at a waypoint.
FROM_ORDERS = {
    "rules": {
        "policies": {
            "ns[aws-egress]-policy[aws-x-waypoint]-rule[0]": {
                "permissions": [
                    {
                        "andRules": {
                            "rules": [
                                {"orRules": {"rules": [{"requestedServerName": {"suffix": ".s3.amazonaws.com"}}]}}
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


def test_an_allow_policy_admits_its_sni_from_its_namespaces_only():
    assert rbac.principal("orders") == ORDERS
    assert rbac.admits([FROM_ORDERS], "b.s3.amazonaws.com", ORDERS)
    assert not rbac.admits([FROM_ORDERS], "b.s3.amazonaws.com", BILLING)
    assert not rbac.admits([FROM_ORDERS], "s3.amazonaws.com.evil.example", ORDERS)


def test_a_deny_policy_refuses_what_it_matches_and_every_filter_must_admit():
    deny = {
        "rules": {
            "action": "DENY",
            "policies": {
                "p": {
                    "permissions": [{"requestedServerName": {"exact": "b.s3.amazonaws.com"}}],
                    "principals": [{"any": True}],
                }
            },
        }
    }
    assert not rbac.admits([FROM_ORDERS, deny], "b.s3.amazonaws.com", ORDERS)
    assert rbac.admits([FROM_ORDERS, deny], "c.s3.amazonaws.com", ORDERS)
    # ALLOW without policies: nobody (Istio's deny-all).
    assert not rbac.admits([{"rules": {}}], "c.s3.amazonaws.com", ORDERS)


def test_no_filter_or_one_without_rules_enforces_nothing():
    assert rbac.admits([], "anything.example", BILLING)
    assert rbac.admits([{"shadowRules": {"policies": {}}}], "anything.example", BILLING)


@pytest.mark.parametrize(
    "filters, match",
    [
        (
            [
                {
                    "rules": {
                        "policies": {"p": {"permissions": [{"destinationPort": 443}], "principals": [{"any": True}]}}
                    }
                }
            ],
            "permission",
        ),
        (
            [{"rules": {"policies": {"p": {"permissions": [{"any": True}], "principals": [{"directRemoteIp": {}}]}}}}],
            "principal",
        ),
        ([{"rules": {"action": "LOG", "policies": {}}}], "action"),
    ],
    ids=["port", "remote-ip", "log"],
)
def test_a_matcher_it_does_not_know_is_not_guessed(filters, match):
    with pytest.raises(rbac.Unevaluated, match=match):
        rbac.admits(filters, "b.s3.amazonaws.com", ORDERS)


def test_the_policies_naming_an_sni_are_found_among_nested_rules():
    named = {
        "rules": {
            "policies": {
                "b": {"permissions": [{"orRules": {"rules": [{"requestedServerName": {"exact": "sqs.x"}}]}}]},
                "a": {"permissions": [{"requestedServerName": {"exact": "sqs.x"}}]},
                "other": {"permissions": [{"requestedServerName": {"exact": "sns.x"}}]},
            }
        }
    }
    assert rbac.sni_policies([named], "sqs.x") == ["a", "b"]
    assert rbac.sni_policies(None, "sqs.x") == []
