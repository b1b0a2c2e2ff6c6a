# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What --diff shows: whole objects for creates and prunes, the live object before and after an update."""

from __future__ import annotations

import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.diffs import applied, plan_diffs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import build_plan

OURS = ownership_labels("default")
OWNED_HOSTS = {"f:spec": {"f:hosts": {}, "f:resolution": {}}}


def entry(name, hosts, **spec):
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": "istio-system", "labels": dict(OURS)},
        "spec": {"hosts": hosts, **spec},
    }


def live(obj, owned=None):
    """`obj` as the API server returns it: its bookkeeping, a status and our field manager's fields."""
    metadata = {
        **obj["metadata"],
        "resourceVersion": "7",
        "uid": "u-1",
        "creationTimestamp": "2026-12-01T00:00:00Z",
        "managedFields": [
            {
                "manager": "meshops.aws_egress",
                "operation": "Apply",
                "fieldsType": "FieldsV1",
                "fieldsV1": owned or OWNED_HOSTS,
            }
        ],
    }
    return {**obj, "metadata": metadata, "status": {"conditions": []}}


def test_a_create_and_a_prune_show_the_whole_object_and_an_update_its_changes():
    keep, gone = (
        entry("sqs", ["sqs.us-east-1.amazonaws.com"], resolution="DNS"),
        entry("sns", ["sns.us-east-1.amazonaws.com"]),
    )
    new = entry("kms", ["kms.us-east-1.amazonaws.com"])
    wanted = entry("sqs", ["sqs.us-east-1.amazonaws.com", "sqs-fips.us-east-1.amazonaws.com"], resolution="DNS")
    cluster = [live(keep), live(gone)]
    plan = build_plan([wanted, new], cluster, OURS)
    shown = {d["after_header"]: d for d in plan_diffs(plan, cluster)}
    assert set(shown) == {f"ServiceEntry istio-system/{n} (declared)" for n in ("sqs", "kms", "sns")}
    created = shown["ServiceEntry istio-system/kms (declared)"]
    assert created["before"] == "" and yaml.safe_load(created["after"]) == new
    pruned = shown["ServiceEntry istio-system/sns (declared)"]
    assert pruned["after"] == "" and yaml.safe_load(pruned["before"]) == gone
    updated = shown["ServiceEntry istio-system/sqs (declared)"]
    assert yaml.safe_load(updated["before"]) == keep and yaml.safe_load(updated["after"]) == wanted
    assert updated["before_header"] == "ServiceEntry istio-system/sqs (live)"


def test_an_update_removes_a_field_we_set_and_keeps_what_others_set():
    before = entry("sqs", ["sqs.us-east-1.amazonaws.com"], resolution="DNS", location="MESH_EXTERNAL")
    after = applied(entry("sqs", ["sqs.us-east-1.amazonaws.com"]), live(before))
    # resolution was ours (managedFields) and is no longer declared; location is another manager's.
    assert after["spec"] == {"hosts": ["sqs.us-east-1.amazonaws.com"], "location": "MESH_EXTERNAL"}


def test_nothing_to_write_shows_no_diff():
    obj = entry("sqs", ["sqs.us-east-1.amazonaws.com"])
    assert plan_diffs(build_plan([obj], [live(obj)], OURS), [live(obj)]) == []
