# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How one live object differs from the resource we want, in the fields we set.

Only what we set is compared: the leaves of `spec`, and our labels and
annotations.  Fields the API server or other field managers add never count,
so a rerun sees no change.  Lists are compared whole (Istio's lists are
atomic), maps leaf by leaf.

A field we set before and no longer want is found through managedFields: if
our field manager owns a path the desired resource lacks, and the live object
still has a value there, the next server-side apply removes it, so it is a
change too.
"""

from __future__ import annotations

import json
from collections import namedtuple

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import OUR_METADATA, SPEC

# What we set on most kinds; the kinds table gives each kind its own (kinds.py).
COMPARED_ROOTS = SPEC + OUR_METADATA
_SHOWN_LENGTH = 300

FieldChange = namedtuple("FieldChange", ["path", "old", "new"])  # old/new None: absent


def _leaves(value, prefix):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, prefix + (key,))
    elif value is not None:
        yield prefix, value


def desired_fields(resource, roots=COMPARED_ROOTS):
    """{path: value} for every leaf we set under `roots`: spec leaves, labels and annotations."""
    fields = {}
    for root in roots:
        fields.update(_leaves(value_at(resource, root), root))
    return fields


def value_at(obj, path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def owned_paths(live, manager, roots=COMPARED_ROOTS):
    """Leaf paths (under `roots`) that `manager` owns through server-side apply."""
    paths = set()
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            paths.update(_field_paths(entry.get("fieldsV1") or {}, ()))
    return {p for p in paths if any(p[: len(root)] == root for root in roots)}


def _field_paths(node, prefix):
    # fieldsV1: {"f:spec": {"f:hosts": {}}}; "k:"/"v:"/"i:" keys are list items,
    # which we compare as part of their list, and "." marks the map itself.
    children = {key[2:]: child for key, child in node.items() if key.startswith("f:")}
    list_items = [key for key in node if not key.startswith("f:") and key != "."]
    if not children or list_items:
        if prefix:
            yield prefix
        return
    for name, child in children.items():
        yield from _field_paths(child or {}, prefix + (name,))


def field_changes(desired, live, manager, roots=COMPARED_ROOTS):
    """FieldChanges that an apply of `desired` would make to `live` under `roots`, sorted by path."""
    wanted = desired_fields(desired, roots)
    changes = [
        FieldChange(path, value_at(live, path), value)
        for path, value in wanted.items()
        if value_at(live, path) != value
    ]
    for path in owned_paths(live, manager, roots):
        # An empty map we set (a NetworkPolicy's podSelector {}: every pod) has no leaf, and is still wanted.
        still_wanted = (
            path in wanted
            or any(w[: len(path)] == path or path[: len(w)] == w for w in wanted)
            or value_at(desired, path) == {}
        )
        if not still_wanted and value_at(live, path) is not None:
            changes.append(FieldChange(path, value_at(live, path), None))
    return sorted(changes, key=lambda change: change.path)


def format_path(path):
    """spec.hosts, metadata.labels[meshops.io/egress-set]: keys with dots or slashes in brackets."""
    text = ""
    for key in path:
        key = str(key)
        text += f"[{key}]" if ("." in key or "/" in key) else (f".{key}" if text else key)
    return text


def format_change(change):
    """Readable lines for one change: `spec.hosts: +["b"] -["a"]`, `spec.resolution: "DNS" -> "NONE"`.

    Lists of maps of the same length are shown item by item, so a change deep
    in a Sidecar's egress hosts reads like a change of hosts.
    """
    return list(_change_lines(change.path, change.old, change.new))


def _change_lines(path, old, new):
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) != new.get(key):
                yield from _change_lines(path + (key,), old.get(key), new.get(key))
        return
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and len(old) == len(new)
        and all(isinstance(v, dict) for v in old + new)
    ):
        for index, (before, after) in enumerate(zip(old, new)):
            if before != after:
                yield from _change_lines(path[:-1] + (f"{path[-1]}[{index}]",), before, after)
        return
    yield f"{format_path(path)}: {_values(old, new)}"


def _values(old, new):
    if new is None:
        return f"{_shown(old)} -> (removed)"
    if old is None:
        return f"(unset) -> {_shown(new)}"
    if _scalar_list(old) and _scalar_list(new):
        added = [v for v in new if v not in old]
        removed = [v for v in old if v not in new]
        if added or removed:
            return " ".join(([f"+{_shown(added)}"] if added else []) + ([f"-{_shown(removed)}"] if removed else []))
        return f"order {_shown(old)} -> {_shown(new)}"
    return f"{_shown(old)} -> {_shown(new)}"


def _scalar_list(value):
    return isinstance(value, list) and all(isinstance(v, (str, int, float, bool)) for v in value)


def _shown(value):
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."
