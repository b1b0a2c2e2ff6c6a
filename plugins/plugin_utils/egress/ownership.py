# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Who owns a resource: the labels and annotations we put on everything.

Ownership is decided by labels alone, so that `kubectl get -l` shows the same
thing the role sees:

* `app.kubernetes.io/managed-by: meshops.aws_egress` says the collection
  manages it;
* `meshops.io/egress-set: <name>` says which egress set it belongs to (the
  RBAC the role installs carries `app.kubernetes.io/component: rbac` instead).

The field manager of our server-side applies has the same name as the label
value, so `managedFields` tell the same story.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import (
    BOTOCORE_ANNOTATION,
    COLLECTION,
    COLLECTION_ANNOTATION,
    COMPONENT_LABEL,
    EGRESS_SET_LABEL,
    MANAGED_BY_LABEL,
    RBAC_COMPONENT,
    REGIONS_ANNOTATION,
    SERVICES_ANNOTATION,
)

OURS = "ours"  # managed by us, with every label of this owner
OTHER_SET = "other-set"  # managed by us, for another egress set (or another purpose)
FOREIGN = "foreign"  # not managed by us


def ownership_labels(set_name):
    """The labels every resource of egress set `set_name` carries."""
    return {MANAGED_BY_LABEL: COLLECTION, EGRESS_SET_LABEL: set_name}


def rbac_labels():
    """The labels of the RBAC objects the role installs."""
    return {MANAGED_BY_LABEL: COLLECTION, COMPONENT_LABEL: RBAC_COMPONENT}


def selector(owner_labels):
    """`owner_labels` as a label selector."""
    return ",".join(f"{key}={value}" for key, value in sorted(owner_labels.items()))


def provenance_annotations(sources, regions):
    """Annotations naming what a resource was opened for; empty values are left out."""
    annotations = {
        SERVICES_ANNOTATION: ",".join(sorted(set(sources))),
        REGIONS_ANNOTATION: ",".join(sorted(set(regions))),
    }
    return {key: value for key, value in annotations.items() if value}


def endpoint_data_annotations(versions):
    """The annotations naming the endpoint data a resource was produced with ({"botocore", "collection"}); none without it."""
    if not versions:
        return {}
    return {BOTOCORE_ANNOTATION: versions["botocore"], COLLECTION_ANNOTATION: versions["collection"]}


def endpoint_data_of(obj):
    """{"botocore", "collection"} as recorded on an object, or None where it records no botocore version."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if not annotations.get(BOTOCORE_ANNOTATION):
        return None
    return {"botocore": annotations[BOTOCORE_ANNOTATION], "collection": annotations.get(COLLECTION_ANNOTATION)}


def labels_of(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def owner_of(obj, owner_labels):
    """OURS, OTHER_SET or FOREIGN for a live object, against the labels of the owner planning."""
    labels = labels_of(obj)
    if labels.get(MANAGED_BY_LABEL) != COLLECTION:
        return FOREIGN
    return OURS if all(labels.get(key) == value for key, value in owner_labels.items()) else OTHER_SET


def other_owner(obj):
    """'egress set 'theirs'' for an object of ours that another owner holds."""
    labels = labels_of(obj)
    if labels.get(EGRESS_SET_LABEL):
        return f"egress set {labels[EGRESS_SET_LABEL]!r}"
    return f"{COLLECTION} ({labels.get(COMPONENT_LABEL) or 'no egress set'})"


def managed_by_us(obj):
    """Whether the collection manages `obj`, for whichever egress set (or purpose)."""
    return labels_of(obj).get(MANAGED_BY_LABEL) == COLLECTION


def owner_text(obj, of=""):
    """Whose another owner's object is: `of` and its owner when we manage it ('of egress set 'theirs''), else
    'not managed by meshops.aws_egress'."""
    if managed_by_us(obj):
        return f"{of}{other_owner(obj)}"
    return f"not managed by {COLLECTION}"
