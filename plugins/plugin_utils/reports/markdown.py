# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Markdown pieces the reports share."""

from __future__ import annotations


def cell(value) -> str:
    """A table cell: one line, its pipes escaped."""
    return " ".join(str("" if value is None else value).split()).replace("|", "\\|")


def table(header: list[str], align: list[str], rows: list[list]) -> list[str]:
    """A Markdown table; `align` holds '---' or '---:' per column."""
    return [
        f"| {' | '.join(header)} |",
        f"| {' | '.join(align)} |",
        *(f"| {' | '.join(cell(v) for v in row)} |" for row in rows),
    ]


def bullets(heading: str, lines: list) -> list[str]:
    """A section of one bullet per line, or nothing when there are none."""
    return [f"## {heading}", "", *(f"- {line}" for line in lines), ""] if lines else []


def diff(heading: str, lines: list) -> list[str]:
    return [f"## {heading}", "", "```diff", *(str(line).rstrip() for line in lines), "```", ""] if lines else []


def text(lines: list[str]) -> str:
    return "\n".join(lines).rstrip("\n") + "\n"
