# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meshops.aws_egress.egress_set: bring one cluster to an egress set's declared resources.

A thin entry point: the options are checked, one client is made from
kubernetes.core's authentication options, and plugin_utils/egress/apply/rollout.py
does the run. kubernetes.core.k8s applies and prunes, through this action's
own module execution.
"""

from __future__ import annotations

import os
import sys

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_set_options import argument_spec
from ansible_collections.meshops.aws_egress.plugins.module_utils.lease import default_holder
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import wildcards
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.rbac.install import install
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.rollout import Request, Run
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.declared import NotResources, objects_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.target import (
    ClusterNotNamed,
    check_named,
    client_for,
    target_of,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.module_runs import ModuleRuns
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_run, option_ref


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # kubernetes.core.k8s runs from the writes' threads too (plugin_utils/egress/apply/writes.py).
        self._module_runs = ModuleRuns(self)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=argument_spec())
        # Its messages name options as the caller's variables.
        return named_run(lambda: self._run(result, args, task_vars), args["variable_prefix"])

    def _run(self, result, args, task_vars):
        auth, cluster = target_of(args)
        try:
            resources = objects_of(args["resources"])
        except NotResources as err:
            raise AnsibleActionFail(str(err)) from None
        invocation = self._invocation(args, len(resources))
        if args["apply_concurrency"] < 1:
            raise AnsibleActionFail(
                f"{option_ref('apply_concurrency')} is {args['apply_concurrency']}: it must be 1 "
                f"(one kubernetes.core.k8s run at a time) or more"
            )
        if args["wildcard_resolution"] == wildcards.DEPRECATED_CHOICE:
            Display().deprecated(wildcards.DEPRECATION, version="1.0.0", collection_name="meshops.aws_egress")
        if args["owner"] == "rbac":
            Display().deprecated(
                "meshops.aws_egress.egress_set: owner=rbac installs the role's RBAC through "
                "meshops.aws_egress._install_rbac; use the istio_aws_egress role (tasks_from: rbac)",
                version="1.0.0",
                collection_name="meshops.aws_egress",
            )
            return {**result, **invocation, **self._install_rbac(args, resources, task_vars)}
        request = Request(
            name=args["name"],
            namespace=args["namespace"],
            resources=resources,
            cluster=cluster,
            state=args["state"],
            prune=args["prune"],
            adopt=args["adopt"],
            api_version=args["api_version"],
            gateway=args["gateway"],
            accept=args["accept"],
            lock_timeout=args["lock_timeout"],
            lock_duration=args["lock_duration"],
            waypoint=args["waypoint"],
            wildcard_resolution=args["wildcard_resolution"],
            exclude_hosts=args["exclude_hosts"],
            outbound_policy=args["outbound_policy"],
            check_mode=bool(self._play_context.check_mode),
            diff=bool(self._task.diff),
            concurrency=args["apply_concurrency"],
        )
        try:
            check_named(auth)
            api_client = client_for(auth, cluster)
            outcome = Run(
                request,
                api_client,
                lambda module_args: self._k8s(module_args, auth, task_vars),
                default_holder(),
                check_modules=lambda: self._check_module_python(cluster, task_vars),
                say=Display().display,
            ).run()
        except ClusterNotNamed as err:
            return {**result, **invocation, "failed": True, "msg": str(err), "failed_step": "target"}
        except EgressFailure as failure:
            return {**result, **invocation, "failed": True, "msg": failure.message, **failure.result()}
        result.update(outcome, **invocation)
        return result

    def _install_rbac(self, args, resources, task_vars):
        """The result of installing the RBAC `resources` (plugin_utils/egress/rbac/install.py) with the options `args`."""
        auth, cluster = target_of(args)
        try:
            check_named(auth)
            return install(
                resources,
                cluster,
                client_for(auth, cluster),
                lambda module_args: self._k8s(module_args, auth, task_vars),
                check_mode=bool(self._play_context.check_mode),
                adopt=args["adopt"],
                check_modules=lambda: self._check_module_python(cluster, task_vars),
            )
        except ClusterNotNamed as err:
            return {"failed": True, "msg": str(err), "failed_step": "target"}
        except EgressFailure as failure:
            return {"failed": True, "msg": failure.message, **failure.result()}

    def _check_module_python(self, cluster, task_vars):
        """kubernetes.core.k8s runs in the host's module Python: it must have the kubernetes client."""
        if self._modules_run_in_this_python(task_vars):
            return  # this Python has just imported the kubernetes client
        found = self._execute_module(
            module_name="meshops.aws_egress._module_python",
            module_args={"packages": ["kubernetes"]},
            task_vars=task_vars,
        )
        if found.get("failed"):
            reason = found.get("msg") or "it did not start"
            if "ansible_python_interpreter" not in reason:
                reason += (
                    "; set ansible_python_interpreter to a Python with the kubernetes client (with ansible_connection: "
                    "local, \"{{ ansible_playbook_python }}\" is the one running Ansible)"
                )
            raise EgressFailure(
                "target", f"checking the Python that runs modules for {cluster}", f"{reason}; nothing was written"
            )

    def _modules_run_in_this_python(self, task_vars):
        """Whether modules run on this machine in the Python running Ansible (ansible_playbook_python, as documented)."""
        interpreter = task_vars.get("ansible_python_interpreter")
        if getattr(self._connection, "transport", None) != "local" or not isinstance(interpreter, str):
            return False
        return _same_python(str(self._templar.template(interpreter)), sys.executable)

    def _invocation(self, args, resources):
        """The arguments, as modules report them: secrets masked, and the resources counted, not echoed."""
        if self._play_context.no_log:
            return {"invocation": "CENSORED: no_log is set"}
        spec = argument_spec()
        shown = {
            key: "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
            if spec.get(key, {}).get("no_log") and value is not None
            else value
            for key, value in args.items()
            if key != "resources"
        }
        shown["resources"] = f"({resources} resources)"
        return {"invocation": {"module_args": shown}}

    def _k8s(self, module_args, auth, task_vars):
        """kubernetes.core.k8s, run as a module of this task (from any thread); its echo of the arguments is dropped."""
        outcome = self._module_runs.execute("kubernetes.core.k8s", {**module_args, **auth}, task_vars)
        outcome.pop("invocation", None)
        return outcome


def _same_python(one, other):
    """The same binary in the same directory: a virtualenv's python links to a base Python that lacks its packages,
    and Python finds its environment (pyvenv.cfg) beside the path it was started by."""
    one, other = os.path.abspath(one), os.path.abspath(other)
    return os.path.dirname(one) == os.path.dirname(other) and os.path.realpath(one) == os.path.realpath(other)
