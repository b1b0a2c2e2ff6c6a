# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Render mode: one file per resource, named from the kinds table, and what a stale file of ours looks like.

A file is `<kind>-<namespace>-<name>.yaml` (Sidecars of several namespaces
share a name).  A file no longer declared is removed only when its name is one
we write and it carries this egress set's label.
"""

from __future__ import annotations

import re

import yaml

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import EGRESS_SET_LABEL
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import KINDS, kind_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import identity
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.wildcards import (
    assumed as assumed_resolution,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref


def file_name(obj):
    _group, _kind, namespace, name = identity(obj)
    return f"{kind_of(obj).file_prefix}-{namespace}-{name}.yaml"


def render_files(resources, set_name, wildcard_resolution="none", api_version="auto", decided_by=""):
    """{"files": {name: YAML}, "prune_pattern": ..., "prune_marker": ..., "assumed": [...]} for the manifest_dir module.

    `assumed` says which `auto` choices the files took without a cluster, and how to pin them; none when the cluster
    `decided_by` made them.
    """
    files = {
        file_name(obj): yaml.safe_dump(obj, default_flow_style=False, indent=2, sort_keys=True, allow_unicode=True)
        for obj in resources
    }
    prefixes = "|".join(sorted({kind.file_prefix for kind in KINDS}))
    return {
        "files": files,
        "prune_pattern": f"({prefixes})-.+\\.yaml",
        "prune_marker": f"^\\s+{re.escape(EGRESS_SET_LABEL)}: {re.escape(set_name)}$",
        "assumed": [] if decided_by else assumed(resources, wildcard_resolution, api_version),
    }


def assumed(resources, wildcard_resolution, api_version):
    """The `auto` choices render mode takes without a cluster, each with the variable that pins it."""
    notes = assumed_resolution(resources, wildcard_resolution)
    if api_version == "auto" and resources:
        notes.append(
            f"Istio resources assumed in version v1 ({option_ref('api_version')}: auto is decided against the "
            f"cluster, and none was read: site.yml writes the version each cluster serves); name the host's cluster "
            f"(its context), or set {option_ref('api_version')} to v1 or v1beta1, to model exactly what is applied"
        )
    return notes
