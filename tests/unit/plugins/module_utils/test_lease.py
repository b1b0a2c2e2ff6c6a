# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lease lock's decisions, against an in-memory store (the real API is in the integration tests)."""

from __future__ import annotations

import copy
import datetime

import pytest

from ansible_collections.meshops.aws_egress.plugins.module_utils.lease import (
    LeaseHeld,
    LeaseLock,
    LeaseLost,
    describe,
    is_free_for,
    micro_time,
)

T0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


class MemoryStore:
    """Keeps one lease with a resourceVersion, like the API server does."""

    def __init__(self, lease=None, conflicts=0):
        self.lease = lease
        self.version = 1
        self.conflicts = conflicts
        self.writes = []

    def read(self):
        if self.lease is None:
            return None
        lease = copy.deepcopy(self.lease)
        lease["metadata"]["resourceVersion"] = str(self.version)
        return lease

    def _maybe_conflict(self):
        if self.conflicts:
            self.conflicts -= 1
            raise LeaseLock.Conflict()

    def create(self, body):
        self._maybe_conflict()
        if self.lease is not None:
            raise LeaseLock.Conflict()
        return self._store("create", body)

    def replace(self, body):
        self._maybe_conflict()
        if body["metadata"].get("resourceVersion") != str(self.version):
            raise LeaseLock.Conflict()
        return self._store("replace", body)

    def _store(self, verb, body):
        self.writes.append(verb)
        self.version += 1
        self.lease = copy.deepcopy(body)
        return self.read()


class Clock:
    def __init__(self):
        self.now = T0
        self.elapsed = 0.0

    def __call__(self):
        return self.now + datetime.timedelta(seconds=self.elapsed)

    def sleep(self, seconds):
        self.elapsed += seconds

    def monotonic(self):
        return self.elapsed


def lock_for(store, clock):
    return LeaseLock(
        store,
        "meshops-aws-egress",
        "istio-system",
        labels={"a": "b"},
        clock=clock,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )


def held_by(holder, renewed=T0, duration=60):
    stamp = micro_time(renewed)
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "meshops-aws-egress", "namespace": "istio-system"},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": duration,
            "acquireTime": stamp,
            "renewTime": stamp,
            "leaseTransitions": 0,
        },
    }


def test_a_missing_lease_is_created_for_the_holder():
    store, clock = MemoryStore(), Clock()
    lease = lock_for(store, clock).acquire("me", duration=30, timeout=5)
    assert store.writes == ["create"]
    assert lease["spec"]["holderIdentity"] == "me"
    assert lease["spec"]["leaseDurationSeconds"] == 30
    assert lease["metadata"]["labels"] == {"a": "b"}


def test_renewing_our_own_lease_keeps_acquire_time():
    store, clock = MemoryStore(held_by("me")), Clock()
    clock.elapsed = 10
    lease = lock_for(store, clock).acquire("me", duration=60, timeout=5)
    assert lease["spec"]["acquireTime"] == micro_time(T0)
    assert lease["spec"]["renewTime"] == micro_time(T0 + datetime.timedelta(seconds=10))
    assert lease["spec"]["leaseTransitions"] == 0


def test_a_live_lease_of_another_holder_makes_us_wait_then_fail_naming_it():
    store, clock = MemoryStore(held_by("them", duration=600)), Clock()
    with pytest.raises(LeaseHeld) as held:
        lock_for(store, clock).acquire("me", duration=60, timeout=5)
    assert held.value.args[0]["holder"] == "them"
    assert held.value.args[0]["expires"] == micro_time(T0 + datetime.timedelta(seconds=600))
    assert clock.elapsed == pytest.approx(5)
    assert not store.writes


def test_before_each_wait_the_lease_is_shown_to_the_waiting_hook():
    store, clock = MemoryStore(held_by("slow", duration=3)), Clock()
    seen = []
    lock_for(store, clock).acquire("me", duration=60, timeout=10, waiting=seen.append)
    assert [lease["holder"] for lease in seen] == ["slow"] * len(seen) and 3 <= len(seen) <= 5
    assert seen[0]["expires"] == micro_time(T0 + datetime.timedelta(seconds=3))


def test_a_waiting_hook_that_raises_stops_the_wait_before_any_write():
    store, clock = MemoryStore(held_by("them", duration=600)), Clock()

    def stop(_lease):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lock_for(store, clock).acquire("me", duration=60, timeout=5, waiting=stop)
    assert clock.elapsed == 0 and not store.writes


def test_an_expired_lease_is_taken_over_and_counted():
    store, clock = MemoryStore(held_by("crashed", duration=60)), Clock()
    clock.elapsed = 61
    lease = lock_for(store, clock).acquire("me", duration=60, timeout=0)
    assert lease["spec"]["holderIdentity"] == "me"
    assert lease["spec"]["leaseTransitions"] == 1
    assert store.writes == ["replace"]


def test_we_wait_for_a_lease_that_expires_during_the_wait():
    store, clock = MemoryStore(held_by("slow", duration=3)), Clock()
    lease = lock_for(store, clock).acquire("me", duration=60, timeout=10)
    assert lease["spec"]["holderIdentity"] == "me"
    assert 3 < clock.elapsed <= 5


