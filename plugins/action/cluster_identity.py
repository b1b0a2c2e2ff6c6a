# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meshops.aws_egress.cluster_identity: which cluster a kube context reaches, told apart from every other.

A thin entry point: plugin_utils/egress/apply/target.py checks that the context is
named and there, makes the client and reads the cluster's identity.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.meshops.aws_egress.plugins.module_utils.cluster_identity_options import argument_spec
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.target import (
    ClusterNotNamed,
    check_named,
    client_for,
    cluster_identity,
    target_of,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_run


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=argument_spec())
        # Its messages name options as the caller's variables.
        return named_run(lambda: self._run(result, args), args["variable_prefix"])

    @staticmethod
    def _run(result, args):
        auth, cluster = target_of(args)
        try:
            check_named(auth)
            identity = cluster_identity(client_for(auth, cluster), cluster)
        except ClusterNotNamed as err:
            return {**result, "failed": True, "msg": str(err)}
        except EgressFailure as failure:
            return {**result, "failed": True, "msg": failure.message, **failure.result()}
        return {**result, "changed": False, "cluster": cluster, **identity}
