#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: _install_rbac
short_description: "[INTERNAL] Install the RBAC the istio_aws_egress role needs on one cluster"
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - B(Internal to this collection:) the P(meshops.aws_egress.istio_aws_egress#role) role runs it (C(tasks_from=rbac), or
    C(istio_aws_egress_install_rbac=true)); install the RBAC through the role. Its options and results can change, and
    it can be removed, in any release.
  - Reads the RBAC objects labelled C(app.kubernetes.io/managed-by=meshops.aws_egress) and
    C(app.kubernetes.io/component=rbac), plans what to create and update, and refuses, before any write, an object of the
    same name that another owner made (unless O(adopt)).
  - When the plan writes, and not in check mode, it checks with SelfSubjectAccessReviews that every planned write is
    allowed, then has C(kubernetes.core.k8s) apply (server-side, field manager C(meshops.aws_egress)).
  - Never prunes and takes no rollout lease - the bindings a namespace keeps after it leaves the egress set are what let a
    later run prune its objects there.
  - Runs on the controller, with one client made from C(kubernetes.core)'s authentication options. A rerun with nothing
    to change sends no write request.
options:
  resources:
    description:
      - The RBAC objects (ClusterRoles, ClusterRoleBindings, RoleBindings) with the labels above, as a list or a YAML
        stream (as the role's C(templates/rbac.yaml.j2) renders them). Any other kind is refused.
    type: raw
    required: true
  adopt:
    description: Take over same-name objects that are not labelled as managed by this collection.
    type: bool
    default: false
  cluster:
    description: The cluster's name in messages; the context, by default.
    type: str
  variable_prefix:
    description: Put before the options named in messages, so that they name the caller's variables (C(istio_aws_egress_adopt)).
    type: str
    default: ""
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
attributes:
  check_mode:
    support: full
    description: Plans and reports what would change, and writes nothing.
  diff_mode:
    support: none
    description: The plan's lines say what changes.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Install the RBAC the role needs for the ServiceAccount that runs it
  meshops.aws_egress._install_rbac:
    resources: >-
      {{ lookup('ansible.builtin.template', 'rbac.yaml.j2',
                template_vars={'namespace': 'istio-system', 'sidecar_namespaces': [], 'gateway_namespace': none,
                               'subject': {'kind': 'ServiceAccount', 'name': 'deployer', 'namespace': 'ci'}}) }}
    context: prod-eu-west-1
"""

RETURN = r"""
summary:
  description: The plan in one line.
  returned: success
  type: str
  sample: 7 to create, 0 to update, 0 to adopt, 0 to prune, 0 unchanged
lines:
  description: One line per object the plan writes or finds unchanged.
  returned: success
  type: list
  elements: str
counts:
  description: How many objects of each plan action.
  returned: success
  type: dict
apply:
  description: The objects written (or that would be, in check mode).
  returned: success
  type: list
  elements: str
create:
  description: Those of RV(apply) that do not exist yet.
  returned: success
  type: list
  elements: str
conflicts:
  description: Objects in the way; a run with any fails before a write.
  returned: success
  type: list
  elements: str
cluster:
  description: The cluster's name, as the messages give it.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshops.aws_egress.plugins.module_utils.install_rbac_options import argument_spec


def main():
    # Everything runs in the action plugin, on the controller; this file documents it.
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="meshops.aws_egress._install_rbac runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
