# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The _role_variables filter (internal to the role): the role's variables in, its grouped ones out, with a deprecation
warning for each old name set.

Documentation: _role_variables.yml beside this file.  The groups and the names they replace are in
plugin_utils/role_variables.py.
"""

from __future__ import annotations

from ansible.utils.display import Display

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import caller_error, named_options
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.plain_data import plain
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.role_variables import deprecation, grouped


def role_variables(variables, variable_prefix=""):
    """{group: {key: value}} of what the variables set, the deprecated names mapped to their replacements."""
    try:
        values, used = grouped(plain(variables or {}), variable_prefix)
    except InputError as exc:
        raise caller_error(exc, "meshops.aws_egress._role_variables", variable_prefix) from None
    for old, new in used:
        # role_variables.REMOVAL_VERSION, written out: ansible-test's pylint checks the version of every such call.
        Display().deprecated(
            named_options(deprecation(old, new), variable_prefix), version="1.0.0", collection_name="meshops.aws_egress"
        )
    return values


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {"_role_variables": role_variables}
