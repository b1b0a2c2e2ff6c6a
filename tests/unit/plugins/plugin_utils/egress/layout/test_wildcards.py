# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wildcard entries on a cluster: DYNAMIC_DNS where it is resolved, a refusal where the CRD does not take it."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import render_files as files

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import wildcards
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

ISTIO_1_30 = {"metadata": {"name": wildcards.ISTIO_1_30_CRD}}


def crd(*resolutions, version="v1"):
    """A ServiceEntry CRD whose schema of `version` lists `resolutions` (none: no enum at all)."""
    resolution = {"type": "string", **({"enum": list(resolutions)} if resolutions else {})}
    return {
        "spec": {
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "schema": {"openAPIV3Schema": {"properties": {"spec": {"properties": {"resolution": resolution}}}}},
                }
            ]
        }
    }


ISTIO_1_30_ENTRIES = crd("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS")
ISTIO_1_27_ENTRIES = crd("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN")


def entry(name, hosts, resolution="NONE", labels=None, protocol="TLS", **spec):
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": "aws", "labels": labels or {}},
        "spec": {
            "hosts": list(hosts),
            "ports": [{"number": 443, "name": protocol.lower(), "protocol": protocol}],
            "location": "MESH_EXTERNAL",
            "resolution": resolution,
            **spec,
        },
    }


BUCKETS = entry("s3-wildcard", ["*.s3.us-east-1.amazonaws.com"])
SQS = entry("sqs", ["sqs.us-east-1.amazonaws.com"], "DNS")
IMDS = entry(
    "imds",
    ["imds.aws.internal"],
    "STATIC",
    protocol="HTTP",
    addresses=["169.254.169.254"],
    endpoints=[{"address": "169.254.169.254"}],
)
BOUND_BUCKETS = entry("s3-bound", ["*.s3.eu-west-1.amazonaws.com"], labels={"istio.io/use-waypoint": "w"})
MIXED = entry("mixed", ["*.s3.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com"])


def resolve(desired, crds, choice="auto", unreadable=()):
    return named_options(wildcards.resolve(desired, crds, "v1", choice, unreadable), "istio_aws_egress_")


def resolutions(desired):
    return {obj["metadata"]["name"]: obj["spec"]["resolution"] for obj in desired}


def test_auto_turns_only_plain_wildcard_entries_to_dynamic_dns_on_istio_1_30():
    desired = [BUCKETS, SQS, IMDS, BOUND_BUCKETS, MIXED]
    resolved, refusals, notes = resolve(
        desired, {"serviceentries.networking.istio.io": ISTIO_1_30_ENTRIES, wildcards.ISTIO_1_30_CRD: ISTIO_1_30}
    )
    assert resolutions(resolved) == {
        "s3-wildcard": "DYNAMIC_DNS",
        "sqs": "DNS",
        "imds": "STATIC",
        "s3-bound": "NONE",
        "mixed": "NONE",
    }
    assert (refusals, notes) == ([], [])
    assert BUCKETS["spec"]["resolution"] == "NONE", "the declared resources are not changed in place"


@pytest.mark.parametrize(
    "crds, unreadable, why",
    [
        (
            {"serviceentries.networking.istio.io": ISTIO_1_27_ENTRIES, wildcards.ISTIO_1_30_CRD: None},
            (),
            "its ServiceEntry CRD does not accept DYNAMIC_DNS (Istio before 1.28)",
        ),
        # Istio 1.28's and 1.29's CRDs accept it, but their sidecars do not resolve it.
        (
            {"serviceentries.networking.istio.io": ISTIO_1_30_ENTRIES, wildcards.ISTIO_1_30_CRD: None},
            (),
            "the cluster has no Istio 1.30 CRDs (no trafficextensions.extensions.istio.io), and sidecars resolve DYNAMIC_DNS from Istio 1.30 on",
        ),
        (
            {"serviceentries.networking.istio.io": ISTIO_1_30_ENTRIES, wildcards.ISTIO_1_30_CRD: None},
            (wildcards.ISTIO_1_30_CRD,),
            "may not be read (install the role's RBAC again)",
        ),
        (
            {"serviceentries.networking.istio.io": crd(), wildcards.ISTIO_1_30_CRD: ISTIO_1_30},
            (),
            "its ServiceEntry CRD does not accept DYNAMIC_DNS",
        ),
    ],
)
def test_auto_keeps_none_elsewhere_and_says_why(crds, unreadable, why):
    resolved, refusals, notes = resolve([BUCKETS, SQS], crds, unreadable=unreadable)
    assert resolutions(resolved) == {"s3-wildcard": "NONE", "sqs": "DNS"}
    assert refusals == []
    [note] = notes
    assert (
        note.startswith("wildcard hosts keep resolution NONE (istio_aws_egress_wildcard_resolution: auto): ")
        and why in note
    )


def test_auto_without_wildcards_has_nothing_to_say():
    assert resolve([SQS], {"serviceentries.networking.istio.io": ISTIO_1_27_ENTRIES}) == ([SQS], [], [])


