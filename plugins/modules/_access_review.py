#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: _access_review
short_description: "[INTERNAL] Check that the current user may make the writes of a rollout, before making any"
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - B(Internal to this collection:) P(meshops.aws_egress.egress_set#module) makes these reviews itself; this module is
    the reviews on their own, for the collection's tests. Its options and results can change, and it can be removed, in
    any release.
  - Asks the API server, with one C(authorization.k8s.io/v1) SelfSubjectAccessReview per check, whether
    the user of the kubeconfig may do what O(checks) list, and fails naming every permission that is
    missing and what it was needed for.
  - A SelfSubjectAccessReview stores nothing; the API server answers it and forgets it.
  - In check mode no review is sent (the API server's audit log records reviews as requests that write).
options:
  checks:
    description:
      - What to check, one SelfSubjectAccessReview each. The P(meshops.aws_egress.egress_set#module) module makes the same
        checks for the writes of its plan before its first write.
    type: list
    elements: dict
    required: true
    suboptions:
      verb:
        description: The verb, for example C(patch).
        type: str
        required: true
      group:
        description: The API group; empty or omitted for the core group.
        type: str
      resource:
        description: The resource, plural, for example C(serviceentries).
        type: str
        required: true
      namespace:
        description: The namespace; omitted for cluster-scoped resources and cluster-wide checks.
        type: str
      name:
        description: One object's name; omitted for every object.
        type: str
      permission:
        description: The check as text; made from the other keys when omitted.
        type: str
      purpose:
        description: What needs the permission, for the failure message.
        type: str
  cluster:
    description: The cluster's name in the failure message; the context, by default.
    type: str
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
notes:
  - Reviews change nothing, so the module reports RV(ignore:changed=false).
"""

EXAMPLES = r"""
- name: Check that the pipeline's user may write ServiceEntries and hold the rollout lease
  meshops.aws_egress._access_review:
    checks:
      - {verb: patch, group: networking.istio.io, resource: serviceentries, namespace: istio-system, purpose: needed to apply}
      - {verb: update, group: coordination.k8s.io, resource: leases, namespace: istio-system, name: meshops-aws-egress}
    cluster: prod-eu-west-1
    context: prod-eu-west-1
"""

RETURN = r"""
allowed:
  description: The permissions the user has, as text.
  returned: always
  type: list
  elements: str
  sample: [patch serviceentries.networking.istio.io in namespace istio-system]
missing:
  description: The checks the API server denied, each with C(permission) and C(purpose).
  returned: always
  type: list
  elements: dict
check_mode:
  description:
    - Whether the task ran in check mode, and so sent nothing. Unlike C(ansible_check_mode), this is
      also true when only the task is in check mode (C(check_mode) keyword, C(include_role) with C(apply)).
  returned: success
  type: bool
"""


from ansible_collections.meshops.aws_egress.plugins.module_utils.k8s_module import k8s_module, run_with_client
from ansible_collections.meshops.aws_egress.plugins.module_utils.access_reviews import missing_message, review_all


def run(module, client):
    allowed, missing = review_all(client, module.params["checks"])
    if missing:
        cluster = module.params["cluster"] or module.params.get("context") or "the cluster"
        module.fail_json(msg=missing_message(cluster, missing), allowed=allowed, missing=missing)
    module.exit_json(changed=False, allowed=allowed, missing=[], check_mode=False)


CHECK_OPTIONS = dict(
    verb=dict(type="str", required=True),
    group=dict(type="str"),
    resource=dict(type="str", required=True),
    namespace=dict(type="str"),
    name=dict(type="str"),
    permission=dict(type="str"),
    purpose=dict(type="str"),
)


def main():
    module = k8s_module(
        dict(
            checks=dict(type="list", elements="dict", required=True, options=CHECK_OPTIONS),
            cluster=dict(type="str"),
        )
    )
    for index, check in enumerate(module.params["checks"]):
        if not check["verb"] or not check["resource"]:
            module.fail_json(msg=f"access_review: checks[{index}] needs a verb and a resource, got {check}")
    # Before any client is made: a review sends a request, and check mode sends none.
    if module.check_mode:
        module.exit_json(
            changed=False, allowed=[], missing=[], check_mode=True, msg="check mode: no access review sent"
        )
    run_with_client(module, run, lambda params: f"access_review on {params['cluster'] or params.get('context')}")


if __name__ == "__main__":
    main()
