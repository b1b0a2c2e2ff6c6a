# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meshops.aws_egress._cluster_choices: an egress set's resources as one cluster gets them, decided read-only.

A thin entry point: the options are checked, one client is made from
kubernetes.core's authentication options, and plugin_utils/egress/plan/auto_choices.py
reads the cluster and decides, as egress_set decides before it applies.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.meshops.aws_egress.plugins.module_utils.cluster_choices_options import argument_spec
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import auto_choices as choices
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import ClusterReader
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.declared import (
    NotResources,
    objects_of,
    stream_of,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.target import (
    ClusterNotNamed,
    check_named,
    client_for,
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
        asked = choices.Asked(
            name=args["name"],
            cluster=cluster,
            api_version=args["api_version"],
            wildcard_resolution=args["wildcard_resolution"],
        )
        try:
            resources = objects_of(args["resources"])
            check_named(auth)
            state = choices.read(
                ClusterReader(client_for(auth, cluster), cluster),
                resources,
                asked.wildcard_resolution,
                asked.api_version,
            )
            decided, refusals, notes = choices.decide(resources, state, asked)
        except (NotResources, ClusterNotNamed) as err:
            return {**result, "failed": True, "msg": str(err)}
        except EgressFailure as failure:
            return {**result, "failed": True, "msg": failure.message, **failure.result()}
        if refusals:
            lines = "\n".join(finding.text() for finding in refusals)
            return {
                **result,
                "failed": True,
                "msg": f"{cluster} would refuse egress set {asked.name}; nothing was written:\n{lines}",
            }
        return {
            **result,
            "changed": False,
            "cluster": cluster,
            "resources": stream_of(decided),
            "notes": notes,
            "api_versions": {kind.describe(): kind.api_version(version) for kind, version in state.versions.items()},
        }
