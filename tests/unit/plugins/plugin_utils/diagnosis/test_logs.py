# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading logs: which lines are blocked calls, where each went, who called, and what every other line is counted as."""

from __future__ import annotations

import gzip

import pytest

import access_logs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import blocked, formats, logs

T, J = formats.ENVOY_TEXT_FORMAT, formats.ENVOY_JSON_FORMAT
TIME = "2026-12-01T10:00:00.000Z"
CLIENT = "10.0.0.10:51234"
CALLER = blocked.Caller("orders", "api-1", "", "orders/api-1.log")


def envoy(values, proxy="sidecar"):
    return blocked.from_envoy(formats.envoy_text(access_logs.envoy_text(T, values)), proxy, CALLER)


def test_tls_to_an_unknown_host_is_blocked_at_the_black_hole_with_its_sni():
    call = envoy(access_logs.black_hole("sqs.us-east-2.amazonaws.com", "52.94.0.1:443", CLIENT, TIME))
    assert (call.destination, call.port, call.protocol, call.proxy, call.time) == (
        "sqs.us-east-2.amazonaws.com",
        443,
        "tls",
        "sidecar",
        TIME,
    )
    assert call.how == "BlackHoleCluster (UH)" and call.caller == CALLER


def test_http_to_an_unknown_host_is_the_proxys_own_502_on_block_all():
    call = envoy(access_logs.block_all("169.254.169.254", "169.254.169.254:80", CLIENT, TIME, "/latest/api/token"))
    assert (call.destination, call.port, call.protocol) == ("169.254.169.254", 80, "http")
    assert call.how == "502 from the proxy itself, route block_all"
    ipv6 = envoy(access_logs.block_all("[fd00:ec2::254]", "[fd00:ec2::254]:80", CLIENT, TIME))
    assert (ipv6.destination, ipv6.port) == ("fd00:ec2::254", 80)
    with_port = envoy(access_logs.block_all("Sqs.US-East-2.amazonaws.com:8443", "52.94.0.1:8443", CLIENT, TIME))
    assert (with_port.destination, with_port.port) == ("sqs.us-east-2.amazonaws.com", 8443)


def test_denials_and_missing_filter_chains_are_blocked_and_a_waypoint_knows_itself_by_its_clusters():
    denied = envoy(
        access_logs.rbac_denied(
            "sqs.us-east-1.amazonaws.com",
            "inbound-vip|443|tcp|sqs.us-east-1.amazonaws.com",
            "240.240.0.5:443",
            "envoy://internal_client_address/",
            TIME,
        )
    )
    assert (denied.proxy, denied.destination) == ("waypoint", "sqs.us-east-1.amazonaws.com")
    assert denied.how == "denied by an AuthorizationPolicy: rbac_access_denied_matched_policy[none]"
    at_gateway = envoy(
        access_logs.no_filter_chain("sns.us-east-1.amazonaws.com", "10.244.0.9:8443", CLIENT, TIME), proxy="gateway"
    )
    assert (at_gateway.proxy, at_gateway.port, at_gateway.how) == (
        "gateway",
        443,
        "no filter chain for it (NR filter_chain_not_found)",
    )


def test_calls_that_left_are_not_blocked():
    assert envoy(access_logs.allowed("sqs.us-east-1.amazonaws.com", "52.94.0.1:443", CLIENT, TIME)) is None


def test_a_call_with_neither_name_is_named_by_its_address():
    values = access_logs.black_hole("-", "52.94.0.1:5432", CLIENT, TIME)
    call = envoy(values)
    assert (call.destination, call.port, call.protocol) == ("52.94.0.1", 5432, "tcp")


def test_ztunnel_events_that_failed_are_blocked_with_the_callers_identity():
    values = access_logs.ztunnel_denied(
        "shipping",
        "shipping-api-5f6d7c8b9-abcde",
        "sqs.us-east-1.amazonaws.com",
        "240.240.0.5:443",
        "connection closed due to policy rejection: allow policies exist, but none allowed",
    )
    call = blocked.from_ztunnel(
        formats.ztunnel(access_logs.ztunnel_event(values, TIME)), blocked.Caller(file="ztunnel.log")
    )
    assert (call.destination, call.port, call.proxy) == ("sqs.us-east-1.amazonaws.com", 443, "ztunnel")
    assert call.caller == blocked.Caller(
        "shipping", "shipping-api-5f6d7c8b9-abcde", "spiffe://cluster.local/ns/shipping/sa/shipping-api", "ztunnel.log"
    )
    assert call.caller.shown == "shipping/shipping-api-5f6d7c8b9-abcde"
    fine = formats.ztunnel(
        access_logs.ztunnel_event({k: v for k, v in values.items() if k != "error"}, TIME, level="info")
    )
    assert blocked.from_ztunnel(fine, blocked.Caller()) is None


def scanned(path):
    found = []
    counts = logs.scan(logs.log_files(path), found.append)
    return counts, found


