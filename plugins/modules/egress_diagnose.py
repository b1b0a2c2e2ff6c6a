#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: egress_diagnose
short_description: Find in proxy logs what the mesh blocked, what it is in AWS, why, and the change that opens it
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - The engine of C(playbooks/diagnose.yml); use that runbook unless you render the egress set yourself.
  - With O(logs), reads proxy logs as C(kubectl logs) prints them (sidecars' and gateways' C(istio-proxy), waypoints,
    ztunnel), streaming, and finds every call the mesh kept in. Envoy's lines in Istio's default TEXT or JSON access log
    format, to C(BlackHoleCluster), answered with a 502 on route C(block_all), denied by an AuthorizationPolicy
    (C(rbac_access_denied...)) or given no filter chain (C(filter_chain_not_found)). ztunnel's access events that end in
    an error.
  - One finding per blocked destination (the TLS SNI, else the HTTP authority, else the address), port and proxy, with
    how many lines show it, when, and who called. The caller is the namespace, pod and identity where the line says so,
    as ztunnel's do. Otherwise it comes from the file's path (the kubelet's log file names, or a directory named after
    the namespace), else the file itself.
  - Each destination is mapped back to the AWS service, region and settings (FIPS, dual-stack, STS's legacy global
    endpoint, a VPC endpoint's own name) whose SDK contacts it, by the P(meshops.aws_egress.aws_endpoints#filter)
    filter's own expansion read backwards; or to the credential source of a link-local address. Several services can
    share a host, and every candidate is listed.
  - The cause is decided by making each blocked call again on istiod's config generation (the C(xds-simulate) harness,
    as M(meshops.aws_egress.egress_simulate) runs it), against the egress set as rendered in O(manifests) and the
    mesh's objects in O(mesh_objects). Without O(mesh_objects), or without the harness, the cause is C(unknown), and
    its text says why.
  - A fix is the narrowest change to the egress set's variables that opens the call. The forward expansion checks it
    before it is offered, and with it the set must admit the host and open no host beyond those its service and region
    declare.
  - With O(diagnosis), proves the fixes of an earlier run instead. The egress set, rendered with each fix into
    O(fixes_dir)/<fix id>, is simulated. A fix is proven when the blocked call then leaves the mesh from where it was
    blocked and no call of the simulation goes a new wrong way.
  - Contacts no cluster; writes nothing.
extends_documentation_fragment:
  - meshops.aws_egress.egress_set
options:
  logs:
    description:
      - A file or a directory (searched recursively) of proxy logs. C(.gz) files are read through gzip; lines with
        C(kubectl logs --prefix) or C(--timestamps), and the kubelet's CRI log lines, are read too.
      - Lines of neither access log format nor a proxy's own are counted, never fatal. A file that is not text is skipped
        and named. Logs with no proxy line at all, a missing path or an empty directory fail the task.
      - Exactly one of O(logs) and O(diagnosis).
    type: path
  diagnosis:
    description: The result of an earlier run with O(logs), whose fixes to prove. Exactly one of O(logs) and O(diagnosis).
    type: dict
  fixes_dir:
    description: With O(diagnosis), where the egress set rendered with each fix is, one directory per fix id.
    type: path
  manifests:
    description: The egress set's rendered manifests, as the role's C(istio_aws_egress_render_dir) holds them.
    type: path
    required: true
  mesh_objects:
    description:
      - A directory of the mesh's own manifests (YAML files, searched recursively; C(kubectl get -o yaml) Lists are
        unpacked), such as other teams' Sidecars and ServiceEntries, in-mesh Services and the egress gateway's Service.
      - Without it the cause of every finding is C(unknown). Fixes are still offered and proven, on the egress set alone.
    type: path
  outbound_traffic_policy:
    description: The mesh's C(outboundTrafficPolicy).
    type: str
    choices: [REGISTRY_ONLY, ALLOW_ANY]
    default: REGISTRY_ONLY
  harness:
    description:
      - The C(xds-simulate) binary, found as M(meshops.aws_egress.egress_simulate) finds it. Without it causes are
        C(unknown) and fixes are not proven, each saying so.
    type: path
  variable_prefix:
    description: Prefix of the option names in messages and fixes, so that they name the caller's variables (the runbook passes C(istio_aws_egress_)).
    type: str
    default: ""
