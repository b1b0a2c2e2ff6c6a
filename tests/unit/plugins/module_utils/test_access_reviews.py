# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How access_review names what is missing (the reviews themselves run against real API servers)."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.access_reviews import describe_check, missing_message


def test_every_missing_permission_is_named_with_its_purpose():
    missing = [
        {
            "verb": "patch",
            "group": "networking.istio.io",
            "resource": "serviceentries",
            "namespace": "istio-system",
            "permission": "patch serviceentries.networking.istio.io in namespace istio-system",
            "purpose": "needed to apply 3 resources",
        },
        {
            "verb": "update",
            "group": "coordination.k8s.io",
            "resource": "leases",
            "namespace": "istio-system",
            "name": "meshops-aws-egress",
        },
    ]
    assert missing_message("prod-use1", missing) == (
        "missing permission on prod-use1: cannot patch serviceentries.networking.istio.io in namespace istio-system "
        "(needed to apply 3 resources); cannot update leases.coordination.k8s.io meshops-aws-egress in namespace istio-system"
    )


def test_a_check_without_text_is_described_from_its_parts():
    assert describe_check(
        {"verb": "get", "group": "apiextensions.k8s.io", "resource": "customresourcedefinitions"}
    ) == ("get customresourcedefinitions.apiextensions.k8s.io")
    assert describe_check({"verb": "list", "group": "", "resource": "namespaces"}) == "list namespaces"
