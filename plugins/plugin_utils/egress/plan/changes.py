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
* ours: update when a field we set differs (the kind's compared fields), else unchanged;
* ours, another egress set: conflict, always;
* not ours: conflict, unless adopting, which takes it over with our labels;
* ours, live but not desired: prune (or keep, with prune off);
* ours, and its update or prune would stop opening a host that only the
  endpoint data drops (plan/endpoint_data.py): withheld, left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import FIELD_MANAGER, MANAGED_BY_LABEL
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.fields import field_changes, format_change
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import kind_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import (
    FOREIGN,
    OTHER_SET,
    OURS,
    labels_of,
    other_owner,
    owner_of,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

ACTIONS = ("create", "update", "adopt", "unchanged", "prune", "keep", "withheld", "conflict")


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


def others_of(desired, live, owner_labels):
    """The live objects that are neither declared nor ours: what the safety checks weigh the declared ones against."""
    desired_ids = {identity(obj) for obj in desired}
    return [obj for obj in live if identity(obj) not in desired_ids and owner_of(obj, owner_labels) != OURS]


@dataclass
class Plan:
    """What a run writes. `apply` holds whole objects and `prune` live ones; `summary()` is what is shown."""

    apply: list = field(default_factory=list)
    prune: list = field(default_factory=list)
    create: list = field(default_factory=list)
    withheld: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)
    counts: dict = field(default_factory=lambda: {action: 0 for action in ACTIONS})
    lines: list = field(default_factory=list)

    @property
    def changed(self):
        return bool(self.apply or self.prune)

    @property
    def summary(self):
        counts = self.counts
        text = (
            f"{counts['create']} to create, {counts['update']} to update, "
            f"{counts['adopt']} to adopt, {counts['prune']} to prune, {counts['unchanged']} unchanged"
        )
        if counts["keep"]:
            text += f", {counts['keep']} no longer declared but kept (prune is off)"
        if counts["withheld"]:
            text += f", {counts['withheld']} withheld (they would close hosts only the endpoint data drops)"
        if counts["conflict"]:
            text += f", {counts['conflict']} in conflict"
        return text

    def public(self):
        """The plan as the role reports it: names, never whole objects."""
        return {
            "changed": self.changed,
            "counts": dict(self.counts),
            "summary": self.summary,
            "lines": list(self.lines),
            "apply": [describe(obj) for obj in self.apply],
            "create": list(self.create),
            "prune": [describe(obj) for obj in self.prune],
            "withheld": list(self.withheld),
            "conflicts": list(self.conflicts),
        }


def build_plan(desired, live, owner_labels, adopt=False, prune=True, hold=None):
    """The plan for `desired` against `live`, for the owner whose labels are `owner_labels`.

    `hold` maps the identity of each of our objects whose update or prune must wait to the hosts it would close
    (endpoint_data.Report.hold).
    """
    hold = hold or {}
    live_by_id = {identity(obj): obj for obj in live}
    plan = Plan()
    wanted = set()
    for resource in desired:
        wanted.add(identity(resource))
        step = _step(resource, live_by_id.get(identity(resource)), owner_labels, adopt)
        _record(plan, *(_withheld(step, hold) if step[0] == "update" else step))
    for key in sorted(live_by_id, key=lambda k: tuple(str(part) for part in k)):
        obj = live_by_id[key]
        if key not in wanted and owner_of(obj, owner_labels) == OURS:
            _record(plan, *(_withheld(("prune", obj, []), hold) if prune else ("keep", obj, [])))
    return plan


def _withheld(step, hold):
    """An update or prune that must wait, as withheld: the object stays as it is; its changes are shown."""
    action, obj, details = step
    hosts = hold.get(identity(obj))
    if not hosts:
        return step
    return ("withheld", obj, [f"it would close {', '.join(hosts)}, which only the endpoint data drops"] + details)


def _step(resource, obj, owner_labels, adopt):
    if obj is None:
        return ("create", resource, [])
    owner = owner_of(obj, owner_labels)
    if owner == OTHER_SET:
        return (
            "conflict",
            resource,
            [f"{describe(obj)} belongs to {other_owner(obj)}; one set never takes over another's resources"],
        )
    if owner == FOREIGN and not adopt:
        manager = labels_of(obj).get(MANAGED_BY_LABEL)
        managed = f"managed by {manager!r}" if manager else f"not labelled {MANAGED_BY_LABEL}={FIELD_MANAGER}"
        return (
            "conflict",
            resource,
            [f"{describe(obj)} exists and is {managed}; set {option_ref('adopt')}: true to take it over"],
        )
    roots = kind_of(resource).compared
    details = [line for change in field_changes(resource, obj, FIELD_MANAGER, roots) for line in format_change(change)]
    if owner == FOREIGN:
        return ("adopt", resource, details)
    return ("update" if details else "unchanged", resource, details)


_SYMBOLS = {"create": "+", "update": "~", "adopt": "~", "prune": "-", "keep": "=", "withheld": "="}
_NOTES = {"adopt": " (taking over a resource not labelled as ours)", "keep": " (no longer declared; prune is off)"}


def _record(plan, action, obj, details):
    plan.counts[action] += 1
    if action in ("create", "update", "adopt"):
        plan.apply.append(obj)
        if action == "create":
            plan.create.append(describe(obj))
    elif action == "prune":
        plan.prune.append(obj)
    elif action == "withheld":
        plan.withheld.append(describe(obj))
    elif action == "conflict":
        plan.conflicts.extend(details)
        return
    if action != "unchanged":
        plan.lines.append(f"{_SYMBOLS[action]} {action} {describe(obj)}{_NOTES.get(action, '')}")
        plan.lines.extend(f"    {detail}" for detail in details)


def reference(obj):
    """Just enough of a live object to delete it."""
    metadata = obj.get("metadata") or {}
    ref = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": {"name": metadata.get("name")}}
    if metadata.get("namespace"):
        ref["metadata"]["namespace"] = metadata["namespace"]
    return ref
