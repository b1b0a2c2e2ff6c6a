# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml and the runbooks over three real local clusters.

Each test uses an egress set and namespace of its own, over an inventory like
inventories/local (its group_vars, copied) with a third cluster, local-c.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import ANSIBLE_PLAYBOOK, ROOT, LocalCluster, localcluster, run_playbook
from hardening_helpers import Background, labelled, wait_for

pytestmark = pytest.mark.integration

CLUSTERS = {"local-a": "us-east-1", "local-b": "eu-west-1", "local-c": "ap-southeast-2"}


@pytest.fixture(scope="module")
def clusters(cluster_names):
    """local-a, local-b and a third cluster started for these tests."""
    if not cluster_names:
        pytest.skip("needs three local clusters: MESHOPS_TEST_KUBECONFIG points at an existing cluster")
    localcluster.start(list(CLUSTERS))
    yield {name: LocalCluster(name) for name in CLUSTERS}
    if "local-c" not in cluster_names:
        localcluster.down(["local-c"])


class Rollout:
    """One egress set in one namespace, over an inventory of some of the clusters."""

    def __init__(self, clusters: dict, tmp_path: Path):
        self.clusters = clusters
        self.tmp_path = tmp_path
        self.name = f"ro-{uuid.uuid4().hex[:6]}"
        for cluster in clusters.values():
            cluster.kubectl("create", "namespace", self.name)
        self.extra = {"istio_aws_egress_name": self.name, "istio_aws_egress_namespace": self.name}

    def inventory(self, hosts=tuple(CLUSTERS), proxied=()) -> Path:
        """The hosts, each with its cluster's context (its `-proxied` context for those in `proxied`)."""
        inventory = self.tmp_path / f"inventory-{'-'.join(hosts)}-{'-'.join(proxied)}"
        if not inventory.exists():
            shutil.copytree(ROOT / "inventories" / "local" / "group_vars", inventory / "group_vars")
            local = yaml.safe_load((ROOT / "inventories" / "local" / "hosts.yml").read_text())["clusters"]["vars"]
            local["kubeconfig"] = str(localcluster.KUBECONFIG)
            (inventory / "hosts.yml").write_text(
                yaml.safe_dump(
                    {
                        "clusters": {
                            "hosts": {
                                h: {"context": f"{h}-proxied" if h in proxied else h, "aws_region": CLUSTERS[h]}
                                for h in hosts
                            },
                            "vars": local,
                        }
                    }
                )
            )
        return inventory

    def command(self, playbook: str, *args: str, hosts=tuple(CLUSTERS), proxied=(), **extra) -> list[str]:
        return [
            str(ANSIBLE_PLAYBOOK),
            str(ROOT / "playbooks" / playbook),
            "-i",
            str(self.inventory(hosts, proxied)),
            *args,
            "--extra-vars",
            json.dumps({**self.extra, **extra}),
        ]

    def run(self, playbook: str, *args: str, hosts=tuple(CLUSTERS), **extra):
        return run_playbook(
            ROOT / "playbooks" / playbook, "-i", str(self.inventory(hosts)), *args, extra_vars={**self.extra, **extra}
        )

    def mark(self):
        for cluster in self.clusters.values():
            cluster.audit.mark()

    def writes(self) -> dict:
        """Write requests per cluster since the last mark, as 'verb resource namespace/name by user'."""
        return {
            name: [
                f"{w['verb']} {w['objectRef'].get('resource')} {w['objectRef'].get('namespace')}/"
                f"{w['objectRef'].get('name')} by {w['user']['username']}"
                for w in c.audit.writes()
            ]
            for name, c in self.clusters.items()
        }

    def entries(self, cluster: str) -> list[str]:
        """Names of this egress set's ServiceEntries on `cluster`."""
        return labelled(self.clusters[cluster], "serviceentries", self.name, self.name)


@pytest.fixture()
def rollout(clusters, tmp_path):
    return Rollout(clusters, tmp_path)


def recap(result) -> dict:
    """PLAY RECAP counters per host."""
    return {
        host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
        for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", result.stdout, re.MULTILINE)
    }


