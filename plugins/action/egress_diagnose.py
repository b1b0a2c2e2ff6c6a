# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meshops.aws_egress.egress_diagnose: from proxy access logs to what was blocked, why, and the fix that opens it.

A thin entry point: the options are checked, plugin_utils/diagnosis/diagnose.py
reads the logs and decides, and with `diagnosis` proves the fixes of an
earlier run on the egress set rendered with each. Nothing is written.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_diagnose_options import (
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    REQUIRED_TOGETHER,
    argument_spec,
    gateway_defaults,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.diagnose import diagnose, proven
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.logs import LogError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import from_role
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import input_message, named_run
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.plain_data import plain
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.harness import HarnessError, binary_for
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.manifests import ManifestError


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        # What the task leaves out of the egress set, from the role's variables when asked (checked as the task's own).
        self._task.args = from_role.taken(self._task.args, task_vars or {}, self._templar)
        _validation, args = self.validate_argument_spec(
            argument_spec=argument_spec(),
            mutually_exclusive=MUTUALLY_EXCLUSIVE,
            required_one_of=REQUIRED_ONE_OF,
            required_together=REQUIRED_TOGETHER,
        )
        args = plain(args)
        # Its messages name options as the caller's variables.
        return named_run(lambda: self._run(result, args), args["variable_prefix"])

    @staticmethod
    def _run(result, args):
        if args["diagnosis"] is not None and not {"findings", "counts"} <= set(args["diagnosis"]):
            return {
                **result,
                "failed": True,
                "msg": "diagnosis: expected the result of an earlier run with logs (its findings and counts)",
            }
        options = {**args, "gateway": args["gateway"] or gateway_defaults()}
        try:
            # Found, or built now from the collection's own source (saying so first: it takes minutes).
            binary = binary_for(args["harness"], notify=Display().display)
        except HarnessError:
            binary = args["harness"]  # each proof then says why it could not run
        simulation = dict(
            mesh_dir=args["mesh_objects"], outbound_traffic_policy=args["outbound_traffic_policy"], binary=binary
        )
        try:
            if args["logs"]:
                report = diagnose(args["logs"], options, args["manifests"], **simulation)
            else:
                report = proven(args["diagnosis"], options, args["manifests"], args["fixes_dir"], **simulation)
        except InputError as err:
            # A bad value, named as the caller's variable (`istio_aws_egress_regions[1]: ...`) with its prefix.
            return {**result, "failed": True, "msg": input_message(err, args["variable_prefix"])}
        except AnsibleFilterError as err:
            return {**result, "failed": True, "msg": err.message}
        except LogError as err:
            return {**result, "failed": True, "msg": f"cannot diagnose the logs: {err}"}
        except ManifestError as err:
            return {**result, "failed": True, "msg": f"cannot read the manifests: {err}"}
        result.update(report, changed=False)
        return result
