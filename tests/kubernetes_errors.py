# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ApiExceptions as the kubernetes client raises them, for unit tests of what a failed call says."""

from __future__ import annotations

import json


def api_exception(status, reason, body=None):
    """An ApiException for a response `status` `reason`; `body` a Status (a dict, sent as JSON) or any text."""
    from kubernetes.client.exceptions import ApiException

    err = ApiException(status=status, reason=reason)
    err.body = json.dumps(body) if isinstance(body, dict) else body
    return err


def status(code, reason, message, **details):
    """The Status the API server answers a failed call with."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        **({"details": details} if details else {}),
        "code": code,
    }