def assert_ok(result):
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_site_converges_every_cluster_then_a_rerun_changes_nothing(rollout):
    first = rollout.run("site.yml")
    assert_ok(first)
    # A canary, then batches of 25% (one cluster of three): three verified batches.
    assert first.stdout.count("Batch done and verified:") == 3
    assert "Rollout done, every cluster verified:" in first.stdout
    for name in CLUSTERS:
        entries = rollout.entries(name)
        assert entries, f"nothing was applied to {name}"
        region = CLUSTERS[name]
        assert f"aws-{rollout.name}-dynamodb-{region}" in entries
        assert f"aws-{rollout.name}-credentials-imds" in entries
        assert f"{name} holds exactly the declared egress ({len(entries)} resources)" in first.stdout

    rollout.mark()
    second = rollout.run("site.yml")
    assert_ok(second)
    assert {host: counters["changed"] for host, counters in recap(second).items()} == dict.fromkeys(CLUSTERS, 0)
    assert rollout.writes() == dict.fromkeys(CLUSTERS, [])
    # The plans read every cluster exactly as declared; the gate reads again only where the rollout wrote.
    assert "holds exactly the declared egress" not in second.stdout
    assert second.stdout.count("Batch done and verified:") == 3


def test_a_cluster_that_is_down_stops_the_rollout_before_any_write(rollout, clusters):
    localcluster.stop(["local-b"])
    try:
        rollout.mark()
        stopped = rollout.run("site.yml")
        assert stopped.returncode != 0
        assert re.search(r"^fatal: \[local-b\]", stopped.stdout, re.MULTILINE), stopped.stdout[-4000:]
        # Every host is checked (its cluster identified) before the first write: not even the canary is written.
        assert rollout.writes() == {"local-a": [], "local-b": [], "local-c": []}
        assert "Rollout done" not in stopped.stdout
    finally:
        localcluster.start(["local-b"])


def test_a_cluster_that_goes_down_stops_the_rollout_at_its_batch(rollout, clusters):
    # local-b through its proxy, whose connections are reset once the canary is written: after every host was checked.
    rollout.mark()
    with localcluster.Toxics("local-b") as local_b:
        site = Background(rollout.command("site.yml", proxied=("local-b",)), rollout.tmp_path)
        wait_for(lambda: rollout.writes()["local-a"], timeout=120, interval=0.05, what="the canary's first write")
        local_b.reset_peer()
        stopped = site.wait()
    assert stopped.returncode != 0
    assert re.search(r"^fatal: \[local-b\]", stopped.stdout, re.MULTILINE), stopped.stdout[-4000:]
    writes = rollout.writes()
    assert rollout.entries("local-a"), "the canary batch ran before local-b's"
    assert writes["local-c"] == [], "the batch after local-b's must stay untouched"
    assert not rollout.entries("local-c")
    assert "Rollout done" not in stopped.stdout

    rollout.mark()
    resumed = rollout.run("site.yml")
    assert_ok(resumed)
    assert recap(resumed)["local-a"]["changed"] == 0
    assert rollout.writes()["local-a"] == []
    for name in CLUSTERS:
        assert rollout.entries(name)


def test_plan_writes_nothing_and_reports_the_difference(rollout, tmp_path):
    assert_ok(rollout.run("site.yml"))
    services = yaml.safe_load((ROOT / "inventories/local/group_vars/clusters.yml").read_text())[
        "istio_aws_egress_services"
    ]
    rollout.mark()
    plan_dir = tmp_path / "plan"
    result = rollout.run("plan.yml", plan_dir=str(plan_dir), istio_aws_egress_services=services[1:] + ["sns"])
    assert_ok(result)
    assert rollout.writes() == dict.fromkeys(CLUSTERS, [])

    for name, region in CLUSTERS.items():
        report = json.loads((plan_dir / f"{name}.json").read_text())
        assert report["cluster"] == name and report["changed"] is True
        assert report["counts"]["create"] >= 1 and report["counts"]["prune"] >= 1
        assert f"+ create ServiceEntry {rollout.name}/aws-{rollout.name}-sns-{region}" in report["changes"]
        assert f"- prune ServiceEntry {rollout.name}/aws-{rollout.name}-{services[0]}-{region}" in report["changes"]
        markdown = (plan_dir / f"{name}.md").read_text()
        assert f"+ create ServiceEntry {rollout.name}/aws-{rollout.name}-sns-{region}" in markdown
    index = (plan_dir / "README.md").read_text()
    assert all(f"[{name}]({name}.md)" in index for name in CLUSTERS)


