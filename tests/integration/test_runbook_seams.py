# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook at its seams: what an operator meets running the documented commands over an inventory of two real
local clusters that already hold other teams' objects.

Each test has an egress set and a namespace of its own (runbook_helpers.Runbook) on local-a (us-east-1) and local-b
(eu-west-1), and checks what the commands print, what they exit with, and what every API server recorded.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
from pathlib import Path

import pytest

from conftest import localcluster
from hardening_helpers import Background, lease_holder, wait_for
from role_helpers import fresh_namespace
from runbook_helpers import (
    Runbook,
    apply,
    beside_other_teams,
    changed,
    namespace_everywhere,
    service_entry,
    sidecar,
    snapshot,
    failed_saying,
    succeeded,
)

pytestmark = pytest.mark.integration

LOCK = "meshops-aws-egress"


@pytest.fixture()
def runbook(clusters, tmp_path):
    return beside_other_teams(clusters, tmp_path)


def nothing_written(book: Runbook) -> bool:
    return book.writes() == dict.fromkeys(book.clusters, [])


# --- site.yml --check --diff ---------------------------------------------------------------------


def test_site_check_diff_prints_the_plan_once_and_exits_0(runbook):
    # The gate re-verified in check mode and counted the planned changes as drift: exit 2, and the plan printed twice.
    runbook.mark()
    planned = succeeded(runbook.run("site", "--check", "--diff"))
    for host in runbook.clusters:
        assert (
            planned.stdout.count(
                f"Egress set {runbook.name} on {host}, networking.istio.io/v1 (check mode: nothing is written)"
            )
            == 1
        )
        assert planned.said(f"+ create ServiceEntry {runbook.namespace}/aws-{runbook.name}-sqs-")
    assert "drift" not in planned.stdout
    assert planned.said("Plan done (check mode: nothing was written):")
    assert nothing_written(runbook)


# --- SIGINT, SIGTERM and SIGKILL mid-apply ----------------------------------------------------------


def through_the_proxy(clusters, tmp_path, **settings) -> Runbook:
    """An egress set on local-a alone, reached through its proxy, where the test's latency acts.

    One write at a time: concurrent runs (the default, 8) write the ten entries at once, in about one round trip of
    each run, so the apply could end between its first write and the signal, and "midway" would not be tested.
    """
    return Runbook(
        {"local-a": clusters["local-a"]},
        tmp_path,
        {"local-a": {"context": "local-a-proxied", "aws_region": "us-east-1"}},
        **{"istio_aws_egress_apply_concurrency": 1, **settings},
    )


def site_until_it_applies(book: Runbook, tmp_path: Path) -> Background:
    """site.yml in the background, once its apply has written the first ServiceEntry."""
    cluster = book.clusters["local-a"]
    book.mark()
    site = Background(book.command("site"), tmp_path)
    wait_for(
        lambda: any(
            w["verb"] == "patch" and w["objectRef"].get("resource") == "serviceentries" for w in cluster.audit.writes()
        ),
        timeout=120,
        interval=0.05,
        what="the apply's first request",
    )
    return site


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_process_group_mid_apply_stops_it_and_releases_the_lease(clusters, toxics, tmp_path, signum):
    book = through_the_proxy(clusters, tmp_path)
    cluster = clusters["local-a"]
    toxics.latency(300)  # a request and its answer take 300 ms longer: ten entries take seconds to apply
    site = site_until_it_applies(book, tmp_path)
    os.killpg(site.process.pid, signum)  # what Ctrl-C does (SIGINT), or a supervisor stopping the job (SIGTERM)
    assert site.wait(timeout=120).returncode != 0
    # The worker that holds the lease releases it, and may outlive ansible-playbook (SIGTERM ends that at once).
    wait_for(
        lambda: lease_holder(cluster, book.namespace) == "",
        timeout=30,
        interval=0.2,
        what="the release of the rollout lease",
    )
    assert 0 < len(book.entries("local-a")) < 10, "the apply was stopped midway"
    assert not any(w.startswith("delete ") for w in book.writes()["local-a"]), "nothing is pruned after the signal"
    toxics.clear()
    rerun = succeeded(book.run("site"))
    assert not rerun.said("waiting up to")
    assert len(book.entries("local-a")) == 10


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(children.get(tree[-1], []))
    return tree