def test_a_resolution_the_crd_does_not_accept_is_refused_naming_the_fix():
    declared = entry("s3-wildcard", ["*.s3.us-east-1.amazonaws.com"], "DYNAMIC_DNS")
    resolved, refusals, notes = resolve(
        [declared, SQS], {"serviceentries.networking.istio.io": ISTIO_1_27_ENTRIES}, choice="declared"
    )
    assert resolved == [declared, SQS] and notes == []
    [refusal] = refusals
    assert named_options(refusal.text(), "istio_aws_egress_") == (
        "the cluster's ServiceEntry CustomResourceDefinition does not accept resolution DYNAMIC_DNS (it accepts NONE, STATIC, DNS, "
        "DNS_ROUND_ROBIN), which ServiceEntry aws/s3-wildcard has: set istio_aws_egress_wildcard_resolution to none or auto, or "
        "upgrade Istio (its CRD accepts DYNAMIC_DNS from 1.28 on, and sidecars resolve it from 1.30 on)"
    )
    assert refusal.override is None
    # The version written is the one whose schema counts.
    assert (
        resolve([declared], {"serviceentries.networking.istio.io": crd("NONE", version="v1beta1")}, choice="declared")[
            1
        ]
        == []
    )


def test_declared_dynamic_dns_on_a_cluster_without_istio_1_30_is_pointed_out_for_sidecars_only():
    declared = [
        entry("s3-wildcard", ["*.s3.us-east-1.amazonaws.com"], "DYNAMIC_DNS"),
        entry("s3-bound", ["*.s3.eu-west-1.amazonaws.com"], "DYNAMIC_DNS", labels={"istio.io/use-waypoint": "w"}),
    ]
    _resolved, refusals, notes = resolve(
        declared,
        {"serviceentries.networking.istio.io": ISTIO_1_30_ENTRIES, wildcards.ISTIO_1_30_CRD: None},
        choice="declared",
    )
    assert refusals == []
    [note] = notes
    assert note.startswith(
        "ServiceEntry aws/s3-wildcard resolves with DYNAMIC_DNS at the sidecars, but the cluster has no Istio 1.30 CRDs"
    )
    assert "s3-bound" not in note  # bound to a waypoint: not resolved at a sidecar


def test_the_optional_crd_is_read_only_when_a_choice_needs_it():
    assert wildcards.crds_to_read([SQS], "declared") == []
    assert wildcards.crds_to_read([SQS], "auto") == [wildcards.ISTIO_1_30_CRD]
    assert wildcards.crds_to_read([entry("s3", ["*.s3.us-east-1.amazonaws.com"], "DYNAMIC_DNS")], "declared") == [
        wildcards.ISTIO_1_30_CRD
    ]


def test_the_accepted_resolutions_come_from_the_schema_of_the_version_written():
    assert wildcards.accepted(ISTIO_1_30_ENTRIES, "v1")[-1] == "DYNAMIC_DNS"
    assert wildcards.accepted(ISTIO_1_30_ENTRIES, "v1beta1") is None
    assert wildcards.accepted(None, "v1") is None


def test_the_role_may_read_the_crd_that_says_istio_1_30():
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.rbac.rules import cluster_roles

    read = next(role for role in cluster_roles() if role["name"].endswith("-read"))
    crds = next(rule for rule in read["rules"] if rule["resources"] == ["customresourcedefinitions"])
    assert wildcards.ISTIO_1_30_CRD in crds["resourceNames"] and crds["verbs"] == ["get"]


def test_without_a_cluster_auto_says_what_it_assumed_and_how_to_pin_it():
    desired = [
        entry("s3", ["*.s3.eu-west-1.amazonaws.com"]),
        entry("sqs", ["sqs.eu-west-1.amazonaws.com"], "DNS"),
        entry("bound", ["*.s3.us-east-1.amazonaws.com"], labels={wildcards.USE_WAYPOINT_LABEL: "w"}),
    ]
    assert named_options(wildcards.assumed(desired, "auto"), "istio_aws_egress_") == [
        "1 wildcard ServiceEntry assumed with resolution NONE (istio_aws_egress_wildcard_resolution: auto is decided against "
        "the cluster, and none was read: site.yml applies DYNAMIC_DNS where the cluster has Istio 1.30's CRDs); name the "
        "host's cluster (its context), or set istio_aws_egress_wildcard_resolution to dynamic_dns or none, to model exactly "
        "what is applied"
    ]
    # Pinned (or ambient mode, where the layout leaves nothing to the cluster): nothing was assumed.
    assert wildcards.assumed(desired, "none") == [] and wildcards.assumed(desired, "dynamic_dns") == []
    assert wildcards.assumed(desired, wildcards.for_cluster("auto", "ambient")) == []
    assert wildcards.assumed(desired[1:2], "auto") == []


def test_render_files_name_each_assumption_with_the_variable_that_pins_it():
    desired = [entry("s3", ["*.s3.eu-west-1.amazonaws.com"])]
    both = named_options(files.render_files(desired, "s", "auto", "auto")["assumed"], "istio_aws_egress_")
    assert [note.split(" (")[0] for note in both] == [
        "1 wildcard ServiceEntry assumed with resolution NONE",
        "Istio resources assumed in version v1",
    ]
    assert "set istio_aws_egress_api_version to v1 or v1beta1" in both[1]
    assert files.render_files(desired, "s", "declared", "v1")["assumed"] == []
