# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading access lines: every operator of Istio's formats comes back under its JSON key, and ztunnel's events field by field.

The lines are made from the formats by tests/access_logs.py (the integration
tests compare the formats with istio's own source).
"""

from __future__ import annotations

import access_logs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import formats

KEY_OF = {operator: key for key, operator in formats.ENVOY_JSON_FORMAT.items()}


def distinct_values():
    """A value per operator that no other operator has, with the spaces and punctuation real values carry."""
    values = {operator: f"v{index}-{key}" for index, (key, operator) in enumerate(formats.ENVOY_JSON_FORMAT.items())}
    values["%REQ(USER-AGENT)%"] = "aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22 md/GOOS#linux"
    values["%START_TIME%"] = "2026-12-01T10:00:00.123Z"
    values["%REQ(:AUTHORITY)%"] = "sqs.us-east-2.amazonaws.com:443"
    return values


def test_a_text_line_gives_back_every_operator_under_its_json_key():
    values = distinct_values()
    record = formats.envoy_text(access_logs.envoy_text(formats.ENVOY_TEXT_FORMAT, values))
    assert record == {KEY_OF[operator]: value for operator, value in values.items()}


def test_a_json_line_gives_back_every_key_and_empty_values_as_text_writes_them():
    values = distinct_values()
    record = formats.envoy_json(access_logs.envoy_json(formats.ENVOY_JSON_FORMAT, values))
    assert record == {KEY_OF[operator]: value for operator, value in values.items()}
    sparse = formats.envoy_json(
        access_logs.envoy_json(formats.ENVOY_JSON_FORMAT, {"%UPSTREAM_CLUSTER_RAW%": "BlackHoleCluster"})
    )
    assert sparse["upstream_cluster"] == "BlackHoleCluster" and sparse["requested_server_name"] == "-"


def test_lines_of_other_shapes_are_not_records():
    assert formats.envoy_text('[2026-12-01T10:00:00.000Z] "GET / HTTP/1.1" 200') is None
    assert formats.envoy_json('{"level": "info", "msg": "hello"}') is None
    assert formats.envoy_json("{not json") is None


def test_ztunnel_events_are_read_from_both_of_its_formats():
    values = access_logs.ztunnel_denied(
        "orders",
        "orders-api-5f6d7c8b9-abcde",
        "sqs.us-east-1.amazonaws.com",
        "240.240.0.5:443",
        'connection closed due to policy rejection: "quoted" \\ and a backslash',
    )
    for line in (
        access_logs.ztunnel_event(values, "2026-12-01T10:00:00.100Z"),
        access_logs.ztunnel_event_json(values, "2026-12-01T10:00:00.100Z"),
    ):
        event = formats.ztunnel(line)
        assert {key: event[key] for key in values} == {key: str(value) for key, value in values.items()}, line
        assert (event["time"], event["level"], event["message"]) == (
            "2026-12-01T10:00:00.100Z",
            "error",
            "connection complete",
        )


def test_ztunnel_lines_of_other_targets_are_not_access_events():
    assert (
        formats.ztunnel("2026-12-01T10:00:00.000000Z\tinfo\txds{id=1}\treceived response type=Address size=12") is None
    )
    assert formats.ztunnel('{"level":"info","time":"2026-12-01T10:00:00Z","scope":"xds","message":"connected"}') is None


def test_the_proxies_own_lines_are_recognised():
    assert formats.is_proxy_log("2026-12-01T10:00:00.000000Z\tinfo\txdsproxy\tconnected to upstream XDS server")
    assert formats.is_proxy_log(
        "[2026-12-01 10:00:00.000][15][info][main] [external/envoy/source/server/server.cc:1] starting"
    )
    assert not formats.is_proxy_log("Traceback (most recent call last):")
