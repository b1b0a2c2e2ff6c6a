# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Telemetries of istio_aws_egress_log_blocked on istiod's own config generation (the xDS harness): the access log
and its filter are on the chains blocked calls take, at the sidecars of the listed namespaces and at the egress gateway,
and nowhere else; each clause of the filter reads a value the blocked call's path has. Envoy evaluates the filter, which
the simulation does not run. `istioctl validate` and `istioctl analyze` accept the Telemetries (test_role_render.py).
"""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.access_logs import (
    BLOCKED_CLAUSES,
    BLOCKED_FILTER,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import harness
from simulation_helpers import GATEWAY_IP, ISTIO_VERSION, PUBLIC_IP, docs, gateway_kubernetes, istio_config, render_role

pytestmark = pytest.mark.integration

SQS = "sqs.eu-west-1.amazonaws.com"
SNS = "sns.eu-west-1.amazonaws.com"
FILE_LOG = {
    "logger": "envoy.access_loggers.file",
    "path": "/dev/stdout",
    "filter": BLOCKED_FILTER,
    "other_filter": None,
}


def ours(result: dict, where: str) -> str:
    """The filter result of our access log at `where` (tcp_proxy, http_connection_manager) on the call's path; it must be there."""
    found = [log for log in result["access_logs"] if log["where"] == where and log["filter"] == BLOCKED_FILTER]
    assert len(found) == 1, result["access_logs"]
    assert {key: found[0][key] for key in FILE_LOG} == FILE_LOG
    return found[0]["filter_result"]


def _variables(mode: str) -> dict:
    variables = {
        "istio_aws_egress_name": "logs",
        "istio_aws_egress_namespace": "istio-system",
        "istio_aws_egress_services": ["sqs"],
        "istio_aws_egress_regions": ["eu-west-1"],
        "istio_aws_egress_credential_sources": ["imds"],
        "istio_aws_egress_sidecars": ["orders"],
        "istio_aws_egress_log_blocked": True,
        "istio_aws_egress_mode": mode,
    }
    if mode == "egress_gateway":
        variables["istio_aws_egress_gateway"] = {
            "selector": {"istio": "egressgateway"},
            "namespace": "istio-system",
            "service": "istio-egressgateway",
        }
    return variables


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The role's objects in each mode the Telemetries differ in."""
    tmp_path = tmp_path_factory.mktemp("log-blocked")
    return {
        mode: istio_config(render_role(tmp_path, _variables(mode)).objects) for mode in ("sidecar", "egress_gateway")
    }


def _simulate(objects, proxies, calls, kubernetes=""):
    response = harness.simulate(
        {
            "istio_version": ISTIO_VERSION,
            "mesh": {"outbound_traffic_policy": "REGISTRY_ONLY"},
            "config": docs(*objects),
            "kubernetes": kubernetes,
            "proxies": proxies,
            "calls": calls,
        }
    )
    assert response["rejected_config"] == [], response["rejected_config"]
    return {result["id"]: result for result in response["results"]}


def _tls(call_id, proxy, sni, address=PUBLIC_IP, port=443):
    return {"id": call_id, "proxy": proxy, "address": address, "port": port, "tls": True, "sni": sni}


def _http(call_id, proxy, host, port=80):
    return {"id": call_id, "proxy": proxy, "address": PUBLIC_IP, "port": port, "protocol": "http", "host": host}


def test_the_sidecars_of_listed_namespaces_log_blocked_calls_through_the_filter(rendered):
    proxies = {
        "orders": {"type": "sidecar", "namespace": "orders", "ips": ["10.0.0.10"]},
        "billing": {"type": "sidecar", "namespace": "billing", "ips": ["10.0.0.11"]},
    }
    calls = [
        _tls("tls-blocked", "orders", SNS),
        _http("http-blocked", "orders", "example.com"),
        _tls("tls-declared", "orders", SQS),
        _tls("unlisted-blocked", "billing", SNS),
    ]
    results = _simulate(rendered["sidecar"], proxies, calls)

    # Each clause reads what the blocked call's path has: its cluster, its route.
    assert results["tls-blocked"]["cluster"] == "BlackHoleCluster"
    assert (results["http-blocked"]["virtual_host"], results["http-blocked"]["route"]) == ("block_all", "block_all")
    # The blocked TLS connection is logged by its TCP proxy, the blocked request by its connection manager: the filter,
    # evaluated on what the call has (cel-go; Envoy's attributes), keeps both, and drops the declared call.
    assert ours(results["tls-blocked"], "tcp_proxy") == "true"
    assert ours(results["http-blocked"], "http_connection_manager") == "true"
    assert ours(results["tls-declared"], "tcp_proxy") == "false"
    assert results["tls-declared"]["cluster"] == f"outbound|443||{SQS}"
    # Nothing else logs there: the mesh logs nothing, so every access log on those paths is ours.
    for call_id in ("tls-blocked", "http-blocked", "tls-declared"):
        assert {log["filter"] for log in results[call_id]["access_logs"]} == {BLOCKED_FILTER}, call_id
    # A namespace the set does not list has no Telemetry of ours: no access log at all.
    assert (
        results["unlisted-blocked"]["cluster"] == "BlackHoleCluster"
        and results["unlisted-blocked"]["access_logs"] == []
    )


def test_the_egress_gateway_logs_through_the_filter_where_its_policy_decides(rendered):
    proxies = {
        "gateway": {
            "type": "router",
            "namespace": "istio-system",
            "labels": {"istio": "egressgateway"},
            "ips": [GATEWAY_IP],
        },
        "other-gateway": {
            "type": "router",
            "namespace": "istio-system",
            "labels": {"istio": "ingressgateway"},
            "ips": ["10.0.1.6"],
        },
    }
    calls = [
        _tls("at-gateway", "gateway", SQS, address=GATEWAY_IP, port=8443),
        _tls("other-gateway", "other-gateway", SQS, address="10.0.1.6", port=8443),
    ]
    results = _simulate(rendered["egress_gateway"], proxies, calls, kubernetes=docs(*gateway_kubernetes()))
    at_gateway = results["at-gateway"]
    # The network RBAC filter whose denials connection.termination_details names is on the chain the log is on; the
    # simulation does not run it, so the clause that keeps its denials is not evaluated here (filter_result false).
    assert "envoy.filters.network.rbac" in at_gateway["network_filters"], at_gateway
    assert any("connection.termination_details" in clause for _what, clause in BLOCKED_CLAUSES)
    assert ours(at_gateway, "tcp_proxy") == "false"
    # The Telemetry selects the egress gateway's pods only.
    assert all(log["filter"] != BLOCKED_FILTER for log in results["other-gateway"]["access_logs"])
