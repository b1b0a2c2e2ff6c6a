# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A plan's reads: the lease before anything the plan rests on, without a round trip of its own; what a failed read says."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import KINDS
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import ClusterReader, read_live
from kubernetes_errors import api_exception, status

ENTRY = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "ServiceEntry",
    "metadata": {"name": "aws-mine-sqs", "namespace": "aws"},
    "spec": {"hosts": ["sqs.us-east-1.amazonaws.com"]},
}


class RecordingReader:
    """Answers every read at once but the lease, which is slower than the others; notes when each read ends."""

    def __init__(self, lease_expected=True):
        self.lease_expected = lease_expected
        self.calls = []
        self.crds = {}
        self._lock = threading.Lock()
        self._lease_started = threading.Event()

    def _note(self, *call):
        with self._lock:
            self.calls.append(call)

    def served_versions(self, kind):
        # Read beside the lease: it is in flight while the CustomResourceDefinitions are read.
        self._note("served", kind.kind, self._lease_started.wait(timeout=2) if self.lease_expected else None)
        return list(kind.versions)

    def lease(self, namespace, name):
        self._lease_started.set()
        time.sleep(0.05)
        self._note("lease", namespace, name)
        return True, {"metadata": {"name": name, "namespace": namespace, "resourceVersion": "7"}}

    def list(self, kind, version, namespace=None, label_selector=None):
        self._note("list", kind.kind, namespace)
        return []

    def get(self, path, doing, query=None, missing_ok=False):
        self._note("get", path)
        return {"items": []}

    def optional_crd(self, name):
        self._note("crd", name)
        return True, None


def test_the_lease_is_read_before_any_list_and_beside_the_served_versions():
    reader = RecordingReader()
    state = read_live(
        reader,
        KINDS,
        [ENTRY],
        ownership_labels("mine"),
        namespaces={"aws"},
        services=[("istio-system", "istio-egressgateway")],
        lease=("aws", "meshops-aws-egress"),
        crds=["trafficextensions.extensions.istio.io"],
        list_namespaces=True,
    )
    assert state.lease_read and state.lease["metadata"]["resourceVersion"] == "7"
    kinds = [call[0] for call in reader.calls]
    lease_read = kinds.index("lease")
    later = [call for call in reader.calls if call[0] in ("list", "get", "crd")]
    assert later and all(reader.calls.index(call) > lease_read for call in later), reader.calls
    served = [call for call in reader.calls if call[0] == "served"]
    assert len(served) == len(KINDS) and all(in_flight for _served, _kind, in_flight in served), served


def test_without_a_lease_to_read_the_plan_reads_the_same_objects():
    reader = RecordingReader(lease_expected=False)
    state = read_live(reader, KINDS, [ENTRY], ownership_labels("mine"))
    assert not state.lease_read and state.lease is None
    assert "lease" not in [call[0] for call in reader.calls]
    assert ("list", "ServiceEntry", None) in reader.calls


class FailingClient:
    """An ApiClient whose every call fails with `error`."""

    class configuration:  # noqa: N801  (the ApiClient's attribute)
        host = "https://127.0.0.1:6443"

    def __init__(self, error):
        self.error = error

    def call_api(self, *args, **kwargs):
        raise self.error


FORBIDDEN = status(
    403,
    "Forbidden",
    'sidecars.networking.istio.io is forbidden: User "ci" cannot list resource "sidecars"',
    kind="sidecars",
)


def failed_read(error, **options):
    with pytest.raises(EgressFailure) as failed:
        ClusterReader(FailingClient(error), "prod").get(
            "/apis/networking.istio.io/v1/sidecars", "listing sidecars", **options
        )
    return failed.value


def test_a_refused_read_names_what_was_read_and_the_api_status():
    failure = failed_read(api_exception(403, "Forbidden", FORBIDDEN))
    assert failure.message == (
        'listing sidecars from prod failed: 403 Forbidden: sidecars.networking.istio.io is forbidden: '
        'User "ci" cannot list resource "sidecars"'
    )
    assert failure.status == {
        "code": 403,
        "reason": "Forbidden",
        "details": {"kind": "sidecars"},
        "message": 'sidecars.networking.istio.io is forbidden: User "ci" cannot list resource "sidecars"',
    }
    assert failure.step == "read" and not failure.converges


def test_a_missing_object_is_none_only_where_that_is_fine():
    not_found = api_exception(404, "Not Found", status(404, "NotFound", 'namespaces "orders" not found'))
    assert (
        ClusterReader(FailingClient(not_found), "prod").get("/api/v1/namespaces/orders", "reading", missing_ok=True)
        is None
    )
    assert failed_read(not_found).reason == '404 NotFound: namespaces "orders" not found'


def test_a_connection_broken_mid_read_names_the_server():
    from urllib3.exceptions import ProtocolError

    broken = ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    failure = failed_read(broken)
    assert failure.reason == "cannot reach the API server at 127.0.0.1:6443: the connection was closed"
    assert failure.status is None


def test_an_unreadable_lease_only_costs_the_plan_a_second_round_of_reads():
    assert ClusterReader(FailingClient(api_exception(403, "Forbidden", FORBIDDEN)), "prod").lease(
        "aws", "meshops-aws-egress"
    ) == (False, None)
    with pytest.raises(EgressFailure):
        ClusterReader(FailingClient(api_exception(500, "Internal Server Error")), "prod").lease(
            "aws", "meshops-aws-egress"
        )