def test_verify_finds_an_edit_and_a_deletion_made_out_of_band(rollout, clusters):
    assert_ok(rollout.run("site.yml"))
    clean = rollout.run("verify.yml")
    assert_ok(clean)

    deleted = f"aws-{rollout.name}-sqs-us-east-1"
    clusters["local-a"].kubectl("delete", "serviceentry", deleted, "-n", rollout.name)
    edited = f"aws-{rollout.name}-sts-ap-southeast-2"
    clusters["local-c"].kubectl(
        "patch",
        "serviceentry",
        edited,
        "-n",
        rollout.name,
        "--type=merge",
        "-p",
        json.dumps({"spec": {"hosts": ["sts.example.com"]}}),
    )
    rollout.mark()
    drift = rollout.run("verify.yml")
    assert drift.returncode != 0
    assert rollout.writes() == dict.fromkeys(CLUSTERS, [])
    text = " ".join(drift.stdout.split())
    assert f"drift on local-a (egress set {rollout.name})" in text
    assert f"+ create ServiceEntry {rollout.name}/{deleted}" in text
    assert f"drift on local-c (egress set {rollout.name})" in text
    assert f"~ update ServiceEntry {rollout.name}/{edited}" in text
    assert recap(drift)["local-b"]["failed"] == 0


def test_limit_and_a_new_cluster_change_only_that_cluster(rollout):
    assert_ok(rollout.run("site.yml", hosts=("local-a", "local-b")))
    assert not rollout.entries("local-c")

    rollout.mark()
    assert_ok(rollout.run("site.yml"))
    writes = rollout.writes()
    assert writes["local-a"] == [] and writes["local-b"] == []
    assert writes["local-c"] and rollout.entries("local-c")

    rollout.mark()
    limited = rollout.run("site.yml", "--limit", "local-b", istio_aws_egress_credential_sources=["irsa"])
    assert_ok(limited)
    writes = rollout.writes()
    assert writes["local-a"] == [] and writes["local-c"] == []
    assert [w for w in writes["local-b"] if " serviceentries " in w] == [
        f"delete serviceentries {rollout.name}/aws-{rollout.name}-credentials-imds by admin"
    ]
    assert f"aws-{rollout.name}-credentials-imds" not in rollout.entries("local-b")
    assert f"aws-{rollout.name}-credentials-imds" in rollout.entries("local-a")


def test_render_offline_writes_manifests_per_cluster_and_contacts_none(rollout, tmp_path):
    rollout.mark()
    render_dir = tmp_path / "rendered"
    # A kubeconfig that does not exist: any contact with a cluster would fail the run.
    assert_ok(
        rollout.run(
            "render.yml", render_dir=str(render_dir), kubeconfig=str(tmp_path / "no-kubeconfig"), render_offline=True
        )
    )
    assert rollout.writes() == dict.fromkeys(CLUSTERS, [])
    for name, region in CLUSTERS.items():
        files = {p.name for p in (render_dir / name).iterdir()}
        assert "kustomization.yaml" in files
        assert f"serviceentry-{rollout.name}-aws-{rollout.name}-dynamodb-{region}.yaml" in files
    assert not rollout.entries("local-a")


def test_teardown_needs_confirmation_then_removes_everything(rollout):
    assert_ok(rollout.run("site.yml"))
    rollout.mark()
    refused = rollout.run("teardown.yml")
    assert refused.returncode != 0
    assert f"to confirm, run again with -e teardown_confirm={rollout.name}" in " ".join(refused.stdout.split())
    assert rollout.writes() == dict.fromkeys(CLUSTERS, [])

    assert_ok(rollout.run("teardown.yml", teardown_confirm=rollout.name))
    for name in CLUSTERS:
        assert rollout.entries(name) == []
    rollout.mark()
    assert_ok(rollout.run("teardown.yml", teardown_confirm=rollout.name))
    assert rollout.writes() == dict.fromkeys(CLUSTERS, [])