requirements:
  - botocore, for the endpoint rules
  - for causes and proofs, the C(xds-simulate) harness, found or built as M(meshops.aws_egress.egress_simulate) says
notes:
  - One million lines (about 200 MB) are read in well under half a minute on two cores, in bounded memory; a finding
    keeps its first 20 callers and a diagnosis its first 2000 destinations, and counts the rest.
  - Mapping a host builds an index of what every service's SDK contacts in the host's region, once per region. A host
    that names no region is looked for where global endpoints live first.
attributes:
  check_mode:
    support: full
    description: Writes nothing either way; runs in check mode too.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Render the egress set as declared
  ansible.builtin.include_role:
    name: meshops.aws_egress.istio_aws_egress
  vars:
    istio_aws_egress_render_dir: /tmp/diagnose/declared
    istio_aws_egress_services: [sqs]
    istio_aws_egress_regions: [us-east-1]

- name: Find what the logs show blocked, and why
  meshops.aws_egress.egress_diagnose:
    logs: /tmp/logs
    manifests: /tmp/diagnose/declared
    mesh_objects: /tmp/mesh
    name: default
    services: [sqs]
    regions: [us-east-1]
    variable_prefix: istio_aws_egress_
  register: diagnosis

- name: Show each blocked destination and its fix
  ansible.builtin.debug:
    msg: "{{ item.destination }}: {{ item.cause.text }}; {{ item.fix.change if item.fix else item.no_fix }}"
  loop: "{{ diagnosis.findings }}"
"""

RETURN = r"""
changed:
  description: Always false; nothing is written.
  returned: always
  type: bool
summary:
  description: One line with the counts.
  returned: success
  type: str
  sample: "2 blocked destinations in 7 of 5000 lines: 2 with a fix (2 proven), 0 without"
counts:
  description:
    - What was read. C(files), C(lines), C(access) (access lines), C(proxy) (the proxies' own lines), C(other) (neither),
      C(unreadable) (lines that looked blocked but did not parse), C(blocked), and C(skipped) (files that are not text, with why).
  returned: success
  type: dict
findings:
  description:
    - One per blocked destination, port and proxy, most lines first.
    - C(destination) (host name, lower case, no port; the address when there is no name), C(port), C(protocol) (V(tls),
      V(http), V(tcp)), C(proxy) (V(sidecar), V(gateway), V(waypoint), V(ztunnel)), C(count), C(first_seen),
      C(last_seen), C(sources) (each with C(source), C(namespace), C(pod), C(identity), C(file), C(lines)),
      C(more_sources) (lines of further callers), C(how) (what the logs say happened).
    - C(aws) is null when no AWS SDK contacts the host. Otherwise it has C(service) (as O(services) takes it),
      C(region) (null for a global endpoint), C(partition), C(fips), C(dualstack), C(credential_source) (for a
      link-local credential endpoint) and C(candidates) (every service, region and setting that reaches the host).
    - C(cause) has C(code) (V(not_declared), V(hidden_by_sidecar), V(not_exported), V(not_caller_namespace), V(hidden),
      V(not_reproduced), V(unknown)) and C(text).
    - C(fix) is null (C(no_fix) says why), or has C(id), C(change) (in words), C(variables) (the changed variables with
      their complete new values), C(yaml) (the same, to paste into C(group_vars)), C(opens) (the hosts it opens beyond
      what the set opens today) and C(egress_set) (the changed options' values, for rendering).
    - C(proven) is null without a fix; true or false once proven, with C(proof) saying what the simulation showed, or why
      it could not run.
  returned: success
  type: list
  elements: dict
fixes:
  description: The distinct fixes, each with C(id) and C(egress_set), the values to render the egress set with.
  returned: success
  type: list
  elements: dict
notes:
  description: Files skipped, and findings left out beyond the bound.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_diagnose_options import (
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    REQUIRED_TOGETHER,
    argument_spec,
)


def main():
    # Everything runs in the action plugin, on the controller; this file documents it.
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        required_together=REQUIRED_TOGETHER,
        supports_check_mode=True,
    )
    module.fail_json(msg="meshops.aws_egress.egress_diagnose runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
