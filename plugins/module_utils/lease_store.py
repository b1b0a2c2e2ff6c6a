# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store LeaseLock (lease.py) works through: one Lease read and written by the Kubernetes API."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.lease import LeaseLock


class LeaseStore:
    """Reads and writes one Lease through the Kubernetes API, as plain dicts."""

    def __init__(self, api_client, name, namespace):
        from kubernetes.client import CoordinationV1Api

        self.api_client = api_client
        self.api = CoordinationV1Api(api_client)
        self.name = name
        self.namespace = namespace
        # The Lease as the last read or write returned it (None: there is none).
        self.last = None

    def _plain(self, obj):
        return self.api_client.sanitize_for_serialization(obj)

    def read(self):
        from kubernetes.client.exceptions import ApiException

        try:
            self.last = self._plain(self.api.read_namespaced_lease(self.name, self.namespace))
        except ApiException as err:
            if err.status != 404:
                raise
            self.last = None
        return self.last

    def _write(self, call, *args):
        from kubernetes.client.exceptions import ApiException

        try:
            self.last = self._plain(call(*args))
            return self.last
        except ApiException as err:
            if err.status == 409:
                raise LeaseLock.Conflict() from err
            raise

    def create(self, body):
        return self._write(self.api.create_namespaced_lease, self.namespace, body)

    def replace(self, body):
        return self._write(self.api.replace_namespaced_lease, self.name, self.namespace, body)
