# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The _egress_rbac filter (internal to the role): where the role writes in, the RBAC it needs out.

Documentation: _egress_rbac.yml beside this file.  The rules are built from
the kinds table in plugin_utils/egress/rbac/rules.py.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.rbac.rules import rbac
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import caller_error


def egress_rbac(namespace, sidecar_namespaces=None, gateway_namespace=None, subject=None, variable_prefix=""):
    """The RBAC of the role for an egress set in `namespace`, bound to `subject`."""
    try:
        return rbac(namespace, sidecar_namespaces or [], gateway_namespace, subject)
    except InputError as exc:
        raise caller_error(exc, "meshops.aws_egress._egress_rbac", variable_prefix) from None


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {"_egress_rbac": egress_rbac}
