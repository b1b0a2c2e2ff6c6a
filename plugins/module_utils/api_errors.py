# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one line that matters in the failure of a Kubernetes call.

kubernetes.core reports an API failure with the response's headers, its body
and a traceback, wrapped in Ansible's own explanation of where it happened; a
connection failure as urllib3's retry story. An operator needs the API
server's message (who may not do what), or which server could not be reached
and why. Never the request: its headers carry the bearer token.
"""

from __future__ import annotations

import json
import re

MAX_LENGTH = 300

_MESSAGE = re.compile(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)"')
_CODE = re.compile(r'"code"\s*:\s*(\d{3})')
_REASON = re.compile(r'"reason"\s*:\s*"([A-Za-z]+)"')
_HOST = re.compile(r"host='([^']+)', port=(\d+)")
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^\"'()\\]+)")
_CAUSE = re.compile(r"Caused by (\w+)\(")
_CLIENT = re.compile(r"Could not create API client: (.+)")
# Ansible's and kubernetes.core's wrapping around the reason.
_WRAPPERS = (
    re.compile(r"^.*The lookup plugin '[^']+' failed: ", re.DOTALL),
    re.compile(r"^Failed to (?:apply|patch|create|delete|retrieve requested) object: ", re.IGNORECASE),
)
# What a failed connection says, and what it means to an operator: urllib3's cause of a failed request to a named
# host ("Caused by NewConnectionError(..."), or words of a connection that broke mid-request, which name no server.
# The first found in a message, in this order, is its reason.
_CAUSES = {
    "RemoteDisconnected": "the connection was closed",
    "Connection aborted": "the connection was closed",
    "Connection reset": "the connection was reset",
    "ProtocolError": "the connection was closed",
    "timed out": "no answer in time",
    "NewConnectionError": "cannot connect",
    "ConnectTimeoutError": "connection timed out",
    "ReadTimeoutError": "no answer in time",
    "SSLError": "TLS failed",
}


def _short(text):
    text = " ".join(text.split())
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 3] + "..."


def _unescape(value):
    try:
        return json.loads(f'"{value}"')
    except ValueError:
        return value.replace('\\"', '"')


def failure_reason(message, server=None):
    """A one-line reason from a failure message of kubernetes.core or our modules.

    With `server` (the API server's URL), a connection that broke mid-request is said to be to it.
    """
    reason = _reason(message)
    if server and not reason.startswith("cannot reach"):
        broken = next((why for marker, why in _CAUSES.items() if marker in str(message or "")), None)
        if broken:
            return f"cannot reach the API server at {server.removeprefix('https://').removeprefix('http://')}: {broken}"
    return reason


def _reason(message):
    text = str(message or "").strip()
    if "b'{" in text:
        # A response body shown as Python bytes: its escapes are escaped once more.
        text = text.replace("\\\\", "\\")
    found = _MESSAGE.search(text)
    if found:
        code, reason = _CODE.search(text), _REASON.search(text)
        return _short(status_line(code and code.group(1), reason and reason.group(1), _unescape(found.group(1))))
    host = _HOST.search(text)
    if host:
        errno, cause = _ERRNO.search(text), _CAUSE.search(text)
        why = errno.group(1).strip() if errno else _CAUSES.get(cause.group(1), cause.group(1)) if cause else "no answer"
        return _short(f"cannot reach the API server at {host.group(1)}:{host.group(2)}: {why}")
    client = _CLIENT.search(text)
    if client:
        return _short(f"cannot create an API client: {client.group(1)}")
    for wrapper in _WRAPPERS:
        text = wrapper.sub("", text)
    lines = [line for line in text.splitlines() if line.strip()]
    return _short(lines[0]) if lines else "no reason given"


def status_line(code, reason, message):
    """'404 NotFound: namespaces "orders" not found': an API Status as one line, whichever parts it has."""
    head = " ".join(str(part) for part in (code, reason) if part)
    return ": ".join(part for part in (head, message) if part)


def error_body(err):
    """The Status an ApiException's response carried, as a dict ({} without one)."""
    try:
        body = json.loads(getattr(err, "body", None) or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def api_error(err, server=None):
    """'403 Forbidden: leases.coordination.k8s.io is forbidden: ...' for an ApiException, its reason as the API's
    Status gives it; the reason of any other failure (see failure_reason for `server`)."""
    status = getattr(err, "status", None)
    if not status:
        return failure_reason(str(err), server)
    body = error_body(err)
    return _short(status_line(status, body.get("reason") or getattr(err, "reason", None), body.get("message")))
