# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report files of plan, verify and simulate, as CI reads them: JSON beside the Markdown, and JUnit XML that the
published schema (the Jenkins xunit plugin's junit-10.xsd) accepts, one suite per cluster and one case per cluster and
per finding. Run over two real local clusters that hold other teams' objects.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook_helpers import beside_other_teams, failed_saying, junit, succeeded

pytestmark = pytest.mark.integration


def passed_with_their_notes(directory: Path, kind: str, clusters) -> None:
    """junit.xml holds a suite per cluster: its case `kind`, passed, and a passed case per note of its JSON report."""
    suites = junit(directory)
    assert set(suites) == set(clusters)
    for host, cases in suites.items():
        notes = json.loads((directory / f"{host}.json").read_text())["notes"]
        assert cases[kind] is None and not any(cases.values())
        assert sorted(cases) == sorted([kind, *(f"note: {line}" for line in notes)])


def test_plan_writes_junit_with_a_case_per_cluster_and_per_finding(clusters, tmp_path):
    book = beside_other_teams(clusters, tmp_path)
    plan_dir = tmp_path / "plan"
    succeeded(book.run("plan", "-e", f"plan_dir={plan_dir}"))
    passed_with_their_notes(plan_dir, "plan", book.clusters)
    assert set(json.loads((plan_dir / "index.json").read_text())) == set(book.clusters)


def test_verify_writes_markdown_json_and_junit_saying_what_drifted(clusters, tmp_path):
    book = beside_other_teams(clusters, tmp_path)
    succeeded(book.run("site"))
    deleted = f"aws-{book.name}-sqs-us-east-1"
    clusters["local-a"].kubectl("delete", "serviceentry", deleted, "-n", book.namespace)
    verify_dir = tmp_path / "verify"
    book.mark()
    failed_saying(
        book.run("verify", "-e", f"verify_dir={verify_dir}"),
        f"drift on local-a (egress set {book.name})",
        "local-a: drift: 1 to create, 0 to update, 0 to adopt, 0 to prune, ",
    )
    assert book.writes() == dict.fromkeys(book.clusters, [])

    drifted = json.loads((verify_dir / "local-a.json").read_text())
    assert drifted["status"] == "drift" and drifted["drift"] == [f"+ create ServiceEntry {book.namespace}/{deleted}"]
    assert f"+ create ServiceEntry {book.namespace}/{deleted}" in (verify_dir / "local-a.md").read_text()
    in_sync = json.loads((verify_dir / "local-b.json").read_text())
    assert in_sync["status"] == "in sync" and in_sync["drift"] == [] and in_sync["counts"]["unchanged"] > 0
    index = (verify_dir / "README.md").read_text()
    assert "| [local-a](local-a.md) |" in index and "| drift | 1 | 0 |" in index and "| in sync | 0 | 0 |" in index

    suites = junit(verify_dir)
    assert suites["local-a"]["verify"] and suites["local-a"][f"drift: + create ServiceEntry {book.namespace}/{deleted}"]
    assert suites["local-b"]["verify"] is None and not any(suites["local-b"].values())


def test_simulate_writes_junit_beside_its_json_and_markdown(clusters, tmp_path):
    book = beside_other_teams(clusters, tmp_path)
    simulate_dir = tmp_path / "simulate"
    # The mesh's objects from a directory (empty): the shared clusters hold other tests' objects, which a live read takes in.
    (tmp_path / "mesh").mkdir()
    succeeded(
        book.run("simulate", "-e", f"simulate_dir={simulate_dir}", "-e", f"simulate_mesh_objects={tmp_path / 'mesh'}")
    )
    passed_with_their_notes(simulate_dir, "simulate", book.clusters)
    assert all(json.loads((simulate_dir / f"{host}.json").read_text())["violations"] == [] for host in book.clusters)
    assert all((simulate_dir / f"{host}.md").exists() for host in book.clusters)
