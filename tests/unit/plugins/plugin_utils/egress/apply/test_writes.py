# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrent batches: at most `concurrency` at once, barriers between waves, a failure stops new batches, 429 waits."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.writes import (
    combined,
    retry_after,
    write_waves,
)

MARK = contextvars.ContextVar("mark")


class Recorder:
    def __init__(self, fail=(), busy=None, seconds=0.05):
        self.lock, self.running, self.most = threading.Lock(), 0, 0
        self.started, self.done, self.fail, self.busy, self.seconds = [], [], set(fail), dict(busy or {}), seconds

    def write(self, batch):
        name = batch[0]
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.started.append(name)
        try:
            time.sleep(self.seconds)
            if self.busy.get(name):
                self.busy[name] -= 1
                raise EgressFailure(
                    "apply",
                    "applying",
                    "429 TooManyRequests",
                    obj=name,
                    status={"code": 429, "details": {"retryAfterSeconds": 2}},
                )
            if name in self.fail:
                raise EgressFailure("apply", "applying", "connection reset", obj=name, converges=True)
            self.done.append(name)
        finally:
            with self.lock:
                self.running -= 1


def test_at_most_concurrency_batches_run_at_once_and_each_wave_waits_for_the_last():
    recorder = Recorder()
    waves = [[[f"a{i}"] for i in range(6)], [["b0"]]]
    assert write_waves(waves, recorder.write, 3) == 7
    assert recorder.most == 3
    assert recorder.started[-1] == "b0" and len(recorder.done) == 7


def test_a_failed_batch_stops_batches_not_yet_started_and_every_failure_is_named():
    recorder = Recorder(fail={"a0", "a1"}, seconds=0.1)
    with pytest.raises(EgressFailure) as raised:
        write_waves([[[f"a{i}"] for i in range(8)], [["b0"]]], recorder.write, 2)
    assert sorted(raised.value.objects) == ["a0", "a1"]
    assert raised.value.obj in ("a0", "a1") and raised.value.converges is True
    assert "2 concurrent batches failed" in raised.value.reason
    # Both failed in the first two runs: no other batch started, nor the next wave.
    assert sorted(recorder.started) == ["a0", "a1"]
    assert raised.value.result()["failed_objects"] == raised.value.objects


def test_a_busy_server_is_asked_again_after_the_seconds_it_asks_for():
    recorder, slept = Recorder(busy={"a1": 2}, seconds=0), []
    assert write_waves([[["a0"], ["a1"]]], recorder.write, 2, sleep=slept.append) == 2
    assert slept == [2.0, 2.0] and sorted(recorder.done) == ["a0", "a1"]


def test_a_server_busy_for_good_fails_the_batch():
    recorder = Recorder(busy={"a0": 99}, seconds=0)
    with pytest.raises(EgressFailure) as raised:
        write_waves([[["a0"]]], recorder.write, 2, sleep=lambda seconds: None)
    assert raised.value.status["code"] == 429 and recorder.started == ["a0"] * 5


def test_stopping_ends_the_write_before_the_next_batch_starts():
    reason = EgressFailure("renew", "renewing the rollout lease", "lost")
    recorder = Recorder(seconds=0)
    stops = iter([None, reason])
    with pytest.raises(EgressFailure) as raised:
        write_waves([[["a0"]], [["b0"]]], recorder.write, 2, stopping=lambda: next(stops, reason))
    assert raised.value is reason and recorder.started == ["a0"]


def test_batches_run_in_the_callers_context():
    MARK.set("caller")
    seen = []
    write_waves([[["a0"], ["a1"], ["a2"]]], lambda batch: seen.append(MARK.get(None)), 3)
    assert seen == ["caller"] * 3


def test_retry_after_is_bounded():
    assert retry_after({"code": 429}) == 1
    assert retry_after({"details": {"retryAfterSeconds": 600}}) == 30
    assert retry_after({"details": {"retryAfterSeconds": "x"}}) == 1


def test_an_interruption_wins_over_the_other_failures():
    signal = EgressFailure("interrupted", "applying", "stopped by SIGINT")
    other = EgressFailure("apply", "applying", "reset", obj="x")
    assert combined([other, signal]) is signal and combined([other]) is other
