# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rollout lease kept for the whole write: renewed once half of it is gone, however long the write takes.

A write can outlast the lease (a large plan on a far cluster, a slow batch):
while it runs, a thread renews the lease whenever more than half of its
duration has passed since it was taken or last renewed.  The run renews the
same way between steps (`renew_if_due`).  A renewal that fails (the lease was
lost to another rollout, the API server is gone) is kept as the reason to stop:
no batch starts after it (apply/writes.py).
"""

from __future__ import annotations

import threading


class LeaseKeeper:
    """A context manager around a write: `renew_if_due()` renews when half the lease is gone; `lost` says why it failed."""

    def __init__(self, renew, due, duration):
        self._renew = renew  # () -> None; raises EgressFailure
        self._due = due  # () -> whether more than half of the lease is gone
        # How often the thread looks: a quarter of the lease, so that a renewal comes well before it expires.
        self._interval = max(duration / 4, 0.05)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = None
        self.lost = None  # the EgressFailure of a renewal that failed

    def __enter__(self):
        self._thread = threading.Thread(target=self._keep, name="rollout-lease-keeper", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._done.set()
        self._thread.join()
        return False

    def renew_if_due(self):
        """Renew when half the lease is gone; raises the EgressFailure of a failed renewal (now or earlier)."""
        with self._lock:
            if self.lost:
                raise self.lost
            if self._due():
                try:
                    self._renew()
                except Exception as failure:
                    self.lost = failure
                    raise

    def _keep(self):
        while not self._done.wait(self._interval):
            try:
                self.renew_if_due()
            except Exception:  # noqa: BLE001  kept in self.lost: the writes stop at their next batch and report it
                return
