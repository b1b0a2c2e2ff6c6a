# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real network between Ansible and the API server: connections reset and stalled mid-apply and mid-prune.

The role talks to the first local cluster through its toxiproxy proxy (the `-proxied` context); the faults act on
that proxy alone, so other tests' runs are unaffected. Each fault fails the run naming the cluster and the step; the
rerun converges to exactly the declared set, nothing orphaned and nothing duplicated, and the run after that writes
nothing.
"""

from __future__ import annotations

import functools

import pytest

import hardening_helpers
from hardening_helpers import Background, labelled, lease_holder, wait_for, writes_of
from role_helpers import fresh_namespace, role_command, run_role, unique_name

pytestmark = pytest.mark.integration

SERVICES = ["sqs", "sns", "kms", "secretsmanager", "ssm", "logs", "ecr", "lambda", "events", "firehose"]
REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-3",
    "sa-east-1",
    "eu-south-1",
    "me-south-1",
    "af-south-1",
]
# A lease the failed run could not release (its connection is gone) expires quickly, so the rerun does not wait long.
LOCK_DURATION = 5


entries = functools.partial(hardening_helpers.entries, regions=REGIONS)


def declared(cluster, namespace: str, name: str, services: list[str]) -> dict:
    """Through the cluster's proxy, where the test's faults act."""
    return hardening_helpers.declared(
        namespace,
        name,
        services,
        REGIONS,
        istio_aws_egress_lock_duration=LOCK_DURATION,
        istio_aws_egress_kubeconfig=cluster.kubeconfig,
        istio_aws_egress_context=cluster.proxied_context,
    )


def converges(cluster, variables: dict, tmp_path, services: list[str], namespace: str, name: str) -> None:
    """The rerun writes exactly what is missing or stale; the run after it writes nothing.

    The failed run may not have released its lease (its connection was gone): the rerun waits until it expires,
    LOCK_DURATION seconds after it was taken, then plans from what is there."""
    run_role(None, variables, tmp_path).assert_ok()
    assert lease_holder(cluster, namespace) == ""
    assert sorted(labelled(cluster, "serviceentries", namespace, name)) == entries(name, services)
    cluster.audit.mark()
    assert run_role(None, variables, tmp_path).assert_ok().changed == 0
    assert [w for w in cluster.audit.writes() if w["objectRef"].get("namespace") == namespace] == []


def broken_midway(cluster, toxics, fault: str, variables: dict, tmp_path, after: tuple[str, str, int]):
    """The role's run, its connection reset or stalled (`fault`) once `after` = (verb, namespace, count) writes are in."""
    verb, namespace, count = after
    cluster.audit.mark()
    rollout = Background(role_command(variables, tmp_path), tmp_path)
    wait_for(
        lambda: writes_of(cluster, verb, namespace) >= count,
        timeout=120,
        interval=0.01,
        what=f"{count} {verb} writes in {namespace}",
    )
    (toxics.reset_peer() if fault == "reset" else toxics.timeout(1000))
    failed = rollout.wait()
    toxics.clear()
    return failed


@pytest.mark.parametrize("fault", ["reset", "timeout"])
def test_a_fault_mid_apply_fails_the_run_and_the_rerun_converges(local_cluster, toxics, tmp_path, fault):
    namespace, name = fresh_namespace(local_cluster, f"net-apply-{fault}"), unique_name("netapply")
    variables = declared(local_cluster, namespace, name, SERVICES)
    assert len(entries(name, SERVICES)) == 200
    failed = broken_midway(local_cluster, toxics, fault, variables, tmp_path, ("patch", namespace, 40))
    applied = len(labelled(local_cluster, "serviceentries", namespace, name))
    assert 40 <= applied < 200
    assert failed.returncode != 0
    assert failed.said(f"applying 200 resources to {local_cluster.proxied_context} failed")
    assert failed.said("a rerun plans from what is there and converges")
    converges(local_cluster, variables, tmp_path, SERVICES, namespace, name)


@pytest.mark.parametrize("fault", ["reset", "timeout"])
def test_a_fault_mid_prune_fails_the_run_and_the_rerun_converges(local_cluster, toxics, tmp_path, fault):
    namespace, name = fresh_namespace(local_cluster, f"net-prune-{fault}"), unique_name("netprune")
    run_role(None, declared(local_cluster, namespace, name, SERVICES), tmp_path).assert_ok()
    fewer = SERVICES[:2]
    variables = declared(local_cluster, namespace, name, fewer)
    failed = broken_midway(local_cluster, toxics, fault, variables, tmp_path, ("delete", namespace, 30))
    left = len(labelled(local_cluster, "serviceentries", namespace, name))
    assert 40 < left <= 170
    assert failed.returncode != 0
    assert failed.said(f"pruning 160 resources on {local_cluster.proxied_context} failed")
    assert failed.said("a rerun plans from what is there and converges")
    converges(local_cluster, variables, tmp_path, fewer, namespace, name)
