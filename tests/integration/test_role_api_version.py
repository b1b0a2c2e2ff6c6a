# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""networking.istio.io versions: the preferred served one, a pinned one, and no Istio at all."""

from __future__ import annotations

import json
import time

import pytest

from conftest import localcluster
from hardening_helpers import scratch_clusters
from role_helpers import (
    expect_failure,
    fresh_namespace,
    rerun_writes_nothing,
    resource_events,
    run_role,
    unique_name,
    writes,
)

pytestmark = pytest.mark.integration

CRD = "serviceentries.networking.istio.io"


def egress(namespace: str, name: str = "versions", **overrides) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs"],
        "istio_aws_egress_regions": ["us-east-1"],
        **overrides,
    }


def _serves_v1(cluster) -> bool:
    resources = cluster.kubectl("get", "--raw", "/apis/networking.istio.io/v1", check=False)
    return resources.returncode == 0 and any(
        r["name"] == "serviceentries" for r in json.loads(resources.stdout)["resources"]
    )


def _set_v1_served(cluster, served: bool) -> None:
    """Serve v1 or not; the storage version moves to v1beta1 while v1 is off (a stored version must be served)."""
    versions = json.loads(cluster.kubectl("get", "crd", CRD, "-o", "json").stdout)["spec"]["versions"]
    index = {v["name"]: i for i, v in enumerate(versions)}
    patch = [
        {"op": "replace", "path": f"/spec/versions/{index['v1']}/served", "value": served},
        {"op": "replace", "path": f"/spec/versions/{index['v1']}/storage", "value": served},
        {"op": "replace", "path": f"/spec/versions/{index['v1beta1']}/storage", "value": not served},
    ]
    cluster.kubectl("patch", "crd", CRD, "--type=json", "-p", json.dumps(patch))
    deadline = time.monotonic() + 30
    while _serves_v1(cluster) != served:
        assert time.monotonic() < deadline, f"the API server still {'does not serve' if served else 'serves'} {CRD} v1"
        time.sleep(0.2)


@pytest.fixture()
def v1_not_served(local_cluster):
    _set_v1_served(local_cluster, False)
    try:
        yield local_cluster
    finally:
        _set_v1_served(local_cluster, True)


def test_falls_back_to_v1beta1_when_v1_is_not_served(v1_not_served, tmp_path):
    cluster = v1_not_served
    namespace, name = fresh_namespace(cluster, "role-v1beta1"), unique_name("v1beta1")
    cluster.audit.mark()
    run = run_role(cluster, egress(namespace, name), tmp_path).assert_ok()
    assert f"Egress set {name} on {cluster.context}, networking.istio.io/v1beta1" in run.stdout
    written = [(w["objectRef"]["apiVersion"], w["objectRef"]["name"]) for w in resource_events(cluster.audit)]
    assert written == [("v1beta1", f"aws-{name}-sqs-us-east-1")]
    stored = json.loads(
        cluster.kubectl("get", "serviceentries.v1beta1.networking.istio.io", "-n", namespace, "-o", "json").stdout
    )["items"]
    assert [o["apiVersion"] for o in stored] == ["networking.istio.io/v1beta1"]

    rerun_writes_nothing(cluster, egress(namespace, name), tmp_path)

    expect_failure(
        cluster,
        egress(namespace, name, istio_aws_egress_api_version="v1"),
        tmp_path,
        'istio_aws_egress_api_version: "v1" is not served by',
        "v1alpha3, v1beta1",
    )


def test_a_pinned_version_is_used(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "role-pinned"), unique_name("pinned")
    local_cluster.audit.mark()
    run_role(local_cluster, egress(namespace, name, istio_aws_egress_api_version="v1alpha3"), tmp_path).assert_ok()
    assert [w["objectRef"]["apiVersion"] for w in resource_events(local_cluster.audit)] == ["v1alpha3"]
    # The same objects seen through v1 are unchanged: versions share one schema.
    rerun_writes_nothing(local_cluster, egress(namespace, name), tmp_path)


@pytest.fixture()
def cluster_without_istio(local_cluster):  # pylint: disable=unused-argument
    """A cluster of its own started without Istio's CRDs (the Gateway API's only)."""
    with scratch_clusters("no-istio", crds=["gateway-api"]) as clusters:
        assert clusters[0].kubectl("get", "crd", CRD, check=False).returncode != 0
        yield clusters[0]


def test_without_istio_present_fails_and_absent_has_nothing_to_do(cluster_without_istio, tmp_path):
    cluster = cluster_without_istio
    expect_failure(cluster, egress("istio-system"), tmp_path, f"Istio is not installed on {cluster.context}")
    cluster.audit.mark()
    gone = run_role(cluster, egress("istio-system", istio_aws_egress_state="absent"), tmp_path).assert_ok()
    assert gone.changed == 0 and writes(cluster.audit) == []
    assert gone.said(f"Istio is not installed on {cluster.context}: egress set versions has nothing to remove")
    assert localcluster.KUBECONFIG.exists()
