#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: egress_set
short_description: Bring one cluster to an egress set's declared resources, safely
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - The engine of the P(meshops.aws_egress.istio_aws_egress#role) role; use the role unless you render resources yourself.
  - Reads what the cluster holds (the served versions of every kind it writes, every object of those kinds, the namespaces
    and the gateway Service it needs), plans what to create, update, adopt and prune, and refuses, before any write,
    whatever would harm the mesh (see O(accept)).
  - When the plan writes, and not in check mode, it checks with SelfSubjectAccessReviews that every planned write is
    allowed, holds the rollout lease of O(namespace) (a C(coordination.k8s.io) Lease), has C(kubernetes.core.k8s) apply
    (server-side, field manager C(meshops.aws_egress)) and prune, and releases the lease.
  - The lease is taken with the version the plan read it at; when that succeeds no other rollout wrote since the plan, and
    the plan stands. Otherwise the run waits for the lease (up to O(lock_timeout)) and plans again under it.
  - Where O(resources) record the endpoint data they were produced with (annotations C(meshops.io/botocore-version) and
    C(meshops.io/collection-version), as the role writes them), the plan tells the hosts that data alone opens or closes
    from the inventory's changes (RV(endpoint_data)), withholds the writes that would close such a host until accepted,
    and refuses O(resources) older than the egress set's objects on the cluster record (see O(accept)).
  - Runs on the controller, with one client made from C(kubernetes.core)'s authentication options. A rerun with nothing to
    change sends no write request.
options:
  name:
    description: The egress set; its resources carry the label C(meshops.io/egress-set=<name>).
    type: str
    required: true
  namespace:
    description: The egress set's namespace, where its rollout lease lives.
    type: str
    required: true
  resources:
    description:
      - The declared resources, complete objects with their ownership labels, as a list or a YAML stream (as a template
        renders it). Each is written in the newest version of its kind the cluster serves.
      - Empty with O(state=absent).
    type: raw
    default: []
  state:
    description: V(absent) prunes every resource of the egress set, whatever O(prune) says.
    type: str
    choices: [present, absent]
    default: present
  owner:
    description:
      - Deprecated, removed in 1.0.0 - leave it out (V(egress_set), an egress set's resources). Install the role's RBAC
        with the P(meshops.aws_egress.istio_aws_egress#role) role (C(tasks_from=rbac), or
        C(istio_aws_egress_install_rbac=true)).
      - Until then V(rbac) installs O(resources) as that role does (labelled C(app.kubernetes.io/component=rbac), never
        pruned, written without the lease), ignoring the options that concern an egress set, with a deprecation warning.
    type: str
    choices: [egress_set, rbac]
    default: egress_set
  prune:
    description: Delete the egress set's resources that are no longer declared. With V(false) the plan lists them as kept.
    type: bool
    default: true
  adopt:
    description: Take over same-name objects that are not labelled as managed by this collection.
    type: bool
    default: false
  api_version:
    description:
      - The C(networking.istio.io) version to write (C(security.istio.io) follows it), or V(auto) for the newest served.
    type: str
    choices: [auto, v1, v1beta1, v1alpha3]
    default: auto
  gateway:
    description: The egress gateway the resources route through, checked before any write.
    type: dict
    suboptions:
      namespace:
        description: The gateway's namespace.
        type: str
        required: true
      service:
        description: The gateway's Service, which must exist and have O(gateway.port).
        type: str
        required: true
      selector:
        description: The gateway pods' labels.
        type: dict
        required: true
      port:
        description: The Service port the mesh routes to.
        type: int
        default: 443
  waypoint:
    description:
      - The waypoint of ambient mode the resources use, checked before any write - the cluster must serve the Gateway API's
        Gateway; a waypoint not created by O(resources) must exist, serve Services, and, in a namespace other than
        O(namespace), admit routes from it; other ServiceEntries or namespaces that use it need an ALLOW policy of their own
        (see O(accept)).
      - With it, the plan lists the namespaces and notes those in ambient mode that are bound to no waypoint.
    type: dict
    suboptions:
      name:
        description: The waypoint Gateway's name.
        type: str
        required: true
      namespace:
        description: The waypoint's namespace.
        type: str
        required: true
      create:
        description: Whether O(resources) create it.
        type: bool
        default: true
  wildcard_resolution:
    description:
      - The choice O(resources) were laid out with, as the role's C(istio_aws_egress_wildcard_resolution) (in ambient
        mode the role's V(auto) is V(none) here).
      - V(none) and V(dynamic_dns) write the ServiceEntries' resolution as given; a resolution the cluster's ServiceEntry
        CRD does not accept is refused before any write.
      - V(auto) gives C(resolution DYNAMIC_DNS) to the ServiceEntries whose hosts are all wildcards, with resolution
        C(NONE), TLS ports, no addresses and no waypoint, on a cluster with Istio 1.30's CRDs (the ServiceEntry CRD accepts
        C(DYNAMIC_DNS) and C(trafficextensions.extensions.istio.io) is there); elsewhere it keeps them and says why.
      - V(declared) is deprecated and will be removed in 1.0.0; it is taken as V(none), with a deprecation warning.
    type: str
    choices: [auto, none, dynamic_dns, declared]
    default: none
  accept:
    description:
      - Refusals to turn into notes, for what a user may knowingly want.
      - V(missing_gateway) writes egress-gateway routing although the gateway Service (or its port) is not there, for
        example to stage it before the gateway is installed; until then the routed hosts are black-holed.
      - V(cut_shared_gateway) writes the ALLOW policy on a gateway that other Gateways use while no other ALLOW policy
        covers them; their traffic is then denied.
      - V(cut_shared_waypoint) writes the ALLOW policy on a waypoint that other ServiceEntries or namespaces use while no
        other ALLOW policy on it covers them; their traffic is then denied.
      - V(network_policy_cut) writes a NetworkPolicy or CiliumNetworkPolicy that would be the first egress policy on its
        pods although it does not allow what the mesh lets them reach today (external ServiceEntries their Sidecar admits,
        other Gateways' upstreams on the egress gateway's pods); that traffic is then cut.
      - V(endpoint_data_removal) closes the hosts that only the endpoint data drops - hosts of ServiceEntries produced with
        another botocore or collection version than the O(resources) record (annotations C(meshops.io/botocore-version)
        and C(meshops.io/collection-version)). Without it, every write that would stop opening such a host is withheld (the
        object stays as it is, RV(withheld)), and everything else is written.
      - V(endpoint_data_downgrade) writes O(resources) that record older versions than the egress set's objects on the
        cluster do; without it such a run is refused, as it would undo the hosts the newer endpoint data opened or closed.
      - V(replace_access_logs) writes a Telemetry that logs blocked egress only although the mesh logs every call, or its
        namespace or workloads already have a Telemetry; their access logs are then replaced by ours, or one of the two
        namespace-wide Telemetries is ignored.
    type: list
    elements: str
    choices: [missing_gateway, cut_shared_gateway, cut_shared_waypoint, network_policy_cut, endpoint_data_removal,
              endpoint_data_downgrade, replace_access_logs]
    default: []
  exclude_hosts:
    description:
      - Hosts the egress set leaves to other owners (the role's C(istio_aws_egress_exclude_hosts)); O(resources) declare
        none of them. RV(notes) name the ServiceEntries that declare each, or say that none does.
    type: list
    elements: str
    default: []
  outbound_policy:
    description:
      - Where to read the outbound traffic policy that decides what the ServiceEntries do - restrict egress (REGISTRY_ONLY),
        only route (ALLOW_ANY, unset, or ALLOW_ANY_DYNAMIC_DNS from Istio 1.31), or nothing (a namespace in ambient mode,
        where ztunnel ignores it). RV(notes) and RV(outbound_policy) say which, for the mesh and each namespace.
      - The mesh config is read from the ConfigMaps C(istio) and C(istio-<revision>) (the revisions in the namespaces'
        C(istio.io/rev) labels); a namespace's own Sidecar without a workload selector overrides it, and the Sidecars of
        O(resources) make their namespaces REGISTRY_ONLY. What the user may not read is said as not read, never a failure.
      - Without it, nothing of this is read. Not with O(state=absent).
    type: dict
    suboptions:
      namespace:
        description: The control plane's namespace, where istiod reads its ConfigMaps.
        type: str
        required: true
      namespaces:
        description: The namespaces whose policy to say, besides those of the Sidecars in O(resources).
        type: list
        elements: str
        default: []
  lock_timeout:
    description: Seconds to wait for another run's rollout lease.
    type: int
    default: 300
  lock_duration:
    description: Seconds the lease stays valid after it is taken or renewed (how long a crashed run blocks others).
    type: int
    default: 120
  apply_concurrency:
    description:
      - At most this many C(kubernetes.core.k8s) runs write at once. Each run writes one batch of objects, one after another,
        a few round trips each; on a far cluster, batches written at once take a fraction of the time.
      - Writes keep the order traffic needs, by kind - the gateway's C(Gateway), C(DestinationRule) and C(AuthorizationPolicy),
        the waypoint and C(Telemetry) first, then the C(ServiceEntry) objects, then the C(VirtualService) objects, then what
        narrows traffic (C(Sidecar), network policies). A prune goes the other way.
      - A batch gets a run of its own only when its objects would wait longer for the API server than a run takes to start
        (about 0.8 seconds; the round trip is the quickest of the run's reads), so on a near cluster a plan stays one run.
      - C(1) writes every object in one run, in the plan's order.
    type: int
    default: 8
  cluster:
    description: The cluster's name in messages; the context by default.
    type: str
  variable_prefix:
    description: Prefix of the option names in messages, so that they name the caller's variables (the role passes C(istio_aws_egress_)).
    type: str
    default: ""
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
notes:
  - Without O(context), a kubeconfig with more than one context is refused, so that no run writes into a cluster nobody
    named.
  - Check mode plans and refuses like a real run, and sends no write, not even an access review or a dry run.
attributes:
  check_mode:
    support: full
    description: Plans and reports what would change; writes nothing.
  diff_mode:
    support: full
    description:
      - As C(kubectl diff) shows it, in YAML, for each resource written (or, in check mode, to be written) -
        the whole object of a create or a prune, and for an update the fields that change, in the live object.
      - The plan's RV(lines) say per resource and field what changes, with or without C(--diff).
  platform:
    support: full
    platforms: posix
    description: Runs on the controller; C(kubernetes.core.k8s) runs on the inventory host, normally with C(ansible_connection=local).
"""

EXAMPLES = r"""
- name: Apply resources rendered elsewhere as egress set "payments"
  meshops.aws_egress.egress_set:
    name: payments
    namespace: istio-system
    resources: "{{ lookup('ansible.builtin.file', 'payments-egress.yaml') }}"
    context: prod-use1
  register: payments_plan

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ [payments_plan.summary] + payments_plan.lines }}"
"""

RETURN = r"""
changed:
  description: Whether anything was written (in check mode, whether anything would be).
  returned: always
  type: bool
counts:
  description: How many resources get each action.
  returned: success
  type: dict
  sample: {create: 1, update: 1, adopt: 0, unchanged: 10, prune: 1, keep: 0, withheld: 0, conflict: 0}
summary:
  description: One line with the counts.
  returned: success
  type: str
  sample: "1 to create, 1 to update, 0 to adopt, 1 to prune, 10 unchanged"
lines:
  description:
    - One line per resource that changes (C(+ create), C(~ update), C(~ adopt), C(- prune), C(= keep), C(= withheld)), each
      update followed by one indented line per changed field.
  returned: success
  type: list
  elements: str
diff:
  description:
    - With C(--diff), one entry per resource written (or to be written), as Ansible's callbacks show diffs - the object
      before and after as YAML text, empty for a create's before and a prune's after.
  returned: success, in diff mode
  type: list
  elements: dict
  contains:
    before_header:
      description: C(<kind> <namespace>/<name> (live)).
      type: str
    after_header:
      description: C(<kind> <namespace>/<name> (declared)).
      type: str
    before:
      description: The live object, without its status and the API server's metadata; empty for a create.
      type: str
    after:
      description: The object once written; empty for a prune.
      type: str
apply:
  description: The resources created, updated or adopted, as C(<kind> <namespace>/<name>).
  returned: success
  type: list
  elements: str
create:
  description: The resources of RV(apply) that did not exist.
  returned: success
  type: list
  elements: str
prune:
  description: The resources deleted, as C(<kind> <namespace>/<name>).
  returned: success
  type: list
  elements: str
withheld:
  description:
    - The resources left as they are because their update or prune would close a host only the endpoint data drops (see
      O(accept) V(endpoint_data_removal)), as C(<kind> <namespace>/<name>).
  returned: success
  type: list
  elements: str
endpoint_data:
  description:
    - The endpoint data of this run and of the egress set on the cluster, and the hosts that the endpoint data alone, not the
      inventory, opens or closes. Empty lists and null versions when O(resources) record no endpoint data.
  returned: success
  type: dict
  contains:
    botocore:
      description: The botocore version O(resources) were produced with.
      type: str
      sample: 1.44.8
    collection:
      description: The collection version O(resources) were produced with.
      type: str
      sample: 0.1.0
    recorded:
      description: The distinct versions (C(botocore), C(collection)) the egress set's objects on the cluster record.
      type: list
      elements: dict
    added:
      description: Hosts the endpoint data alone opens, as C(<host> (<services> in <regions>)).
      type: list
      elements: str
    removed:
      description: Hosts the endpoint data alone closes, accepted (O(accept) V(endpoint_data_removal)).
      type: list
      elements: str
    withheld:
      description: Hosts the endpoint data alone would close, kept open until accepted.
      type: list
      elements: str
    lines:
      description:
        - The plan's section on the endpoint data, as shown - one line naming the versions when the cluster's set records
          this run's, none when O(resources) record none.
      type: list
      elements: str
conflicts:
  description: Always empty on success; a run with conflicts fails, naming them.
  returned: success
  type: list
  elements: str
notes:
  description:
    - What the run found and did not refuse (other Gateways on the egress gateway, ServiceEntries a Sidecar hides, namespaces in
      ambient mode bound to no waypoint, why wildcard entries kept their resolution, accepted refusals, who declares the
      hosts of O(exclude_hosts), what the entries do under the outbound policy of O(outbound_policy)).
  returned: success
  type: list
  elements: str
cluster:
  description: The cluster's name, as the messages give it - O(cluster), else O(context), else C(the current context).
  returned: success
  type: str
  sample: prod-use1
api_versions:
  description:
    - The apiVersion each kind the cluster serves is read and written in, by the kind's C(<plural>.<group>) (C(<plural>) for
      the core group).
  returned: success
  type: dict
  sample: {serviceentries.networking.istio.io: networking.istio.io/v1, networkpolicies.networking.k8s.io: networking.k8s.io/v1}