def test_after_sigkill_the_next_run_says_who_holds_the_lease_since_when_and_until_when(clusters, toxics, tmp_path):
    book = through_the_proxy(clusters, tmp_path)
    cluster = clusters["local-a"]
    toxics.latency(300)
    site = site_until_it_applies(book, tmp_path)
    # A cancelled job's container goes with everything in it: ansible-playbook, its workers (in sessions of their own)
    # and the module they run. No handler runs.
    for pid in process_tree(site.process.pid):
        os.kill(pid, signal.SIGKILL)
    site.wait(timeout=60)
    lease = json.loads(cluster.kubectl("get", "lease", LOCK, "-n", book.namespace, "-o", "json").stdout)["spec"]
    assert lease["holderIdentity"], "the killed run keeps the lease"
    renewed = datetime.datetime.fromisoformat(lease["renewTime"].replace("Z", "+00:00"))
    expires = (renewed + datetime.timedelta(seconds=lease["leaseDurationSeconds"])).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    toxics.clear()
    # The lease lasts two minutes: the next run waits for it, says so, and (told to wait 3 s only) gives up.
    failed_saying(
        book.run("site", "-e", "istio_aws_egress_lock_timeout=3"),
        f"local-a-proxied: waiting up to 3s for rollout lease {book.namespace}/{LOCK}, held by {lease['holderIdentity']} "
        f"since {lease['acquireTime']}; it expires {expires} unless its holder renews it",
        f"is held by {lease['holderIdentity']}",
        "gave up after waiting 3s",
    )


# --- a failure stops the rollout, saying what each cluster got -------------------------------------


def test_a_refusal_stops_the_rollout_saying_later_batches_are_untouched_and_what_each_cluster_got(clusters, tmp_path):
    orders = namespace_everywhere(clusters, "orders")
    book = beside_other_teams(clusters, tmp_path, istio_aws_egress_sidecars=[orders])
    # Another team's Sidecar without a workload selector in the namespace: our second one is refused (IST0111).
    apply(clusters["local-b"], sidecar(orders, "default"))

    # The canary passes, the next batch is refused.
    stopped = failed_saying(
        book.run("site"),
        "rollout stopped: local-b of this batch (local-b) failed, more than "
        "rollout_max_fail_percentage=0%; later batches untouched.",
    )
    summary = " ".join(stopped.stdout.split())
    assert re.search(
        r"What each cluster got: local-a: \d+ created, 0 changed, 0 pruned, 0 unchanged local-b: failed at \"Plan, then "
        rf"apply and prune under the rollout lease\": egress set {book.name} on local-b was refused before any write",
        summary,
    )

    # The canary is refused: the later batch is untouched, and says so.
    apply(clusters["local-a"], sidecar(orders, "default"))
    book.mark()
    failed_saying(book.run("site"), "rollout stopped: local-a of this batch (local-a) failed", "local-b: untouched")
    assert nothing_written(book)


# --- every host checked before the first write -------------------------------------------------------


def test_a_host_without_a_context_is_refused_before_the_first_cluster_is_written(clusters, tmp_path):
    book = beside_other_teams(
        clusters,
        tmp_path,
        {
            "local-a": {"context": "local-a", "aws_region": "us-east-1"},
            "local-b": {"context": "local-b", "aws_region": "eu-west-1"},
            "local-new": {"aws_region": "eu-west-2"},
        },
    )
    book.mark()
    failed_saying(book.run("site"), "local-new names no kube context (istio_aws_egress_context;")
    assert nothing_written(book), "local-a's batch came first, and nothing may be written before every host is checked"


