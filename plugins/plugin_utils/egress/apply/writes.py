# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Waves of batches (apply/batches.py) -> concurrent kubernetes.core.k8s runs, and one failure naming every failed object.

Each batch is one run of `write(batch)`, which raises EgressFailure.  The
batches of a wave run at once, at most `concurrency` of them; the next wave
waits for the whole of this one.  Once a batch fails, or `stopping()` says to
stop (a signal, a lost lease), no batch starts a new run: those running end
on their own, and every failure is reported together.  A batch the API server
turned away as too busy (429) runs again after the seconds it asked for.

Ansible keeps templating and warning state in context variables, which new
threads do not inherit: each batch runs in a copy of the caller's context.
"""

from __future__ import annotations

import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure

# A busy API server (429) is asked again this many times at most, after the seconds it asks for (at most MAX_WAIT).
RETRIES = 4
MAX_WAIT = 30
DEFAULT_WAIT = 1


def write_waves(waves, write, concurrency, stopping=lambda: None, sleep=time.sleep):
    """Write `waves` ([[batch, ...], ...]) with `write(batch)`; the number of batches run; raises EgressFailure.

    `stopping()` returns an EgressFailure when no more should start (else None).
    """
    runs = 0
    for wave in waves:
        failures, ran = _wave(wave, write, concurrency, stopping, sleep)
        runs += ran
        if failures:
            raise combined(failures)
        stopped = stopping()
        if stopped:
            raise stopped
    return runs


def _wave(wave, write, concurrency, stopping, sleep):
    """(failures, batches run) of one wave."""
    if len(wave) == 1:
        # One batch: in this thread, as a run without concurrency writes.
        failure = _batch(wave[0], write, threading.Event(), stopping, sleep)
        return [failure] if failure else [], 1
    failed = threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(wave)))) as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, _batch, batch, write, failed, stopping, sleep) for batch in wave
        ]
        outcomes = [future.result() for future in futures]
    started = [outcome for outcome in outcomes if outcome is not _NOT_STARTED]
    return [outcome for outcome in started if outcome], len(started)


_NOT_STARTED = object()


def _batch(batch, write, failed, stopping, sleep):
    """None when `batch` was written, its EgressFailure when not, _NOT_STARTED when it was not begun."""
    outcome = _NOT_STARTED
    for attempt in range(RETRIES + 1):
        if failed.is_set() or stopping():
            break
        try:
            write(batch)
            return None
        except EgressFailure as failure:
            outcome = failure
            if attempt == RETRIES or not failure.status or failure.status.get("code") != 429:
                failed.set()
                break
            sleep(retry_after(failure.status))
    return outcome


def retry_after(status):
    """The seconds a 429 Status asks to wait (its details.retryAfterSeconds, as Retry-After says), within 1..MAX_WAIT."""
    seconds = (status.get("details") or {}).get("retryAfterSeconds") or DEFAULT_WAIT
    try:
        return min(max(float(seconds), DEFAULT_WAIT), MAX_WAIT)
    except (TypeError, ValueError):
        return DEFAULT_WAIT


def combined(failures):
    """One EgressFailure for the failed batches of a wave: the first one's step and status, every failed object named."""
    if len(failures) == 1:
        return failures[0]
    interrupted = [failure for failure in failures if failure.step == "interrupted"]
    if interrupted:
        return interrupted[0]
    first = failures[0]
    reasons = "; ".join(f"{failure.obj or failure.batch or 'a batch'}: {failure.reason}" for failure in failures)
    fixes = list(dict.fromkeys(failure.fix for failure in failures if failure.fix))
    return EgressFailure(
        first.step,
        first.doing,
        f"{len(failures)} concurrent batches failed: {reasons}",
        obj=first.obj,
        status=first.status,
        fix="; ".join(fixes) or None,
        converges=all(failure.converges for failure in failures),
        objects=[failure.obj or failure.batch for failure in failures if failure.obj or failure.batch],
    )
