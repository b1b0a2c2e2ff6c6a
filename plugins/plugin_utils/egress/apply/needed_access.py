# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""plan -> the permissions its writes need, one check per verb, resource and namespace.

What each write sends (kubernetes.core.k8s, object by object):

* apply: a GET of the object, then a server-side apply PATCH; the API server
  also asks for `create` when the object does not exist yet;
* prune: a GET of the object, then a DELETE;
* the rollout lease: GET and UPDATE of the named Lease, CREATE the first time.

Reads (the list calls of the plan, the CRDs) are not checked here: they have
already run, and a missing read right has already failed the run.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.permissions import permission
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import kind_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import describe, identity

LEASE = ("coordination.k8s.io", "leases")


def _count(number, what="resource"):
    return f"{number} {what}{'' if number == 1 else 's'}"


def plan_checks(plan, lease_namespace=None, lease_name=None):
    """The checks the writes of `plan` (a Plan) need, in a stable order.

    Each check is a dict with verb, group, resource, namespace, name (or None),
    permission (the text above) and purpose ('needed to apply 3 resources').
    """
    needs = {}  # (verb, group, resource, namespace, name) -> [purpose words]

    def need(verb, group, resource, namespace, purpose, name=None):
        needs.setdefault((verb, group, resource, namespace or None, name), []).append(purpose)

    created = set(plan.create)
    for action, objects in (("apply", plan.apply), ("prune", plan.prune)):
        groups = {}
        for obj in objects:
            kind = kind_of(obj)
            key = (kind.group, kind.plural, identity(obj)[2])
            counts = groups.setdefault(key, {"all": 0, "new": 0})
            counts["all"] += 1
            counts["new"] += action == "apply" and describe(obj) in created
        for (group, resource, namespace), counts in groups.items():
            purpose = f"{action} {_count(counts['all'])}"
            need("get", group, resource, namespace, purpose)
            need("patch" if action == "apply" else "delete", group, resource, namespace, purpose)
            if counts["new"]:
                need("create", group, resource, namespace, f"create {_count(counts['new'])}")
    if lease_namespace:
        group, resource = LEASE
        for verb, name in (("get", lease_name), ("create", None), ("update", lease_name)):
            need(verb, group, resource, lease_namespace, "hold the rollout lease", name=name)
    return [
        {
            "verb": verb,
            "group": group,
            "resource": resource,
            "namespace": namespace,
            "name": name,
            "permission": permission(verb, group, resource, namespace, name),
            "purpose": "needed to " + " and ".join(purposes),
        }
        for (verb, group, resource, namespace, name), purposes in needs.items()
    ]
