# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plan.yml's reports: a refused cluster, notes, and an index that keeps the rows of clusters a run left out."""

from __future__ import annotations

import json

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports import files, plan

TARGET = {"context": "ctx-a", "egress_set": "orders", "namespace": "egress"}
PLANNED = {
    "changed": True,
    "summary": "1 to create, 0 to update, 0 to adopt, 0 to prune, 0 unchanged",
    "counts": {"create": 1, "update": 0, "adopt": 0, "prune": 0, "unchanged": 0, "conflict": 0},
    "lines": ["+ create ServiceEntry egress/aws-orders-sqs-us-east-1"],
    "conflicts": [],
    "endpoint_data": {"botocore": "1.44.8", "collection": "0.1.0", "lines": ["endpoint data: botocore 1.44.8"]},
}
REFUSAL = "egress set orders on b was refused before any write: nothing was written:\nnamespace x already has Sidecar x/default"


def test_a_planned_cluster_reports_its_changes_and_notes():
    report = plan.cluster_report(
        "a", {**TARGET, "plan": PLANNED, "notes": ["Sidecar x/y hides z"], "refusal": ""}, "2026-01-01T00:00:00Z"
    )
    assert (
        report["status"] == "planned" and report["refusal"] is None and report["planned_at"] == "2026-01-01T00:00:00Z"
    )
    assert report["changes"] == PLANNED["lines"] and report["notes"] == ["Sidecar x/y hides z"]
    text = plan.markdown(report)
    assert (
        "## Notes\n\n- Sidecar x/y hides z\n" in text
        and "+ create ServiceEntry egress/aws-orders-sqs-us-east-1" in text
    )
    assert "Refused" not in text


def test_a_refused_cluster_reports_its_refusal_and_nothing_planned():
    report = plan.cluster_report("b", {**TARGET, "plan": {}, "notes": [], "refusal": REFUSAL}, "2026-01-01T00:00:00Z")
    assert report["status"] == "refused" and report["counts"] is None and report["changes"] == []
    assert report["summary"] == "refused: egress set orders on b was refused before any write: nothing was written:"
    text = plan.markdown(report)
    assert (
        "## Refused (nothing planned, nothing written)" in text and "namespace x already has Sidecar x/default" in text
    )
    assert "No changes" not in text


def test_the_index_lists_every_cluster_and_keeps_the_rows_of_those_a_run_left_out(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "now", lambda: "2026-01-01T00:00:00Z")
    files.write_cluster("plan", str(tmp_path), "a", {**TARGET, "plan": PLANNED, "notes": ["one", "two"]})
    files.write_cluster("plan", str(tmp_path), "b", {**TARGET, "notes": [], "refusal": REFUSAL})
    monkeypatch.setattr(files, "now", lambda: "2026-01-02T00:00:00Z")
    files.write_cluster("plan", str(tmp_path), "a", {**TARGET, "plan": PLANNED, "notes": []})  # a run with --limit a

    written = files.write_index("plan", str(tmp_path), ["a", "b", "c"])
    index = (tmp_path / "README.md").read_text()
    assert "| [a](a.md) | 2026-01-02T00:00:00Z | planned | 1 | 0 | 0 | 0 | 0 | 0 | 0 |" in index
    assert "| [b](b.md) | 2026-01-01T00:00:00Z | refused |  |  |  |  |  |  | 0 |" in index
    assert "| c |  | not planned |" in index
    assert (
        "## Refused\n\n- b: egress set orders on b was refused before any write: nothing was written: namespace x"
        in index
    )
    assert json.loads((tmp_path / "index.json").read_text())["b"]["status"] == "refused"
    assert written["lines"] == [
        f"a: {PLANNED['summary']}",
        "b: refused: egress set orders on b was refused before any write: nothing was written:",
        "c: no report",
    ]


def test_a_table_cell_holds_one_line_and_escapes_pipes():
    assert plan.index_markdown({"a|b": None}).count("\n| a\\|b |") == 1
