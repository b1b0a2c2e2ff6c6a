# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Same-name resources that are not ours: refused before any write, adopted only when asked, never another set's."""

from __future__ import annotations

import json

import pytest

from role_helpers import expect_failure, fresh_namespace, objects, rerun_writes_nothing, run_role, unique_name, writes

pytestmark = pytest.mark.integration


def egress(namespace: str, name: str, **overrides) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs", "sns"],
        "istio_aws_egress_regions": ["us-east-1"],
        **overrides,
    }


def make_entry(cluster, namespace: str, name: str, labels: dict) -> dict:
    entry = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "hosts": ["queue.example.com"],
            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            "resolution": "DNS",
            "location": "MESH_EXTERNAL",
        },
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(entry))
    return objects(cluster, "serviceentries", namespace)[f"{namespace}/{name}"]


def test_a_foreign_resource_of_the_same_name_fails_the_run_untouched_unless_adopted(local_cluster, tmp_path):
    namespace, own = fresh_namespace(local_cluster, "role-foreign"), unique_name("own")
    name = f"aws-{own}-sqs-us-east-1"
    foreign = make_entry(local_cluster, namespace, name, {"team": "payments"})

    local_cluster.audit.mark()
    expect_failure(
        local_cluster,
        egress(namespace, own),
        tmp_path,
        f"ServiceEntry {namespace}/{name} exists and is not labelled app.kubernetes.io/managed-by=meshops.aws_egress",
        "set istio_aws_egress_adopt: true to take it over",
        "nothing was written",
    )
    assert writes(local_cluster.audit) == []  # not even the entries that were free to create
    untouched = objects(local_cluster, "serviceentries", namespace)
    assert set(untouched) == {f"{namespace}/{name}"}
    assert untouched[f"{namespace}/{name}"]["metadata"]["resourceVersion"] == foreign["metadata"]["resourceVersion"]

    local_cluster.audit.mark()
    adopted = run_role(local_cluster, egress(namespace, own, istio_aws_egress_adopt=True), tmp_path).assert_ok()
    assert f"~ adopt ServiceEntry {namespace}/{name}" in adopted.stdout
    assert sorted(writes(local_cluster.audit)) == sorted(
        [
            ("patch", "serviceentries", namespace, name),
            ("patch", "serviceentries", namespace, f"aws-{own}-sns-us-east-1"),
        ]
    )
    taken = objects(local_cluster, "serviceentries", namespace)[f"{namespace}/{name}"]
    assert taken["metadata"]["labels"] == {
        "team": "payments",
        "app.kubernetes.io/managed-by": "meshops.aws_egress",
        "meshops.io/egress-set": own,
    }
    assert taken["spec"]["hosts"] == ["sqs.us-east-1.amazonaws.com"]

    rerun_writes_nothing(local_cluster, egress(namespace, own), tmp_path)


def test_a_resource_of_another_egress_set_is_never_taken_over(local_cluster, tmp_path):
    namespace, mine = fresh_namespace(local_cluster, "role-otherset"), unique_name("mine")
    name = f"aws-{mine}-sqs-us-east-1"
    theirs = make_entry(
        local_cluster,
        namespace,
        name,
        {"app.kubernetes.io/managed-by": "meshops.aws_egress", "meshops.io/egress-set": "theirs"},
    )

    local_cluster.audit.mark()
    expect_failure(
        local_cluster,
        egress(namespace, mine, istio_aws_egress_adopt=True),
        tmp_path,
        f"ServiceEntry {namespace}/{name} belongs to egress set 'theirs'",
    )
    assert writes(local_cluster.audit) == []
    after = objects(local_cluster, "serviceentries", namespace)[f"{namespace}/{name}"]
    assert after["metadata"]["resourceVersion"] == theirs["metadata"]["resourceVersion"]
