# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxy log lines as the proxies write them, made from their formats, never typed by hand.

Envoy's: Istio's default access log formats (EnvoyTextLogFormat, EnvoyJSONLogFormatIstio in istio's
pilot/pkg/model/telemetry_logging.go), read from istio's own source where the tests have it
(`istio_formats`), each `%OPERATOR%` filled with what Envoy puts there for the call; an operator
no call sets is "-" in TEXT and null in JSON, as Envoy writes them.

ztunnel's: its access events (src/proxy/metrics.rs: `connection complete`, the fields in that
order) through its formatter (src/telemetry.rs): `<time>\\t<level>\\taccess\\t<message>\\t<k>=<v> ...`,
strings quoted as Rust's Debug quotes them, addresses and numbers bare; or one JSON object with
LOG_FORMAT=json.
"""

from __future__ import annotations

import json
import re

OPERATOR = re.compile(r"%[A-Z_]+(?:\([^)]*\))?(?::[0-9]+)?%")
# ztunnel's access fields, in the order src/proxy/metrics.rs records them.
ZTUNNEL_FIELDS = (
    "src.addr",
    "src.workload",
    "src.namespace",
    "src.identity",
    "src.cluster",
    "dst.addr",
    "dst.hbone_addr",
    "dst.service",
    "dst.workload",
    "dst.namespace",
    "dst.identity",
    "dst.cluster",
    "direction",
    "bytes_sent",
    "bytes_recv",
    "duration",
    "error",
)
# Recorded with `%` (Display) or as numbers: written without quotes.
ZTUNNEL_BARE = ("src.addr", "dst.addr", "dst.hbone_addr", "bytes_sent", "bytes_recv")


def istio_formats(go_source: str) -> tuple[str, dict]:
    """(EnvoyTextLogFormat, EnvoyJSONLogFormatIstio as key -> operator) from istio's telemetry_logging.go."""
    text = re.search(r'EnvoyTextLogFormat = ((?:"(?:[^"\\]|\\.)*"\s*\+?\s*)+)', go_source)
    pieces = re.findall(r'"((?:[^"\\]|\\.)*)"', text.group(1))
    log_format = "".join(json.loads(f'"{piece}"') for piece in pieces)
    block = re.search(r"EnvoyJSONLogFormatIstio = &structpb\.Struct\{(.*?)\n\t\}\n", go_source, re.S).group(1)
    fields = dict(re.findall(r'"(\w+)":\s*\{Kind: &structpb\.Value_StringValue\{StringValue: "([^"]*)"\}\}', block))
    return log_format, fields


def envoy_text(log_format: str, values: dict) -> str:
    """One TEXT line: each operator of `log_format` filled from `values` (by operator), "-" where none is given."""
    return OPERATOR.sub(lambda m: str(values.get(m.group(0), "-")), log_format).rstrip("\n")


def envoy_json(json_format: dict, values: dict) -> str:
    """One JSON line: each key's operator filled from `values`, null where none is given."""
    return json.dumps(
        {key: (str(values[op]) if op in values else None) for key, op in json_format.items()}, separators=(",", ":")
    )


def black_hole(sni: str, address: str, client: str, time: str) -> dict:
    """TLS to a host no ServiceEntry admits, under REGISTRY_ONLY: the outbound listener's default chain."""
    return {
        "%START_TIME%": time,
        "%RESPONSE_CODE%": 0,
        "%RESPONSE_FLAGS%": "UH",
        "%BYTES_RECEIVED%": 0,
        "%BYTES_SENT%": 0,
        "%DURATION%": 0,
        "%UPSTREAM_CLUSTER_RAW%": "BlackHoleCluster",
        "%DOWNSTREAM_LOCAL_ADDRESS%": address,
        "%DOWNSTREAM_REMOTE_ADDRESS%": client,
        "%REQUESTED_SERVER_NAME%": sni,
    }


def block_all(authority: str, address: str, client: str, time: str, path: str = "/") -> dict:
    """HTTP to a host no ServiceEntry admits: the sidecar's own 502 on the block_all virtual host."""
    return {
        "%START_TIME%": time,
        "%REQ(:METHOD)%": "GET",
        "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%": path,
        "%PROTOCOL%": "HTTP/1.1",
        "%RESPONSE_CODE%": 502,
        "%RESPONSE_CODE_DETAILS%": "direct_response",
        "%BYTES_RECEIVED%": 0,
        "%BYTES_SENT%": 0,
        "%DURATION%": 0,
        "%REQ(USER-AGENT)%": "Boto3/1.40.0 md/Botocore#1.40.0 ua/2.1 os/linux#6.1",
        "%REQ(X-REQUEST-ID)%": "5f3d8a1e-0b1c-4e57-9f2a-6c1d2e3f4a5b",
        "%REQ(:AUTHORITY)%": authority,
        "%DOWNSTREAM_LOCAL_ADDRESS%": address,
        "%DOWNSTREAM_REMOTE_ADDRESS%": client,
        "%ROUTE_NAME%": "block_all",
    }