def test_two_contexts_of_one_cluster_are_refused_before_any_write(clusters, tmp_path):
    book = beside_other_teams(
        clusters,
        tmp_path,
        {
            "local-a": {"context": "local-a", "aws_region": "us-east-1"},
            "local-a-again": {"context": "local-a-proxied", "aws_region": "us-west-2"},
            "local-b": {"context": "local-b", "aws_region": "eu-west-1"},
        },
    )
    uid = clusters["local-a"].kubectl("get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}").stdout
    book.mark()
    failed_saying(
        book.run("site"),
        f"two hosts reach the same cluster, so its rollout would run twice at once: local-a "
        f"(at {clusters['local-a'].info['server']}) and local-a-again (at https://127.0.0.1:",
        f"reach one cluster (namespace kube-system has UID {uid}). Give each cluster one host; nothing was written.",
    )
    assert nothing_written(book)


def test_a_wrong_context_lists_the_kubeconfigs_contexts_and_nothing_is_written(clusters, tmp_path):
    book = beside_other_teams(
        clusters,
        tmp_path,
        {
            "local-a": {"context": "local-a", "aws_region": "us-east-1"},
            "local-z": {"context": "local-z", "aws_region": "eu-west-1"},
        },
    )
    book.mark()
    refused = failed_saying(
        book.run("site"),
        f'istio_aws_egress_context: "local-z" is not a context of {localcluster.KUBECONFIG} '
        f"(its contexts: local-a, local-a-proxied, local-b, local-b-proxied",
        "nothing was read or written",
    )
    assert "Invalid kube-config" not in refused.stdout
    assert nothing_written(book)


# --- a host left to another team -------------------------------------------------------------------


def test_another_teams_entry_for_a_declared_host_is_left_to_it_and_named(clusters, tmp_path):
    orders = namespace_everywhere(clusters, "orders")
    # Named to sort first: the plan lists the first ten entries it notes, and the shared clusters hold other tests' too.
    team_q = fresh_namespace(clusters["local-a"], "a-team-q")
    book = beside_other_teams(clusters, tmp_path, istio_aws_egress_sidecars=[orders])
    # In the set's namespace on local-b, another team already declares SQS: Istio keeps one entry per host and namespace.
    theirs = service_entry(book.namespace, "team-q-sqs", ["sqs.eu-west-1.amazonaws.com"])
    apply(clusters["local-b"], theirs)
    # In a namespace of its own on local-a, the same team declares SQS too: our Sidecar hides it from orders.
    elsewhere = service_entry(team_q, "sqs-use1", ["sqs.us-east-1.amazonaws.com"])
    apply(clusters["local-a"], elsewhere)
    before = snapshot(clusters["local-b"], theirs) + snapshot(clusters["local-a"], elsewhere)

    refused = failed_saying(
        book.run("site"),
        f"ServiceEntry {book.namespace}/team-q-sqs (not managed by meshops.aws_egress) already "
        f"declares sqs.eu-west-1.amazonaws.com",
        "leave it to that entry (istio_aws_egress_exclude_hosts: ['sqs.eu-west-1.amazonaws.com']), or remove it",
    )
    assert "declare each host in one egress set only" not in refused.stdout
    # The notes on local-a, rolled out as the canary: the host is the set's own, nothing to add.
    # One item of the printed list each: the text between its quotes.
    notes = [
        line.strip().rstrip(",").strip('"')
        for line in refused.stdout.splitlines()
        if f"! Sidecar {orders}/aws-{book.name}-egress hides" in line
    ]
    assert [
        line
        for line in notes
        if f"ServiceEntry {team_q}/sqs-use1 (sqs.us-east-1.amazonaws.com)" in line
        and line.endswith(
            f"whose hosts this egress set declares itself: {orders} reaches them through the set's entries"
        )
    ]
    assert not [line for line in notes if team_q in line and "add what" in line]

    book.set_host("local-b", istio_aws_egress_exclude_hosts=["sqs.eu-west-1.amazonaws.com"])
    done = succeeded(book.run("site"))
    # Named first, beside other sets' entries for the host elsewhere on the shared cluster.
    assert done.said(
        f"istio_aws_egress_exclude_hosts: sqs.eu-west-1.amazonaws.com is left to ServiceEntry {book.namespace}/team-q-sqs "
        f"(not managed by meshops.aws_egress)"
    )
    assert f"aws-{book.name}-sqs-eu-west-1" not in book.entries("local-b") and book.entries("local-b")
    sidecar_hosts = json.loads(
        clusters["local-b"].kubectl("get", "sidecar", f"aws-{book.name}-egress", "-n", orders, "-o", "json").stdout
    )["spec"]["egress"][0]["hosts"]
    assert "*/sqs.eu-west-1.amazonaws.com" in sidecar_hosts
    assert snapshot(clusters["local-b"], theirs) + snapshot(clusters["local-a"], elsewhere) == before
    succeeded(book.run("verify"))
    book.mark()
    assert changed(succeeded(book.run("site"))) == dict.fromkeys(book.clusters, 0)
    assert nothing_written(book)


