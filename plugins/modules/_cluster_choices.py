#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: _cluster_choices
short_description: "[INTERNAL] An egress set's resources as one cluster would get them, decided by reading it"
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - B(Internal to this collection:) the P(meshops.aws_egress.istio_aws_egress#role) role runs it in render mode with
    C(istio_aws_egress_render_reads_cluster) (as C(playbooks/render.yml) and C(playbooks/simulate.yml) do for a host
    that names its cluster). Its options and results can change, and it can be removed, in any release.
  - Decides the C(auto) choices exactly as P(meshops.aws_egress.egress_set#module) decides them before it applies - the
    version each kind is written in (the newest the cluster serves, or O(api_version)), and the resolution of wildcard
    entries (C(DYNAMIC_DNS) where the cluster has Istio 1.30's CustomResourceDefinitions) - so that rendered files and
    simulations hold what C(playbooks/site.yml) applies.
  - Reads only the CustomResourceDefinitions of the kinds of O(resources) (and, for the wildcard resolution,
    C(trafficextensions.extensions.istio.io)); GETs, no list, no dry run, no write.
  - Fails, as P(meshops.aws_egress.egress_set#module) would refuse, when the cluster serves none of a kind's versions or
    its ServiceEntry CustomResourceDefinition does not accept a resolution written.
options:
  name:
    description: The egress set's name, for messages.
    type: str
    required: true
  resources:
    description: The resources as rendered, a list or a YAML stream.
    type: raw
    default: []
  api_version:
    description: The role's C(api_version); V(auto) writes each kind in the newest version the cluster serves.
    type: str
    choices: [auto, v1, v1beta1, v1alpha3]
    default: auto
  wildcard_resolution:
    description:
      - What the layout leaves to the cluster, as P(meshops.aws_egress.egress_set#module)'s option of that name. V(auto)
        turns wildcard entries of resolution C(NONE) to C(DYNAMIC_DNS) where the cluster's sidecars resolve it.
    type: str
    choices: [auto, none, dynamic_dns, declared]
    default: none
  cluster:
    description: The cluster's name in messages; the context, by default.
    type: str
  variable_prefix:
    description: Put before the options named in messages, so that they name the caller's variables.
    type: str
    default: ""
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
notes:
  - The user needs C(get) on C(customresourcedefinitions); the role's RBAC (C(meshops-aws-egress-read)) grants it.
attributes:
  check_mode:
    support: full
    description: Reads only, in check mode as well.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: The resources as cluster prod-euw1 would get them
  meshops.aws_egress._cluster_choices:
    name: payments
    resources: "{{ lookup('ansible.builtin.file', 'payments.yaml') }}"
    wildcard_resolution: auto
    context: prod-euw1
  register: decided
"""

RETURN = r"""
resources:
  description: The resources as the cluster would get them, a YAML stream in the order given.
  returned: success
  type: str
notes:
  description: What the cluster could not take of the C(auto) choices, and why (a wildcard entry kept at C(NONE)).
  returned: success
  type: list
  elements: str
api_versions:
  description: The API version each kind the resources hold is written in, by its resource and group.
  returned: success
  type: dict
  sample: {"serviceentries.networking.istio.io": "networking.istio.io/v1"}
cluster:
  description: The cluster's name, as the messages give it - O(cluster), else O(context), else C(the current context).
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshops.aws_egress.plugins.module_utils.cluster_choices_options import argument_spec


def main():
    # Everything runs in the action plugin, on the controller; this file documents it.
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="meshops.aws_egress._cluster_choices runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
