# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run, with the cluster's reads, the access review and the writes stubbed: its steps around the rollout lease, and
what it returns.

The lease itself is the real LeaseLock on an in-memory store; the time is a clock the stubs move.
"""

from __future__ import annotations

import copy
import datetime
import signal

import pytest
import yaml

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import LOCK_NAME
from ansible_collections.meshops.aws_egress.plugins.module_utils.lease import LeaseLock, micro_time
from ansible_collections.meshops.aws_egress.plugins.modules import egress_set
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply import rollout
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.interruption import SignalsDeferred
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import LiveState

T0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
NAMESPACE = "aws"
LOCK_DURATION = 120
HOLDER = "me@here/1"


def entry(name):
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": ownership_labels("mine")},
        "spec": {"hosts": [f"{name}.amazonaws.com"]},
    }


def lease(holder, version):
    stamp = micro_time(T0)
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": LOCK_NAME, "namespace": NAMESPACE, "resourceVersion": str(version)},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 3600, "acquireTime": stamp, "renewTime": stamp},
    }


class Clock:
    """The run's clock (seconds) and the lease's (UTC), moved together."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self):
        return self.seconds

    def utc(self):
        return T0 + datetime.timedelta(seconds=self.seconds)

    def sleep(self, seconds):
        self.seconds += seconds


class Cluster:
    """What the stubs share: the clock, the lease's store, and every write in order."""

    def __init__(self, live_lease, read_seconds=0.0, apply_seconds=0.0):
        self.clock = Clock()
        self.lease = live_lease
        self.version = int(live_lease["metadata"]["resourceVersion"])
        self.read_seconds = read_seconds
        self.apply_seconds = apply_seconds
        self.writes = []

    # -- the LeaseLock's store
    def read(self):
        return copy.deepcopy(self.lease)

    def create(self, body):
        raise LeaseLock.Conflict()

    def replace(self, body):
        if body["metadata"].get("resourceVersion") != str(self.version):
            raise LeaseLock.Conflict()
        self.version += 1
        self.lease = copy.deepcopy(body)
        self.lease["metadata"]["resourceVersion"] = str(self.version)
        self.writes.append(("lease", self.lease["spec"]["holderIdentity"], self.clock()))
        return copy.deepcopy(self.lease)

    # -- the plan's reads, at the lease as the cluster holds it then
    def read_live(self, reader, kinds, desired, owner_labels, lease=None, **_options):
        self.clock.sleep(self.read_seconds)
        state = LiveState(
            served={kind: list(kind.versions) for kind in kinds},
            versions={kind: kind.versions[0] for kind in kinds},
            objects=[entry("stale")],
        )
        if lease:
            state.lease_read, state.lease = True, self.read()
        return state

    # -- kubernetes.core.k8s
    def execute_k8s(self, args):
        self.writes.append(("prune" if args.get("state") == "absent" else "apply", None, self.clock()))
        if args.get("apply"):
            self.clock.sleep(self.apply_seconds)
        return {}


class StubbedRun(rollout.Run):
    def _lock(self):
        return LeaseLock(
            self.api_client,
            LOCK_NAME,
            NAMESPACE,
            clock=self.api_client.clock.utc,
            sleep=self.api_client.clock.sleep,
            monotonic=self.api_client.clock,
        )


@pytest.fixture()
def run_on(monkeypatch):
    def run_on(cluster, say=None, signals=SignalsDeferred, **changes):
        monkeypatch.setattr(rollout, "read_live", cluster.read_live)
        monkeypatch.setattr(
            rollout, "review_all", lambda api_client, checks: ([check["permission"] for check in checks], [])
        )
        request = rollout.Request(
            name="mine",
            namespace=NAMESPACE,
            resources=[entry("fresh")],
            cluster="prod",
            lock_duration=LOCK_DURATION,
            lock_timeout=600,
        )
        for key, value in changes.items():
            setattr(request, key, value)
        return StubbedRun(
            request, cluster, cluster.execute_k8s, HOLDER, clock=cluster.clock, say=say, signals=signals
        ).run()

    return run_on


def steps(cluster):
    return [(what, who) for what, who, _at in cluster.writes]


def held_by_another_at_the_first_read(cluster):
    """The plan's first read sees the lease held by another rollout, which has released it by the time the run takes it."""
    leases = []

    def read_live(reader, kinds, desired, owner_labels, lease=None, **options):
        leases.append(lease)
        state = Cluster.read_live(cluster, reader, kinds, desired, owner_labels, lease=lease, **options)
        if len(leases) == 1:
            state.lease = {**state.lease, "spec": {**state.lease["spec"], "holderIdentity": "them"}}
        return state

    cluster.read_live = read_live
    return leases


