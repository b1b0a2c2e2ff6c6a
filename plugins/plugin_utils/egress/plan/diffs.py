# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What --diff shows of a plan, as `kubectl diff` users expect it: the whole object of a create or a prune, and for an
update the live object before and after the fields we set change (Ansible's callback prints the unified diff, so an
update reads as its changed fields with a few lines of context).

Objects are shown as YAML, without what only the API server keeps (status, managedFields, resourceVersion, ...).
"""

from __future__ import annotations

import copy

import yaml

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import FIELD_MANAGER
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.fields import field_changes
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import kind_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import describe, identity

# The API server's bookkeeping: no one declares it, and it changes with every write.
_SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")


def plan_diffs(plan, live):
    """Ansible's diff entries (before/after text and headers) for every write of `plan` against the `live` objects."""
    live_by_id = {identity(obj): obj for obj in live}
    diffs = []
    for obj in plan.apply:
        current = live_by_id.get(identity(obj))
        if current is None:
            diffs.append(_entry(obj, "", _yaml(obj)))
        else:
            diffs.append(_entry(obj, _yaml(current), _yaml(applied(obj, current))))
    diffs.extend(_entry(obj, _yaml(obj), "") for obj in plan.prune)
    return diffs


def applied(desired, live):
    """`live` after an apply of `desired` changes the fields we set (fields.field_changes), and nothing else."""
    after = copy.deepcopy(live)
    for change in field_changes(desired, live, FIELD_MANAGER, kind_of(desired).compared):
        *parents, leaf = change.path
        node = after
        for key in parents:
            node = node.setdefault(key, {})
        if change.new is None:
            node.pop(leaf, None)
        else:
            node[leaf] = copy.deepcopy(change.new)
    return after


def shown(obj):
    """The object as declared and read: without its status and the API server's own metadata."""
    obj = {key: value for key, value in obj.items() if key != "status"}
    metadata = {key: value for key, value in (obj.get("metadata") or {}).items() if key not in _SERVER_METADATA}
    return {**obj, "metadata": metadata}


def _yaml(obj):
    return yaml.safe_dump(shown(obj), default_flow_style=False, sort_keys=False)


def _entry(obj, before, after):
    name = describe(obj)
    return {"before_header": f"{name} (live)", "after_header": f"{name} (declared)", "before": before, "after": after}
