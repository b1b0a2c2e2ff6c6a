#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: _rollout_lease
short_description: "[INTERNAL] Hold a Kubernetes Lease so that only one rollout writes to a namespace at a time"
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - B(Internal to this collection:) P(meshops.aws_egress.egress_set#module) holds this lease itself; this module is its
    lock on its own, for the collection's tests. Its options and results can change, and it can be removed, in any
    release.
  - Acquires, renews or releases a C(coordination.k8s.io/v1) Lease used as a lock.
  - The lease is taken by creating it, or by updating it with its resourceVersion when it is free,
    expired or already held by O(holder), so two runs can never both hold it.
  - A run that crashes never releases its lease; it expires O(duration) seconds after the last renewal.
  - While another holder keeps the lease, the module waits up to O(timeout) seconds, then fails naming
    the holder and when its lease expires.
  - In check mode nothing is written; the module reports who holds the lease, if anyone.
options:
  name:
    description: Name of the Lease.
    type: str
    default: meshops-aws-egress
  namespace:
    description: Namespace of the Lease; the namespace the rollout writes to.
    type: str
    required: true
  state:
    description:
      - V(acquired) takes or renews the lease for O(holder).
      - V(released) gives it up if O(holder) holds it, and does nothing otherwise.
    type: str
    choices: [acquired, released]
    default: acquired
  holder:
    description:
      - Identity of this run, written to C(spec.holderIdentity). Use the same value to renew and to release.
      - When acquiring without it, the module makes one (user, host and a random part) and returns it.
    type: str
  duration:
    description: Seconds the lease stays valid after each acquisition or renewal.
    type: int
    default: 120
  timeout:
    description: Seconds to wait for another holder's lease to be released or to expire.
    type: int
    default: 300
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
notes:
  - Acquiring and releasing do not change managed resources, so the module reports RV(ignore:changed=false).
"""

EXAMPLES = r"""
- name: Take the rollout lease in istio-system
  meshops.aws_egress._rollout_lease:
    namespace: istio-system
    context: prod-eu-west-1
  register: lease

- name: Give it back
  meshops.aws_egress._rollout_lease:
    namespace: istio-system
    context: prod-eu-west-1
    holder: "{{ lease.holder }}"
    state: released
"""

RETURN = r"""
holder:
  description: The identity this run holds (or released) the lease as.
  returned: always
  type: str
  sample: deploy@bastion-1/3f9c2a1b
lease:
  description: The lease as it stands after the call.
  returned: when the lease exists
  type: dict
  contains:
    name:
      description: Lease name.
      type: str
    namespace:
      description: Lease namespace.
      type: str
    holder:
      description: Current holder; empty when free.
      type: str
    acquire_time:
      description: When the current holder took it.
      type: str
    renew_time:
      description: Last renewal.
      type: str
    duration:
      description: Seconds of validity after each renewal.
      type: int
    expires:
      description: When the lease expires unless renewed.
      type: str
waited:
  description: Seconds spent waiting for another holder.
  returned: always
  type: float
"""

import time

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import LOCK_NAME, MANAGED_BY
from ansible_collections.meshops.aws_egress.plugins.module_utils.k8s_module import k8s_module, run_with_client
from ansible_collections.meshops.aws_egress.plugins.module_utils.lease import (
    LeaseHeld,
    LeaseLock,
    default_holder,
    describe,
)
from ansible_collections.meshops.aws_egress.plugins.module_utils.lease_store import LeaseStore


def run(module, client):
    params = module.params
    name, namespace = params["name"], params["namespace"]
    store = LeaseStore(client, name, namespace)
    lock = LeaseLock(store, name, namespace, labels=dict(MANAGED_BY))
    holder = params["holder"]
    started = time.monotonic()

    if params["state"] == "released":
        if not holder:
            module.fail_json(msg="rollout_lease: holder is required to release a lease")
        if module.check_mode:
            lease = store.read()
        else:
            lock.release(holder)
            lease = store.last  # what releasing read or wrote: no second read to report it
        module.exit_json(changed=False, holder=holder, waited=0.0, **({"lease": describe(lease)} if lease else {}))

    holder = holder or default_holder()
    if module.check_mode:
        lease = store.read()
        module.exit_json(changed=False, holder=holder, waited=0.0, **({"lease": describe(lease)} if lease else {}))
    try:
        lease = lock.acquire(holder, params["duration"], params["timeout"])
    except LeaseHeld as held:
        info = held.args[0]
        module.fail_json(
            msg=(
                f"rollout lease {namespace}/{name} is held by {info['holder']} (since {info['acquire_time']}, "
                f"expires {info['expires']} unless renewed); gave up after waiting {params['timeout']}s"
            ),
            lease=info,
            holder=holder,
            waited=round(time.monotonic() - started, 1),
        )
    module.exit_json(changed=False, holder=holder, lease=describe(lease), waited=round(time.monotonic() - started, 1))


def main():
    module = k8s_module(
        dict(
            name=dict(type="str", default=LOCK_NAME),
            namespace=dict(type="str", required=True),
            state=dict(type="str", choices=["acquired", "released"], default="acquired"),
            holder=dict(type="str"),
            duration=dict(type="int", default=120),
            timeout=dict(type="int", default=300),
        )
    )
    run_with_client(module, run, lambda params: f"rollout_lease {params['namespace']}/{params['name']}")


if __name__ == "__main__":
    main()
