# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role in every mode on the CRDs of every Istio release people run (localcluster.ISTIO_RELEASES).

One API server per release, started once for this file, with that release's Istio CRDs and the Gateway API's,
and an audit log that keeps the body of each write. Per mode: apply, compare every object the API server was sent
with the object it kept (it drops fields a CRD's schema does not know, with only a warning), check the `auto`
decisions, and rerun with zero writes.

CRDs carry no webhook validation: what istiod's webhook would refuse is covered by `istioctl validate`
(test_role_render.py) and by istiod's own config generation (test_xds_*.py), on the pinned 1.30 commit.
"""

from __future__ import annotations

import json

import pytest

from conftest import EXTERNAL_KUBECONFIG, localcluster
from hardening_helpers import scratch_clusters
from role_helpers import egress_gateway, fresh_namespace, rerun_writes_nothing, run_role, unique_name

pytestmark = pytest.mark.integration

RELEASES = tuple(localcluster.ISTIO_RELEASES)
MODES = ("sidecar", "egress_gateway", "ambient")
REGION = "us-west-2"
WILDCARD_LABEL = "istio.io/use-waypoint"
# The first release whose CRDs wildcard_resolution `auto` takes for sidecars that resolve DYNAMIC_DNS (wildcards.py).
DYNAMIC_DNS_FROM = (1, 30)
_MISSING = object()


def _release(release: str) -> tuple[int, int]:
    major, minor = release.split(".")
    return int(major), int(minor)


@pytest.fixture(scope="module", params=RELEASES)
def release_cluster(request):
    """(release, cluster): an API server with the release's Istio CRDs, for every test of that release."""
    if EXTERNAL_KUBECONFIG:
        pytest.skip("starts API servers of its own: MESHOPS_TEST_KUBECONFIG points at an existing cluster")
    release = request.param
    with scratch_clusters(
        f"istio-{release.replace('.', '-')}", crds=[f"istio-{release}", "gateway-api"], audit="Request"
    ) as (cluster,):
        yield release, cluster


def differences(sent, kept, path: str = "") -> list[str]:
    """The paths of `sent` that `kept` lacks or holds otherwise; what the server adds (defaults, status) is no difference."""
    if isinstance(sent, dict):
        if not isinstance(kept, dict):
            return [path or "."]
        return [
            found
            for key, value in sent.items()
            for found in differences(value, kept.get(key, _MISSING), f"{path}.{key}")
        ]
    if isinstance(sent, list):
        if not isinstance(kept, list) or len(kept) != len(sent):
            return [path]
        return [
            found for index, value in enumerate(sent) for found in differences(value, kept[index], f"{path}[{index}]")
        ]
    return [] if sent == kept else [path]


def sent_and_kept(cluster) -> list[tuple[dict, dict]]:
    """(what a write sent, the object as the API server now serves it in the same version) for every create, update
    and patch since the audit log's mark."""
    pairs = []
    for event in cluster.audit.writes():
        ref = event["objectRef"]
        if event["verb"] not in ("create", "update", "patch") or ref.get("resource") in (
            "selfsubjectaccessreviews",
            "leases",
        ):
            continue
        assert "requestObject" in event, f"the audit log kept no body of {event['verb']} {ref}: not at level Request"
        prefix = f"/apis/{ref['apiGroup']}/{ref['apiVersion']}" if ref.get("apiGroup") else f"/api/{ref['apiVersion']}"
        path = f"{prefix}/namespaces/{ref['namespace']}/{ref['resource']}/{ref['name']}"
        pairs.append((event["requestObject"], json.loads(cluster.kubectl("get", "--raw", path).stdout)))
    return pairs


def variables(cluster, mode: str, name: str, namespace: str) -> dict:
    """One egress set of each mode: exact and wildcard hosts, a credential endpoint, namespaces it acts on."""
    base = {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_mode": mode,
        "istio_aws_egress_services": ["sqs", "s3"],
        "istio_aws_egress_regions": [REGION],
        "istio_aws_egress_credential_sources": ["imds"],
        "istio_aws_egress_log_blocked": True,
    }
    if mode == "ambient":
        callers = fresh_namespace(cluster, "rel-callers")
        cluster.kubectl("label", "namespace", callers, "istio.io/dataplane-mode=ambient")
        return {**base, "istio_aws_egress_caller_namespaces": [callers]}
    callers = fresh_namespace(cluster, "rel-sidecars")
    base = {**base, "istio_aws_egress_sidecars": [callers], "istio_aws_egress_network_policy": "kubernetes"}
    if mode == "egress_gateway":
        base["istio_aws_egress_gateway"] = egress_gateway(cluster, "rel-gw")
    return base


@pytest.mark.parametrize("mode", MODES)
def test_the_role_on_each_release(release_cluster, mode, tmp_path):
    release, cluster = release_cluster
    namespace, name = fresh_namespace(cluster, f"rel-{mode.replace('_', '-')}"), unique_name("rel")
    role_vars = variables(cluster, mode, name, namespace)
    cluster.audit.mark()
    first = run_role(cluster, role_vars, tmp_path).assert_ok()
    assert first.changed == 1

    # Every object the API server was sent, it kept whole: no field the release's CRD does not know.
    pairs = sent_and_kept(cluster)
    kinds = {sent["kind"] for sent, _kept in pairs}
    by_mode = {
        "sidecar": ["Sidecar", "NetworkPolicy"],
        "ambient": ["Gateway", "AuthorizationPolicy"],
        "egress_gateway": [
            "Sidecar",
            "NetworkPolicy",
            "Gateway",
            "DestinationRule",
            "VirtualService",
            "AuthorizationPolicy",
        ],
    }
    expected = {"ServiceEntry", "Telemetry", *by_mode[mode]}
    assert kinds == expected, (release, mode)
    for sent, kept in pairs:
        dropped = differences(
            {key: value for key, value in sent.items() if key not in ("apiVersion", "metadata")}, kept
        )
        dropped += differences(
            {key: sent["metadata"].get(key) for key in ("labels", "annotations") if key in sent["metadata"]},
            kept["metadata"],
            ".metadata",
        )
        assert not dropped, (
            f"Istio {release}: {sent['kind']} {sent['metadata']['name']} came back without {', '.join(dropped)}"
        )

    # auto: the newest networking.istio.io version every release serves; wildcards by the release's CRDs.
    assert {sent["apiVersion"] for sent, _kept in pairs if sent["apiVersion"].startswith("networking.istio.io/")} == {
        "networking.istio.io/v1"
    }
    assert first.said(f"Egress set {name} on {cluster.name}, networking.istio.io/v1")
    wildcard = next(
        kept
        for sent, kept in pairs
        if sent["kind"] == "ServiceEntry" and sent["metadata"]["name"].endswith("-wildcard")
    )
    dynamic = mode != "ambient" and _release(release) >= DYNAMIC_DNS_FROM
    assert wildcard["spec"]["resolution"] == ("DYNAMIC_DNS" if dynamic else "NONE"), (release, mode)
    if mode == "egress_gateway":
        # Exact hosts go through the gateway; wildcards stay direct, whatever their resolution.
        routed = {host for sent, kept in pairs if sent["kind"] == "VirtualService" for host in kept["spec"]["hosts"]}
        assert routed and not routed & set(wildcard["spec"]["hosts"]), routed
    if mode == "ambient":
        # The prerequisites held: the waypoint is a Gateway API Gateway, and the exact hosts are bound to it.
        waypoint = f"aws-{name}-waypoint"
        assert any(sent["kind"] == "Gateway" and sent["metadata"]["name"] == waypoint for sent, _kept in pairs)
        bound = sorted(
            kept["metadata"]["name"]
            for sent, kept in pairs
            if sent["kind"] == "ServiceEntry" and kept["metadata"]["labels"].get(WILDCARD_LABEL) == waypoint
        )
        assert bound == [f"aws-{name}-s3-{REGION}", f"aws-{name}-sqs-{REGION}"]

    rerun_writes_nothing(cluster, role_vars, tmp_path)


def test_differences_name_what_the_server_dropped():
    sent = {"spec": {"hosts": ["a"], "resolution": "DNS", "newField": {"x": 1}}, "metadata": {"labels": {"a": "b"}}}
    kept = {
        "spec": {"hosts": ["a"], "resolution": "DNS", "location": "MESH_EXTERNAL"},
        "metadata": {"labels": {"a": "b", "c": "d"}},
    }
    assert differences(sent, kept) == [".spec.newField"]
    assert differences({"spec": {"hosts": ["a", "b"]}}, {"spec": {"hosts": ["a"]}}) == [".spec.hosts"]
    assert differences(sent, sent) == []
