# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the reports go: <directory>/<cluster>.json and .md per cluster, and the index (README.md, index.json, and
junit.xml for CI) over every cluster listed, read back from the clusters' JSON reports so that a run over some hosts
keeps the others' rows."""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from pathlib import Path

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports import plan, simulate, verify
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports.junit import Case, Suite, document

# simulate.yml writes its own JSON and Markdown; only its JUnit and index.json come from here.
KINDS = {"plan": plan, "verify": verify, "simulate": simulate}


class ReportError(Exception):
    """A report that cannot be written or read back."""


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write(path: Path, content: str) -> None:
    """Whole or not at all: a reader (or a run over other hosts) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_cluster(kind: str, directory: str, cluster: str, given: dict) -> dict:
    """Write the cluster's JSON and Markdown reports; returns the JSON report."""
    module = KINDS[kind]
    report = module.cluster_report(cluster, given, now())
    write(Path(directory) / f"{cluster}.json", json.dumps(report, indent=4, sort_keys=True) + "\n")
    write(Path(directory) / f"{cluster}.md", module.markdown(report))
    return report


def read_reports(directory: str, clusters: list[str]) -> dict:
    """cluster -> its JSON report in `directory`, or None where there is none."""
    reports = {}
    for cluster in clusters:
        path = Path(directory) / f"{cluster}.json"
        try:
            reports[cluster] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            reports[cluster] = None
        except (OSError, ValueError) as err:
            raise ReportError(f"cannot read the report {path}: {err}") from None
    return reports


def write_index(kind: str, directory: str, clusters: list[str]) -> dict:
    """Write the index over `clusters`; returns the files written and one line per cluster."""
    module = KINDS[kind]
    reports = read_reports(directory, clusters)
    keys = [key for key in ("status", "summary", module.STAMP) if key]
    rows = {
        cluster: None if report is None else {key: report.get(key) for key in keys}
        for cluster, report in reports.items()
    }
    files = {"index.json": json.dumps(rows, indent=4) + "\n", "junit.xml": junit(kind, reports)}
    if module.index_markdown:
        files["README.md"] = module.index_markdown(reports)
    for name, content in files.items():
        write(Path(directory) / name, content)
    lines = [
        f"{cluster}: {'no report' if report is None else report['summary']}" for cluster, report in reports.items()
    ]
    return {"files": [str(Path(directory) / name) for name in files], "lines": lines}


def junit(kind: str, reports: dict) -> str:
    """One suite per cluster, its report's time as the suite's; a cluster without a report is one skipped case."""
    module = KINDS[kind]
    return document(
        kind,
        [
            Suite(cluster, [Case(kind, skipped="no report")])
            if report is None
            else Suite(cluster, module.cases(report), report.get(module.STAMP) if module.STAMP else None)
            for cluster, report in reports.items()
        ],
    )
