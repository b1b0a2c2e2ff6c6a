#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: egress_simulate
short_description: Simulate what Istio's proxies do with an egress set's manifests, call by call
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - The engine of C(playbooks/simulate.yml); use that runbook unless you render manifests yourself.
  - Runs istiod's own config generation and Istio's traffic simulator (the C(xds-simulate) harness, built from the
    collection's own C(extensions/xds-simulate)) on the manifests in O(manifests) and the mesh's objects in O(mesh_objects), for a sidecar in every namespace
    of O(sidecars), a sidecar in one namespace without a Sidecar of the egress set and, with O(mode=egress_gateway), the
    egress gateway.
  - Each of them calls every declared AWS host (a made-up label such as C(simulated.s3.us-east-1.amazonaws.com) for a
    wildcard), a few undeclared AWS hosts of the same regions (another service, another region, another bucket or
    account where those are exact), C(example.com), every link-local credential endpoint (HTTP on port 80, the IP as
    Host) and, from the Sidecar namespaces, every in-mesh Service of O(mesh_objects).
  - With O(mode=ambient), every call starts at the waypoint, once for each namespace of O(caller_namespaces) and once
    for one other namespace. ztunnel is not modelled, so whether it sends a call to the waypoint at all is not shown. A
    call goes to the address istiod would give the entry that serves its host. The waypoint's RBAC filters are
    evaluated for the namespace's identity (C(spiffe://cluster.local/ns/<namespace>/sa/<namespace>)). Each undeclared
    host is called again on a declared host's address, with its own name in the TLS handshake. The link-local
    credential endpoints and in-mesh Services are not called there.
  - What is declared comes from the options, as the P(meshops.aws_egress.istio_aws_egress#role) role's variables of
    the same names, expanded with the P(meshops.aws_egress.aws_endpoints#filter) filter; never from the manifests.
  - A violation is a declared host that does not leave the mesh from a namespace that should reach it (every namespace
    of O(sidecars), and the others the entries are exported to), a routed host that bypasses the egress gateway, an
    undeclared host that leaves, an in-mesh Service our Sidecar should keep but cuts off, or a manifest of O(manifests)
    that Istio refuses. In ambient mode it is also a declared host that the waypoint's policy lets through from a
    namespace outside O(caller_namespaces), or a policy matcher the simulation cannot evaluate. The task does not fail
    on violations; it returns them.
  - Envoy does not run and DNS answers are not simulated. Outside ambient mode, AuthorizationPolicies are shown, not
    evaluated (a gateway call is a violation only when no policy on its chain names its SNI).
extends_documentation_fragment:
  - meshops.aws_egress.egress_set
  - kubernetes.core.k8s_auth_options
options:
  manifests:
    description: The egress set's rendered manifests, as the role's C(istio_aws_egress_render_dir) holds them.
    type: path
    required: true
  mesh_objects:
    description:
      - A directory of the mesh's own manifests (YAML files, searched recursively; C(kubectl get -o yaml) Lists are
        unpacked), such as other egress sets or Sidecars, in-mesh Services and the egress gateway's Service.
      - For offline use; given, it wins over reading the mesh from O(cluster).
      - Without the gateway's Service, the one Istio's egress gateway chart installs is modelled (443 to 8443). Its pod
        is always modelled, ready and without the C(security.istio.io/tlsMode) label, as Istio's gateway charts run it.
    type: path
  outbound_traffic_policy:
    description:
      - The mesh's C(outboundTrafficPolicy). Namespaces without a Sidecar of the egress set follow it; with V(ALLOW_ANY),
        undeclared hosts leave from there, and each is a violation.
      - Unset, the one the mesh config says when it is read from O(cluster) (V(ALLOW_ANY) where it says none, as Istio),
        else V(REGISTRY_ONLY).
    type: str
    choices: [REGISTRY_ONLY, ALLOW_ANY]
  unlisted_namespace:
    description:
      - The namespace without a Sidecar of the egress set (in ambient mode, outside O(caller_namespaces)) that calls too;
        by default C(default), or C(unlisted) when C(default) is listed.
    type: str
  harness:
    description:
      - The C(xds-simulate) binary. By default C(XDS_SIMULATE) from the environment, else the one built from the
        collection's C(extensions/xds-simulate) in C(${XDG_CACHE_HOME:-~/.cache}/meshops-aws-egress/), keyed by the hash of
        that source and the Go version, and built there on first use (minutes; it needs Go 1.26 or newer on the controller).
      - A binary built from other source than this collection's is refused (C(xds-simulate -version) says its source).
    type: path
  cluster:
    description:
      - The cluster O(manifests) were rendered against (the role's C(istio_aws_egress_render_reads_cluster), as
        C(playbooks/simulate.yml) renders for a host that names its cluster), whose C(auto) choices they hold. The report
        says so; without it, the report's first notes say what the manifests assume and which variable pins it.
      - Without O(mesh_objects), the mesh is read from this cluster, through the authentication options (O(context),
        O(kubeconfig), ...), by get and list only - Istio's ServiceEntries, Sidecars, VirtualServices,
        DestinationRules, Gateways and AuthorizationPolicies of every namespace; the Services of the calling
        namespaces, of the namespaces the Sidecars' hosts name and of the egress gateway's; the callers' namespaces (for
        their revision); and ConfigMap C(istio) or C(istio-<revision>) in C(istio-system) (the outbound traffic policy).
        What may not be read is named in RV(not_read), and the simulation goes on without it. The ClusterRole
        C(meshops-aws-egress-simulate-reader) of the role's C(files/rbac-simulate-reader.yaml) grants every read.
    type: str
  variable_prefix:
    description: Prefix of the option names in messages, so that they name the caller's variables (the runbook passes C(istio_aws_egress_)).
    type: str
    default: ""
requirements:
  - Go 1.26 or newer on the controller, to build the C(xds-simulate) harness on first use; or C(XDS_SIMULATE) naming a
    binary built from this collection's C(extensions/xds-simulate) (the execution environment of
    C(docs/execution-environment.yml) carries one)
