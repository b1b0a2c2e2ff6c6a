# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of meshops.aws_egress._cluster_choices, shared by its action plugin and its documentation stub."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_set_options import OPTIONS as EGRESS_SET_OPTIONS
from ansible_collections.meshops.aws_egress.plugins.module_utils.k8s_module import with_auth_options

# The same choices as egress_set's, which decides them when applying.
CHOSEN = ("name", "resources", "api_version", "wildcard_resolution", "cluster", "variable_prefix")
OPTIONS = {key: EGRESS_SET_OPTIONS[key] for key in CHOSEN}


def argument_spec():
    """The module's options plus kubernetes.core's authentication options."""
    return with_auth_options(OPTIONS)
