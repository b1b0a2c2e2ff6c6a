# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the role prints for a plan: a list of lines, so that any callback shows one line per line.

Notes are printed once per cause: the same note from two steps (the layout and the plan) is one line, and notes that
share their cause (the text before the first ': ') are joined into one. A run that writes nothing prints how many
notes there are rather than the notes again: they were printed when the plan last wrote, and at -v they still are.
A plan that withholds writes and a removal always print them: their notes say what waits, or why nothing is removed,
and a removal that writes nothing may never have written before.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import SERVICE_ENTRY

NOTE = "! "


def grouped(notes):
    """The notes, each cause once: duplicates dropped, details of one cause joined with '; ', in order of first sight."""
    causes = {}
    for note in notes:
        cause, sep, detail = str(note).partition(": ")
        details = causes.setdefault(cause if sep else str(note), [])
        if sep and detail not in details:
            details.append(detail)
    return [f"{cause}: {'; '.join(details)}" if details else cause for cause, details in causes.items()]


def plan_lines(plan, name, layout_notes=(), check_mode=False, verbosity=0, state="present"):
    """The heading, the summary, what the endpoint data changes, each resource's change and the notes, as lines."""
    served = (plan.get("api_versions") or {}).get(SERVICE_ENTRY.describe()) or f"no {SERVICE_ENTRY.kind} served"
    heading = (
        f"Egress set {name} on {plan['cluster']}, {served}{' (check mode: nothing is written)' if check_mode else ''}"
    )
    lines = [heading, plan["summary"], *plan["endpoint_data"]["lines"], *plan["lines"]]
    notes = grouped([*layout_notes, *plan.get("notes", [])])
    if not notes:
        return lines
    if plan["changed"] or plan.get("withheld") or state == "absent" or verbosity > 0:
        return lines + [NOTE + note for note in notes]
    count = f"{len(notes)} note{'' if len(notes) == 1 else 's'}"
    return lines + [f"{NOTE}{count}, shown when the plan writes (or with -v); playbooks/plan.yml reports them"]
