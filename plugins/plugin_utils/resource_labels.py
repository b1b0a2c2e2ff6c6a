# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Who owns a resource: the labels and annotations we put on everything.

Ownership is decided by labels alone, so that `kubectl get -l` shows the same
thing the role sees:

* `app.kubernetes.io/managed-by: meshops.aws_egress` says the collection
  manages it;
* `meshops.io/egress-set: <name>` says which egress set it belongs to.

The field manager of our server-side applies has the same name as the label
value, so `managedFields` tell the same story.
"""

from __future__ import annotations

MANAGER = "meshops.aws_egress"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
EGRESS_SET_LABEL = "meshops.io/egress-set"
SERVICES_ANNOTATION = "meshops.io/aws-services"
REGIONS_ANNOTATION = "meshops.io/aws-regions"

OURS = "ours"  # managed by us, in this egress set
OTHER_SET = "other-set"  # managed by us, in another egress set
FOREIGN = "foreign"  # not managed by us


def ownership_labels(set_name):
    """The labels every resource of egress set `set_name` carries."""
    return {MANAGED_BY_LABEL: MANAGER, EGRESS_SET_LABEL: set_name}


def provenance_annotations(sources, regions):
    """Annotations naming what a resource was opened for; empty values are left out."""
    annotations = {
        SERVICES_ANNOTATION: ",".join(sorted(set(sources))),
        REGIONS_ANNOTATION: ",".join(sorted(set(regions))),
    }
    return {key: value for key, value in annotations.items() if value}


def labels_of(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def owner_of(obj, set_name):
    """OURS, OTHER_SET or FOREIGN for a live object."""
    labels = labels_of(obj)
    if labels.get(MANAGED_BY_LABEL) != MANAGER:
        return FOREIGN
    return OURS if labels.get(EGRESS_SET_LABEL) == set_name else OTHER_SET
