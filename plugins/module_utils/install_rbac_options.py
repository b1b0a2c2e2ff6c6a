# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of meshops.aws_egress._install_rbac, shared by its action plugin and its documentation stub."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.k8s_module import with_auth_options

OPTIONS = dict(
    resources=dict(type="raw", required=True),
    adopt=dict(type="bool", default=False),
    cluster=dict(type="str"),
    variable_prefix=dict(type="str", default=""),
)


def argument_spec():
    """The module's options plus kubernetes.core's authentication options."""
    return with_auth_options(OPTIONS)