def test_after_waiting_the_lease_counts_its_age_from_when_it_was_taken_not_from_the_first_write(run_on):
    # The run waits for the lease, takes it, plans again (50s) and applies (20s): its lease is 70s old when the prune
    # starts, past half its 120s, and is renewed first.
    cluster = Cluster(lease(None, 6), read_seconds=50, apply_seconds=20)
    held_by_another_at_the_first_read(cluster)
    result = run_on(cluster)
    assert result["prune"] == ["ServiceEntry aws/stale"]
    assert steps(cluster) == [("lease", HOLDER), ("apply", None), ("lease", HOLDER), ("prune", None), ("lease", None)]
    taken, renewed = cluster.writes[0][2], cluster.writes[2][2]
    assert renewed - taken == 70


def test_a_lease_taken_at_the_plan_is_young_at_the_prune_and_not_renewed(run_on):
    cluster = Cluster(lease(None, 5), read_seconds=50, apply_seconds=20)
    run_on(cluster)
    assert steps(cluster) == [("lease", HOLDER), ("apply", None), ("prune", None), ("lease", None)]


def test_a_lease_taken_at_the_plan_and_old_at_the_prune_is_renewed(run_on):
    cluster = Cluster(lease(None, 5), apply_seconds=61)
    run_on(cluster)
    assert steps(cluster) == [("lease", HOLDER), ("apply", None), ("lease", HOLDER), ("prune", None), ("lease", None)]


def test_every_value_a_run_returns_is_documented_with_its_type(run_on):
    result = run_on(Cluster(lease(None, 5)))
    documented = yaml.safe_load(egress_set.RETURN)
    types = {"bool": bool, "dict": dict, "str": str, "list": list, "float": float, "int": int}
    assert {key for key, doc in documented.items() if doc["returned"] in ("always", "success")} == set(result)
    assert {key: types[documented[key]["type"]] for key in result} == {
        key: type(value) for key, value in result.items()
    }
    assert result["api_versions"]["serviceentries.networking.istio.io"] == "networking.istio.io/v1"
    assert result["cluster"] == "prod"


def test_the_plan_made_under_a_waited_for_lease_does_not_read_the_lease_again(run_on):
    cluster = Cluster(lease(None, 6))
    leases = held_by_another_at_the_first_read(cluster)
    run_on(cluster)
    assert leases == [(NAMESPACE, LOCK_NAME), None]
    assert steps(cluster) == [("lease", HOLDER), ("apply", None), ("prune", None), ("lease", None)]


class Deferred(SignalsDeferred):
    """The run's signal deferral, without handlers: a stub "receives" a signal by setting `received`."""

    left = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.left = True
        return False


class SignalledDuringTheApply(Cluster):
    """A signal comes while kubernetes.core.k8s applies: it stops the module too, whose run then fails."""

    def __init__(self, live_lease, deferred):
        super().__init__(live_lease)
        self.deferred = deferred

    def execute_k8s(self, args):
        self.deferred.received = signal.SIGINT
        super().execute_k8s(args)
        return {"failed": True, "msg": "Traceback ... KeyboardInterrupt"}


def test_a_signal_during_the_apply_stops_the_run_before_the_prune_and_the_lease_is_released(run_on):
    deferred = Deferred()
    cluster = SignalledDuringTheApply(lease(None, 5), deferred)
    with pytest.raises(EgressFailure) as failure:
        run_on(cluster, signals=lambda: deferred)
    assert (failure.value.step, failure.value.converges) == ("interrupted", True)
    assert failure.value.message.startswith("applying 1 resources to prod failed: stopped by SIGINT")
    assert steps(cluster) == [("lease", HOLDER), ("apply", None), ("lease", None)]
    assert deferred.left


def test_a_run_waiting_for_the_lease_says_once_who_holds_it_and_until_when(run_on):
    cluster = Cluster(lease("deploy@bastion/1", 5))
    cluster.lease["spec"]["leaseDurationSeconds"] = 30
    said = []
    run_on(cluster, say=said.append)
    assert said == [
        f"prod: waiting up to 600s for rollout lease {NAMESPACE}/{LOCK_NAME}, held by deploy@bastion/1 since "
        f"{micro_time(T0)}; it expires {micro_time(T0 + datetime.timedelta(seconds=30))} unless its holder renews it"
    ]
    assert steps(cluster)[0] == ("lease", HOLDER)