def test_every_line_is_counted_and_only_blocked_ones_are_read_in_full(tmp_path):
    lines = [
        access_logs.envoy_text(T, access_logs.allowed("sqs.us-east-1.amazonaws.com", "52.94.0.1:443", CLIENT, TIME)),
        access_logs.envoy_text(T, access_logs.black_hole("sns.us-east-1.amazonaws.com", "52.94.0.1:443", CLIENT, TIME)),
        access_logs.envoy_json(J, access_logs.black_hole("kms.us-east-1.amazonaws.com", "52.94.0.1:443", CLIENT, TIME)),
        access_logs.envoy_json(J, access_logs.allowed("sqs.us-east-1.amazonaws.com", "52.94.0.1:443", CLIENT, TIME)),
        "2026-12-01T10:00:00.000000Z\tinfo\txdsproxy\tconnected to upstream XDS server: istiod.istio-system.svc:15012",
        "[2026-12-01 10:00:00.000][15][warning][config] gRPC config stream closed",
        '{"level":"info","time":"2026-12-01T10:00:00Z","msg":"Envoy proxy is ready"}',
        "plain words, no proxy wrote them",
        '[2026-12-01T10:00:00.000Z] "- - -" 0 UH - - BlackHoleCluster truncated',
        "",
    ]
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "api-1.log").write_text("\n".join(lines) + "\n")
    counts, found = scanned(tmp_path)
    assert counts.as_dict() == {
        "files": 1,
        "lines": 10,
        "access": 5,
        "proxy": 3,
        "other": 2,
        "unreadable": 1,
        "blocked": 2,
        "skipped": [],
    }
    assert [(c.destination, c.caller.shown, c.caller.namespace) for c in found] == [
        ("sns.us-east-1.amazonaws.com", "orders/api-1", "orders"),
        ("kms.us-east-1.amazonaws.com", "orders/api-1", "orders"),
    ]


def test_kubectl_and_kubelet_prefixes_are_read_past(tmp_path):
    line = access_logs.envoy_text(
        T, access_logs.black_hole("sns.us-east-1.amazonaws.com", "52.94.0.1:443", CLIENT, TIME)
    )
    (tmp_path / "all.log").write_text(
        "\n".join(
            [
                f"[pod/orders-api-7d9f/istio-proxy] {line}",
                f"2026-12-01T10:00:00.123456789Z {line}",
                f"[pod/istio-egressgateway-5c7d/istio-proxy] 2026-12-01T10:00:00.123456789Z {line}",
                f"2026-12-01T10:00:00.123456789Z stdout F {line}",
            ]
        )
        + "\n"
    )
    counts, found = scanned(tmp_path / "all.log")
    assert counts.blocked == 4 and counts.other == 0
    assert [(c.caller.pod, c.proxy) for c in found] == [
        ("orders-api-7d9f", "sidecar"),
        ("", "sidecar"),
        ("istio-egressgateway-5c7d", "gateway"),
        ("", "sidecar"),
    ]


@pytest.mark.parametrize(
    "relative, namespace, pod, proxy",
    [
        ("orders-api-7d9f-x2x4k_orders_istio-proxy-" + "a" * 64 + ".log", "orders", "orders-api-7d9f-x2x4k", "sidecar"),
        (
            "orders_orders-api-7d9f-x2x4k_0b1c2d3e-0000-4000-8000-000000000001/istio-proxy/0.log",
            "orders",
            "orders-api-7d9f-x2x4k",
            "sidecar",
        ),
        ("billing/billing-api-6c8d.log.gz", "billing", "billing-api-6c8d", "sidecar"),
        ("istio-system/istio-egressgateway-5c7d.log", "", "istio-egressgateway-5c7d", "gateway"),
        ("aws-egress/aws-staging-waypoint-6b7c.log", "", "aws-staging-waypoint-6b7c", "waypoint"),
        ("istio-system/ztunnel-x7k2p.log", "", "ztunnel-x7k2p", "ztunnel"),
        ("sidecar.log", "", "", "sidecar"),
    ],
)
def test_the_path_says_who_called_and_which_proxy_logged(tmp_path, relative, namespace, pod, proxy):
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (
        access_logs.envoy_text(T, access_logs.black_hole("sns.us-east-1.amazonaws.com", "52.94.0.1:443", CLIENT, TIME))
        + "\n"
    ).encode()
    path.write_bytes(gzip.compress(line) if relative.endswith(".gz") else line)
    counts, [call] = scanned(tmp_path)
    assert (call.caller.namespace, call.caller.pod, call.proxy, call.caller.file) == (namespace, pod, proxy, relative)
    assert call.caller.shown == (f"{namespace}/{pod}" if namespace else pod or relative)


def test_a_file_that_is_not_text_is_skipped_and_named(tmp_path):
    (tmp_path / "core.bin").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "ok.log").write_text("2026-12-01T10:00:00.000000Z\tinfo\txdsproxy\tready\n")
    counts, found = scanned(tmp_path)
    assert counts.skipped == ["core.bin: not text (it holds NUL bytes)"] and counts.proxy == 1 and not found


def test_a_missing_path_and_an_empty_directory_are_refused(tmp_path):
    with pytest.raises(logs.LogError, match=f"{tmp_path}/nowhere does not exist"):
        logs.log_files(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(logs.LogError, match="is an empty directory: give the proxies' logs"):
        logs.log_files(tmp_path / "empty")
