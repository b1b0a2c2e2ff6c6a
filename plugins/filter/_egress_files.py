# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The _egress_files filter (internal to the role): rendered resources in, the render directory's files out.

Documentation: _egress_files.yml beside this file.  File names come from the
kinds table (plugin_utils/egress/layout/render_files.py).
"""

from __future__ import annotations

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.plugin_utils import filter_docs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.render_files import render_files
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import caller_error, named_options


def egress_files(
    manifests, set_name, wildcard_resolution="none", api_version="auto", variable_prefix="", decided_by=""
):
    """{"files", "prune_pattern", "prune_marker", "assumed"} for meshops.aws_egress.manifest_dir."""
    try:
        filter_docs.check(__file__, dict(locals()))
    except InputError as exc:
        # The layout's output, not a variable of the caller's: named as the filter's option.
        raise caller_error(exc, "meshops.aws_egress._egress_files") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        resources = [doc for doc in yaml.load_all(str(manifests or ""), Loader=loader) if doc]
    except yaml.YAMLError as exc:
        raise AnsibleFilterError(
            f"meshops.aws_egress._egress_files: not a YAML stream of Kubernetes objects: {exc}"
        ) from None
    # The assumed notes name options as the caller's variables.
    return named_options(
        render_files(resources, str(set_name), str(wildcard_resolution), str(api_version), str(decided_by or "")),
        str(variable_prefix),
    )


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {"_egress_files": egress_files}