outbound_policy:
  description:
    - With O(outbound_policy), what the ServiceEntries do - C(restrict), C(only route), C(nothing) or C(unknown) (a ConfigMap
      not read or not found) - and the policy that decides it; empty without it.
  returned: success
  type: dict
  contains:
    mesh:
      description: The default revision's mesh config (ConfigMap C(istio)), for namespaces without a Sidecar of their own.
      type: dict
      returned: success
    namespaces:
      description: One item per namespace (namespace, effect, policy).
      type: list
      elements: dict
      returned: success
  sample: {mesh: {namespace: "", effect: only route, policy: "ALLOW_ANY (unset) in ConfigMap istio-system/istio"}, namespaces: []}
unserved_kinds:
  description: Kinds the cluster does not serve (no CustomResourceDefinition), so none of ours can exist there.
  returned: success
  type: list
  elements: str
waited:
  description: Seconds spent waiting for another run's rollout lease.
  returned: success
  type: float
timings:
  description: Seconds per step (read, plan, outbound_policy, access_review, lease, apply, prune).
  returned: success
  type: dict
runs:
  description: The C(kubernetes.core.k8s) runs each write step took (apply, prune); see I(apply_concurrency).
  returned: success
  type: dict
  sample: {"apply": 8, "prune": 1}
failed_step:
  description: On failure, the step that failed (target, read, refuse, access, lease, apply, renew, prune, interrupted).
  returned: failure
  type: str
failed_object:
  description: On failure, the object the API server named, as C(<kind> <namespace>/<name>), if any.
  returned: failure
  type: str
failed_objects:
  description:
    - On failure, every object named by the failed batches of a concurrent write (the first is I(failed_object)).
    - A batch that failed without the API server naming an object (a lost connection) is named by its first and last object.
  returned: failure
  type: list
  elements: str
api_status:
  description: On failure, the API server's Status (code, reason, message, details), if it answered.
  returned: failure
  type: dict
converges:
  description: On failure, whether a rerun (after a transient fault) converges by itself.
  returned: failure
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_set_options import argument_spec


def main():
    # Everything runs in the action plugin, on the controller; this file documents it.
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="meshops.aws_egress.egress_set runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
