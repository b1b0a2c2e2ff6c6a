# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of meshops.aws_egress._proxy_logs, shared by its action plugin and its documentation stub."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.k8s_module import with_auth_options

OPTIONS = dict(
    dest=dict(type="path", required=True),
    sidecars=dict(type="list", elements="str", default=[]),
    # The layout's gateway_check and waypoint_check, as they are: the keys used are checked where used.
    gateway=dict(type="dict"),
    waypoint=dict(type="dict"),
    ztunnel_namespace=dict(type="str"),
    since=dict(type="str", default="1h"),
    lines=dict(type="int", default=10000),
    cluster=dict(type="str"),
    variable_prefix=dict(type="str", default=""),
    limits_prefix=dict(type="str", default=""),
)


def argument_spec():
    """The module's options plus kubernetes.core's authentication options."""
    return with_auth_options(OPTIONS)
