# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Telemetries that log blocked egress against a real API server: apply, rerun, check, prune, and every refusal before a write.

The API server validates them with Istio's CRD schema; what istiod makes of them (the access log and its filter on the
proxies' listeners) is test_xds_access_logs.py's.
"""

from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.access_logs import BLOCKED_FILTER
from role_helpers import (
    GATEWAY_REGIONS,
    OURS,
    egress_gateway,
    expect_failure,
    fresh_namespace,
    objects,
    removed_after,
    rerun_writes_nothing,
    run_role,
    unique_name,
    writes,
)

pytestmark = pytest.mark.integration

TELEMETRIES = "telemetries.telemetry.istio.io"


def mesh_configmap(cluster, namespace: str, **mesh) -> None:
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "istio", "namespace": namespace},
                "data": {"mesh": yaml.safe_dump({"rootNamespace": "istio-system", **mesh})},
            }
        ),
    )


def egress(namespace: str, name: str, control_plane: str, **overrides) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs"],
        "istio_aws_egress_regions": ["us-east-1"],
        "istio_aws_egress_log_blocked": True,
        # istiod's namespace, where the mesh config is read: the test's own.
        "istio_aws_egress_network_policy_istiod": {"namespace": control_plane, "selector": {"app": "istiod"}},
        **overrides,
    }


def ours(cluster, name: str) -> dict:
    return objects(cluster, TELEMETRIES, selector=f"{OURS},meshops.io/egress-set={name}")


def test_telemetries_apply_rerun_check_and_prune(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "logs-entries"), unique_name("logs")
    orders, control_plane = fresh_namespace(local_cluster, "logs-orders"), fresh_namespace(local_cluster, "logs-cp")
    gateway = egress_gateway(local_cluster, "logs-gateway")
    mesh_configmap(local_cluster, control_plane)
    declared = egress(
        namespace,
        name,
        control_plane,
        istio_aws_egress_sidecars=[orders],
        istio_aws_egress_mode="egress_gateway",
        istio_aws_egress_gateway=gateway,
        istio_aws_egress_regions=[GATEWAY_REGIONS["role_log_blocked"]],
    )
    with removed_after(local_cluster, tmp_path) as remove:
        remove(declared)
        _apply_rerun_check_prune(local_cluster, tmp_path, declared, name, orders, gateway)


def _apply_rerun_check_prune(local_cluster, tmp_path, declared, name, orders, gateway):
    telemetry = f"aws-{name}-log-blocked"
    local_cluster.audit.mark()
    first = run_role(local_cluster, declared, tmp_path).assert_ok()
    assert {w for w in writes(local_cluster.audit) if w[1] == "telemetries"} == {
        ("patch", "telemetries", orders, telemetry),
        ("patch", "telemetries", gateway["namespace"], telemetry),
    }
    live = ours(local_cluster, name)
    in_orders, at_gateway = live[f"{orders}/{telemetry}"]["spec"], live[f"{gateway['namespace']}/{telemetry}"]["spec"]
    assert in_orders == {
        "accessLogging": [{"providers": [{"name": "envoy"}], "filter": {"expression": BLOCKED_FILTER}}]
    }
    assert at_gateway == {**in_orders, "selector": {"matchLabels": gateway["selector"]}}
    assert first.said(
        f"! Telemetry {orders}/{telemetry} logs blocked egress of namespace {orders}; it replaces the mesh's "
        f"access logs there, which are off today"
    )
    labels = ",".join(f"{k}={v}" for k, v in sorted(gateway["selector"].items()))
    assert first.said(
        f"! Telemetry {gateway['namespace']}/{telemetry} logs blocked egress of the pods of namespace "
        f"{gateway['namespace']} labelled {labels}"
    )

    rerun_writes_nothing(local_cluster, declared, tmp_path)

    off = {**declared, "istio_aws_egress_log_blocked": False}
    local_cluster.audit.mark()
    check = run_role(local_cluster, off, tmp_path, check=True).assert_ok()
    assert writes(local_cluster.audit) == [] and check.changed == 1
    for namespace in (orders, gateway["namespace"]):
        assert f"- prune Telemetry {namespace}/{telemetry}" in check.stdout

    local_cluster.audit.mark()
    run_role(local_cluster, off, tmp_path).assert_ok()
    assert sorted(writes(local_cluster.audit)) == sorted(
        [("delete", "telemetries", orders, telemetry), ("delete", "telemetries", gateway["namespace"], telemetry)]
    )
    assert ours(local_cluster, name) == {}


def test_next_to_another_telemetry_of_the_namespace_it_is_refused_before_any_write(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "logs-next"), unique_name("logsnext")
    orders, control_plane = (
        fresh_namespace(local_cluster, "logs-next-orders"),
        fresh_namespace(local_cluster, "logs-next-cp"),
    )
    mesh_configmap(local_cluster, control_plane)
    local_cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "telemetry.istio.io/v1",
                "kind": "Telemetry",
                "metadata": {"name": "team-tracing", "namespace": orders},
                "spec": {"tracing": [{"randomSamplingPercentage": 10}]},
            }
        ),
    )
    declared = egress(namespace, name, control_plane, istio_aws_egress_sidecars=[orders])
    local_cluster.audit.mark()
    expect_failure(
        local_cluster,
        declared,
        tmp_path,
        f"namespace {orders} already has Telemetry {orders}/team-tracing (not managed by meshops.aws_egress); "
        f"Telemetry {orders}/aws-{name}-log-blocked would replace its access logs there, and Istio applies only the "
        f"first Telemetry without a selector of a namespace",
        "stop setting istio_aws_egress_log_blocked",
        "istio_aws_egress_accept: [replace_access_logs]",
    )
    assert writes(local_cluster.audit) == []

    accepted = run_role(
        local_cluster, {**declared, "istio_aws_egress_accept": ["replace_access_logs"]}, tmp_path
    ).assert_ok()
    assert accepted.said(
        f"! accepted (replace_access_logs): namespace {orders} already has Telemetry {orders}/team-tracing"
    )
    assert set(ours(local_cluster, name)) == {f"{orders}/aws-{name}-log-blocked"}
    # Theirs is untouched.
    assert objects(local_cluster, TELEMETRIES, orders)[f"{orders}/team-tracing"]["spec"] == {
        "tracing": [{"randomSamplingPercentage": 10}]
    }
    run_role(local_cluster, {**declared, "istio_aws_egress_state": "absent"}, tmp_path).assert_ok()


def test_where_the_mesh_logs_every_call_it_is_refused_before_any_write(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "logs-mesh"), unique_name("logsmesh")
    orders, control_plane = (
        fresh_namespace(local_cluster, "logs-mesh-orders"),
        fresh_namespace(local_cluster, "logs-mesh-cp"),
    )
    mesh_configmap(local_cluster, control_plane, accessLogFile="/dev/stdout")
    declared = egress(namespace, name, control_plane, istio_aws_egress_sidecars=[orders])
    local_cluster.audit.mark()
    expect_failure(
        local_cluster,
        declared,
        tmp_path,
        f"the mesh logs every call (accessLogFile /dev/stdout in ConfigMap {control_plane}/istio); Telemetry "
        f"{orders}/aws-{name}-log-blocked would replace that for namespace {orders}, whose proxies would then log "
        f"blocked egress only",
        "istio_aws_egress_accept: [replace_access_logs]",
    )
    assert writes(local_cluster.audit) == []
    # Check mode is refused alike, and without the Telemetry the run goes on.
    run_role(local_cluster, {**declared, "istio_aws_egress_log_blocked": False}, tmp_path).assert_ok()
    run_role(local_cluster, {**declared, "istio_aws_egress_state": "absent"}, tmp_path).assert_ok()
