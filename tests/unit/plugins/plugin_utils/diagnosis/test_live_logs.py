# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whose logs the live read asks the API server for, with which bounds, and what it says of what it could not read."""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import live_logs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import input_message


@pytest.mark.parametrize("since, expected", [("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800)])
def test_durations(since, expected):
    assert live_logs.seconds(since) == expected


@pytest.mark.parametrize("since", ["1", "0h", "1w", "-1h", "", None, "1.5h"])
def test_a_bad_duration_is_named(since):
    with pytest.raises(InputError) as raised:
        live_logs.seconds(since)
    assert input_message(raised.value, "diagnose_").startswith("diagnose_since: ")


def test_sources_are_the_sidecar_namespaces_the_gateway_the_waypoint_and_ztunnel():
    assert live_logs.sources(
        ["orders", "billing", "orders"],
        {"namespace": "egress", "selector": {"istio": "egressgateway", "a": "b"}},
        {"namespace": "aws", "name": "waypoint", "create": True},
        "istio-system",
    ) == [
        live_logs.Source("billing"),
        live_logs.Source("orders"),
        live_logs.Source("egress", "a=b,istio=egressgateway"),
        live_logs.Source("aws", "gateway.networking.k8s.io/gateway-name=waypoint"),
        live_logs.Source("istio-system", "app=ztunnel"),
    ]


def test_a_gateway_without_its_pods_labels_is_named():
    with pytest.raises(InputError, match="needs namespace, selector; missing or empty: selector"):
        live_logs.sources([], {"namespace": "egress"})


def _pod(name, *containers):
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": c} for c in containers]}}


def test_each_proxy_log_is_read_with_the_bounds_and_what_is_not_read_is_said(tmp_path):
    asked = []
    pods = {
        "/api/v1/namespaces/orders/pods": [_pod("api-0", "app", "istio-proxy"), _pod("batch-0", "batch")],
        "/api/v1/namespaces/egress/pods": [_pod("gw-0", "istio-proxy"), _pod("api-0", "istio-proxy")],
    }

    def api(path, query):
        asked.append((path, query))
        if path == "/api/v1/namespaces/secret/pods":
            return 403, b'{"kind": "Status", "message": "forbidden"}'
        if path in pods:
            return 200, json.dumps({"items": pods[path]}).encode()
        if path == "/api/v1/namespaces/egress/pods/api-0/log":
            return 500, b'{"kind": "Status", "message": "dial tcp: connection refused"}'
        return 200, f"log of {path}\n".encode()

    where = [live_logs.Source("orders"), live_logs.Source("egress", "istio=egressgateway"), live_logs.Source("secret")]
    read = live_logs.read(api, where, 900, 50, tmp_path / "logs")
    assert (
        "/api/v1/namespaces/orders/pods/api-0/log",
        {"container": "istio-proxy", "sinceSeconds": "900", "tailLines": "50"},
    ) in asked
    assert ("/api/v1/namespaces/egress/pods", {"labelSelector": "istio=egressgateway"}) in asked
    assert read.files == [
        str(tmp_path / "logs" / "orders" / "api-0.log"),
        str(tmp_path / "logs" / "egress" / "gw-0.log"),
    ]
    assert (
        tmp_path / "logs" / "orders" / "api-0.log"
    ).read_text() == "log of /api/v1/namespaces/orders/pods/api-0/log\n"
    assert read.notes == [
        "pod orders/batch-0 has no istio-proxy container: not read",
        "log of pod egress/api-0 not read: HTTP 500: dial tcp: connection refused",
        "pods of namespace secret not listed (forbidden)",
    ]


def test_a_pod_list_that_fails_otherwise_fails_the_read(tmp_path):
    with pytest.raises(live_logs.LiveLogError, match="listing the pods of namespace orders: HTTP 500: etcd down"):
        live_logs.read(
            lambda path, query: (500, b'{"message": "etcd down"}'), [live_logs.Source("orders")], 60, 10, tmp_path
        )
