# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's reports: does each cluster hold exactly its declared egress, and if not, what drifted."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports.junit import Case
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports.markdown import (
    bullets,
    cell,
    diff,
    table,
    text,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports.plan import first_line

TITLE = "Egress verification"
STAMP = "verified_at"


def cluster_report(cluster: str, given: dict, now: str) -> dict:
    """The JSON report of a cluster: `plan` is egress_set's result in check mode, where any planned write is drift;
    `failure` the message of a step that failed before the cluster could be judged."""
    plan = given.get("plan") or {}
    judged = "counts" in plan and not plan.get("failed")
    drift, conflicts = (plan.get("lines") or [], plan.get("conflicts") or []) if judged else ([], [])
    if not judged:
        status, summary = (
            "failed",
            f"not verified: {first_line(given.get('failure') or 'the verification did not run')}",
        )
    elif plan.get("changed") or conflicts:
        status, summary = "drift", f"drift: {plan.get('summary')}"
    else:
        status, summary = (
            "in sync",
            f"holds exactly the declared egress ({plan['counts'].get('unchanged', 0)} resources)",
        )
    return {
        "cluster": cluster,
        STAMP: now,
        "status": status,
        "summary": summary,
        **{key: given.get(key) for key in ("context", "egress_set", "namespace")},
        "failure": None if judged else given.get("failure"),
        "counts": plan.get("counts") if judged else None,
        "drift": drift,
        "conflicts": conflicts,
        "notes": list(given.get("notes") or []),
        "endpoint_data": plan.get("endpoint_data") if judged else None,
    }


def markdown(report: dict) -> str:
    lines = [
        f"# Verification of {report['cluster']}",
        "",
        f"- verified at {report[STAMP]}",
        f"- context: `{report['context']}`",
        f"- egress set: `{report['egress_set']}` in namespace `{report['namespace']}`",
        f"- {report['summary']}",
        "",
    ]
    if report["failure"]:
        lines += ["## Not verified", "", "```text", *str(report["failure"]).strip().splitlines(), "```", ""]
    lines += bullets("Conflicts", report["conflicts"])
    lines += diff("Drift (what site.yml would write to bring the cluster back)", report["drift"])
    lines += bullets("Notes", report["notes"])
    return text(lines)


def index_markdown(reports: dict) -> str:
    rows = [
        [cluster, "", "not verified", "", "", ""]
        if report is None
        else [
            f"[{cluster}]({cluster}.md)",
            report[STAMP],
            report["status"],
            len(report["drift"]),
            len(report["conflicts"]),
            len(report["notes"]),
        ]
        for cluster, report in reports.items()
    ]
    failed = [f"{cluster}: {report['failure']}" for cluster, report in reports.items() if report and report["failure"]]
    return text(
        [
            f"# {TITLE}",
            "",
            *table(
                ["cluster", "verified at (UTC)", "status", "drift", "conflicts", "notes"],
                ["---", "---", "---", "---:", "---:", "---:"],
                rows,
            ),
            "",
            *bullets("Not verified", [cell(line) for line in failed]),
        ]
    )


def cases(report: dict) -> list[Case]:
    """The cluster's checks: is it in sync, each drifted resource, each conflict, each note."""
    return [
        Case(
            "verify",
            failure=None if report["status"] == "in sync" else report["failure"] or report["summary"],
            output=report["summary"],
        ),
        *(Case(f"drift: {line}", failure=line) for line in report["drift"]),
        *(Case(f"conflict: {line}", failure=line) for line in report["conflicts"]),
        *(Case(f"note: {line}", output=line) for line in report["notes"]),
    ]