def rbac_denied(sni: str, cluster: str, address: str, client: str, time: str) -> dict:
    """A TLS connection an AuthorizationPolicy refuses at a gateway or waypoint: the network RBAC filter closes it."""
    return {
        "%START_TIME%": time,
        "%RESPONSE_CODE%": 0,
        "%CONNECTION_TERMINATION_DETAILS%": "rbac_access_denied_matched_policy[none]",
        "%BYTES_RECEIVED%": 0,
        "%BYTES_SENT%": 0,
        "%DURATION%": 0,
        "%UPSTREAM_CLUSTER_RAW%": cluster,
        "%DOWNSTREAM_LOCAL_ADDRESS%": address,
        "%DOWNSTREAM_REMOTE_ADDRESS%": client,
        "%REQUESTED_SERVER_NAME%": sni,
    }


def no_filter_chain(sni: str, address: str, client: str, time: str) -> dict:
    """A name no filter chain serves, at a gateway or waypoint."""
    return {
        "%START_TIME%": time,
        "%RESPONSE_CODE%": 0,
        "%RESPONSE_FLAGS%": "NR",
        "%RESPONSE_CODE_DETAILS%": "filter_chain_not_found",
        "%BYTES_RECEIVED%": 0,
        "%BYTES_SENT%": 0,
        "%DURATION%": 0,
        "%DOWNSTREAM_LOCAL_ADDRESS%": address,
        "%DOWNSTREAM_REMOTE_ADDRESS%": client,
        "%REQUESTED_SERVER_NAME%": sni,
    }


def allowed(sni: str, address: str, client: str, time: str) -> dict:
    """A TLS call that left the mesh through its ServiceEntry's cluster."""
    return {
        "%START_TIME%": time,
        "%RESPONSE_CODE%": 0,
        "%BYTES_RECEIVED%": 517,
        "%BYTES_SENT%": 4321,
        "%DURATION%": 41,
        "%UPSTREAM_HOST%": address,
        "%UPSTREAM_CLUSTER_RAW%": f"outbound|443||{sni}",
        "%UPSTREAM_LOCAL_ADDRESS%": "10.0.0.10:40000",
        "%DOWNSTREAM_LOCAL_ADDRESS%": address,
        "%DOWNSTREAM_REMOTE_ADDRESS%": client,
        "%REQUESTED_SERVER_NAME%": sni,
    }


def ztunnel_event(values: dict, time: str, level: str = "error", message: str = "connection complete") -> str:
    """One ztunnel access line in its plain format."""
    fields = []
    for key in ZTUNNEL_FIELDS:
        if key in values:
            value = values[key]
            fields.append(f"{key}={value}" if key in ZTUNNEL_BARE else f"{key}={json.dumps(str(value))}")
    return f"{time}\t{level}\taccess\t{message}\t{' '.join(fields)}"


def ztunnel_event_json(values: dict, time: str, level: str = "error", message: str = "connection complete") -> str:
    """The same event with LOG_FORMAT=json."""
    event = {"level": level, "time": time, "scope": "access", "message": message}
    event.update((key, values[key]) for key in ZTUNNEL_FIELDS if key in values)
    return json.dumps(event, separators=(",", ":"))  # serde_json writes no spaces


def ztunnel_denied(namespace: str, workload: str, service: str, address: str, error: str) -> dict:
    """ztunnel's record of an outbound connection that ended in `error`, with the caller's identity."""
    return {
        "src.addr": "10.244.1.7:51912",
        "src.workload": workload,
        "src.namespace": namespace,
        "src.identity": f"spiffe://cluster.local/ns/{namespace}/sa/{workload.rsplit('-', 2)[0]}",
        "dst.addr": address,
        "dst.hbone_addr": address,
        "dst.service": service,
        "direction": "outbound",
        "bytes_sent": 0,
        "bytes_recv": 0,
        "duration": "3ms",
        "error": error,
    }
