# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An API server killed in the middle of a rollout: the run fails naming the cluster, a rerun after the
restart converges to exactly the declared set, and the other clusters of a multi-cluster run end exactly
as declared or untouched.

On clusters of their own, as they are killed (SIGKILL, as a crash) and restarted.
"""

from __future__ import annotations

import functools

import pytest
import yaml

import hardening_helpers
from conftest import ROOT, localcluster
from hardening_helpers import Background, host_recaps, labelled, lease_holder, scratch_clusters, wait_for, writes_of
from role_helpers import fresh_namespace, role_command, run, run_role, unique_name

pytestmark = pytest.mark.integration

SERVICES = ["sqs", "sns", "kms", "ssm", "logs", "secretsmanager", "lambda", "events"]
REGIONS = [
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
]
# A crashed run's lease expires this long after its last renewal; the rerun waits for that.
LOCK = {"istio_aws_egress_lock_duration": 5, "istio_aws_egress_lock_timeout": 60}


@pytest.fixture(scope="module")
def clusters():
    with scratch_clusters("fault", 2) as started:
        yield started


declared = functools.partial(hardening_helpers.declared, regions=REGIONS, **LOCK)
entries = functools.partial(hardening_helpers.entries, regions=REGIONS)


def kill_once_written(cluster, verb: str, at_least: int, namespace: str) -> int:
    """SIGKILL the API server once it has made `at_least` writes of `verb` in `namespace`; return how many it had made."""
    wait_for(
        lambda: writes_of(cluster, verb, namespace) >= at_least,
        timeout=120,
        interval=0.005,
        what=f"{at_least} {verb} requests",
    )
    localcluster.kill(cluster.name)
    return writes_of(cluster, verb, namespace)


def restart(cluster) -> None:
    localcluster.start([cluster.name])


def assert_exactly(cluster, namespace: str, name: str, services: list[str]) -> None:
    """The egress set is exactly the declared entries (the API server keeps one object per name, so the
    sorted list of names equal to the declared one means nothing missing, duplicated or orphaned)."""
    assert sorted(labelled(cluster, "serviceentries", namespace, name)) == entries(name, services)


def assert_no_op(cluster, variables: dict, tmp_path) -> None:
    cluster.audit.mark()
    assert run_role(cluster, variables, tmp_path).assert_ok().changed == 0
    assert cluster.audit.writes() == []


def test_killed_while_applying_then_while_pruning(clusters, tmp_path):
    cluster = clusters[0]
    namespace, name = fresh_namespace(cluster, "fault"), unique_name("fault")
    server = cluster.info["server"].removeprefix("https://")
    assert len(entries(name, SERVICES)) == 200

    # Applying 200: killed after some but not all.
    cluster.audit.mark()
    rollout = Background(
        role_command(
            {
                **declared(namespace, name, SERVICES),
                "istio_aws_egress_kubeconfig": cluster.kubeconfig,
                "istio_aws_egress_context": cluster.context,
            },
            tmp_path,
        ),
        tmp_path,
    )
    assert 40 <= kill_once_written(cluster, "patch", 40, namespace) < 200
    failed = rollout.wait()
    assert failed.returncode != 0 and failed.recap["failed"] == 1
    assert failed.said(f"applying 200 resources to {cluster.context} failed:")
    assert failed.said(f"cannot reach the API server at {server}")
    assert failed.said("a rerun plans from what is there and converges")
    assert cluster.token("admin") not in failed.stdout + failed.stderr  # nor in a crash's output

    restart(cluster)
    kept = len(labelled(cluster, "serviceentries", namespace, name))
    assert 40 <= kept < 200
    # The rerun waits for the crashed run's lease to expire, then writes only what is missing.
    rerun = run_role(cluster, declared(namespace, name, SERVICES), tmp_path).assert_ok()
    assert rerun.said(f"{200 - kept} to create, 0 to update, 0 to adopt, 0 to prune, {kept} unchanged")
    assert_exactly(cluster, namespace, name, SERVICES)
    assert lease_holder(cluster, namespace) == ""
    assert_no_op(cluster, declared(namespace, name, SERVICES), tmp_path)

    # Pruning 150 of them: killed after some but not all.
    fewer = SERVICES[:2]
    cluster.audit.mark()
    rollout = Background(
        role_command(
            {
                **declared(namespace, name, fewer),
                "istio_aws_egress_kubeconfig": cluster.kubeconfig,
                "istio_aws_egress_context": cluster.context,
            },
            tmp_path,
        ),
        tmp_path,
    )
    assert 30 <= kill_once_written(cluster, "delete", 30, namespace) < 150
    failed = rollout.wait()
    assert failed.returncode != 0
    assert failed.said(f"pruning 150 resources on {cluster.context} failed:")
    assert failed.said(f"cannot reach the API server at {server}")

    restart(cluster)
    left = len(labelled(cluster, "serviceentries", namespace, name))
    assert 50 < left <= 170
    rerun = run_role(cluster, declared(namespace, name, fewer), tmp_path).assert_ok()
    assert rerun.said(f"0 to create, 0 to update, 0 to adopt, {left - 50} to prune, 50 unchanged")
    assert_exactly(cluster, namespace, name, fewer)
    assert_no_op(cluster, declared(namespace, name, fewer), tmp_path)


def multi_cluster(clusters, tmp_path, variables: dict, serial: int) -> list[str]:
    """ansible-playbook playbooks/site.yml over the clusters, in batches of `serial` (no canary); returns the command."""
    inventory = tmp_path / f"inventory-{serial}.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "clusters": {
                    "hosts": {cluster.name: {"istio_aws_egress_context": cluster.context} for cluster in clusters},
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                        "istio_aws_egress_kubeconfig": clusters[0].kubeconfig,
                    },
                }
            },
            sort_keys=False,
        )
    )
    return role_command(
        {**variables, "rollout_canary": 0, "rollout_batch": serial},
        tmp_path,
        playbook=ROOT / "playbooks" / "site.yml",
        inventory=inventory,
    )


def test_one_cluster_killed_in_a_multi_cluster_rollout(clusters, tmp_path):
    first, other = clusters
    name = unique_name("multi")
    namespace = f"multi-{name}"
    for cluster in clusters:
        cluster.kubectl("create", "namespace", namespace)

    def killed_then_rerun(services, serial, after_patches, expect_applying, check_other):
        """Kill the first cluster's API server mid-apply, check the failure, restart it, rerun."""
        rollout_vars = declared(namespace, name, services)
        for cluster in clusters:
            cluster.audit.mark()
        rollout = Background(multi_cluster(clusters, tmp_path, rollout_vars, serial=serial), tmp_path)
        kill_once_written(first, "patch", after_patches, namespace)
        failed = rollout.wait()
        assert failed.returncode != 0
        assert failed.said(f"applying {expect_applying} resources to {first.context} failed:")
        check_other()
        restart(first)
        assert run(multi_cluster(clusters, tmp_path, rollout_vars, serial=serial)).returncode == 0
        for cluster in clusters:
            assert_exactly(cluster, namespace, name, services)

    # One cluster at a time: the first is killed mid-apply; the other is never touched.
    def other_untouched():
        assert other.audit.writes() == [] and labelled(other, "serviceentries", namespace, name) == []

    killed_then_rerun(SERVICES, 1, 40, 200, other_untouched)

    # Both in one batch, a new declaration (creates and prunes): the first is killed mid-apply; the
    # other still ends exactly as declared: site.yml judges a batch's failures once its clusters are done.
    changed = SERVICES[2:] + ["sts", "ecr"]

    def other_converged():
        assert_exactly(other, namespace, name, changed)
        assert lease_holder(other, namespace) == ""

    killed_then_rerun(changed, 2, 20, 50, other_converged)

    # A third run changes nothing anywhere.
    for cluster in clusters:
        cluster.audit.mark()
    rerun = run(multi_cluster(clusters, tmp_path, declared(namespace, name, changed), serial=2))
    assert rerun.returncode == 0 and host_recaps(rerun) == {c.name: {"changed": 0, "failed": 0} for c in clusters}
    for cluster in clusters:
        assert cluster.audit.writes() == []
