# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's reports, and the JUnit XML that plan, verify and simulate write beside their index."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports import files, simulate, verify

SCHEMA = Path(__file__).parents[4] / "schemas" / "junit-10.xsd"
TARGET = {"context": "ctx", "egress_set": "orders", "namespace": "egress"}
COUNTS = {"create": 1, "update": 0, "adopt": 0, "prune": 0, "unchanged": 9, "conflict": 0}
DRIFT = {
    "changed": True,
    "summary": "1 to create, 0 to update, 0 to adopt, 0 to prune, 9 unchanged",
    "counts": COUNTS,
    "lines": ["+ create ServiceEntry egress/aws-orders-sqs-us-east-1"],
    "conflicts": [],
    "endpoint_data": {},
}
IN_SYNC = {**DRIFT, "changed": False, "lines": [], "counts": {**COUNTS, "create": 0}}


def test_drift_in_sync_and_not_verified():
    drift = verify.cluster_report("a", {**TARGET, "plan": DRIFT, "failure": "drift on a (egress set orders): ..."}, "t")
    assert drift["status"] == "drift" and drift["drift"] == DRIFT["lines"] and drift["failure"] is None
    assert drift["summary"] == f"drift: {DRIFT['summary']}"
    assert "+ create ServiceEntry egress/aws-orders-sqs-us-east-1" in verify.markdown(drift)
    in_sync = verify.cluster_report("b", {**TARGET, "plan": IN_SYNC}, "t")
    assert in_sync["status"] == "in sync" and in_sync["summary"] == "holds exactly the declared egress (9 resources)"
    refused = verify.cluster_report(
        "c", {**TARGET, "plan": {"failed": True, "msg": "refused"}, "failure": "refused\nwhy"}, "t"
    )
    assert refused["status"] == "failed" and refused["summary"] == "not verified: refused" and refused["counts"] is None
    assert "## Not verified" in verify.markdown(refused)
    assert [c.name for c in verify.cases(drift) if c.failure] == [
        "verify",
        "drift: + create ServiceEntry egress/aws-orders-sqs-us-east-1",
    ]
    assert not [c for c in verify.cases(in_sync) if c.failure]
    assert verify.cases(refused)[0].failure == "refused\nwhy"


def test_the_index_writes_junit_that_validates_with_a_suite_per_cluster(tmp_path):
    files.write_cluster("verify", str(tmp_path), "a", {**TARGET, "plan": DRIFT, "notes": ["a note"]})
    files.write_cluster("verify", str(tmp_path), "b", {**TARGET, "plan": IN_SYNC})
    written = files.write_index("verify", str(tmp_path), ["a", "b", "c"])
    assert sorted(Path(f).name for f in written["files"]) == ["README.md", "index.json", "junit.xml"]
    text = (tmp_path / "junit.xml").read_text()
    xmlschema.XMLSchema(SCHEMA).validate(text)
    suites = {s.attrib["name"]: s for s in ET.fromstring(text).iter("testsuite")}
    assert (
        suites["a"].attrib["failures"] == "2" and suites["a"].attrib["tests"] == "3" and suites["a"].attrib["timestamp"]
    )
    assert suites["b"].attrib["failures"] == "0"
    assert suites["c"].find("testcase/skipped").attrib["message"] == "no report"


def test_simulate_fails_a_case_per_violation_and_passes_its_notes():
    cases = simulate.cases({"summary": "2 violations", "violations": ["x leaves", "y stays"], "notes": ["n"]})
    assert [(c.name, c.failure) for c in cases] == [
        ("simulate", "2 violations"),
        ("violation: x leaves", "x leaves"),
        ("violation: y stays", "y stays"),
        ("note: n", None),
    ]
