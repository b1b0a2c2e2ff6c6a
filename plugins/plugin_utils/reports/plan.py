# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plan.yml's reports: what site.yml would change on each cluster, or why the cluster was refused."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports.junit import Case
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports.markdown import (
    bullets,
    cell,
    diff,
    table,
    text,
)

TITLE = "Egress plan"
STAMP = "planned_at"
COUNTS = ("create", "update", "adopt", "prune", "unchanged", "conflict")


def cluster_report(cluster: str, given: dict, now: str) -> dict:
    """The JSON report of a cluster from what the playbook gives: its target, `plan` (egress_set's result in check
    mode), `notes`, and `refusal` (the message that stopped the plan) when it was refused."""
    refusal = given.get("refusal")
    report = {
        "cluster": cluster,
        STAMP: now,
        "status": "refused" if refusal else "planned",
        "refusal": refusal or None,
        **{key: given.get(key) for key in ("context", "egress_set", "namespace")},
    }
    if refusal:
        plan = {
            "changed": None,
            "summary": f"refused: {first_line(refusal)}",
            "counts": None,
            "lines": [],
            "conflicts": [],
            "endpoint_data": None,
        }
    else:
        plan = given.get("plan") or {}
    report.update(
        changed=plan.get("changed"),
        summary=plan.get("summary"),
        counts=plan.get("counts"),
        changes=plan.get("lines") or [],
        conflicts=plan.get("conflicts") or [],
        notes=list(given.get("notes") or []),
        endpoint_data=plan.get("endpoint_data"),
    )
    return report


def first_line(message) -> str:
    return str(message).strip().split("\n", 1)[0]


def markdown(report: dict) -> str:
    lines = [
        f"# Plan for {report['cluster']}",
        "",
        f"- planned at {report[STAMP]}",
        f"- context: `{report['context']}`",
        f"- egress set: `{report['egress_set']}` in namespace `{report['namespace']}`",
        f"- {report['summary']}",
    ]
    data = report.get("endpoint_data") or {}
    if data.get("botocore"):
        lines.append(f"- endpoint data: botocore `{data['botocore']}`, meshops.aws_egress `{data.get('collection')}`")
    lines.append("")
    if report["refusal"]:
        lines += [
            "## Refused (nothing planned, nothing written)",
            "",
            "```text",
            *str(report["refusal"]).strip().splitlines(),
            "```",
            "",
        ]
    lines += bullets("Conflicts (the rollout would stop here)", report["conflicts"])
    lines += bullets("Notes", report["notes"])
    if len(data.get("lines") or []) > 1:
        lines += diff("Changes from the endpoint data alone", [line.strip() for line in data["lines"]])
    if report["changes"]:
        lines += diff("Changes", report["changes"])
    elif not report["refusal"]:
        lines.append("No changes: the cluster holds exactly the declared egress.")
    return text(lines)


def index_markdown(reports: dict) -> str:
    """The index of every cluster's report (cluster -> report, or None when it was never planned)."""
    rows = []
    for cluster, report in reports.items():
        if report is None:
            rows.append([cluster, "", "not planned", *[""] * len(COUNTS), ""])
            continue
        counts = report.get("counts") or {}
        rows.append(
            [
                f"[{cluster}]({cluster}.md)",
                report.get(STAMP),
                report["status"],
                *(counts.get(key, "") for key in COUNTS),
                len(report.get("notes") or []),
            ]
        )
    refused = [f"{cluster}: {report['refusal']}" for cluster, report in reports.items() if report and report["refusal"]]
    lines = [
        f"# {TITLE}",
        "",
        "Each row is the cluster's latest plan, from this run or an earlier one (a run with `--limit` plans its hosts "
        "only): its time says which.",
        "",
        *table(
            [
                "cluster",
                "planned at (UTC)",
                "status",
                "create",
                "update",
                "adopt",
                "prune",
                "unchanged",
                "conflicts",
                "notes",
            ],
            ["---", "---", "---", *["---:"] * (len(COUNTS) + 1)],
            rows,
        ),
        "",
    ]
    lines += bullets("Refused", [cell(line) for line in refused])
    return text(lines)


def cases(report: dict) -> list[Case]:
    """The cluster's checks: was it planned, each conflict (the rollout would stop) and each note."""
    return [
        Case("plan", failure=report["refusal"] or None, output=report.get("summary")),
        *(Case(f"conflict: {line}", failure=line) for line in report.get("conflicts") or []),
        *(Case(f"note: {line}", output=line) for line in report.get("notes") or []),
    ]
