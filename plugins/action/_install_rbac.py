# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meshops.aws_egress._install_rbac: install the role's RBAC on one cluster.

A thin entry point: the options are checked, and plugin_utils/egress/rbac/install.py
plans and writes, with egress_set's client, its kubernetes.core.k8s and its
check of the Python that runs it (one way to reach a cluster for both).
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.meshops.aws_egress.plugins.action.egress_set import ActionModule as EgressSetAction
from ansible_collections.meshops.aws_egress.plugins.module_utils.install_rbac_options import argument_spec
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.declared import NotResources, objects_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_run


class ActionModule(EgressSetAction):
    def run(self, tmp=None, task_vars=None):
        result = ActionBase.run(self, tmp, task_vars)  # not egress_set's run: this action only installs the RBAC
        _validation, args = self.validate_argument_spec(argument_spec=argument_spec())
        try:
            resources = objects_of(args["resources"])
        except NotResources as err:
            raise AnsibleActionFail(str(err)) from None
        # Its messages name options as the caller's variables.
        return named_run(lambda: {**result, **self._install_rbac(args, resources, task_vars)}, args["variable_prefix"])
