# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""simulate.yml's checks for CI; its JSON and Markdown reports are written by the playbook."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports.junit import Case

TITLE = "Egress simulation"
STAMP = None
cluster_report = markdown = index_markdown = None


def cases(report: dict) -> list[Case]:
    """The cluster's checks: does every call go the right way, each violation, each note."""
    violations = [str(line) for line in report.get("violations") or []]
    return [
        Case("simulate", failure=report.get("summary") if violations else None, output=report.get("summary")),
        *(Case(f"violation: {line}", failure=line) for line in violations),
        *(Case(f"note: {line}", output=str(line)) for line in report.get("notes") or []),
    ]
