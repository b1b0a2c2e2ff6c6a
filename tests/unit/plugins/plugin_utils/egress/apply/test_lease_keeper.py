# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lease is renewed while a write runs, once half of it is gone; a failed renewal is kept as the reason to stop."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.lease_keeper import LeaseKeeper


class Lease:
    def __init__(self, duration, fail=False):
        self.duration, self.fail, self.taken, self.renewals = duration, fail, time.monotonic(), []
        self.renewed = threading.Event()

    def due(self):
        return time.monotonic() - self.taken > self.duration / 2

    def renew(self):
        if self.fail:
            raise EgressFailure("renew", "renewing the rollout lease", "held by another rollout now")
        self.taken = time.monotonic()
        self.renewals.append(self.taken)
        self.renewed.set()


def test_a_long_write_keeps_the_lease_renewed_at_half_its_duration():
    lease = Lease(duration=0.4)
    with LeaseKeeper(lease.renew, lease.due, lease.duration) as keeper:
        time.sleep(0.9)  # a write more than twice as long as the lease
        assert keeper.lost is None
    assert 2 <= len(lease.renewals) <= 5
    gaps = [later - earlier for earlier, later in zip(lease.renewals, lease.renewals[1:])]
    assert all(gap < lease.duration for gap in gaps)


def test_a_short_write_does_not_renew():
    lease = Lease(duration=60)
    with LeaseKeeper(lease.renew, lease.due, lease.duration) as keeper:
        keeper.renew_if_due()
    assert lease.renewals == []


def test_a_failed_renewal_is_kept_and_raised_at_the_next_step():
    lease = Lease(duration=0.2, fail=True)
    with LeaseKeeper(lease.renew, lease.due, lease.duration) as keeper:
        deadline = time.monotonic() + 5
        while keeper.lost is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert keeper.lost is not None and keeper.lost.step == "renew"
        with pytest.raises(EgressFailure) as raised:
            keeper.renew_if_due()
        assert raised.value is keeper.lost