# --- teardown over two egress sets ---------------------------------------------------------------


def test_teardown_over_two_egress_sets_tears_down_the_confirmed_one_and_says_how_to_limit(clusters, tmp_path):
    book = beside_other_teams(clusters, tmp_path)
    staging, production = f"{book.name}-stg", f"{book.name}-prod"
    book.set_host("local-a", istio_aws_egress_name=staging)
    book.set_host("local-b", istio_aws_egress_name=production)
    succeeded(book.run("site"))
    assert book.entries("local-a", staging) and book.entries("local-b", production)

    book.mark()
    torn = succeeded(book.run("teardown", "-e", f"teardown_confirm={staging}"))
    assert torn.said(
        f"Left alone, as they hold another egress set than {staging}: local-b (egress set {production}). To tear down "
        f"egress set {staging} only, limit the run to its clusters: --limit local-a"
    )
    assert book.entries("local-a", staging) == []
    assert book.entries("local-b", production)
    assert book.writes()["local-b"] == []

    failed_saying(
        book.run("teardown", "-e", "teardown_confirm=stg"),
        f"Egress set {production} is on local-b: to confirm, run again with -e teardown_confirm={production}.",
    )


# --- input errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, meant",
    [
        ("monitoring", "cloudwatch: did you mean 'cloudwatch'?"),
        ("elasticloadbalancing", "elb, elbv2: did you mean 'elb' or 'elbv2'?"),
        ("states", "stepfunctions: did you mean 'stepfunctions'?"),
    ],
)
def test_a_service_named_as_in_its_hosts_is_one_line_that_names_the_client(runbook, name, meant):
    runbook.mark()
    failed = failed_saying(
        runbook.run("site", "-e", json.dumps({"istio_aws_egress_services": ["sqs", name]})),
        f"istio_aws_egress_services[1]: '{name}' is not a service botocore knows (use boto3 client names); "
        f"'{name}' is the endpoint prefix of {meant}",
    )
    output = failed.stdout + failed.stderr
    assert "Finalization of task args" not in output and "Error while resolving value" not in output
    assert nothing_written(runbook)


# --- plan.yml's reports ---------------------------------------------------------------------------