notes:
  - One harness run per task; a run takes well under a second for a few hundred calls.
attributes:
  check_mode:
    support: full
    description: Writes nothing either way; runs the simulation in check mode too.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Render an egress set
  ansible.builtin.include_role:
    name: meshops.aws_egress.istio_aws_egress
  vars:
    istio_aws_egress_render_dir: /tmp/egress/orders
    istio_aws_egress_services: [sqs]
    istio_aws_egress_regions: [eu-west-1]
    istio_aws_egress_sidecars: [orders]

- name: Simulate it
  meshops.aws_egress.egress_simulate:
    manifests: /tmp/egress/orders
    name: default
    services: [sqs]
    regions: [eu-west-1]
    sidecars: [orders]
  register: simulation

- name: Fail on a call that goes the wrong way
  ansible.builtin.assert:
    that: simulation.violations | length == 0
    fail_msg: "{{ simulation.violation_groups | map(attribute='line') | join('\\n') }}"

- name: Simulate an egress set in ambient mode, at its waypoint
  meshops.aws_egress.egress_simulate:
    manifests: /tmp/egress/staging
    name: staging
    namespace: aws-egress
    mode: ambient
    caller_namespaces: [orders, billing]
    services: [sqs, kms]
    regions: [eu-west-1]
  register: ambient_simulation
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
  sample: "285 calls: 195 leave the mesh, 90 do not; 0 violations"
counts:
  description: How many calls were made, left the mesh, stayed in it, and how many violations there are.
  returned: success
  type: dict
  sample: {calls: 285, leave: 195, stay: 90, violations: 0}
callers:
  description:
    - The columns of the matrix, each with C(name), C(role) (V(listed), V(unlisted) or V(gateway)) and C(namespace).
    - In ambient mode V(listed) is a namespace of O(caller_namespaces), and V(unlisted) is another namespace.
  returned: success
  type: list
  elements: dict
matrix:
  description:
    - One row per called host and port, with C(target), C(port), C(kind) (V(aws), V(credentials), V(non-aws),
      V(in-mesh)), C(declared), C(why) and C(cells), by caller name.
    - A cell has C(outcome) (V(allowed), V(via gateway), V(passthrough), V(black-holed), V(dropped), or V(denied) by
      the waypoint's policy), C(cluster) (the Envoy cluster the call ends in), C(path), C(detail), C(expected)
      (V(leaves), V(black-holed), V(reached), V(cut off), V(denied) or empty when not judged), C(rbac) (at the gateway
      or the waypoint, the RBAC policies naming the SNI) and C(violation).
  returned: success
  type: list
  elements: dict
violations:
  description:
    - One line per call that went the wrong way and per manifest of O(manifests) that Istio refuses, each ending with
      what to change (the object, or the variable named with O(variable_prefix)).
  returned: success
  type: list
  elements: str
violation_groups:
  description:
    - The same violations, one entry per cause (one gateway Service without port 443 is one entry for every call
      routed through it).
    - Each has C(cause), C(fix), C(count) (how many violations), C(hosts) and C(namespaces) (of the calls affected),
      C(violations) (their lines) and C(line), the cause, fix and calls in one line, as the playbook prints it.
  returned: success
  type: list
  elements: dict
not_read:
  description:
    - What could not be read from O(cluster) because the user may not (a kind, the Services of a namespace, the mesh
      config), with the right it needs; the simulation went on without it. Empty when nothing was read from a cluster.
  returned: success
  type: list
  elements: str
  sample: ["authorizationpolicies.security.istio.io of every namespace (list)"]
notes:
  description:
    - What was modelled (the gateway's Service and pod, the waypoint) and mesh objects Istio refuses or warns about.
    - In ambient mode, first, that ztunnel is not modelled and every call starts at the waypoint.
  returned: success
  type: list
  elements: str
mode:
  description: The O(mode) simulated.
  returned: success
  type: str
outbound_traffic_policy:
  description: The mesh's outbound traffic policy simulated.
  returned: success
  type: str
gateway:
  description: With O(mode=egress_gateway), the gateway Service's host (C(service)) and the port its listeners bind (C(listener_port)).
  returned: success
  type: dict
waypoint:
  description: With O(mode=ambient), the waypoint every call starts at (C(name), C(namespace)).
  returned: success
  type: dict
istio:
  description: Which istiod code ran (C(module), C(version)) and whether in ambient mode.
  returned: success
  type: dict
endpoint_data:
  description: The versions the declared hosts were expanded with, C(botocore) and C(collection) (this collection's).
  returned: success
  type: dict
  sample: {botocore: 1.44.8, collection: 0.1.0}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_simulate_options import argument_spec


def main():
    # Everything runs in the action plugin, on the controller; this file documents it.
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="meshops.aws_egress.egress_simulate runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
