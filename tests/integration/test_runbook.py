# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operators' runbook, start to end, as the README gives it, from the installed artifact: plan, simulate, site
with --check --diff, site, verify, site again, teardown, over an inventory of two local clusters that hold other teams'
objects. With Ansible's defaults: an empty ansible.cfg where the commands run, the default callback, and every run's
output read as lines, without warnings; the reports of plan, simulate and verify parse, and their JUnit XML validates.

One test, one egress set: each step is a function of its own that runs the documented command and checks what it
printed, what it exited with and what the API servers recorded; more checks of a step's output join its function.
"""

from __future__ import annotations

import re

import pytest

from runbook_helpers import (
    Runbook,
    apply,
    beside_other_teams,
    changed,
    namespace_everywhere,
    other_teams,
    readable,
    reports,
    service_entry,
    sidecar,
    snapshot,
    succeeded,
)

# Fixtures: the artifact built from the checkout, and a collections path holding it alone.
from test_artifact import artifact, installed  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.integration


def nothing_written(book: Runbook) -> bool:
    return book.writes() == dict.fromkeys(book.clusters, [])


def plan(book: Runbook, plan_dir) -> None:
    """1. Plan: reports per cluster that parse and validate, nothing written."""
    book.mark()
    succeeded(readable(book.run("plan", "-e", f"plan_dir={plan_dir}"), len(book.clusters)))
    assert nothing_written(book)
    for report in reports(plan_dir, book.clusters).values():
        assert report["changed"] is True and report["counts"]["create"] > 0 and report["conflicts"] == []


def simulate(book: Runbook) -> None:
    """2. Simulate: no violation on any cluster, reports in ./simulate, nothing written."""
    book.mark()
    # The mesh's objects from a directory (empty): the shared clusters hold other tests' objects, which a live read takes in.
    mesh = book.tmp_path / "mesh"
    mesh.mkdir()
    succeeded(readable(book.run("simulate", "-e", f"simulate_mesh_objects={mesh}"), len(book.clusters)))
    assert nothing_written(book)
    for report in reports(book.tmp_path / "simulate", book.clusters).values():
        assert report["violations"] == [] and report["counts"]["leave"] > 0, report["summary"]


def check(book: Runbook) -> None:
    """3. Roll out with --check --diff: the plan, once per cluster, exit 0, nothing written."""
    book.mark()
    planned = succeeded(readable(book.run("site", "--check", "--diff"), len(book.clusters)))
    for host in book.clusters:
        assert (
            planned.stdout.count(
                f"Egress set {book.name} on {host}, networking.istio.io/v1 (check mode: nothing is written)"
            )
            == 1
        )
    assert "drift" not in planned.stdout
    assert nothing_written(book)


def roll_out(book: Runbook) -> None:
    """3. Roll out: every cluster written and verified by the gate."""
    rolled = succeeded(readable(book.run("site"), len(book.clusters)))
    assert rolled.said("Rollout done, every cluster verified:")
    # Our Sidecar hides other teams' entries from namespace orders: said once per cluster, when the plan writes. (How
    # many such notes there are depends on what else the cluster holds: other tests' egress sets too.)
    seen_today = re.findall(r'"! Sidecar \S+ hides from namespace \S+ what it sees today: [^"]*"', rolled.stdout)
    assert len(seen_today) == len(book.clusters), rolled.stdout
    hides = re.findall(r'"! Sidecar \S+ hides from namespace [^"]*"', rolled.stdout)
    assert all(hides.count(note) <= len(book.clusters) for note in hides), rolled.stdout
    for host in book.clusters:
        assert f"aws-{book.name}-sqs-{book.hosts.hosts[host]['aws_region']}" in book.entries(host)


def verify(book: Runbook) -> None:
    """4. Verify: no drift, nothing written, reports in ./verify."""
    book.mark()
    verified = succeeded(readable(book.run("verify"), len(book.clusters)))
    for host in book.clusters:
        assert verified.said(f"{host} holds exactly the declared egress")
    assert nothing_written(book)
    for report in reports(book.tmp_path / "verify", book.clusters).values():
        assert report["status"] == "in sync" and report["drift"] == []


def roll_out_again(book: Runbook) -> None:
    """A rerun with nothing to change: changed=0 and not one write."""
    book.mark()
    again = succeeded(readable(book.run("site"), len(book.clusters)))
    assert changed(again) == dict.fromkeys(book.clusters, 0)
    assert nothing_written(book)
    # The notes were printed when the plan wrote; now only how many there are.
    assert not re.search(r'"! (?!\d+ notes?, shown when the plan writes)', again.stdout), again.stdout
    counted = re.findall(r'"! \d+ notes, shown when the plan writes \(or with -v\)', again.stdout)
    assert len(counted) == len(book.clusters), again.stdout


def tear_down(book: Runbook) -> None:
    """6. Tear down: every resource of the set gone, on every cluster."""
    succeeded(readable(book.run("teardown", "-e", f"teardown_confirm={book.name}"), len(book.clusters)))
    for host in book.clusters:
        assert book.entries(host) == []


def test_the_runbook_from_the_installed_collection(clusters, installed, tmp_path):  # noqa: F811  pylint: disable=redefined-outer-name
    # Where the commands run: Ansible's defaults, and no ansible.cfg of the user's home or machine either.
    (tmp_path / "ansible.cfg").write_text("")
    orders = namespace_everywhere(clusters, "orders")
    book = beside_other_teams(clusters, tmp_path, installed=installed, istio_aws_egress_sidecars=[orders])
    # More of other teams' objects: a Sidecar for some of the namespace's workloads, and their own SQS entry elsewhere.
    theirs = {
        host: [
            sidecar(orders, "canary", workloadSelector={"labels": {"app": "canary"}}),
            service_entry(
                orders, "sqs-direct", [f"sqs.{book.hosts.hosts[host]['aws_region']}.amazonaws.com"], exportTo=["."]
            ),
        ]
        for host in clusters
    }
    for host, cluster in clusters.items():
        apply(cluster, *theirs[host])
        theirs[host] += other_teams(book.namespace)
    before = {host: snapshot(cluster, *theirs[host]) for host, cluster in clusters.items()}

    plan(book, tmp_path / "plan")
    simulate(book)
    check(book)
    roll_out(book)
    verify(book)
    roll_out_again(book)
    tear_down(book)

    assert {host: snapshot(cluster, *theirs[host]) for host, cluster in clusters.items()} == before
