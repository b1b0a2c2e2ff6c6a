# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The egress_access filter: a plan in, the permission checks its writes need out.

Documentation: egress_access.yml beside this file.  The work is done in
plugin_utils/access_checks.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.access_checks import UnknownKind, plan_checks

PLUGIN_NAME = "meshops.aws_egress.egress_access"


def egress_access(plan, lease_namespace=None, lease_name="meshops-aws-egress"):
    """Checks for meshops.aws_egress.access_review: what the plan's writes (and the lease) need."""
    if not isinstance(plan, dict) or not isinstance(plan.get("apply", []), list) or not isinstance(plan.get("prune", []), list):
        raise AnsibleFilterError(f"{PLUGIN_NAME}: expected a plan of meshops.aws_egress.egress_plan, got {type(plan).__name__}")
    try:
        return plan_checks(plan, lease_namespace=lease_namespace, lease_name=lease_name)
    except UnknownKind as exc:
        raise AnsibleFilterError(f"{PLUGIN_NAME}: {exc}") from None


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {"egress_access": egress_access}
