# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout as AWX and Automation Platform run it: through ansible-runner, from the installed artifact, over an
inventory of two local clusters.

What they show of a job comes from runner's events: each cluster's result in the runner_on_ok and runner_on_failed
events of the egress_set task, and the run's summary (set_stats) as artifact_data of playbook_on_stats. A job that is
cancelled mid-apply must leave what the next run converges from.
"""

from __future__ import annotations

import ansible_runner
import pytest

from runbook_helpers import Runbook, apply, service_entry
from test_artifact import user_env

# Fixtures: the artifact built from the checkout, and a collections path holding it alone.
from test_artifact import artifact, installed  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.integration

APPLY_TASK = "Plan, then apply and prune under the rollout lease"


class Job:
    """One ansible-runner run of a playbook of the installed collection, and its events."""

    def __init__(self, book: Runbook, installed, playbook: str, cancel_when=None, **extravars):  # noqa: F811
        self.events = []
        self.cancel_when = cancel_when
        env = user_env(installed)  # our venv first on PATH: its ansible-playbook
        (book.tmp_path / "runner").mkdir(exist_ok=True)
        self.runner = ansible_runner.run(
            private_data_dir=str(book.tmp_path / "runner"),
            playbook=f"meshops.aws_egress.{playbook}",
            inventory=str(book.inventory),
            extravars=extravars or None,
            envvars=env,
            quiet=True,
            settings={"pexpect_timeout": 0.1, "suppress_ansible_output": True},
            event_handler=self.events.append,
            cancel_callback=self._cancel,
        )

    def _cancel(self) -> bool:
        return bool(self.cancel_when and any(self.cancel_when(event) for event in self.events))

    @property
    def status(self) -> str:
        return self.runner.status

    def results(self, kind: str) -> dict:
        """host -> the egress_set result of its first `kind` event (runner_on_ok, runner_on_failed): the rollout's, not
        the gate's, which re-reads the cluster after it."""
        found = {}
        for e in self.events:
            if e["event"] == kind and e["event_data"].get("task") == APPLY_TASK:
                found.setdefault(e["event_data"]["host"], e["event_data"]["res"])
        return found

    @property
    def stats(self) -> dict:
        [stats] = [e for e in self.events if e["event"] == "playbook_on_stats"]
        return stats["event_data"]

    @property
    def summary(self) -> dict:
        return self.stats["artifact_data"]

    def changed(self) -> dict:
        """changed= per host, as the PLAY RECAP counts it (hosts with none left out)."""
        return self.stats["changed"]


def test_site_and_plan_through_ansible_runner(clusters, installed, tmp_path):  # noqa: F811  pylint: disable=redefined-outer-name
    book = Runbook(clusters, tmp_path, istio_aws_egress_services=["sqs", "sts"])
    region = {host: book.hosts.hosts[host]["aws_region"] for host in clusters}
    # Another owner's object where local-b's SQS entry goes: local-b refuses, local-a (the canary) is rolled out.
    theirs = service_entry(
        book.namespace, f"aws-{book.name}-sqs-{region['local-b']}", [f"sqs.{region['local-b']}.amazonaws.com"]
    )
    apply(clusters["local-b"], theirs)

    first = Job(book, installed, "site")
    assert first.status == "failed"
    ok, failed = first.results("runner_on_ok"), first.results("runner_on_failed")
    count = len(book.entries("local-a"))  # SQS, STS and the instance metadata endpoint, on each cluster
    assert (
        set(ok) == {"local-a"} and ok["local-a"]["counts"]["create"] == count == 3 and ok["local-a"]["changed"] is True
    )
    assert set(failed) == {"local-b"} and "nothing was written" in failed["local-b"]["msg"]
    site = first.summary["meshops_aws_egress_site"]
    assert site["failed"] == ["local-b"] and site["check_mode"] is False
    assert site["clusters"]["local-a"] == f"local-a: {count} created, 0 changed, 0 pruned, 0 unchanged"
    assert site["clusters"]["local-b"].startswith(f'local-b: failed at "{APPLY_TASK}"')

    clusters["local-b"].kubectl(
        "delete", "serviceentries.networking.istio.io", theirs["metadata"]["name"], "-n", book.namespace
    )
    book.mark()
    plan = Job(book, installed, "plan", plan_dir=str(tmp_path / "plan"))
    assert plan.status == "successful" and book.writes() == dict.fromkeys(clusters, [])
    assert plan.results("runner_on_ok")["local-b"]["counts"]["create"] == count
    assert plan.summary == {
        "meshops_aws_egress_plan": {
            "plan_dir": str(tmp_path / "plan"),
            "changed": ["local-b"],
            "refused": [],
            "clusters": {
                "local-a": f"0 to create, 0 to update, 0 to adopt, 0 to prune, {count} unchanged",
                "local-b": f"{count} to create, 0 to update, 0 to adopt, 0 to prune, 0 unchanged",
            },
        }
    }

    # Cancelled once local-a's apply has started: the job stops; the next run converges, and the one after writes nothing.
    book.hosts.settings["istio_aws_egress_services"] = ["sqs", "sts", "sns", "kms", "s3", "dynamodb", "ecr", "logs"]
    book.hosts.write()
    cancelled = Job(
        book,
        installed,
        "site",
        cancel_when=lambda e: e["event"] == "runner_on_start" and e["event_data"].get("task") == APPLY_TASK,
    )
    assert cancelled.status == "canceled"
    assert not cancelled.results("runner_on_ok").get("local-b")
    converged = Job(book, installed, "site")
    assert converged.status == "successful" and sum(converged.changed().values()) > 0
    assert converged.summary["meshops_aws_egress_site"]["result"] == "Rollout done, every cluster verified"
    book.mark()
    again = Job(book, installed, "site")
    assert again.status == "successful" and sum(again.changed().values()) == 0
    assert book.writes() == dict.fromkeys(clusters, [])
    for host in clusters:
        assert len(book.entries(host)) >= 8
