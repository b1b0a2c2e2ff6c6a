# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's names as the cluster sees them, written once.

Modules, the action plugin and the role's Python all import these; the role's
YAML never spells them.
"""

from __future__ import annotations

COLLECTION = "meshops.aws_egress"
# Our server-side applies' field manager, and the managed-by label's value, so
# that managedFields and labels tell the same story.
FIELD_MANAGER = COLLECTION

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
COMPONENT_LABEL = "app.kubernetes.io/component"
EGRESS_SET_LABEL = "meshops.io/egress-set"
SERVICES_ANNOTATION = "meshops.io/aws-services"
REGIONS_ANNOTATION = "meshops.io/aws-regions"
# What produced a resource: the botocore whose endpoint data the hosts come from, and this collection's version.
BOTOCORE_ANNOTATION = "meshops.io/botocore-version"
COLLECTION_ANNOTATION = "meshops.io/collection-version"

# The rollout lease (one per namespace) and the prefix of the RBAC objects.
LOCK_NAME = "meshops-aws-egress"
RBAC_NAME_PREFIX = "meshops-aws-egress"
RBAC_COMPONENT = "rbac"

MANAGED_BY = {MANAGED_BY_LABEL: COLLECTION}