def plan_index(plan_dir: Path) -> dict:
    """The rows of plan/README.md's table: cluster -> {column: cell}."""
    lines = [line for line in (plan_dir / "README.md").read_text().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = dict(zip(header, (cell.strip() for cell in line.strip("|").split("|"))))
        rows[re.sub(r"^\[(.*)\]\(.*\)$", r"\1", cells["cluster"])] = cells
    return rows


def test_plan_indexes_and_reports_a_refused_cluster_with_its_refusal(clusters, tmp_path):
    orders = namespace_everywhere(clusters, "orders")
    book = beside_other_teams(clusters, tmp_path, istio_aws_egress_sidecars=[orders])
    # Another team's Sidecar without a workload selector in the namespace: our second one is refused on local-b (IST0111).
    apply(clusters["local-b"], sidecar(orders, "default"))
    plan_dir = tmp_path / "plan"
    book.mark()
    failed_saying(
        book.run("plan", "-e", f"plan_dir={plan_dir}"), f"local-b was refused, nothing planned ({plan_dir}/local-b.md)"
    )
    assert nothing_written(book)

    refusal = f"Sidecar {orders}/default"
    report = json.loads((plan_dir / "local-b.json").read_text())
    assert report["status"] == "refused" and refusal in report["refusal"] and report["counts"] is None
    markdown = (plan_dir / "local-b.md").read_text()
    assert "## Refused (nothing planned, nothing written)" in markdown and refusal in markdown
    rows = plan_index(plan_dir)
    assert rows["local-b"]["status"] == "refused" and rows["local-a"]["status"] == "planned"
    assert int(rows["local-a"]["create"]) > 0
    refused = (plan_dir / "README.md").read_text().split("## Refused", 1)[1]
    assert refused.strip().startswith("- local-b: ") and refusal in refused
    assert json.loads((plan_dir / "local-a.json").read_text())["status"] == "planned"


def test_plan_writes_the_notes_into_the_reports_and_the_index_counts_them(clusters, tmp_path):
    orders = namespace_everywhere(clusters, "orders")
    book = beside_other_teams(clusters, tmp_path, istio_aws_egress_sidecars=[orders])
    plan_dir = tmp_path / "plan"
    planned = succeeded(book.run("plan", "-e", f"plan_dir={plan_dir}"))
    for host in book.clusters:
        report = json.loads((plan_dir / f"{host}.json").read_text())
        # Our Sidecar in orders hides other teams' entries (the shared clusters hold many): a note, printed with "!".
        assert [
            line
            for line in report["notes"]
            if line.startswith(f"Sidecar {orders}/aws-{book.name}-egress hides from namespace {orders} ")
        ]
        notes = (plan_dir / f"{host}.md").read_text().split("## Notes", 1)[1].split("\n## ", 1)[0]
        for note in report["notes"]:
            assert planned.said(f"! {note}") and f"- {note}\n" in notes
        assert int(plan_index(plan_dir)[host]["notes"]) == len(report["notes"])


def test_plan_with_limit_updates_its_hosts_rows_and_keeps_the_others(runbook, tmp_path):
    plan_dir = tmp_path / "plan"
    succeeded(runbook.run("plan", "-e", f"plan_dir={plan_dir}"))
    first = plan_index(plan_dir)
    kept = (plan_dir / "local-b.json").read_text()
    assert set(first) == {"local-a", "local-b"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["planned at (UTC)"]) for row in first.values())

    runbook.set_host("local-a", istio_aws_egress_services=["sqs"])
    limited = succeeded(runbook.run("plan", "-e", f"plan_dir={plan_dir}", "--limit", "local-a"))
    second = plan_index(plan_dir)
    assert set(second) == {"local-a", "local-b"}, "the other cluster's row stays"
    assert second["local-b"] == first["local-b"] and (plan_dir / "local-b.json").read_text() == kept
    assert second["local-a"]["planned at (UTC)"] > first["local-a"]["planned at (UTC)"], "the row says it is newer"
    assert int(second["local-a"]["create"]) < int(first["local-a"]["create"])
    assert limited.said(f"local-b: {json.loads(kept)['summary']}")


def test_plan_refuses_a_host_with_a_wrong_context_and_plans_the_others(clusters, tmp_path):
    book = beside_other_teams(
        clusters,
        tmp_path,
        {
            "local-a": {"context": "local-a", "aws_region": "us-east-1"},
            "local-z": {"context": "local-z", "aws_region": "eu-west-1"},
        },
    )
    plan_dir = tmp_path / "plan"
    failed_saying(
        book.run("plan", "-e", f"plan_dir={plan_dir}"), f"local-z was refused, nothing planned ({plan_dir}/local-z.md)"
    )
    refusal = json.loads((plan_dir / "local-z.json").read_text())["refusal"]
    assert refusal.startswith(f'istio_aws_egress_context: "local-z" is not a context of {localcluster.KUBECONFIG}')
    rows = plan_index(plan_dir)
    assert (
        rows["local-z"]["status"] == "refused"
        and rows["local-a"]["status"] == "planned"
        and int(rows["local-a"]["create"]) > 0
    )
