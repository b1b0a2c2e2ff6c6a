# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""desired resources + live objects -> a plan: what to create, change, adopt, prune or refuse.

The plan is decided before anything is written, so that

* a rerun with nothing to do sends no write at all (a server-side apply is a
  PATCH even when it changes nothing);
* check mode can say per resource what would happen;
* every conflict is known, and reported together, before the first write.

Resources are matched by API group, kind, namespace and name (not version:
the cluster may serve the same object under several versions).  Rules:

* not there: create;
* ours, this egress set: update when a field we set differs, else unchanged;
* ours, another egress set: conflict, always;
* not ours: conflict, unless adopting, which takes it over with our labels;
* ours, this egress set, live but not desired: prune (or keep, with prune off).
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.plan_fields import field_changes, format_change
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.resource_labels import (
    EGRESS_SET_LABEL, FOREIGN, MANAGED_BY_LABEL, MANAGER, OTHER_SET, OURS, labels_of, owner_of)

ACTIONS = ("create", "update", "adopt", "unchanged", "prune", "keep", "conflict")


def identity(obj):
    """(group, kind, namespace, name): the same object under any API version."""
    api_version = obj.get("apiVersion") or ""
    group = api_version.split("/")[0] if "/" in api_version else ""
    metadata = obj.get("metadata") or {}
    return (group, obj.get("kind"), metadata.get("namespace") or "", metadata.get("name"))


def describe(obj):
    """'ServiceEntry istio-system/aws-default-sts-us-east-1'."""
    kind, namespace, name = identity(obj)[1:]
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def build_plan(desired, live, set_name, adopt=False, prune=True):
    """The plan as plain data: see the egress_plan filter's documentation."""
    live_by_id = {}
    for obj in live:
        live_by_id[identity(obj)] = obj
    steps = []  # (action, resource or live object, detail lines)
    wanted = set()
    for resource in desired:
        wanted.add(identity(resource))
        steps.append(_step(resource, live_by_id.get(identity(resource)), set_name, adopt))
    for key in sorted(live_by_id, key=lambda k: tuple(str(part) for part in k)):
        obj = live_by_id[key]
        if key not in wanted and owner_of(obj, set_name) == OURS:
            steps.append(("prune" if prune else "keep", obj, []))
    return _plan_from_steps(steps)


def _step(resource, obj, set_name, adopt):
    if obj is None:
        return ("create", resource, [])
    owner = owner_of(obj, set_name)
    if owner == OTHER_SET:
        other = labels_of(obj).get(EGRESS_SET_LABEL)
        return ("conflict", resource, [f"{describe(obj)} belongs to egress set {other!r}; one set never takes over another's resources"])
    if owner == FOREIGN and not adopt:
        manager = labels_of(obj).get(MANAGED_BY_LABEL)
        managed = f"managed by {manager!r}" if manager else f"not labelled {MANAGED_BY_LABEL}={MANAGER}"
        return ("conflict", resource, [f"{describe(obj)} exists and is {managed}; set istio_aws_egress_adopt: true to take it over"])
    details = [line for change in field_changes(resource, obj, MANAGER) for line in format_change(change)]
    if owner == FOREIGN:
        return ("adopt", resource, details)
    return ("update" if details else "unchanged", resource, details)


def _plan_from_steps(steps):
    counts = {action: 0 for action in ACTIONS}
    lines, apply, create, prune, conflicts = [], [], [], [], []
    for action, obj, details in steps:
        counts[action] += 1
        if action in ("create", "update", "adopt"):
            apply.append(obj)
            if action == "create":
                create.append(describe(obj))
        elif action == "prune":
            prune.append(_reference(obj))
        elif action == "conflict":
            conflicts.extend(details)
            continue
        if action != "unchanged":
            lines.append(_line(action, obj))
            lines.extend(f"    {detail}" for detail in details)
    summary = (f"{counts['create']} to create, {counts['update']} to update, "
               f"{counts['adopt']} to adopt, {counts['prune']} to prune, {counts['unchanged']} unchanged")
    if counts["keep"]:
        summary += f", {counts['keep']} no longer declared but kept (prune is off)"
    if counts["conflict"]:
        summary += f", {counts['conflict']} in conflict"
    return {
        "apply": apply,
        "create": create,
        "prune": prune,
        "conflicts": conflicts,
        "counts": counts,
        "lines": lines,
        "summary": summary,
        "changed": bool(apply or prune),
    }


_SYMBOLS = {"create": "+", "update": "~", "adopt": "~", "prune": "-", "keep": "="}
_NOTES = {"adopt": " (taking over a resource not labelled as ours)", "keep": " (no longer declared; prune is off)"}


def _line(action, obj):
    return f"{_SYMBOLS[action]} {action} {describe(obj)}{_NOTES.get(action, '')}"


def _reference(obj):
    """Just enough of a live object to delete it."""
    metadata = obj.get("metadata") or {}
    reference = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": {"name": metadata.get("name")}}
    if metadata.get("namespace"):
        reference["metadata"]["namespace"] = metadata["namespace"]
    return reference
