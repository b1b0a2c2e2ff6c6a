# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the endpoint data alone changes, told apart from the inventory's by the versions each object records, and the
writes that wait for consent."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import endpoint_data
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import (
    endpoint_data_annotations,
    ownership_labels,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import build_plan
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

OLD = {"botocore": "1.43.14", "collection": "0.1.0"}
NEW = {"botocore": "1.44.8", "collection": "0.1.0"}
LABELS = ownership_labels("shop")


def entry(name, hosts, versions, services="servicediscovery", regions="us-east-1"):
    annotations = {
        "meshops.io/aws-services": services,
        "meshops.io/aws-regions": regions,
        **endpoint_data_annotations(versions),
    }
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": "istio-system", "labels": dict(LABELS), "annotations": annotations},
        "spec": {"hosts": sorted(hosts), "location": "MESH_EXTERNAL", "resolution": "DNS"},
    }


def sidecar(hosts, versions):
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Sidecar",
        "metadata": {
            "name": "aws-shop-egress",
            "namespace": "orders",
            "labels": dict(LABELS),
            "annotations": endpoint_data_annotations(versions),
        },
        "spec": {"egress": [{"hosts": ["./*"] + [f"istio-system/{host}" for host in sorted(hosts)]}]},
    }


def the_set(versions, discovery, dynamodb=("dynamodb.us-east-1.amazonaws.com",)):
    """An egress set as one controller renders it: two entries and the Sidecar naming their hosts."""
    return [
        entry("aws-shop-servicediscovery-us-east-1", discovery, versions),
        entry("aws-shop-dynamodb-us-east-1", dynamodb, versions, services="dynamodb"),
        sidecar(set(discovery) | set(dynamodb), versions),
    ]


RENAMED = ("servicediscovery.us-east-1.amazonaws.com",)
NEW_NAME = ("servicediscovery.us-east-1.api.aws",)


def test_a_rename_by_the_endpoint_data_alone_is_withheld_where_it_would_close_the_old_name():
    live, desired = the_set(OLD, RENAMED), the_set(NEW, NEW_NAME)
    report = endpoint_data.compare(desired, live, LABELS)
    assert report.withheld == [
        "servicediscovery.us-east-1.amazonaws.com (servicediscovery in us-east-1, still declared)"
    ]
    assert report.removed == [] and report.refusals == []
    # The entry and the Sidecar would close it; the dynamodb entry changes only its versions, and goes ahead.
    assert report.hold == {
        ("networking.istio.io", "ServiceEntry", "istio-system", "aws-shop-servicediscovery-us-east-1"): list(RENAMED),
        ("networking.istio.io", "Sidecar", "orders", "aws-shop-egress"): list(RENAMED),
    }
    assert report.restamped == 1
    assert report.added == [
        "servicediscovery.us-east-1.api.aws (servicediscovery in us-east-1): waits with the withheld writes"
    ]
    assert named_options(report.lines(), "istio_aws_egress_") == [
        "endpoint data: botocore 1.43.14, meshops.aws_egress 0.1.0 -> botocore 1.44.8, meshops.aws_egress 0.1.0; what it "
        "changes, not the inventory:",
        "  + servicediscovery.us-east-1.api.aws (servicediscovery in us-east-1): waits with the withheld writes",
        "  - servicediscovery.us-east-1.amazonaws.com (servicediscovery in us-east-1, still declared): withheld",
        "  the writes that would close withheld hosts wait: accept it (istio_aws_egress_accept: [endpoint_data_removal]), or "
        "stay on botocore 1.43.14, meshops.aws_egress 0.1.0",
        "  1 resource changes only its version annotations",
    ]

    plan = build_plan(desired, live, LABELS, hold=report.hold)
    assert plan.counts["withheld"] == 2 and plan.counts["update"] == 1
    assert plan.withheld == [
        "ServiceEntry istio-system/aws-shop-servicediscovery-us-east-1",
        "Sidecar orders/aws-shop-egress",
    ]
    assert [obj["metadata"]["name"] for obj in plan.apply] == ["aws-shop-dynamodb-us-east-1"]
    assert "= withheld Sidecar orders/aws-shop-egress" in plan.lines
    assert (
        "    it would close servicediscovery.us-east-1.amazonaws.com, which only the endpoint data drops" in plan.lines
    )
    assert plan.summary.endswith("2 withheld (they would close hosts only the endpoint data drops)")


def test_with_consent_the_endpoint_data_closes_what_it_drops():
    live, desired = the_set(OLD, RENAMED), the_set(NEW, NEW_NAME)
    report = endpoint_data.compare(desired, live, LABELS, accept=["endpoint_data_removal"])
    assert report.hold == {} and report.withheld == []
    assert report.removed == [
        "servicediscovery.us-east-1.amazonaws.com (servicediscovery in us-east-1, still declared)"
    ]
    assert report.notes == [
        "accepted (endpoint_data_removal): the endpoint data alone closes "
        "servicediscovery.us-east-1.amazonaws.com (servicediscovery in us-east-1, still declared)"
    ]
    assert report.added == ["servicediscovery.us-east-1.api.aws (servicediscovery in us-east-1)"]
    plan = build_plan(desired, live, LABELS, hold=report.hold)
    assert plan.counts["withheld"] == 0 and plan.counts["update"] == 3


