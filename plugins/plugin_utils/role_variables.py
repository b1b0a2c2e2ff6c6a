# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The role's grouped variables, from their names or, for one release, from the names they replace.

A group is one dict for what is one concept. With Ansible's default
hash_behaviour=replace, a dict set in host_vars replaces the group_vars one
whole, so only what is never set per cluster is grouped. A key the dict leaves
out keeps its default, which lives with the code that applies it (the
egress_set module's options, egress/layout/policies.py): this module returns only what the
user set.

Role argument validation neither maps a variable to another nor warns of one,
so the role calls this (the _role_variables filter) before its first step.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.policies import checked_peer
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import (
    check_keys,
    described,
    input_error,
    shown,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

REMOVAL_VERSION = "1.0.0"


def _seconds(value, path):
    # A string of digits too: `-e istio_aws_egress_lock_timeout=30` gives one.
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise input_error(path, f"expected a number of seconds (a positive integer), got {described(value)}")
    return int(value)


# New variable -> {key: (the variable it replaces, check(value, path) -> the value as used)}; names without the prefix.
GROUPS = {
    "lock": {"timeout": ("lock_timeout", _seconds), "duration": ("lock_duration", _seconds)},
    "network_policy_peers": {
        "dns": ("network_policy_dns", checked_peer),
        "istiod": ("network_policy_istiod", checked_peer),
    },
}

# Each deprecated variable -> where its value goes now ("lock.timeout").
DEPRECATED = {old: f"{group}.{key}" for group, keys in GROUPS.items() for key, (old, _check) in keys.items()}


def grouped(variables, prefix=""):
    """({group: {key: value}} of the keys set, [(old, new)] of the deprecated variables set); raises InputError.

    `variables`: the role's variables by name (with `prefix`), those the user did not set absent or None.
    """
    values, used = {}, []
    for group, keys in GROUPS.items():
        given = variables.get(prefix + group)
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise input_error(group, f"expected a dict with {', '.join(keys)}, got {described(given)}")
        check_keys(given, group, tuple(keys))
        values[group] = {}
        for key, (old, check) in keys.items():
            path, value = f"{group}.{key}", given.get(key)
            replaced = variables.get(prefix + old)
            if replaced is not None:
                used.append((old, path))
                if value is not None and value != replaced:
                    raise input_error(
                        old,
                        f"{shown(replaced)} is deprecated and {option_ref(path)} is {shown(value)}: "
                        f"set {option_ref(path)} only",
                    )
                path, value = old, replaced
            if value is not None:
                values[group][key] = check(value, path)
    return values, used


def deprecation(old, new):
    """The warning for a deprecated variable that is set."""
    return f"{option_ref(old)} is deprecated: set {option_ref(new)} instead; until then the role takes it as {option_ref(new)}"
