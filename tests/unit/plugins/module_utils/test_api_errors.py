# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One line from the failures kubernetes.core and Ansible really print (copied from real runs)."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.module_utils.api_errors import api_error
from ansible_collections.meshops.aws_egress.plugins.module_utils.api_errors import failure_reason as k8s_failure
from kubernetes_errors import api_exception, status

FORBIDDEN_LOOKUP = """Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while resolving value for \
'__istio_aws_egress_served': The lookup plugin 'kubernetes.core.k8s' failed: 403
Reason: Forbidden
HTTP response headers: HTTPHeaderDict({'Audit-Id': 'dca39116', 'Content-Type': 'application/json'})
HTTP response body: {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",\
"message":"customresourcedefinitions.apiextensions.k8s.io \\"serviceentries.networking.istio.io\\" is forbidden: \
User \\"unprivileged\\" cannot get resource \\"customresourcedefinitions\\" in API group \\"apiextensions.k8s.io\\" \
at the cluster scope","reason":"Forbidden","details":{"name":"serviceentries.networking.istio.io",\
"group":"apiextensions.k8s.io","kind":"customresourcedefinitions"},"code":403}

Original traceback:
  File "kubernetes/dynamic/client.py", line 54, in inner
"""

APPLY_FAILED = (
    "Failed to apply object: b'{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"ServiceEntry.networking.istio.io \\\\\"x\\\\\" is invalid: spec.hosts: Required value\","
    "\"reason\":\"Invalid\",\"code\":422}'"
)

REFUSED = (
    "Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while resolving value for "
    "'__istio_aws_egress_served': The lookup plugin 'kubernetes.core.k8s' failed: HTTPSConnectionPool(host='127.0.0.1', port=1): "
    "Max retries exceeded with url: /version (Caused by NewConnectionError(\"HTTPSConnection(host='127.0.0.1', port=1): "
    "Failed to establish a new connection: [Errno 111] Connection refused\")): HTTPSConnection(host='127.0.0.1', port=1): "
    "Failed to establish a new connection: [Errno 111] Connection refused"
)

CLOSED = (
    "Failed to apply object: HTTPSConnectionPool(host='127.0.0.1', port=40123): Max retries exceeded with url: "
    "/apis/networking.istio.io/v1/namespaces/x/serviceentries/y (Caused by ProtocolError('Connection aborted.', "
    "RemoteDisconnected('Remote end closed connection without response')))"
)

NO_CONTEXT = (
    "Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while resolving value for "
    "'__istio_aws_egress_served': The lookup plugin 'kubernetes.core.k8s' failed: Could not create API client: "
    "Invalid kube-config file. Expected object with name nope in ********/contexts list"
)


@pytest.mark.parametrize(
    "message, reason",
    [
        (
            FORBIDDEN_LOOKUP,
            '403 Forbidden: customresourcedefinitions.apiextensions.k8s.io "serviceentries.networking.istio.io" is forbidden: '
            'User "unprivileged" cannot get resource "customresourcedefinitions" in API group "apiextensions.k8s.io" at the cluster scope',
        ),
        (APPLY_FAILED, '422 Invalid: ServiceEntry.networking.istio.io "x" is invalid: spec.hosts: Required value'),
        (REFUSED, "cannot reach the API server at 127.0.0.1:1: Connection refused"),
        (CLOSED, "cannot reach the API server at 127.0.0.1:40123: the connection was closed"),
        (
            NO_CONTEXT,
            "cannot create an API client: Invalid kube-config file. Expected object with name nope in ********/contexts list",
        ),
        (
            "rollout lease ns/meshops-aws-egress is held by a@b/1 (since x, expires y unless renewed); gave up after waiting 2s",
            "rollout lease ns/meshops-aws-egress is held by a@b/1 (since x, expires y unless renewed); gave up after waiting 2s",
        ),
        ("The lookup plugin 'kubernetes.core.k8s' failed: something odd\nmore", "something odd"),
        ("", "no reason given"),
        (None, "no reason given"),
    ],
)
def test_reason(message, reason):
    assert k8s_failure(message) == reason


def test_one_line_of_bounded_length():
    reason = k8s_failure("x" * 1000 + "\nsecond line")
    assert len(reason) == 300 and reason.endswith("...") and "\n" not in reason


@pytest.mark.parametrize(
    "err, reason",
    [
        # The reason as the API's Status gives it, as failure_reason reads it from a module's failure.
        (
            api_exception(
                404,
                "Not Found",
                status(404, "NotFound", 'namespaces "orders" not found', name="orders", kind="namespaces"),
            ),
            '404 NotFound: namespaces "orders" not found',
        ),
        (
            api_exception(422, "Unprocessable Entity", {"reason": "Invalid", "message": "spec.hosts: Required value"}),
            "422 Invalid: spec.hosts: Required value",
        ),
        # Without a Status, the response's own.
        (api_exception(503, "Service Unavailable", "upstream connect error"), "503 Service Unavailable"),
        (api_exception(500, "Internal Server Error"), "500 Internal Server Error"),
    ],
)
def test_an_api_error_is_its_status_in_one_line(err, reason):
    assert api_error(err) == reason


def test_a_connection_broken_mid_request_is_said_to_be_to_the_server_when_known():
    broken = ConnectionError(
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
    )
    assert (
        api_error(broken, "https://127.0.0.1:6443")
        == "cannot reach the API server at 127.0.0.1:6443: the connection was closed"
    )
    reset = OSError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")
    assert (
        api_error(reset, "https://10.0.0.1:443")
        == "cannot reach the API server at 10.0.0.1:443: the connection was closed"
    )
    assert (
        api_error(OSError("Connection reset by peer"), "http://k8s:80")
        == "cannot reach the API server at k8s:80: the connection was reset"
    )
    assert (
        api_error(OSError("Read timed out. (read timeout=60)"), "https://k8s")
        == "cannot reach the API server at k8s: no answer in time"
    )
    # Without the server, or when the message names one already, the message's own reason.
    assert (
        api_error(broken)
        == "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
    )
    assert (
        k8s_failure(REFUSED, "https://10.9.9.9:6443")
        == "cannot reach the API server at 127.0.0.1:1: Connection refused"
    )
