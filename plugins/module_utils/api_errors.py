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
_CAUSES = {
    "NewConnectionError": "cannot connect",
    "ConnectTimeoutError": "connection timed out",
    "ReadTimeoutError": "no answer in time",
    "ProtocolError": "the connection was closed",
    "RemoteDisconnected": "the connection was closed",
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


def failure_reason(message):
    """A one-line reason from a failure message of kubernetes.core or our modules."""
    text = str(message or "").strip()
    if "b'{" in text:
        # A response body shown as Python bytes: its escapes are escaped once more.
        text = text.replace("\\\\", "\\")
    found = _MESSAGE.search(text)
    if found:
        code, reason = _CODE.search(text), _REASON.search(text)
        prefix = " ".join(part.group(1) for part in (code, reason) if part)
        return _short(f"{prefix}: {_unescape(found.group(1))}" if prefix else _unescape(found.group(1)))
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


def api_error(err):
    """'403 Forbidden: leases.coordination.k8s.io is forbidden: ...', or the reason of any other failure."""
    status = getattr(err, "status", None)
    reason = getattr(err, "reason", None) or type(err).__name__
    body = getattr(err, "body", None)
    detail = ""
    if body:
        try:
            detail = json.loads(body).get("message", "")
        except (ValueError, AttributeError, TypeError):
            detail = ""
    if status:
        return _short(f"{status} {reason}: {detail}".strip().rstrip(":"))
    return failure_reason(str(err))
