# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rollout at a time: runs started together never interleave their writes, a run that cannot get the
lease gives up naming its holder, and runs that write nothing take no lease.

On a cluster of its own: the second user of the concurrent runs is bound to the role's RBAC there.
"""

from __future__ import annotations

import itertools

import pytest

from hardening_helpers import HARDENING, Background, labelled, lease_holder, scratch_clusters, user_kubeconfig
from role_helpers import fresh_namespace, is_rollout_bookkeeping, role_command, run, run_role, unique_name

pytestmark = pytest.mark.integration

REGIONS = ["eu-west-1", "eu-central-1"]


@pytest.fixture(scope="module")
def cluster():
    with scratch_clusters("lease") as clusters:
        yield clusters[0]


@pytest.fixture(scope="module")
def shared(cluster, tmp_path_factory):
    """A namespace, and the operator bound to the role's RBAC there."""
    tmp = tmp_path_factory.mktemp("lease")
    namespace = fresh_namespace(cluster, "lease")
    admin = {"istio_aws_egress_kubeconfig": cluster.kubeconfig, "istio_aws_egress_context": cluster.context}
    run(role_command({**admin, "istio_aws_egress_namespace": namespace, "istio_aws_egress_rbac_subject": {"kind": "User", "name": "operator"}},
                     tmp, playbook=HARDENING / "rbac.yml")).assert_ok()
    operator = {"istio_aws_egress_kubeconfig": str(user_kubeconfig(cluster, "operator", tmp / "operator.kubeconfig")),
                "istio_aws_egress_context": "hardening"}
    return namespace, {"admin": admin, "operator": operator}


def declared(namespace: str, name: str, services: list[str]) -> dict:
    return {"istio_aws_egress_name": name, "istio_aws_egress_namespace": namespace, "istio_aws_egress_services": services,
            "istio_aws_egress_regions": REGIONS, "istio_aws_egress_lock_timeout": 120}


def entries(name: str, services: list[str]) -> list[str]:
    return sorted(f"aws-{name}-{service}-{region}" for service in services for region in REGIONS)


TRIALS = {  # what the admin and the operator declare for the same egress set, started together
    "different-sets": (["sqs", "sns", "kms"], ["sqs", "sts"]),
    "different-sets-reversed": (["sqs", "sts"], ["sqs", "sns", "kms"]),
    "same-set": (["sqs", "sns", "logs"], ["sqs", "sns", "logs"]),
    "disjoint-sets": (["ssm", "lambda"], ["events", "secretsmanager", "ecr"]),
}


@pytest.mark.parametrize("trial", sorted(TRIALS))
def test_runs_started_together_never_interleave(cluster, shared, tmp_path, trial):
    namespace, users = shared
    name = unique_name("race")
    services = dict(zip(("admin", "operator"), TRIALS[trial]))
    cluster.audit.mark()
    runs = {user: Background(role_command({**declared(namespace, name, services[user]), **users[user]}, tmp_path), tmp_path)
            for user in ("admin", "operator")}
    results = {user: background.wait() for user, background in runs.items()}
    for result in results.values():
        result.assert_ok()

    # Every write (the lease's and the resources'), in the order the API server made them: one run's, then the other's.
    events = [e for e in cluster.audit.writes() if e["objectRef"]["resource"] != "selfsubjectaccessreviews"]
    order = [user for user, unused in itertools.groupby(e["user"]["username"] for e in events)]
    assert sorted(order) == ["admin", "operator"], f"writes interleaved: {order}"
    first, second = order
    # The second run reviewed its rights while the first held the lease, so it waited for it; then it planned again.
    release = max(i for i, e in enumerate(cluster.audit.writes()) if e["user"]["username"] == first and is_rollout_bookkeeping(e))
    assert any(e["user"]["username"] == second and e["objectRef"]["resource"] == "selfsubjectaccessreviews"
               for e in cluster.audit.writes()[:release])
    assert results[second].said("changed while this run waited")

    # The cluster holds exactly what the second run declared, and the lease is free.
    assert sorted(labelled(cluster, "serviceentries", namespace, name)) == entries(name, services[second])
    assert lease_holder(cluster, namespace) == ""


