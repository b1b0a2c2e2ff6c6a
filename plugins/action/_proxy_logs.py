# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meshops.aws_egress._proxy_logs (internal to playbooks/diagnose.yml): the proxies' logs, read live through the API server.

A thin entry point: plugin_utils/diagnosis/live_logs.py says whose logs and
reads them; plugin_utils/egress/apply/target.py makes the client.
"""

from __future__ import annotations

import shutil

from ansible.plugins.action import ActionBase

from ansible_collections.meshops.aws_egress.plugins.module_utils.proxy_logs_options import argument_spec
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import live_logs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.target import (
    ClusterNotNamed,
    check_named,
    client_for,
    target_of,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import input_message, named_run
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.plain_data import plain


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=argument_spec())
        args = plain(args)
        # Its messages name options as the caller's variables.
        return named_run(lambda: self._run(result, args), args["variable_prefix"])

    @staticmethod
    def _run(result, args):
        auth, cluster = target_of(args)
        prefix = args["limits_prefix"]
        try:
            since = live_logs.seconds(args["since"])
            if args["lines"] < 1:
                return {
                    **result,
                    "failed": True,
                    "msg": f"{prefix}lines: {args['lines']} is not a number of lines (1 or more)",
                }
            check_named(auth)
            where = live_logs.sources(args["sidecars"], args["gateway"], args["waypoint"], args["ztunnel_namespace"])
            # The logs of an earlier run are not this run's.
            shutil.rmtree(args["dest"], ignore_errors=True)
            read = live_logs.read(
                live_logs.api_of(client_for(auth, cluster)), where, since, args["lines"], args["dest"]
            )
        except InputError as err:
            return {**result, "failed": True, "msg": input_message(err, prefix)}
        except ClusterNotNamed as err:
            return {**result, "failed": True, "msg": str(err)}
        except EgressFailure as failure:
            return {**result, "failed": True, "msg": failure.message, **failure.result()}
        except live_logs.LiveLogError as err:
            return {**result, "failed": True, "msg": f"cannot read the proxies' logs from {cluster}: {err}"}
        return {
            **result,
            "changed": False,
            "cluster": cluster,
            "dest": args["dest"],
            "files": read.files,
            "notes": read.notes,
        }
