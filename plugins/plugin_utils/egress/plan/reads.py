# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the cluster holds, read with one client in this process: the live side of a plan.

Every read is a GET through the kubernetes client's ApiClient on a path built
from the kinds table (no discovery), and independent reads run side by side:
on a real network each costs a round trip, not CPU.  A failed read raises an
EgressFailure naming what was being read; nothing has been written then.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible_collections.meshops.aws_egress.plugins.module_utils.api_errors import api_error
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import (
    EgressFailure,
    status_of_exception,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import chosen_version
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import selector
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import identity

# Connect, then read: a server that stops answering fails the run instead of hanging it.
REQUEST_TIMEOUT = (10, 60)
PARALLEL_READS = 8


@dataclass
class LiveState:
    """The cluster as one plan sees it."""

    served: dict = field(default_factory=dict)  # Kind -> the versions the cluster serves ([]: none, no CRD)
    versions: dict = field(default_factory=dict)  # Kind -> the version written and read; absent: none to use
    unserved: list = field(default_factory=list)  # Kinds the cluster does not serve at all
    objects: list = field(default_factory=list)  # every live object read, ours and others'
    missing_namespaces: list = field(default_factory=list)
    services: dict = field(default_factory=dict)  # (namespace, name) -> Service or None
    lease: dict | None = None
    lease_read: bool = False
    crds: dict = field(default_factory=dict)  # name -> the CustomResourceDefinitions read, None where there is none
    unreadable_crds: list = field(default_factory=list)  # optional ones the user may not read
    namespace_list: list | None = None  # every namespace, when asked for (ambient mode); None: not listed


class ClusterReader:
    """GETs of one cluster through an ApiClient (kubernetes.client.ApiClient)."""

    def __init__(self, api_client, cluster):
        self.api_client = api_client
        self.cluster = cluster
        self.crds = {}  # what served_versions read, kept for what else a CRD says (its schema)
        # The quickest read's seconds: about one round trip to the API server (apply/batches.py sizes the writes by it).
        self.round_trip = None

    def get(self, path, doing, query=None, missing_ok=False):
        """The JSON at `path`; None when it is not found and `missing_ok`."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        started = time.monotonic()
        try:
            response = self.api_client.call_api(
                path,
                "GET",
                query_params=list((query or {}).items()),
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=REQUEST_TIMEOUT,
            )
            self._timed(time.monotonic() - started)
            return json.loads(response.data)
        except ApiException as err:
            self._timed(time.monotonic() - started)
            status = status_of_exception(err)
            if missing_ok and status and status["code"] == 404:
                return None
            raise EgressFailure("read", f"{doing} from {self.cluster}", api_error(err), status=status) from None
        except (HTTPError, OSError) as err:
            raise EgressFailure(
                "read", f"{doing} from {self.cluster}", api_error(err, self.api_client.configuration.host)
            ) from None

    def _timed(self, seconds):
        if self.round_trip is None or seconds < self.round_trip:
            self.round_trip = seconds

    def served_versions(self, kind):
        """The versions of `kind` the cluster serves ([] without its CustomResourceDefinition)."""
        if kind.crd is None:
            return list(kind.versions)
        crd = self.get(
            f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{kind.crd}",
            f"reading the CustomResourceDefinition {kind.crd}",
            missing_ok=True,
        )
        self.crds[kind.crd] = crd
        if crd is None:
            return []
        return [v["name"] for v in crd.get("spec", {}).get("versions", []) if v.get("served")]

    def optional_crd(self, name):
        """(read, CRD or None) for a CustomResourceDefinition that only informs a choice: not read when not allowed."""
        return self._unless_forbidden(
            f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}",
            f"reading the CustomResourceDefinition {name}",
        )

    def lease(self, namespace, name):
        """(read, lease): the rollout lease as it is now (None: there is none); not read when reading is not allowed.

        Reading the lease only saves the plan a second round of reads; a user
        without the right is told by the access review that follows.
        """
        return self._unless_forbidden(
            f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}",
            f"reading the rollout lease {namespace}/{name}",
        )

    def configmap(self, namespace, name):
        """(read, ConfigMap or None): not read when reading is not allowed (the mesh config only informs a note)."""
        return self._unless_forbidden(
            f"/api/v1/namespaces/{namespace}/configmaps/{name}", f"reading ConfigMap {namespace}/{name}"
        )

    def _unless_forbidden(self, path, doing):
        """(True, object or None when missing), or (False, None) when the user may not read it."""
        return unless_forbidden(self.get, path, doing, missing_ok=True)

    def list(self, kind, version, namespace=None, label_selector=None):
        where = f"in namespace {namespace}" if namespace else "cluster-wide"
        labelled = f" labelled {label_selector}" if label_selector else ""
        answer = self.get(
            kind.collection_path(version, namespace),
            f"listing {kind.plural}.{kind.group or 'core'} {where}{labelled}",
            query={"labelSelector": label_selector} if label_selector else None,
        )
        items = answer.get("items") or []
        for item in items:  # a list's items carry no apiVersion and kind
            item["apiVersion"] = kind.api_version(version)
            item["kind"] = kind.kind
        return items


def unless_forbidden(read, *args, **kwargs):
    """(True, what `read` returns), or (False, None) when the user may not make the read."""
    try:
        return True, read(*args, **kwargs)
    except EgressFailure as failure:
        if failure.status and failure.status["code"] == 403:
            return False, None
        raise


def read_live(
    reader,
    kinds,
    desired,
    owner_labels,
    pin=None,
    namespaces=(),
    services=(),
    lease=None,
    crds=(),
    list_namespaces=False,
):
    """Read what a plan needs: the lease, served versions, live objects, namespaces and Services.

    `kinds`: the kinds the plan covers (all of them, so that ours are pruned
    whatever they are); `desired`: the resources to write; `namespaces` that
    must exist; `services` as (namespace, name); `lease` as (namespace, name);
    `crds`: other CustomResourceDefinitions to read, where allowed;
    `list_namespaces`: list every namespace (with its labels).
    """
    state = LiveState()
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        # The lease before anything the plan rests on (beside the CustomResourceDefinitions, so no round trip
        # more): a rollout that writes after this read takes the lease after it, and taking the lease at this
        # read's version then fails, instead of writing a plan made from reads older than that rollout's writes.
        lease_read = lease and pool.submit(reader.lease, *lease)
        state.served = dict(zip(kinds, pool.map(reader.served_versions, kinds)))
        if lease_read:
            state.lease_read, state.lease = lease_read.result()
        choose_versions(state, pin)
        lists = [
            pool.submit(reader.list, kind, version, namespace, labels)
            for kind, version in state.versions.items()
            for namespace, labels in _list_calls(kind, desired, owner_labels)
        ]
        namespace_reads = {
            name: pool.submit(reader.get, f"/api/v1/namespaces/{name}", f"reading namespace {name}", missing_ok=True)
            for name in sorted(set(namespaces))
        }
        service_reads = {
            key: pool.submit(
                reader.get,
                f"/api/v1/namespaces/{key[0]}/services/{key[1]}",
                f"reading Service {key[0]}/{key[1]}",
                missing_ok=True,
            )
            for key in services
        }
        crd_reads = {name: pool.submit(reader.optional_crd, name) for name in crds}
        namespace_list = list_namespaces and pool.submit(reader.get, "/api/v1/namespaces", "listing namespaces")
        seen = set()
        for future in lists:
            for obj in future.result():
                if identity(obj) not in seen:
                    seen.add(identity(obj))
                    state.objects.append(obj)
        state.missing_namespaces = [name for name, future in namespace_reads.items() if future.result() is None]
        state.services = {key: future.result() for key, future in service_reads.items()}
        for name, future in crd_reads.items():
            allowed, state.crds[name] = future.result()
            if not allowed:
                state.unreadable_crds.append(name)
        if namespace_list:
            state.namespace_list = namespace_list.result().get("items") or []
    state.crds.update(reader.crds)
    return state


def choose_versions(state, pin=None):
    """Fill in `state.versions` and `state.unserved` from `state.served`: the version of each kind to write and read."""
    for kind, served in state.served.items():
        version = chosen_version(kind, served, pin) if served else None
        if version:
            state.versions[kind] = version
        elif not served:
            state.unserved.append(kind)


def _list_calls(kind, desired, owner_labels):
    """(namespace, label selector) of each list call for `kind`."""
    if kind.read == "cluster" or not kind.namespaced:
        return [(None, None)]
    written_in = sorted({identity(obj)[2] for obj in desired if (identity(obj)[0], identity(obj)[1]) == kind.key})
    return [(namespace, None) for namespace in written_in] + [(None, selector(owner_labels))]
