# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meshops.aws_egress._rollout_lease against a real API server: one holder at a time."""

from __future__ import annotations

import json
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from ansible_collections.meshops.aws_egress.plugins.module_utils.lease import LeaseLock
from conftest import ROOT, run_playbook

pytestmark = pytest.mark.integration

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "rollout_lease" / "lease.yml"


@pytest.fixture()
def namespace(local_cluster):
    name = f"lease-{uuid.uuid4().hex[:6]}"
    local_cluster.kubectl("create", "namespace", name)
    return name


def lease(cluster, namespace, *args, **extra):
    """Run the module once; return (ansible-playbook result, the module's result)."""
    with tempfile.TemporaryDirectory() as tmp:
        result_file = Path(tmp) / "result.json"
        result = run_playbook(
            PLAYBOOK,
            *args,
            extra_vars={
                "lease_namespace": namespace,
                "kubeconfig": cluster.kubeconfig,
                "context": cluster.context,
                "result_file": str(result_file),
                **{f"lease_{k}": v for k, v in extra.items()},
            },
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result_file.read_text())


def live_lease(cluster, namespace):
    return json.loads(cluster.kubectl("get", "lease", "meshops-aws-egress", "-n", namespace, "-o", "json").stdout)


def test_acquire_then_a_second_holder_waits_and_fails_naming_the_first(local_cluster, namespace):
    first = lease(local_cluster, namespace, duration=60)
    assert not first.get("failed") and first["changed"] is False
    assert live_lease(local_cluster, namespace)["spec"]["holderIdentity"] == first["holder"]

    started = time.monotonic()
    second = lease(local_cluster, namespace, timeout=2)
    assert second["failed"]
    assert time.monotonic() - started >= 2
    assert second["msg"].startswith(
        f"rollout lease {namespace}/meshops-aws-egress is held by {first['holder']} (since "
    )
    assert second["msg"].endswith("gave up after waiting 2s")

    released = lease(local_cluster, namespace, state="released", holder=first["holder"])
    assert not released.get("failed")
    assert not live_lease(local_cluster, namespace)["spec"].get("holderIdentity")
    # What it reports is the lease as released.
    assert released["lease"]["holder"] == "" and released["lease"]["name"] == "meshops-aws-egress"


def test_an_expired_lease_is_taken_over(local_cluster, namespace):
    crashed = lease(local_cluster, namespace, duration=1)
    time.sleep(1.5)
    second = lease(local_cluster, namespace, timeout=5)
    assert not second.get("failed"), second
    assert second["holder"] != crashed["holder"]
    live = live_lease(local_cluster, namespace)
    assert live["spec"]["holderIdentity"] == second["holder"]
    assert live["spec"]["leaseTransitions"] == 1


def test_check_mode_writes_nothing_and_reports_the_holder(local_cluster, namespace):
    first = lease(local_cluster, namespace, duration=60)
    local_cluster.audit.mark()
    seen = lease(local_cluster, namespace, "--check", holder="planner")
    assert seen["lease"]["holder"] == first["holder"]
    assert not lease(local_cluster, namespace, "--check", state="released", holder=first["holder"]).get("failed")
    assert local_cluster.audit.writes() == []
    assert live_lease(local_cluster, namespace)["spec"]["holderIdentity"] == first["holder"]


def test_release_by_someone_else_changes_nothing(local_cluster, namespace):
    first = lease(local_cluster, namespace, duration=60)
    local_cluster.audit.mark()
    assert not lease(local_cluster, namespace, state="released", holder="not-the-holder").get("failed")
    assert local_cluster.audit.writes() == []
    assert live_lease(local_cluster, namespace)["spec"]["holderIdentity"] == first["holder"]


def test_concurrent_holders_never_overlap(local_cluster, namespace):
    """Many threads race for the lease on the real API server; holding periods never overlap."""
    from kubernetes import config

    from ansible_collections.meshops.aws_egress.plugins.modules._rollout_lease import LeaseStore

    api_client = config.new_client_from_config(config_file=local_cluster.kubeconfig, context=local_cluster.context)
    periods, errors = [], []
    workers, rounds = 6, 4

    def worker(index):
        store = LeaseStore(api_client, "meshops-aws-egress", namespace)
        lock = LeaseLock(store, "meshops-aws-egress", namespace)
        holder = f"worker-{index}"
        try:
            for _round in range(rounds):
                lock.acquire(holder, duration=30, timeout=60, poll=0.05)
                start = time.monotonic()
                time.sleep(0.05)
                end = time.monotonic()
                assert lock.release(holder)
                periods.append((start, end, holder))
        except Exception as err:  # pylint: disable=broad-exception-caught
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(periods) == workers * rounds
    periods.sort()
    for earlier, later in zip(periods, periods[1:]):
        assert earlier[1] <= later[0], f"{earlier[2]} and {later[2]} held the lease at the same time"
