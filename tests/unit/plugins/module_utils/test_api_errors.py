# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One line from the failures kubernetes.core and Ansible really print (copied from real runs)."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.module_utils.api_errors import failure_reason as k8s_failure

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

APPLY_FAILED = ("Failed to apply object: b'{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"ServiceEntry.networking.istio.io \\\\\"x\\\\\" is invalid: spec.hosts: Required value\","
                "\"reason\":\"Invalid\",\"code\":422}'")

REFUSED = ("Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while resolving value for "
           "'__istio_aws_egress_served': The lookup plugin 'kubernetes.core.k8s' failed: HTTPSConnectionPool(host='127.0.0.1', port=1): "
           "Max retries exceeded with url: /version (Caused by NewConnectionError(\"HTTPSConnection(host='127.0.0.1', port=1): "
           "Failed to establish a new connection: [Errno 111] Connection refused\")): HTTPSConnection(host='127.0.0.1', port=1): "
           "Failed to establish a new connection: [Errno 111] Connection refused")

CLOSED = ("Failed to apply object: HTTPSConnectionPool(host='127.0.0.1', port=40123): Max retries exceeded with url: "
          "/apis/networking.istio.io/v1/namespaces/x/serviceentries/y (Caused by ProtocolError('Connection aborted.', "
          "RemoteDisconnected('Remote end closed connection without response')))")

NO_CONTEXT = ("Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while resolving value for "
              "'__istio_aws_egress_served': The lookup plugin 'kubernetes.core.k8s' failed: Could not create API client: "
              "Invalid kube-config file. Expected object with name nope in ********/contexts list")


@pytest.mark.parametrize("message, reason", [
    (FORBIDDEN_LOOKUP, '403 Forbidden: customresourcedefinitions.apiextensions.k8s.io "serviceentries.networking.istio.io" is forbidden: '
                       'User "unprivileged" cannot get resource "customresourcedefinitions" in API group "apiextensions.k8s.io" at the cluster scope'),
    (APPLY_FAILED, '422 Invalid: ServiceEntry.networking.istio.io "x" is invalid: spec.hosts: Required value'),
    (REFUSED, "cannot reach the API server at 127.0.0.1:1: Connection refused"),
    (CLOSED, "cannot reach the API server at 127.0.0.1:40123: the connection was closed"),
    (NO_CONTEXT, "cannot create an API client: Invalid kube-config file. Expected object with name nope in ********/contexts list"),
    ("rollout lease ns/meshops-aws-egress is held by a@b/1 (since x, expires y unless renewed); gave up after waiting 2s",
     "rollout lease ns/meshops-aws-egress is held by a@b/1 (since x, expires y unless renewed); gave up after waiting 2s"),
    ("The lookup plugin 'kubernetes.core.k8s' failed: something odd\nmore", "something odd"),
    ("", "no reason given"),
    (None, "no reason given"),
])
def test_reason(message, reason):
    assert k8s_failure(message) == reason


def test_one_line_of_bounded_length():
    reason = k8s_failure("x" * 1000 + "\nsecond line")
    assert len(reason) == 300 and reason.endswith("...") and "\n" not in reason
