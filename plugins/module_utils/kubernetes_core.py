# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection relies on of kubernetes.core beyond the options of its modules, in one place.

kubernetes.core documents no Python API, so this is our side of a contract that
tests/integration/test_kubernetes_core_contract.py checks against real API errors
with the oldest and the newest kubernetes.core of the range galaxy.yml allows:

- the API client: get_api_client() returns a K8SClient whose `client` (a dynamic
  client) holds the kubernetes.client.ApiClient in its `client`, public
  attributes of both;
- the API's Status of a failed kubernetes.core.k8s run: the module reports it
  only inside `msg`, after its own words: the response body as text
  ("Failed to apply object: {...}"), or as the repr of its bytes where the
  kubernetes client does not decode it ("Failed to apply object: b'{...}'").
"""

from __future__ import annotations

import ast
import json

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

STATUS_KEYS = ("code", "reason", "message", "details")


def api_client(module=None, **auth):
    """A kubernetes.client.ApiClient made by kubernetes.core from a module's options or from `auth` (its options,
    environment variables and client cache). Raises CoreException when kubernetes.core cannot make one, or makes
    something else than this contract expects."""
    from kubernetes.client import ApiClient

    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

    made = get_api_client(module=module, **auth)
    client = getattr(getattr(made, "client", None), "client", None)
    if not isinstance(client, ApiClient):
        raise CoreException(
            f"kubernetes.core's get_api_client returned a {type(made).__name__} whose client.client is a "
            f"{type(client).__name__}, not a kubernetes.client.ApiClient: use a kubernetes.core release "
            "that meshops.aws_egress supports (its galaxy.yml)"
        )
    return client


def k8s_failure_status(result):
    """The API's Status (code, reason, message, details) inside a failed kubernetes.core.k8s result, or None."""
    text = str(result.get("msg") or "")
    start = text.find("b'{")
    try:
        if start >= 0:
            # The exact inverse of the repr kubernetes.core formats the body with.
            body = ast.literal_eval(text[start : text.rfind("'") + 1]).decode()
        elif '"kind":"Status"' in text:
            body = text[text.find("{") :]
        else:
            return None
        decoded = json.loads(body)
    except (ValueError, SyntaxError, UnicodeDecodeError):
        return None
    if not isinstance(decoded, dict) or decoded.get("kind") != "Status":
        return None
    return {key: decoded[key] for key in STATUS_KEYS if key in decoded}
