# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meshops.aws_egress.egress_simulate: what Istio's proxies do with an egress set's rendered manifests.

A thin entry point: the options are checked, the declaration is expanded
(plugin_utils/simulation/declared.py) and plugin_utils/simulation/simulate.py
runs the xDS simulation harness and judges every call. With a cluster and no
directory of the mesh's objects, plugin_utils/simulation/live.py reads the mesh
from it first (get and list only). Nothing is written.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_simulate_options import (
    GATEWAY_OPTIONS,
    argument_spec,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import data_version
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import ClusterReader
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.target import (
    ClusterNotNamed,
    check_named,
    client_for,
    target_of,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import from_role
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import input_message, named_run
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.declared import EXPANSION_OPTIONS, declared
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.harness import HarnessError, binary_for
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.live import read_mesh
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.manifests import ManifestError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.simulate import simulate_egress
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.plain_data import plain


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        # What the task leaves out of the egress set, from the role's variables when asked (checked as the task's own).
        self._task.args = from_role.taken(self._task.args, task_vars or {}, self._templar)
        _validation, args = self.validate_argument_spec(argument_spec=argument_spec())
        # Names end up in the objects given to the harness: plain strings, not Ansible's tagged ones.
        args = plain(args)
        # Its messages name options as the caller's variables.
        return named_run(lambda: self._run(result, args), args["variable_prefix"])

    def _run(self, result, args):
        gateway = args["gateway"] or {key: spec["default"] for key, spec in GATEWAY_OPTIONS.items()}
        try:
            declaration = declared(
                args["services"],
                args["name"],
                args["namespace"],
                args["mode"],
                gateway=gateway,
                sidecars=args["sidecars"],
                sidecar_hosts=args["sidecar_hosts"],
                export_to=args["export_to"],
                waypoint=args["waypoint"],
                caller_namespaces=args["caller_namespaces"],
                wildcard_resolution=args["wildcard_resolution"],
                **{key: args[key] for key in EXPANSION_OPTIONS},
            )
        except InputError as err:
            # A bad value, named as the caller's variable (`istio_aws_egress_regions[1]: ...`) with its prefix.
            return {**result, "failed": True, "msg": input_message(err, args["variable_prefix"])}
        except AnsibleFilterError as err:
            # Not about an option (botocore missing): said as it is.
            return {**result, "failed": True, "msg": err.message}
        try:
            # Found, or built now from the collection's own source (saying so first: it takes minutes).
            binary = binary_for(args["harness"], notify=Display().display)
            live = self._live(args, declaration)
            policy = args["outbound_traffic_policy"] or (live and live.outbound_traffic_policy) or "REGISTRY_ONLY"
            report = simulate_egress(
                declaration,
                args["manifests"],
                args["mesh_objects"],
                policy,
                args["unlisted_namespace"],
                binary,
                decided_by=args["cluster"] or "",
                live=live,
            )
        except ManifestError as err:
            return {**result, "failed": True, "msg": f"cannot read the manifests: {err}"}
        except HarnessError as err:
            return {**result, "failed": True, "msg": str(err)}
        except ClusterNotNamed as err:
            return {**result, "failed": True, "msg": str(err)}
        except EgressFailure as failure:
            return {**result, "failed": True, "msg": failure.message, **failure.result()}
        # The declared hosts came from this process's botocore.
        result.update(report, changed=False, endpoint_data=data_version.current())
        return result

    @staticmethod
    def _live(args, declaration):
        """The mesh read from the cluster, when one is named and no directory of the mesh's objects is given."""
        if not args["cluster"] or args["mesh_objects"]:
            return None
        auth, cluster = target_of(args)
        check_named(auth)
        return read_mesh(ClusterReader(client_for(auth, cluster), cluster), declaration, args["unlisted_namespace"])
