#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: _proxy_logs
short_description: "[INTERNAL] Read the proxies' logs of an egress set through the API server"
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - "[INTERNAL] C(playbooks/diagnose.yml) reads the logs with it when no C(diagnose_logs) are given; not for use on its own."
  - Lists the pods of each namespace of O(sidecars), the egress gateway's (O(gateway)), the waypoint's (O(waypoint)) and
    ztunnel's (O(ztunnel_namespace)), and reads the log of each pod's C(istio-proxy) container through the API server
    (C(pods/log)) into C(<dest>/<namespace>/<pod>.log), the layout P(meshops.aws_egress.egress_diagnose#module) reads.
  - At most O(lines) lines per pod, of the last O(since). What the user may not list or read, or a pod without that
    container, is named in RV(notes); a pod list that fails otherwise fails the task.
  - Runs on the controller, with one client made from C(kubernetes.core)'s authentication options. Writes nothing to the
    cluster.
options:
  dest:
    description: The directory to write the logs to; what it held is removed first.
    type: path
    required: true
  sidecars:
    description: The namespaces whose sidecars' logs to read (the role's C(istio_aws_egress_sidecars)).
    type: list
    elements: str
    default: []
  gateway:
    description:
      - The egress gateway whose pods' logs to read - C(namespace) and C(selector) (its pods' labels); other keys are ignored.
    type: dict
  waypoint:
    description:
      - The waypoint whose pods' logs to read (labelled C(gateway.networking.k8s.io/gateway-name=<name>)) - C(namespace) and
        C(name); other keys are ignored.
    type: dict
  ztunnel_namespace:
    description: The namespace of ztunnel's pods (labelled C(app=ztunnel)), in ambient mode.
    type: str
  since:
    description: How far back to read - a positive number and V(s), V(m), V(h) or V(d), such as V(15m) or V(1h).
    type: str
    default: 1h
  lines:
    description: At most this many lines per pod, the last ones.
    type: int
    default: 10000
  cluster:
    description: The cluster's name in messages; the context, by default.
    type: str
  variable_prefix:
    description: Put before O(kubeconfig) and O(context) in messages, so that they name the caller's variables (C(istio_aws_egress_context)).
    type: str
    default: ""
  limits_prefix:
    description: Put before O(since) and O(lines) in messages (C(diagnose_since)).
    type: str
    default: ""
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
notes:
  - The user needs C(list) on pods and C(get) on C(pods/log) where the proxies run; the role ships a read-only ClusterRole
    for that, C(meshops-aws-egress-diagnose-log-reader) (C(files/rbac-diagnose-log-reader.yaml)), apart from its own RBAC.
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
- name: Read the last hour of the proxies' logs of the sidecars of namespace orders
  meshops.aws_egress._proxy_logs:
    dest: /tmp/diagnose/prod/logs
    sidecars: [orders]
    since: 1h
    context: prod
"""

RETURN = r"""
dest:
  description: O(dest).
  returned: success
  type: str
files:
  description: The log files written, one per pod.
  returned: success
  type: list
  elements: str
notes:
  description: What could not be read, and why.
  returned: success
  type: list
  elements: str
cluster:
  description: The cluster's name, as the messages give it - O(cluster), else O(context), else C(the current context).
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshops.aws_egress.plugins.module_utils.proxy_logs_options import argument_spec


def main():
    # Everything runs in the action plugin, on the controller; this file documents it.
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="meshops.aws_egress._proxy_logs runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