def test_a_lost_race_is_retried_not_fatal():
    store, clock = MemoryStore(conflicts=2), Clock()
    lease = lock_for(store, clock).acquire("me", duration=60, timeout=1)
    assert lease["spec"]["holderIdentity"] == "me"


def test_a_lost_race_is_retried_at_once_and_a_race_lost_to_a_live_holder_waits_for_it():
    store, clock = MemoryStore(held_by("done", duration=1), conflicts=3), Clock()
    clock.elapsed = 5
    lease = lock_for(store, clock).acquire("me", duration=60, timeout=0)
    assert lease["spec"]["holderIdentity"] == "me" and store.writes == ["replace"] and clock.elapsed == 5

    class Overtaken(MemoryStore):
        """Another run takes the free lease between our read and our write."""

        def replace(self, body):
            if self.lease["spec"]["holderIdentity"] is None:
                self.lease["spec"].update(
                    holderIdentity="quick", renewTime=micro_time(clock()), leaseDurationSeconds=600
                )
                self.version += 1
            return super().replace(body)

    store, clock = Overtaken(held_by(None)), Clock()
    with pytest.raises(LeaseHeld) as held:
        lock_for(store, clock).acquire("me", duration=60, timeout=3)
    assert held.value.args[0]["holder"] == "quick" and clock.elapsed == pytest.approx(3) and not store.writes


def test_release_frees_only_our_own_lease():
    store, clock = MemoryStore(held_by("them")), Clock()
    assert lock_for(store, clock).release("me") is False
    assert store.lease["spec"]["holderIdentity"] == "them"
    store = MemoryStore(held_by("me"))
    assert lock_for(store, clock).release("me") is True
    assert store.lease["spec"]["holderIdentity"] is None
    assert is_free_for(store.read(), "anyone", T0)


def test_describe_says_who_and_until_when():
    info = describe(held_by("them", duration=90))
    assert info == {
        "name": "meshops-aws-egress",
        "namespace": "istio-system",
        "holder": "them",
        "acquire_time": "2026-01-01T12:00:00.000000Z",
        "renew_time": "2026-01-01T12:00:00.000000Z",
        "duration": 90,
        "expires": "2026-01-01T12:01:30.000000Z",
    }


# --- one write on what the plan read: take, renew and release without reading again ----------


def test_take_succeeds_only_on_the_lease_as_it_was_read():
    store, clock = MemoryStore(held_by("done", renewed=T0, duration=1)), Clock()
    clock.elapsed = 5
    read = store.read()
    lease = lock_for(store, clock).take(read, "me", duration=60)
    assert lease["spec"]["holderIdentity"] == "me" and store.writes == ["replace"]

    # Someone renewed, took or released it since the read: the write's resourceVersion is stale.
    store, clock = MemoryStore(held_by("done", duration=1)), Clock()
    clock.elapsed = 5
    read = store.read()
    store.lease["spec"]["holderIdentity"] = "other"
    store.version += 1
    assert lock_for(store, clock).take(read, "me", duration=60) is None
    assert not store.writes


def test_take_creates_a_missing_lease_unless_someone_created_it_first():
    store, clock = MemoryStore(), Clock()
    assert lock_for(store, clock).take(None, "me", duration=60)["spec"]["holderIdentity"] == "me"
    store = MemoryStore(held_by("quick", duration=600))
    assert lock_for(store, clock).take(None, "me", duration=60) is None


def test_take_never_writes_over_a_live_holder():
    store, clock = MemoryStore(held_by("them", duration=600)), Clock()
    assert lock_for(store, clock).take(store.read(), "me", duration=60) is None
    assert not store.writes


def test_renew_writes_once_from_our_last_write_and_notices_a_new_holder():
    store, clock = MemoryStore(), Clock()
    lock = lock_for(store, clock)
    ours = lock.take(None, "me", duration=60)
    clock.elapsed = 30
    renewed = lock.renew("me", 60, ours)
    assert store.writes == ["create", "replace"]
    assert renewed["spec"]["renewTime"] == micro_time(T0 + datetime.timedelta(seconds=30))

    clock.elapsed = 200  # expired, and taken over by another run
    lock_for(store, clock).acquire("them", duration=60, timeout=0)
    with pytest.raises(LeaseLost) as lost:
        lock.renew("me", 60, renewed)
    assert lost.value.args[0]["holder"] == "them"


def test_release_from_our_last_write_saves_the_read_and_falls_back_to_one():
    store, clock = MemoryStore(), Clock()
    lock = lock_for(store, clock)
    ours = lock.take(None, "me", duration=60)
    assert lock.release("me", ours) is True and store.writes == ["create", "replace"]
    assert store.lease["spec"]["holderIdentity"] is None

    store = MemoryStore()
    lock = lock_for(store, clock)
    ours = lock.take(None, "me", duration=60)
    store.version += 1  # touched since (a renewal through another client): read, then release
    assert lock.release("me", ours) is True
    assert store.lease["spec"]["holderIdentity"] is None
