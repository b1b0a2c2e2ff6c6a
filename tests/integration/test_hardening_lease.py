# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rollout at a time: runs started together never interleave their writes, a run that cannot get the
lease gives up naming its holder, and runs that write nothing take no lease.

On a cluster of its own: the second user of the concurrent runs is bound to the role's RBAC there.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import json

import pytest

import hardening_helpers
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import data_version
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import endpoint_data_annotations
from conftest import localcluster
from hardening_helpers import HARDENING, Background, labelled, lease_holder, scratch_clusters, user_kubeconfig, wait_for
from role_helpers import fresh_namespace, role_command, run, run_role, unique_name

pytestmark = pytest.mark.integration

REGIONS = ["eu-west-1", "eu-central-1"]


@pytest.fixture(scope="module")
def cluster():
    with scratch_clusters("lease") as clusters:
        yield clusters[0]


@pytest.fixture()
def shared(cluster, tmp_path_factory):
    """A namespace of the test's own (two egress sets declaring one host there would be refused), and the
    operator bound to the role's RBAC there."""
    tmp = tmp_path_factory.mktemp("lease")
    namespace = fresh_namespace(cluster, "lease")
    admin = {"istio_aws_egress_kubeconfig": cluster.kubeconfig, "istio_aws_egress_context": cluster.context}
    run(
        role_command(
            {
                **admin,
                "istio_aws_egress_namespace": namespace,
                "istio_aws_egress_rbac_subject": {"kind": "User", "name": "operator"},
            },
            tmp,
            playbook=HARDENING / "rbac.yml",
        )
    ).assert_ok()
    operator = {
        "istio_aws_egress_kubeconfig": str(user_kubeconfig(cluster, "operator", tmp / "operator.kubeconfig")),
        "istio_aws_egress_context": "hardening",
    }
    return namespace, {"admin": admin, "operator": operator}


declared = functools.partial(hardening_helpers.declared, regions=REGIONS, istio_aws_egress_lock_timeout=120)
entries = functools.partial(hardening_helpers.entries, regions=REGIONS)


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
    runs = {
        user: Background(role_command({**declared(namespace, name, services[user]), **users[user]}, tmp_path), tmp_path)
        for user in ("admin", "operator")
    }
    results = {user: background.wait() for user, background in runs.items()}
    for result in results.values():
        result.assert_ok()

    # Every write (the lease's and the resources'), in the order the API server made them: one run's, then the other's.
    # A write the API server refused changed nothing: the loser of a race for the lease tries once, on the version
    # it planned with, and gets 409 Conflict.
    events = [
        e
        for e in cluster.audit.writes()
        if e["objectRef"]["resource"] != "selfsubjectaccessreviews" and e["responseStatus"]["code"] < 300
    ]
    order = [user for user, unused in itertools.groupby(e["user"]["username"] for e in events)]
    assert sorted(order) == ["admin", "operator"], f"writes interleaved: {order}"
    second = order[1]
    # Whether the second run waited for the lease depends on the race, and so does what it planned before; a run
    # that waited plans again from what the holder left: test_a_run_that_waited_plans_again_from_what_the_holder_left.
    # Here, however the race went: the cluster holds exactly what the second run declared, and the lease is free.
    assert sorted(labelled(cluster, "serviceentries", namespace, name)) == entries(name, services[second])
    assert lease_holder(cluster, namespace) == ""


def hold(cluster, namespace: str, holder: str, tmp_path) -> None:
    held = run(
        role_command(
            {
                "lease_namespace": namespace,
                "lease_holder": holder,
                "lease_duration": 60,
                "kubeconfig": cluster.kubeconfig,
                "context": cluster.context,
                "result_file": str(tmp_path / "lease.json"),
            },
            tmp_path,
            playbook=HARDENING.parent / "rollout_lease" / "lease.yml",
        )
    )
    assert held.returncode == 0 and lease_holder(cluster, namespace) == holder


def test_a_run_that_waited_plans_again_from_what_the_holder_left(cluster, shared, tmp_path):
    namespace, users = shared
    name = unique_name("replan")
    hold(cluster, namespace, "deploy@bastion-1/0ddba11", tmp_path)
    cluster.audit.mark()
    waiting = Background(
        role_command({**declared(namespace, name, ["sqs", "sns"]), **users["admin"]}, tmp_path), tmp_path
    )
    # It planned two creates per region and waits for the lease; meanwhile the holder writes one of them.
    wait_for(
        lambda: any(e["objectRef"]["resource"] == "selfsubjectaccessreviews" for e in cluster.audit.writes()),
        timeout=60,
        what="the waiting run's access review",
    )
    cluster.kubectl(
        "apply",
        "--server-side",
        "--field-manager=meshops.aws_egress",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "networking.istio.io/v1",
                        "kind": "ServiceEntry",
                        "metadata": {
                            "name": f"aws-{name}-sqs-{region}",
                            "namespace": namespace,
                            "labels": {
                                "app.kubernetes.io/managed-by": "meshops.aws_egress",
                                "meshops.io/egress-set": name,
                            },
                            "annotations": {
                                "meshops.io/aws-services": "sqs",
                                "meshops.io/aws-regions": region,
                                **endpoint_data_annotations(data_version.current()),
                            },
                        },
                        "spec": {
                            "hosts": [f"sqs.{region}.amazonaws.com"],
                            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
                            "location": "MESH_EXTERNAL",
                            "resolution": "DNS",
                            "exportTo": ["*"],
                        },
                    }
                    for region in REGIONS
                ],
            }
        ),
    )
    cluster.kubectl(
        "patch",
        "lease",
        "meshops-aws-egress",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"spec":{"holderIdentity":null}}',
    )
    result = waiting.wait()
    result.assert_ok()
    assert result.said("changed while this run waited")
    assert result.said("2 to create, 0 to update, 0 to adopt, 0 to prune, 2 unchanged")
    assert sorted(labelled(cluster, "serviceentries", namespace, name)) == entries(name, ["sqs", "sns"])


