#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_identity
short_description: Tell which cluster a kube context reaches, whatever its name or server address
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - Reads the UID of namespace C(kube-system), which the API server creates at its first start. Two contexts that reach
    one cluster (through another address, a proxy or a load balancer) return the same RV(uid); two clusters never do.
    The playbooks compare it across every host of the inventory before the first write, so that no cluster is rolled
    out twice at once.
  - Refuses, before any request, a context the kubeconfig does not have (listing the contexts it has), a kubeconfig that
    is not there, and a kubeconfig of several contexts when none is named.
  - Runs on the controller, with one client made from C(kubernetes.core)'s authentication options. One GET; writes nothing.
options:
  cluster:
    description: The cluster's name in messages; the context, by default.
    type: str
  variable_prefix:
    description: Put before the options named in messages, so that they name the caller's variables (C(istio_aws_egress_context)).
    type: str
    default: ""
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
notes:
  - The user needs C(get) on namespace C(kube-system); the role's RBAC (C(meshops-aws-egress-read)) grants C(get) on namespaces.
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
- name: Learn which cluster each host reaches
  meshops.aws_egress.cluster_identity:
    kubeconfig: ~/.kube/config
    context: "{{ context }}"
  register: reached

- name: Refuse two hosts that reach one cluster
  ansible.builtin.assert:
    that: ansible_play_hosts_all | map('extract', hostvars, ['reached', 'uid']) | unique | length == ansible_play_hosts_all | length
  run_once: true
"""

RETURN = r"""
uid:
  description: The UID of the cluster's namespace C(kube-system).
  returned: success
  type: str
  sample: 6b1f9c1e-2d3a-4f5b-8c7d-9e0f1a2b3c4d
server:
  description: The API server's address as this context reaches it.
  returned: success
  type: str
  sample: https://127.0.0.1:6443
cluster:
  description: The cluster's name, as the messages give it - O(cluster), else O(context), else C(the current context).
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshops.aws_egress.plugins.module_utils.cluster_identity_options import argument_spec


def main():
    # Everything runs in the action plugin, on the controller; this file documents it.
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="meshops.aws_egress.cluster_identity runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
