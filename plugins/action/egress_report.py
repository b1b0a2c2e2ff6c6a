# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meshops.aws_egress.egress_report: a playbook's report files, per cluster and the index over them.

A thin entry point: plugin_utils/reports/ holds what each report says and files.py where it goes.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_report_options import (
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    REQUIRED_TOGETHER,
    argument_spec,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.plain_data import plain
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.reports.files import (
    ReportError,
    write_cluster,
    write_index,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    # Files are its only effect: in check mode it writes none.
    _supports_check_mode = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(
            argument_spec=argument_spec(),
            mutually_exclusive=MUTUALLY_EXCLUSIVE,
            required_one_of=REQUIRED_ONE_OF,
            required_together=REQUIRED_TOGETHER,
        )
        args = plain(args)
        try:
            if args["report"] is not None:
                report = write_cluster(args["kind"], args["directory"], args["cluster"], args["report"])
                return {**result, "changed": True, "report": report}
            return {**result, "changed": True, **write_index(args["kind"], args["directory"], args["index"])}
        except (OSError, ReportError) as err:
            return {
                **result,
                "failed": True,
                "msg": f"cannot write the {args['kind']} reports to {args['directory']}: {err}",
            }
