# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The _plan_lines filter (internal to the role): a plan in, the lines the role prints out.

Documentation: _plan_lines.yml beside this file.  The wording is in plugin_utils/egress/plan/console.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.plugin_utils import filter_docs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.console import plan_lines
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import caller_error
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.plain_data import plain


def plan_lines_filter(plan, name, layout_notes=None, check_mode=False, verbosity=0, state="present"):
    """The plan of meshops.aws_egress.egress_set as a list of lines."""
    try:
        filter_docs.check(__file__, dict(locals()))
    except InputError as exc:
        raise caller_error(exc, "meshops.aws_egress._plan_lines") from None
    plan = plain(plan)
    if not isinstance(plan, dict) or "summary" not in plan:
        raise AnsibleFilterError(
            f"meshops.aws_egress._plan_lines: expected the result of meshops.aws_egress.egress_set, got {plan!r:.200}"
        )
    return plan_lines(plan, str(name), plain(layout_notes or []), bool(check_mode), int(verbosity or 0), str(state))


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {"_plan_lines": plan_lines_filter}