def test_a_waiting_run_gives_up_naming_the_holder(cluster, shared, tmp_path):
    namespace = shared[0]
    held = run(role_command({"lease_namespace": namespace, "lease_holder": "deploy@bastion-1/feedbeef", "lease_duration": 60,
                             "kubeconfig": cluster.kubeconfig, "context": cluster.context, "result_file": str(tmp_path / "lease.json")},
                            tmp_path, playbook=HARDENING.parent / "rollout_lease" / "lease.yml"))
    assert held.returncode == 0 and lease_holder(cluster, namespace) == "deploy@bastion-1/feedbeef"
    name = unique_name("wait")
    try:
        cluster.audit.mark()
        failed = run_role(cluster, {**declared(namespace, name, ["sqs"]), "istio_aws_egress_lock_timeout": 2}, tmp_path)
        assert failed.returncode != 0
        assert failed.said(f"taking the rollout lease on {cluster.context} failed: rollout lease {namespace}/meshops-aws-egress "
                           "is held by deploy@bastion-1/feedbeef (since ")
        assert failed.said("gave up after waiting 2s")
        assert {(w["verb"], w["objectRef"]["resource"]) for w in cluster.audit.writes()} == {("create", "selfsubjectaccessreviews")}
        assert labelled(cluster, "serviceentries", namespace, name) == []
        assert lease_holder(cluster, namespace) == "deploy@bastion-1/feedbeef"
    finally:
        cluster.kubectl("patch", "lease", "meshops-aws-egress", "-n", namespace, "--type=merge", "-p", '{"spec":{"holderIdentity":null}}')


def test_runs_that_write_nothing_take_no_lease(cluster, shared, tmp_path):
    namespace = shared[0]
    name = unique_name("quiet")
    run_role(cluster, declared(namespace, name, ["sqs"]), tmp_path).assert_ok()
    changed = declared(namespace, name, ["sqs", "sns"])
    cluster.audit.mark()
    assert run_role(cluster, declared(namespace, name, ["sqs"]), tmp_path).assert_ok().changed == 0
    assert run_role(cluster, changed, tmp_path, check=True).assert_ok().changed == 1
    # Check mode set on the role's tasks, not by --check: a plan playbook's way.
    planned = run(role_command({**changed, "istio_aws_egress_kubeconfig": cluster.kubeconfig, "istio_aws_egress_context": cluster.context},
                               tmp_path, playbook=HARDENING / "check_mode.yml")).assert_ok()
    assert planned.said("2 to create, 0 to update, 0 to adopt, 0 to prune, 2 unchanged")
    assert cluster.audit.writes() == []  # not a review, not a lease, not a dry run
    assert labelled(cluster, "serviceentries", namespace, name) == [f"aws-{name}-sqs-{region}" for region in sorted(REGIONS)]


def test_the_lease_is_held_around_the_writes_and_renewed_between_apply_and_prune(cluster, shared, tmp_path):
    namespace = shared[0]
    name = unique_name("renew")
    run_role(cluster, declared(namespace, name, ["sqs", "sns"]), tmp_path).assert_ok()
    cluster.audit.mark()
    run_role(cluster, declared(namespace, name, ["sqs", "kms"]), tmp_path).assert_ok()
    written = [e for e in cluster.audit.writes() if e["objectRef"]["resource"] != "selfsubjectaccessreviews"]
    shape = [(e["verb"], e["objectRef"]["resource"]) for e in written]
    created, pruned = len(REGIONS), len(REGIONS)
    # Taken, kms applied, renewed, sns pruned, released: nothing is written outside the lease.
    assert shape == ([("update", "leases")] + [("patch", "serviceentries")] * created + [("update", "leases")]
                     + [("delete", "serviceentries")] * pruned + [("update", "leases")])
