# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The egress_plan filter: desired resources and live objects in, a plan out.

Documentation: egress_plan.yml beside this file.  The decisions are in
plugin_utils/plan_classify.py and plugin_utils/plan_fields.py.
"""

from __future__ import annotations

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import described
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.plan_classify import build_plan

PLUGIN_NAME = "meshops.aws_egress.egress_plan"


def egress_plan(desired, live, set_name, adopt=False, prune=True):
    """Classify desired resources against live objects: create, update, adopt, unchanged, prune, conflict."""
    if isinstance(desired, str):
        desired = _manifests(desired)
    for argument, value in (("_input", desired), ("live", live)):
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise AnsibleFilterError(f"{PLUGIN_NAME}: {argument}: expected a list of Kubernetes objects (dicts), got {described(value)}")
    return build_plan(_plain(desired), _plain(live), set_name=str(set_name), adopt=bool(adopt), prune=bool(prune))


def _manifests(text):
    """The objects of a YAML stream, skipping empty documents; the C parser when there is one."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return [doc for doc in yaml.load_all(str(text), Loader=loader) if doc]
    except yaml.YAMLError as exc:
        raise AnsibleFilterError(f"{PLUGIN_NAME}: _input: not a YAML stream of Kubernetes objects: {exc}") from None


def _plain(value):
    """Plain dicts, lists and scalars: Ansible hands filters lazy containers, whose
    every access has a cost, and the plan reads each field several times."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {"egress_plan": egress_plan}
