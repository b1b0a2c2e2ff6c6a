# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of meshops.aws_egress.egress_simulate, shared by its action plugin and its documentation stub."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.k8s_module import with_auth_options

# The role's defaults (roles/istio_aws_egress/defaults/main.yml), for a caller that leaves an option out.
GATEWAY_OPTIONS = dict(
    namespace=dict(type="str", default="istio-system"),
    service=dict(type="str", default="istio-egressgateway"),
    selector=dict(type="dict", default={"istio": "egressgateway"}),
)

# As the role's istio_aws_egress_waypoint; without a name, the waypoint the role renders beside the entries.
WAYPOINT_OPTIONS = dict(
    name=dict(type="str"),
    namespace=dict(type="str"),
    create=dict(type="bool"),
)

OPTIONS = dict(
    manifests=dict(type="path", required=True),
    mesh_objects=dict(type="path"),
    name=dict(type="str", required=True),
    namespace=dict(type="str", default="istio-system"),
    mode=dict(type="str", choices=["sidecar", "egress_gateway", "ambient"], default="sidecar"),
    gateway=dict(type="dict", options=GATEWAY_OPTIONS),
    waypoint=dict(type="dict", options=WAYPOINT_OPTIONS),
    caller_namespaces=dict(type="list", elements="str", default=[]),
    wildcard_resolution=dict(type="str", choices=["auto", "none", "dynamic_dns"], default="auto"),
    sidecars=dict(type="list", elements="str", default=[]),
    sidecar_hosts=dict(type="list", elements="str", default=["*/*.svc.cluster.local"]),
    export_to=dict(type="list", elements="str", default=["*"]),
    services=dict(type="list", elements="raw", default=[]),
    regions=dict(type="list", elements="str", default=[]),
    account_ids=dict(type="list", elements="str", default=[]),
    credential_sources=dict(type="list", elements="str", default=[]),
    fips=dict(type="bool", default=False),
    dualstack=dict(type="bool", default=False),
    sts_legacy_global=dict(type="bool", default=False),
    vpc_endpoints=dict(type="list", elements="raw", default=[]),
    outbound_traffic_policy=dict(type="str", choices=["REGISTRY_ONLY", "ALLOW_ANY"]),
    unlisted_namespace=dict(type="str"),
    harness=dict(type="path"),
    cluster=dict(type="str"),
    variable_prefix=dict(type="str", default=""),
    role_variables=dict(type="bool", default=False),
)


def argument_spec():
    """The module's options plus kubernetes.core's authentication options (the cluster to read, with O(cluster))."""
    return with_auth_options(OPTIONS)
