# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A failed write names its object, the API's status and whether a rerun converges (messages as kubernetes.core prints them)."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.kubernetes_core import k8s_failure_status
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import (
    failure_text,
    write_failure,
)

NAMESPACE_MISSING = {
    "failed": True,
    "reason": "Not Found",
    "msg": (
        "Failed to apply object: b'{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"namespaces \\\\\"orders\\\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"orders\","
        "\"kind\":\"namespaces\"},\"code\":404}\\n'"
    ),
}
FORBIDDEN = {
    "failed": True,
    "msg": (
        "Failed to apply object: b'{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"serviceentries.networking.istio.io \\\\\"aws-x-sqs\\\\\" is forbidden: User \\\\\"ci\\\\\" cannot patch\","
        "\"reason\":\"Forbidden\",\"details\":{\"name\":\"aws-x-sqs\",\"group\":\"networking.istio.io\",\"kind\":\"serviceentries\"},"
        "\"code\":403}\\n'"
    ),
}
REFUSED_CONNECTION = {
    "failed": True,
    "msg": (
        "Failed to apply object: HTTPSConnectionPool(host='127.0.0.1', port=6443): Max retries exceeded with url: /apis "
        "(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object>: Failed to establish a new connection: "
        "[Errno 111] Connection refused'))"
    ),
}
OBJECTS = ["ServiceEntry istio-system/aws-x-sqs", "Sidecar orders/aws-x-egress"]


def test_the_status_is_read_from_the_bytes_kubernetes_core_prints():
    status = k8s_failure_status(NAMESPACE_MISSING)
    assert status == {
        "code": 404,
        "reason": "NotFound",
        "message": 'namespaces "orders" not found',
        "details": {"name": "orders", "kind": "namespaces"},
    }
    assert k8s_failure_status(REFUSED_CONNECTION) is None
    assert k8s_failure_status({"msg": "b'{not json'"}) is None


def test_a_missing_namespace_names_the_object_and_does_not_promise_convergence():
    failure = write_failure("apply", "applying 2 resources to prod", k8s_failure_status(NAMESPACE_MISSING), "", OBJECTS)
    assert failure.message == (
        'applying 2 resources to prod failed at Sidecar orders/aws-x-egress: 404 NotFound: '
        'namespaces "orders" not found; namespace orders does not exist: create it, then run again'
    )
    assert failure.converges is False and failure.result()["failed_object"] == "Sidecar orders/aws-x-egress"


def test_a_forbidden_write_names_the_object():
    failure = write_failure("apply", "applying 2 resources to prod", k8s_failure_status(FORBIDDEN), "", OBJECTS)
    assert failure.obj == "ServiceEntry istio-system/aws-x-sqs" and not failure.converges
    assert "grant the permission" in failure.message


def test_a_lost_connection_converges_on_a_rerun():
    failure = write_failure("prune", "pruning 2 resources on prod", None, REFUSED_CONNECTION["msg"], OBJECTS)
    assert failure.message == (
        "pruning 2 resources on prod failed: cannot reach the API server at 127.0.0.1:6443: Connection refused "
        "(a rerun plans from what is there and converges)"
    )
    assert failure.converges and failure.result()["api_status"] is None


def test_a_connection_broken_mid_request_names_the_server():
    aborted = "Failed to apply object: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
    failure = write_failure(
        "apply", "applying 200 resources to prod", None, aborted, OBJECTS, server="https://127.0.0.1:6443"
    )
    assert failure.reason == "cannot reach the API server at 127.0.0.1:6443: the connection was closed"
    assert failure.converges


def test_a_module_that_could_not_report_its_failure_is_still_understood():
    # kubernetes.core.k8s puts the connection error object itself in its result, which ansible-core 2.19 cannot
    # serialise: the result then carries only the error Ansible captured.
    captured = {
        "failed": True,
        "exception": (
            "CapturedErrorSummary(event=Event(msg=\"Value of unknown type: <class 'urllib3.exceptions.NewConnectionError'>, "
            "HTTPSConnection(host='127.0.0.1', port=10566): Failed to establish a new connection: [Errno 111] Connection refused\", "
            "chain=EventChain(event=Event(msg='Failed to apply object: HTTPSConnectionPool(host=\\'127.0.0.1\\', port=10566): "
            "Max retries exceeded')))"
        ),
    }
    failure = write_failure(
        "apply", "applying 2 resources to prod", None, failure_text(captured), OBJECTS, server="https://127.0.0.1:10566"
    )
    assert failure.reason == "cannot reach the API server at 127.0.0.1:10566: Connection refused"


def test_an_object_already_gone_when_pruned_converges():
    gone = {
        "failed": True,
        "msg": (
            "Failed to delete object: b'{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
            "\"message\":\"serviceentries.networking.istio.io \\\\\"aws-x-sqs\\\\\" not found\",\"reason\":\"NotFound\","
            "\"details\":{\"name\":\"aws-x-sqs\",\"group\":\"networking.istio.io\",\"kind\":\"serviceentries\"},\"code\":404}\\n'"
        ),
    }
    failure = write_failure("prune", "pruning 2 resources on prod", k8s_failure_status(gone), "", OBJECTS)
    assert failure.obj == "ServiceEntry istio-system/aws-x-sqs" and failure.converges is True
    assert failure.message.endswith("it was gone already (a rerun plans from what is there and converges)")
    # Applying, the same answer means the kind is not served.
    assert write_failure("apply", "applying", k8s_failure_status(gone), "", OBJECTS).converges is False
