# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JUnit XML that the published schema (the Jenkins xunit plugin's junit-10.xsd) accepts, whatever the messages hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports.junit import Case, Suite, document

SCHEMA = Path(__file__).parents[4] / "schemas" / "junit-10.xsd"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(SCHEMA)


def test_suites_count_their_cases_and_the_document_validates(schema):
    text = document(
        "plan",
        [
            Suite(
                "a",
                [
                    Case("plan", output="1 to create"),
                    Case("conflict: x", failure="x\nmore"),
                    Case("note: y", output="y"),
                ],
                timestamp="2026-01-01T00:00:00Z",
            ),
            Suite("b", [Case("plan", skipped="no report")]),
        ],
    )
    schema.validate(text)
    root = ET.fromstring(text)
    assert root.attrib == {"name": "plan", "tests": "4", "failures": "1", "errors": "0"}
    a, b = root.findall("testsuite")
    assert a.attrib == {
        "name": "a",
        "tests": "3",
        "failures": "1",
        "errors": "0",
        "skipped": "0",
        "timestamp": "2026-01-01T00:00:00Z",
    }
    failure = a.find("testcase[@name='conflict: x']/failure")
    assert failure.attrib["message"] == "x" and failure.text == "x\nmore"
    assert a.find("testcase[@name='plan']").attrib["classname"] == "plan.a"
    assert b.find("testcase/skipped").attrib["message"] == "no report"


def test_characters_xml_cannot_hold_are_replaced_and_markup_is_escaped(schema):
    text = document("verify", [Suite("a", [Case("drift: <x> & \x1b[0m", failure="bad \x00 byte")])])
    schema.validate(text)
    case = ET.fromstring(text).find("testsuite/testcase")
    assert case.attrib["name"] == "drift: <x> & ?[0m" and case.find("failure").text == "bad ? byte"


def test_no_suites_is_an_empty_valid_document(schema):
    schema.validate(document("simulate", []))
