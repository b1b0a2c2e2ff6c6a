# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The proxies' access log formats, and one line of each read into a dict.

Envoy (sidecars, gateways, waypoints) logs in Istio's default formats,
defined in istio's pilot/pkg/model/telemetry_logging.go: EnvoyTextLogFormat
(TEXT) and EnvoyJSONLogFormatIstio (JSON).  Both are copied here as Istio
writes them (the tests compare them with istio's source), and a TEXT line is
read with a pattern built from the format string itself, into the keys the
JSON format gives the same operators: one record shape for both.

ztunnel logs through its own tracing formatter (src/telemetry.rs:
`<time>\\t<level>\\t<target>\\t<message>\\t<key>=<value> ...`, values quoted
as Rust's Debug quotes strings), or as JSON with LOG_FORMAT=json; its access
events (target `access`, src/proxy/metrics.rs) carry the caller's namespace,
workload and identity.
"""

from __future__ import annotations

import json
import re

# istio pilot/pkg/model/telemetry_logging.go, EnvoyTextLogFormat.
ENVOY_TEXT_FORMAT = (
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% "
    "%PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% "
    "%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
    "\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% "
    "%DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" "
    "\"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" "
    "%UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% "
    "%DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n"
)

# istio pilot/pkg/model/telemetry_logging.go, EnvoyJSONLogFormatIstio: key -> operator.
ENVOY_JSON_FORMAT = {
    "start_time": "%START_TIME%",
    "route_name": "%ROUTE_NAME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "protocol": "%PROTOCOL%",
    "response_code": "%RESPONSE_CODE%",
    "response_flags": "%RESPONSE_FLAGS%",
    "response_code_details": "%RESPONSE_CODE_DETAILS%",
    "connection_termination_details": "%CONNECTION_TERMINATION_DETAILS%",
    "bytes_received": "%BYTES_RECEIVED%",
    "bytes_sent": "%BYTES_SENT%",
    "duration": "%DURATION%",
    "upstream_service_time": "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
    "x_forwarded_for": "%REQ(X-FORWARDED-FOR)%",
    "user_agent": "%REQ(USER-AGENT)%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "authority": "%REQ(:AUTHORITY)%",
    "upstream_host": "%UPSTREAM_HOST%",
    "upstream_cluster": "%UPSTREAM_CLUSTER_RAW%",
    "upstream_local_address": "%UPSTREAM_LOCAL_ADDRESS%",
    "downstream_local_address": "%DOWNSTREAM_LOCAL_ADDRESS%",
    "downstream_remote_address": "%DOWNSTREAM_REMOTE_ADDRESS%",
    "requested_server_name": "%REQUESTED_SERVER_NAME%",
    "upstream_transport_failure_reason": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
}

# Envoy writes an empty value as "-" in TEXT and as null in JSON.
EMPTY = "-"
OPERATOR = re.compile(r"%[A-Z_]+(?:\([^)]*\))?(?::[0-9]+)?%")

ZTUNNEL_ACCESS_TARGET = "access"
# `<key>=<value>`: a Debug-quoted string (with \" and \\ inside) or a bare value.
_ZTUNNEL_FIELD = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S*)')
_ZTUNNEL_LINE = re.compile(r"^(\S+)\t(\w+)\t([^\t]+)\t([^\t]*)(?:\t(.*))?$")
_ISTIO_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\S+\t\w+\t")
# Envoy's own log lines: "[2024-05-01 10:00:00.000][15][info][main] ...".
_ENVOY_LOG_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d [^\]]*\]\[")


def text_pattern(log_format):
    """A pattern reading a line of `log_format` into one group per operator, in order; and the operators."""
    parts = OPERATOR.split(log_format.rstrip("\n"))
    operators = OPERATOR.findall(log_format)
    pattern, quoted = [], False
    for index, literal in enumerate(parts):
        pattern.append(re.escape(literal))
        quoted ^= literal.count('"') % 2 == 1
        if index < len(operators):
            # Alone between its quotes a value may hold spaces (a user agent); beside others, or unquoted, it has none.
            alone = quoted and parts[index].endswith('"') and parts[index + 1].startswith('"')
            pattern.append('([^"]*)' if alone else '([^" ]*)' if quoted else r"(\S*)")
    return re.compile("^" + "".join(pattern) + "$"), operators


_TEXT, _TEXT_OPERATORS = text_pattern(ENVOY_TEXT_FORMAT)
_KEY_OF = {operator: key for key, operator in ENVOY_JSON_FORMAT.items()}
_TEXT_KEYS = tuple(_KEY_OF[operator] for operator in _TEXT_OPERATORS)


def envoy_text(line):
    """The record of a TEXT access line (keys as in the JSON format, "-" for empty values), or None."""
    match = _TEXT.match(line)
    return dict(zip(_TEXT_KEYS, match.groups())) if match else None


def envoy_json(line):
    """The record of a JSON access line, its empty values "-" as in TEXT, or None."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or "upstream_cluster" not in data:
        return None
    return {key: EMPTY if data.get(key) in (None, "") else str(data[key]) for key in ENVOY_JSON_FORMAT}


def is_proxy_log(line):
    """A proxy's own (not access) line: Istio's "<time>\\t<level>\\t..." or Envoy's "[<time>][<thread>][<level>]..."."""
    return bool(_ISTIO_LOG_LINE.match(line) or _ENVOY_LOG_LINE.match(line))


def ztunnel(line):
    """ztunnel's access event of a line, {time, level, message, <field>: value}, or None for any other line."""
    if line.startswith("{"):
        return _ztunnel_json(line)
    match = _ZTUNNEL_LINE.match(line)
    if not match or match.group(3) != ZTUNNEL_ACCESS_TARGET:
        return None
    event = {"time": match.group(1), "level": match.group(2), "message": match.group(4)}
    for key, value in _ZTUNNEL_FIELD.findall(match.group(5) or ""):
        event[key] = _unquoted(value)
    return event


def _ztunnel_json(line):
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("scope") != ZTUNNEL_ACCESS_TARGET:
        return None
    return {key: str(value) for key, value in data.items() if value is not None}


def _unquoted(value):
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value