def test_a_waiting_run_gives_up_naming_the_holder(cluster, shared, tmp_path):
    namespace = shared[0]
    hold(cluster, namespace, "deploy@bastion-1/feedbeef", tmp_path)
    name = unique_name("wait")
    try:
        cluster.audit.mark()
        failed = run_role(cluster, {**declared(namespace, name, ["sqs"]), "istio_aws_egress_lock_timeout": 2}, tmp_path)
        assert failed.returncode != 0
        assert failed.said(
            f"taking the rollout lease on {cluster.context} failed: rollout lease {namespace}/meshops-aws-egress "
            "is held by deploy@bastion-1/feedbeef (since "
        )
        assert failed.said("gave up after waiting 2s")
        assert {(w["verb"], w["objectRef"]["resource"]) for w in cluster.audit.writes()} == {
            ("create", "selfsubjectaccessreviews")
        }
        assert labelled(cluster, "serviceentries", namespace, name) == []
        assert lease_holder(cluster, namespace) == "deploy@bastion-1/feedbeef"
    finally:
        cluster.kubectl(
            "patch",
            "lease",
            "meshops-aws-egress",
            "-n",
            namespace,
            "--type=merge",
            "-p",
            '{"spec":{"holderIdentity":null}}',
        )


def test_runs_that_write_nothing_take_no_lease(cluster, shared, tmp_path):
    namespace = shared[0]
    name = unique_name("quiet")
    run_role(cluster, declared(namespace, name, ["sqs"]), tmp_path).assert_ok()
    changed = declared(namespace, name, ["sqs", "sns"])
    cluster.audit.mark()
    assert run_role(cluster, declared(namespace, name, ["sqs"]), tmp_path).assert_ok().changed == 0
    assert run_role(cluster, changed, tmp_path, check=True).assert_ok().changed == 1
    # Check mode set on the role's tasks, not by --check: a plan playbook's way.
    planned = run(
        role_command(
            {**changed, "istio_aws_egress_kubeconfig": cluster.kubeconfig, "istio_aws_egress_context": cluster.context},
            tmp_path,
            playbook=HARDENING / "check_mode.yml",
        )
    ).assert_ok()
    assert planned.said("2 to create, 0 to update, 0 to adopt, 0 to prune, 2 unchanged")
    assert cluster.audit.writes() == []  # not a review, not a lease, not a dry run
    assert labelled(cluster, "serviceentries", namespace, name) == [
        f"aws-{name}-sqs-{region}" for region in sorted(REGIONS)
    ]


def test_the_lease_is_held_around_the_writes_and_renewed_only_when_half_of_it_is_gone(cluster, shared, tmp_path):
    namespace = shared[0]
    name = unique_name("renew")
    created, pruned = len(REGIONS), len(REGIONS)

    def rollout(services, **extra):
        cluster.audit.mark()
        run_role(cluster, {**declared(namespace, name, services), **extra}, tmp_path).assert_ok()
        return [e for e in cluster.audit.writes() if e["objectRef"]["resource"] != "selfsubjectaccessreviews"]

    def verbs(events):
        return [(e["verb"], e["objectRef"]["resource"]) for e in events]

    rollout(["sqs", "sns"])
    # Taken, kms applied, sns pruned, released: nothing is written outside the lease, and a lease of two
    # minutes is certainly still ours throughout.
    assert verbs(rollout(["sqs", "kms"])) == (
        [("update", "leases")]
        + [("patch", "serviceentries")] * created
        + [("delete", "serviceentries")] * pruned
        + [("update", "leases")]
    )
    # A lease of one second is half gone during the write when each of its requests takes 300 ms through the
    # cluster's proxy: renewed while the run writes, each time once half of it is gone, and released at the end.
    assert created >= 2
    with localcluster.Toxics(cluster.name).latency(300):
        events = rollout(
            ["sqs", "sns"], istio_aws_egress_lock_duration=1, istio_aws_egress_context=cluster.proxied_context
        )
    written = verbs(events)
    assert written[0] == written[-1] == ("update", "leases")
    assert [w for w in written if w[1] != "leases"] == [("patch", "serviceentries")] * created + [
        ("delete", "serviceentries")
    ] * pruned
    leases = [
        datetime.datetime.fromisoformat(e["requestReceivedTimestamp"].replace("Z", "+00:00"))
        for e in events
        if e["objectRef"]["resource"] == "leases"
    ][:-1]
    assert len(leases) >= 2, written  # taken, and renewed at least once
    # Each renewal asked for once half of the lease was gone since the last (the proxy delays each request alike).
    assert all((later - earlier).total_seconds() >= 0.45 for earlier, later in zip(leases, leases[1:])), leases
