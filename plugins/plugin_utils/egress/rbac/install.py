# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Installing the role's RBAC (rbac/rules.py, templates/rbac.yaml.j2) on one cluster: read, plan, refuse or write.

    read the live RBAC objects labelled as ours (plan/reads.py) -> plan (plan/changes.py)
    -> refuse another owner's object in the way -> [not in check mode, and
    only if the plan writes] access review -> apply

The same plan as an egress set's, with three differences that make it an
administrator's one-off step: the RBAC has its own labels
(ownership.rbac_labels), it is never pruned (the binding a namespace keeps
after it leaves istio_aws_egress_sidecars is what lets a later run prune its
Sidecar), and it is written without the rollout lease (objects cluster-wide
and in several namespaces, none of which an egress set writes).
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.module_utils.access_reviews import missing_message, review_all
from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import FIELD_MANAGER
from ansible_collections.meshops.aws_egress.plugins.module_utils.kubernetes_core import k8s_failure_status
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.needed_access import plan_checks
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import (
    EgressFailure,
    failure_text,
    write_failure,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import RBAC_KINDS, UnknownKind, kind_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import rbac_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import build_plan, describe
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import ClusterReader, read_live


def install(resources, cluster, api_client, execute_k8s, check_mode=False, adopt=False, check_modules=lambda: None):
    """The result of installing `resources` (RBAC objects labelled rbac_labels()) on `cluster`; raises EgressFailure.

    `execute_k8s`: module args -> the kubernetes.core.k8s result; `check_modules` raises EgressFailure when the Python
    that runs modules cannot run kubernetes.core.k8s.
    """
    doing = f"installing the RBAC on {cluster}"
    for index, obj in enumerate(resources):
        try:
            kind = kind_of(obj)
        except UnknownKind as err:
            raise EgressFailure("refuse", doing, f"resources[{index}]: {err}") from None
        if kind not in RBAC_KINDS:
            raise EgressFailure(
                "refuse",
                doing,
                f"resources[{index}]: {describe(obj)} is not an RBAC object "
                f"(ClusterRole, ClusterRoleBinding or RoleBinding); nothing was written",
            )
    labels = rbac_labels()
    state = read_live(ClusterReader(api_client, cluster), RBAC_KINDS, resources, labels)
    plan = build_plan(resources, state.objects, labels, adopt=adopt, prune=False)
    if plan.conflicts:
        raise EgressFailure(
            "refuse",
            f"{len(plan.conflicts)} RBAC object(s) on {cluster} are in the way",
            "nothing was written:\n" + "\n".join(plan.conflicts),
        )
    result = {**plan.public(), "cluster": cluster, "changed": plan.changed}
    if check_mode or not plan.changed:
        return result
    check_modules()
    missing = review_all(api_client, plan_checks(plan))[1]
    if missing:
        raise EgressFailure(
            "access",
            f"checking the rights of the planned writes on {cluster}",
            missing_message(cluster, missing) + "; nothing was written",
        )
    applied = execute_k8s(
        {
            "definition": plan.apply,
            "apply": True,
            # Ours alone: the plan refused every object that is not.
            "server_side_apply": {"field_manager": FIELD_MANAGER, "force_conflicts": True},
        }
    )
    if applied.get("failed"):
        raise write_failure(
            "apply",
            f"applying {len(plan.apply)} RBAC objects to {cluster}",
            k8s_failure_status(applied),
            failure_text(applied),
            [describe(obj) for obj in plan.apply],
            server=api_client.configuration.host,
        )
    return result
