# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of meshops.aws_egress.egress_set, shared by its action plugin and its documentation stub."""

from __future__ import annotations

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

ACCEPTABLE = (
    "missing_gateway",
    "cut_shared_gateway",
    "cut_shared_waypoint",
    "network_policy_cut",
    "endpoint_data_removal",
    "endpoint_data_downgrade",
    "replace_access_logs",
)

GATEWAY_OPTIONS = dict(
    namespace=dict(type="str", required=True),
    service=dict(type="str", required=True),
    selector=dict(type="dict", required=True),
    port=dict(type="int", default=443),
)

WAYPOINT_OPTIONS = dict(
    name=dict(type="str", required=True),
    namespace=dict(type="str", required=True),
    create=dict(type="bool", default=True),
)

OUTBOUND_POLICY_OPTIONS = dict(
    namespace=dict(type="str", required=True),
    namespaces=dict(type="list", elements="str", default=[]),
)

OPTIONS = dict(
    name=dict(type="str", required=True),
    namespace=dict(type="str", required=True),
    resources=dict(type="raw", default=[]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    owner=dict(type="str", choices=["egress_set", "rbac"], default="egress_set"),
    prune=dict(type="bool", default=True),
    adopt=dict(type="bool", default=False),
    api_version=dict(type="str", choices=["auto", "v1", "v1beta1", "v1alpha3"], default="auto"),
    gateway=dict(type="dict", options=GATEWAY_OPTIONS),
    waypoint=dict(type="dict", options=WAYPOINT_OPTIONS),
    # The role's choices (istio_aws_egress_wildcard_resolution); "declared" is deprecated (as none), removed in 1.0.0.
    wildcard_resolution=dict(type="str", choices=["auto", "none", "dynamic_dns", "declared"], default="none"),
    accept=dict(type="list", elements="str", choices=list(ACCEPTABLE), default=[]),
    exclude_hosts=dict(type="list", elements="str", default=[]),
    outbound_policy=dict(type="dict", options=OUTBOUND_POLICY_OPTIONS),
    lock_timeout=dict(type="int", default=300),
    lock_duration=dict(type="int", default=120),
    apply_concurrency=dict(type="int", default=8),
    cluster=dict(type="str"),
    variable_prefix=dict(type="str", default=""),
)


def argument_spec():
    """The module's options plus kubernetes.core's authentication options."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(OPTIONS))
    return spec
