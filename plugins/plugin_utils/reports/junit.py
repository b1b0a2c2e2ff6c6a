# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JUnit XML as CI systems read it (the Jenkins xunit plugin's junit-10.xsd): one suite per cluster, one case per check."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# Characters XML 1.0 cannot hold at all; a message from an API server may carry them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Case:
    """One check: it failed when `failure` is set (its first line is the message), was skipped when `skipped` is."""

    name: str
    failure: str | None = None
    skipped: str | None = None
    output: str | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    cases: list = field(default_factory=list)
    timestamp: str | None = None


def _text(value) -> str:
    return _NOT_XML.sub("?", str(value))


def _counts(cases) -> dict:
    return {
        "tests": str(len(cases)),
        "failures": str(sum(c.failure is not None for c in cases)),
        "errors": "0",
        "skipped": str(sum(c.skipped is not None for c in cases)),
    }


def document(name: str, suites: list[Suite]) -> str:
    """A <testsuites> document named `name`; its cases' class names are `name.suite`."""
    every = [case for suite in suites for case in suite.cases]
    root = ET.Element(
        "testsuites", {"name": _text(name), **{k: v for k, v in _counts(every).items() if k != "skipped"}}
    )
    for suite in suites:
        attributes = {"name": _text(suite.name), **_counts(suite.cases)}
        if suite.timestamp:
            attributes["timestamp"] = suite.timestamp
        element = ET.SubElement(root, "testsuite", attributes)
        for case in suite.cases:
            testcase = ET.SubElement(
                element, "testcase", name=_text(case.name), classname=_text(f"{name}.{suite.name}")
            )
            for tag, text in (("failure", case.failure), ("skipped", case.skipped)):
                if text is not None:
                    ET.SubElement(testcase, tag, message=_text(str(text).split("\n", 1)[0])).text = _text(text)
            if case.output:
                ET.SubElement(testcase, "system-out").text = _text(case.output)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
