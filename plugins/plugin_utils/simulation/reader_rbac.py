# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rights of whoever runs render and simulate against a cluster, and no more: read only, built from what they read.

One ClusterRole, optional and apart from the role's own RBAC (which writes):
the CustomResourceDefinitions the `auto` choices are decided from, the lists
of Istio's config that live.py reads, Services, namespaces (for the callers'
revision) and the default revision's mesh config.  The role's
files/rbac-simulate-reader.yaml is this, rendered.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import RBAC_NAME_PREFIX
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import mesh_config
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import ISTIO_1_30_CRD, KINDS
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.live import CONFIG_KINDS

NAME = f"{RBAC_NAME_PREFIX}-simulate-reader"


def rules():
    """The ClusterRole's rules."""
    listed = {}
    for kind in CONFIG_KINDS:
        listed.setdefault(kind.group, []).append(kind.plural)
    found = [
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "resourceNames": sorted({kind.crd for kind in KINDS if kind.crd} | {ISTIO_1_30_CRD}),
            "verbs": ["get"],
        }
    ]
    found += [{"apiGroups": [group], "resources": plurals, "verbs": ["list"]} for group, plurals in listed.items()]
    found += [
        {"apiGroups": [""], "resources": ["services"], "verbs": ["list"]},
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
        # By name: a ClusterRole cannot name a namespace; add istio-<revision> for a revisioned istiod.
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": [mesh_config.configmap_name(None)],
            "verbs": ["get"],
        },
    ]
    return found