def test_a_whole_entry_the_endpoint_data_drops_is_kept_not_pruned():
    live = the_set(OLD, RENAMED)
    desired = [obj for obj in the_set(NEW, ()) if obj["metadata"]["name"] != "aws-shop-servicediscovery-us-east-1"]
    report = endpoint_data.compare(desired, live, LABELS)
    plan = build_plan(desired, live, LABELS, hold=report.hold)
    assert plan.prune == [] and sorted(plan.withheld) == [
        "ServiceEntry istio-system/aws-shop-servicediscovery-us-east-1",
        "Sidecar orders/aws-shop-egress",
    ]
    # With prune off it is kept, as anything no longer declared is.
    assert build_plan(desired, live, LABELS, prune=False, hold=report.hold).counts["keep"] == 1


def test_what_this_run_s_endpoint_data_produced_can_only_have_been_removed_by_the_inventory():
    live, desired = the_set(NEW, RENAMED), the_set(NEW, ())
    report = endpoint_data.compare(desired, live, LABELS)
    assert report.withheld == [] and report.hold == {} and report.added == []
    assert report.lines() == ["endpoint data: botocore 1.44.8, meshops.aws_egress 0.1.0"]


def test_objects_that_record_no_endpoint_data_are_the_inventory_s_as_before():
    live = the_set(OLD, RENAMED)
    for obj in live:
        for key in ("meshops.io/botocore-version", "meshops.io/collection-version"):
            del obj["metadata"]["annotations"][key]
    report = endpoint_data.compare(the_set(NEW, NEW_NAME), live, LABELS)
    assert report.withheld == [] and report.hold == {} and report.recorded == []
    assert report.lines() == ["endpoint data: botocore 1.44.8, meshops.aws_egress 0.1.0"]


def test_resources_that_record_no_endpoint_data_are_not_judged():
    desired = copy.deepcopy(the_set(NEW, NEW_NAME))
    for obj in desired:
        obj["metadata"]["annotations"] = {}
    report = endpoint_data.compare(desired, the_set(OLD, RENAMED), LABELS)
    assert report.here is None and report.hold == {} and report.lines() == [] and report.public()["botocore"] is None


def test_a_removal_where_the_inventory_changed_too_waits_and_says_so():
    live = the_set(OLD, RENAMED)
    desired = [entry("aws-shop-dynamodb-us-east-1", ("dynamodb.us-east-1.amazonaws.com",), NEW, services="dynamodb")]
    report = endpoint_data.compare(desired, live, LABELS)
    assert report.withheld == [
        "servicediscovery.us-east-1.amazonaws.com (servicediscovery in us-east-1, the inventory changed too)"
    ]


def test_other_egress_sets_and_foreign_objects_are_neither_judged_nor_held():
    theirs = [
        dict(obj, metadata={**obj["metadata"], "labels": ownership_labels("theirs")}) for obj in the_set(OLD, RENAMED)
    ]
    report = endpoint_data.compare(the_set(NEW, NEW_NAME), theirs, LABELS)
    assert report.recorded == [] and report.hold == {} and report.withheld == []


@pytest.mark.parametrize(
    "older, component, fix",
    [
        ({"botocore": "1.43.14", "collection": "0.1.0"}, "botocore", "run with botocore 1.44.8 or newer"),
        ({"botocore": "1.44.8", "collection": "0.0.9"}, "collection", "run with meshops.aws_egress 0.1.0 or newer"),
    ],
)
def test_a_run_with_older_endpoint_data_than_the_cluster_records_is_refused(older, component, fix):
    report = endpoint_data.compare(the_set(older, RENAMED), the_set(NEW, RENAMED), LABELS)
    (refusal,) = report.refusals
    assert refusal.override == "endpoint_data_downgrade"
    assert refusal.problem.startswith(
        "the egress set's objects on this cluster record botocore 1.44.8, meshops.aws_egress 0.1.0, "
        f"newer than this run's botocore {older['botocore']}, meshops.aws_egress {older['collection']}"
    )
    assert refusal.fix.startswith(fix)


def test_versions_that_do_not_parse_are_never_newer():
    report = endpoint_data.compare(
        the_set(NEW, RENAMED), the_set({"botocore": "main", "collection": "dev"}, RENAMED), LABELS
    )
    assert report.refusals == []


def test_the_hosts_an_object_names_whatever_its_kind():
    cilium = {
        "spec": {
            "egress": [
                {
                    "toFQDNs": [
                        {"matchName": "sqs.us-east-1.amazonaws.com"},
                        {"matchPattern": "**.s3.us-east-1.amazonaws.com"},
                    ]
                }
            ]
        }
    }
    assert endpoint_data.mentioned_hosts(cilium) == {"sqs.us-east-1.amazonaws.com", "*.s3.us-east-1.amazonaws.com"}
    assert "servicediscovery.us-east-1.amazonaws.com" in endpoint_data.mentioned_hosts(sidecar(RENAMED, OLD))
    policy = {"spec": {"rules": [{"when": [{"key": "connection.sni", "values": ["kms.us-east-1.amazonaws.com"]}]}]}}
    assert "kms.us-east-1.amazonaws.com" in endpoint_data.mentioned_hosts(policy)
