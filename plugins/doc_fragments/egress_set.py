# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options that describe an egress set as the role's variables do, for modules that judge it without a cluster."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  role_variables:
    description:
      - Take each option of the egress set that the task leaves out (O(name), O(namespace), O(mode), ..., O(vpc_endpoints))
        from the P(meshops.aws_egress.istio_aws_egress#role) role's variable of the same name (C(istio_aws_egress_<option>)),
        as the role takes it - after the role ran with C(public=true), its defaults too. Unset, None or empty dict
        variables are left out. Messages then name the role's variables, unless O(variable_prefix) is given.
    type: bool
    default: false
  name:
    description: The egress set; required, unless O(role_variables) takes it.
    type: str
    required: true
  namespace:
    description: The egress set's namespace.
    type: str
    default: istio-system
  mode:
    description: As the role's C(istio_aws_egress_mode).
    type: str
    choices: [sidecar, egress_gateway, ambient]
    default: sidecar
  gateway:
    description: The egress gateway, as the role's C(istio_aws_egress_gateway); used with O(mode=egress_gateway).
    type: dict
    suboptions:
      namespace:
        description: The gateway's namespace.
        type: str
        default: istio-system
      service:
        description: The gateway's Service.
        type: str
        default: istio-egressgateway
      selector:
        description: The gateway pods' labels.
        type: dict
        default: {istio: egressgateway}
  waypoint:
    description:
      - The waypoint, as the role's C(istio_aws_egress_waypoint); used with O(mode=ambient).
      - Without O(waypoint.name), the waypoint Gateway of O(manifests) in the egress set's namespace. A waypoint in
        neither O(manifests) nor O(mesh_objects) is modelled as C(istioctl waypoint apply) creates it.
    type: dict
    suboptions:
      name:
        description: The waypoint Gateway's name.
        type: str
      namespace:
        description: Its namespace; by default O(namespace).
        type: str
      create:
        description: Whether the role creates it; the simulation models it either way.
        type: bool
  caller_namespaces:
    description: With O(mode=ambient), the namespaces the waypoint's policy admits, as the role's C(istio_aws_egress_caller_namespaces).
    type: list
    elements: str
    default: []
  wildcard_resolution:
    description:
      - As the role's C(istio_aws_egress_wildcard_resolution). With O(mode=ambient), only V(dynamic_dns) sends wildcard
        hosts through the waypoint; the others go straight out and are not called.
    type: str
    choices: [auto, none, dynamic_dns]
    default: auto
  sidecars:
    description: The namespaces that get a Sidecar of the egress set, as the role's C(istio_aws_egress_sidecars).
    type: list
    elements: str
    default: []
  sidecar_hosts:
    description: What those Sidecars keep of the mesh, as the role's C(istio_aws_egress_sidecar_hosts).
    type: list
    elements: str
    default: ["*/*.svc.cluster.local"]
  export_to:
    description: Where the entries are visible, as the role's C(istio_aws_egress_export_to).
    type: list
    elements: str
    default: ["*"]
  services:
    description: As the role's C(istio_aws_egress_services).
    type: list
    elements: raw
    default: []
  regions:
    description: As the role's C(istio_aws_egress_regions).
    type: list
    elements: str
    default: []
  account_ids:
    description: As the role's C(istio_aws_egress_account_ids).
    type: list
    elements: str
    default: []
  credential_sources:
    description: As the role's C(istio_aws_egress_credential_sources).
    type: list
    elements: str
    default: []
  fips:
    description: As the role's C(istio_aws_egress_fips).
    type: bool
    default: false
  dualstack:
    description: As the role's C(istio_aws_egress_dualstack).
    type: bool
    default: false
  sts_legacy_global:
    description: As the role's C(istio_aws_egress_sts_legacy_global).
    type: bool
    default: false
  vpc_endpoints:
    description:
      - As the role's C(istio_aws_egress_vpc_endpoints). A VPC endpoint without private DNS declares its own names
        instead of the service's, as in the role.
    type: list
    elements: raw
    default: []
"""
