# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rollout at a time: a coordination.k8s.io Lease used as a lock.

The lock is taken by creating the Lease, or by updating it (with its
resourceVersion, so two takers cannot both win) when it is free, expired or
already ours. A holder that crashed never releases; its lease expires after
``duration`` seconds without renewal.
"""

from __future__ import annotations

import datetime
import getpass
import socket
import time
import uuid

LEASE_API_VERSION = "coordination.k8s.io/v1"


class LeaseHeld(Exception):
    """Another holder kept the lease for the whole wait."""


class LeaseLost(Exception):
    """The lease we held expired and another holder took it."""


def default_holder():
    """A run's identity: who, where, and a random part so that two runs of one user differ."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        user = "unknown"
    return f"{user}@{socket.gethostname()}/{uuid.uuid4().hex[:8]}"


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def micro_time(moment: datetime.datetime) -> str:
    """Kubernetes MicroTime: RFC 3339 with microseconds, UTC."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    text = str(value).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text)


def describe(lease: dict) -> dict:
    """The parts of a Lease an operator wants to see."""
    spec = lease.get("spec") or {}
    acquired = parse_time(spec.get("acquireTime"))
    renewed = parse_time(spec.get("renewTime"))
    duration = spec.get("leaseDurationSeconds") or 0
    return {
        "name": lease["metadata"]["name"],
        "namespace": lease["metadata"]["namespace"],
        "holder": spec.get("holderIdentity") or "",
        "acquire_time": micro_time(acquired) if acquired else None,
        "renew_time": micro_time(renewed) if renewed else None,
        "duration": duration,
        "expires": micro_time(renewed + datetime.timedelta(seconds=duration)) if renewed else None,
    }


def is_free_for(lease: dict, holder: str, moment: datetime.datetime) -> bool:
    spec = lease.get("spec") or {}
    current = spec.get("holderIdentity")
    if not current or current == holder:
        return True
    renewed = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    if renewed is None:
        return True
    return renewed + datetime.timedelta(seconds=spec.get("leaseDurationSeconds") or 0) < moment


def taken(
    lease: dict | None, name: str, namespace: str, holder: str, duration: int, moment: datetime.datetime, labels: dict
) -> dict:
    """The Lease as it looks once ``holder`` holds it (a new one if ``lease`` is None)."""
    stamp = micro_time(moment)
    if lease is None:
        return {
            "apiVersion": LEASE_API_VERSION,
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {
                "holderIdentity": holder,
                "leaseDurationSeconds": duration,
                "acquireTime": stamp,
                "renewTime": stamp,
                "leaseTransitions": 0,
            },
        }
    spec = dict(lease.get("spec") or {})
    if spec.get("holderIdentity") != holder:
        spec["acquireTime"] = stamp
        spec["leaseTransitions"] = (spec.get("leaseTransitions") or 0) + 1
    spec.update(holderIdentity=holder, leaseDurationSeconds=duration, renewTime=stamp)
    return {**lease, "spec": spec}


def released(lease: dict) -> dict:
    spec = dict(lease.get("spec") or {})
    spec["holderIdentity"] = None
    return {**lease, "spec": spec}


class LeaseLock:
    """Acquire, renew and release one Lease through a small store interface.

    ``store`` has ``read() -> dict | None``, ``create(body)``, ``replace(body)``;
    ``create`` and ``replace`` raise ``Conflict`` when someone else got there
    first (AlreadyExists, or a stale resourceVersion).
    """

    class Conflict(Exception):
        pass

    def __init__(
        self,
        store,
        name: str,
        namespace: str,
        labels: dict | None = None,
        clock=now_utc,
        sleep=time.sleep,
        monotonic=time.monotonic,
    ):
        self.store = store
        self.name = name
        self.namespace = namespace
        self.labels = labels or {}
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic

    def acquire(self, holder: str, duration: int, timeout: float, poll: float = 1.0, waiting=None) -> dict:
        """Hold the lease (or renew it); wait up to ``timeout`` seconds for it.

        ``waiting``, if given, is called with the lease as `describe` shows it before each wait: to say who holds it,
        or to stop waiting by raising.
        """
        deadline = self.monotonic() + timeout
        while True:
            lease = self.store.read()
            held = self.take(lease, holder, duration)
            if held is not None:
                return held
            if lease is None or is_free_for(lease, holder, self.clock()):
                continue  # another taker wrote first: read again at once
            remaining = deadline - self.monotonic()
            if remaining <= 0:
                raise LeaseHeld(describe(lease))
            if waiting is not None:
                waiting(describe(lease))
            self.sleep(min(poll, remaining))

    def take(self, lease: dict | None, holder: str, duration: int) -> dict | None:
        """One attempt to hold the lease as `lease` (read earlier) shows it.

        The write carries that read's resourceVersion, so it succeeds only when
        nobody took, renewed or released the lease since: then no other rollout
        wrote since that read. None when the lease is held or changed since.
        """
        moment = self.clock()
        if lease is not None and not is_free_for(lease, holder, moment):
            return None
        body = taken(lease, self.name, self.namespace, holder, duration, moment, self.labels)
        try:
            return (self.store.create if lease is None else self.store.replace)(body)
        except self.Conflict:
            return None

    def renew(self, holder: str, duration: int, lease: dict) -> dict:
        """Renew the lease we hold, as our last write left it; LeaseLost when another holder has taken it."""
        while True:
            if (lease.get("spec") or {}).get("holderIdentity") != holder:
                raise LeaseLost(describe(lease))
            try:
                return self.store.replace(
                    taken(lease, self.name, self.namespace, holder, duration, self.clock(), self.labels)
                )
            except self.Conflict:
                lease = self.store.read()
                if lease is None:
                    raise LeaseLost({"name": self.name, "namespace": self.namespace, "holder": ""}) from None

    def release(self, holder: str, lease: dict | None = None) -> bool:
        """Give the lease up if we hold it; True when something was written.

        `lease`, our last write of it, saves a read when nobody touched it since.
        """
        while True:
            lease = lease if lease is not None else self.store.read()
            if lease is None or (lease.get("spec") or {}).get("holderIdentity") != holder:
                return False
            try:
                self.store.replace(released(lease))
                return True
            except self.Conflict:
                lease = None
