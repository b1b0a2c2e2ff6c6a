# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An egress set's options taken from the role's variables, as the role takes them: option `x` is `istio_aws_egress_x`.

egress_simulate and egress_diagnose describe an egress set with the options of the egress_set documentation fragment,
named as the role's variables without their prefix. With `role_variables: true`, what a task leaves out is read from
the variables the task sees (the role's defaults, with `include_role`'s `public: true`, and the inventory's), so the
runbooks list none of them.
"""

from __future__ import annotations

import functools

import yaml

from ansible_collections.meshops.aws_egress.plugins.doc_fragments.egress_set import ModuleDocFragment
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import option_names, role_options


@functools.lru_cache(maxsize=None)
def options():
    """The documentation fragment's options that are role variables, in its order."""
    declared = role_options.options()
    return tuple(name for name in yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"] if name in declared)


def taken(args, task_vars, templar):
    """The task's arguments, with each egress set option it leaves out taken from the role's variable of that name.

    `templar` (the action's) renders a variable's value as Ansible would. A variable that is not set, None or an empty dict is
    left out, so that the option's default applies. Messages then name the role's variables.
    """
    if not args.get("role_variables"):
        return args
    found = {}
    for option in options():
        name = role_options.PREFIX + option
        if option in args or name not in task_vars:
            continue
        value = templar.template(task_vars[name])
        if value is not None and value != {}:
            found[option] = value
    return option_names.with_prefix({**found, **args}, role_options.PREFIX)
