#!/usr/bin/python
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: access_review
short_description: Check that the current user may make the writes of a rollout, before making any
version_added: 0.1.0
author:
  - meshops maintainers (@meshops)
description:
  - Asks the API server, with one C(authorization.k8s.io/v1) SelfSubjectAccessReview per check, whether
    the user of the kubeconfig may do what O(checks) list, and fails naming every permission that is
    missing and what it was needed for.
  - A SelfSubjectAccessReview stores nothing; the API server answers it and forgets it.
  - In check mode no review is sent (the API server's audit log records reviews as requests that write).
options:
  checks:
    description:
      - What to check, as returned by the P(meshops.aws_egress.egress_access#filter) filter.
      - Each item has C(verb), C(group), C(resource), C(namespace), and optionally C(name) (one object),
        C(permission) (the check as text) and C(purpose) (what needs it).
    type: list
    elements: dict
    required: true
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
- name: Check the rights of the planned writes and of the rollout lease
  meshops.aws_egress.access_review:
    checks: "{{ istio_aws_egress_plan | meshops.aws_egress.egress_access(lease_namespace='istio-system') }}"
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


from ansible_collections.meshops.aws_egress.plugins.module_utils.k8s_module import run_k8s_module

ATTRIBUTES = ("verb", "group", "resource", "namespace", "name")


def describe_check(check):
    """The check as text, when the caller did not give it."""
    if check.get("permission"):
        return check["permission"]
    resource = ".".join(part for part in (check.get("resource"), check.get("group")) if part)
    target = f"{resource} {check['name']}" if check.get("name") else resource
    return f"{check.get('verb')} {target}" + (f" in namespace {check['namespace']}" if check.get("namespace") else "")


def missing_message(cluster, missing):
    """One line naming every missing permission and what needed it."""
    parts = [f"cannot {describe_check(check)}" + (f" ({check['purpose']})" if check.get("purpose") else "") for check in missing]
    return f"missing permission on {cluster}: " + "; ".join(parts)


def review(api, check):
    """True when the API server allows the check to the current user."""
    attributes = {key: check[key] for key in ATTRIBUTES if check.get(key) not in (None, "")}
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": attributes}}
    status = api.create_self_subject_access_review(body).status
    return bool(status and status.allowed)


def run(module, client):
    from kubernetes.client import AuthorizationV1Api

    checks = module.params["checks"]
    for index, check in enumerate(checks):
        if not check.get("verb") or not check.get("resource"):
            module.fail_json(msg=f"access_review: checks[{index}] needs a verb and a resource, got {sorted(check)}")
    if module.check_mode:
        module.exit_json(changed=False, allowed=[], missing=[], check_mode=True, msg="check mode: no access review sent")
    api = AuthorizationV1Api(client.client.client)
    allowed, missing = [], []
    for check in checks:
        if review(api, check):
            allowed.append(describe_check(check))
        else:
            missing.append(check)
    if missing:
        cluster = module.params["cluster"] or module.params.get("context") or "the cluster"
        module.fail_json(msg=missing_message(cluster, missing), allowed=allowed, missing=missing)
    module.exit_json(changed=False, allowed=allowed, missing=[], check_mode=False)


def main():
    run_k8s_module(
        dict(
            checks=dict(type="list", elements="dict", required=True),
            cluster=dict(type="str"),
        ),
        run,
        lambda params: f"access_review on {params['cluster'] or params.get('context')}",
    )


if __name__ == "__main__":
    main()
