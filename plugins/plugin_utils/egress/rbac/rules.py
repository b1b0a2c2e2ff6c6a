# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rights the role needs, and no more, built from the kinds table.

Four ClusterRoles hold the rules; bindings decide where they apply:

* read (bound cluster-wide): the kinds' CustomResourceDefinitions (which
  versions are served, what their schemas accept) and the one that says
  whether the cluster has Istio 1.30's CRDs, every kind listed cluster-wide
  (the set's own objects wherever an earlier run put them, and others' objects
  that a plan must not harm), and namespaces (that the ones written to exist;
  in ambient mode, which are bound to a waypoint);
* entries (the egress set's namespace): the kinds written there, and the
  rollout lease;
* sidecars (each Sidecar namespace), gateway (the gateway's namespace, or in
  ambient mode the waypoint's): the kinds written there; at the gateway also
  its Service, which is checked.

A write is a GET then a server-side apply PATCH (and `create` for a new
object) or a DELETE: kubernetes.core.k8s reads each object first.
"""

from __future__ import annotations

import re

from ansible_collections.meshops.aws_egress.plugins.module_utils.identifiers import LOCK_NAME, RBAC_NAME_PREFIX
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import role_options
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import CLUSTER_ROLE, ISTIO_1_30_CRD, KINDS
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import rbac_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import input_error

WRITE_VERBS = ["get", "create", "patch", "delete"]
SUBJECT_KINDS = role_options.choices("rbac_subject", "kind", entry_point="rbac")

READ_WHY = (
    "Read cluster-wide: which versions of each kind are served and what they accept (its CustomResourceDefinition), "
    "whether the cluster has Istio 1.30's CRDs, every object of the kinds the role writes (the egress set's own "
    "wherever an earlier run put them, and others' that a plan must not harm), whether the namespaces written to "
    "exist, and in ambient mode which namespaces are bound to a waypoint."
)
# Where each writer's rules apply, then what besides the kinds' own (their rbac_reason) it needs there.
WRITERS = {
    "entries": (
        "In the egress set's namespace",
        "; each with get, patch and create (server-side apply through "
        "kubernetes.core.k8s, which reads each object before writing it) and get and delete (to prune); and the "
        "rollout lease (create it once, then get and update it, by name).",
    ),
    "sidecars": ("In each Sidecar namespace of the egress set", "."),
    "gateway": (
        "In the egress gateway's namespace (egress_gateway mode), or the waypoint's (ambient mode)",
        ", and the gateway's Service, which must exist before anything is routed to it.",
    ),
}


def why(role):
    """Why the ClusterRole `role` ("read" or a writer) has its rules: built from the kinds it writes."""
    if role == "read":
        return READ_WHY
    where, rest = WRITERS[role]
    return f"{where}: {', '.join(kind.rbac_reason for kind in KINDS if role in kind.writers)}{rest}"


def _rules_for(writer):
    by_group = {}
    for kind in KINDS:
        if writer in kind.writers:
            by_group.setdefault(kind.group, []).append(kind.plural)
    return [
        {"apiGroups": [group], "resources": plurals, "verbs": list(WRITE_VERBS)} for group, plurals in by_group.items()
    ]


def cluster_roles():
    """The ClusterRoles, each {name, why, rules}."""
    listed = {}
    for kind in KINDS:
        listed.setdefault(kind.group, []).append(kind.plural)
    read = [
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "resourceNames": sorted([kind.crd for kind in KINDS if kind.crd] + [ISTIO_1_30_CRD]),
            "verbs": ["get"],
        }
    ]
    read += [{"apiGroups": [group], "resources": plurals, "verbs": ["list"]} for group, plurals in listed.items()]
    read += [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list"]}]
    lease = [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [LOCK_NAME],
            "verbs": ["get", "update"],
        },
    ]
    gateway_service = [{"apiGroups": [""], "resources": ["services"], "verbs": ["get"]}]
    roles = {
        "read": read,
        "entries": _rules_for("entries") + lease,
        "sidecars": _rules_for("sidecars"),
        "gateway": _rules_for("gateway") + gateway_service,
    }
    return [{"name": f"{RBAC_NAME_PREFIX}-{role}", "why": why(role), "rules": rules} for role, rules in roles.items()]


def log_reader_role():
    """The optional read-only ClusterRole for playbooks/diagnose.yml's live logs: kept apart from the role's own four,
    which never read pods (files/rbac-diagnose-log-reader.yaml ships it)."""
    return {
        "name": f"{RBAC_NAME_PREFIX}-diagnose-log-reader",
        "why": "Optional, for playbooks/diagnose.yml without diagnose_logs: list the pods of the proxies (sidecars, egress "
        "gateway, waypoint, ztunnel) and read their logs through the API server. Read-only; bind it where they run.",
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
            {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
        ],
    }


def rbac(namespace, sidecar_namespaces=(), gateway_namespace=None, subject=None):
    """What templates/rbac.yaml.j2 renders: labels, the subject, ClusterRoles and where they are bound."""
    subject = _subject(subject)
    subject_id = re.sub(
        r"^[-.]+|[-.]+$",
        "",
        re.sub(
            r"[^a-z0-9.-]+",
            "-",
            "-".join(
                [subject["kind"]] + ([subject["namespace"]] if "namespace" in subject else []) + [subject["name"]]
            ).lower(),
        ),
    )
    bindings = [("entries", namespace)] + [("sidecars", name) for name in sorted(set(sidecar_namespaces))]
    if gateway_namespace:
        bindings.append(("gateway", gateway_namespace))
    return {
        "labels": rbac_labels(),
        "subject": subject,
        "cluster_roles": cluster_roles(),
        "cluster_role_bindings": [
            {"name": f"{RBAC_NAME_PREFIX}-read-{subject_id}", "role": f"{RBAC_NAME_PREFIX}-read"}
        ],
        "role_bindings": [
            {
                "name": f"{RBAC_NAME_PREFIX}-{role}-{subject_id}",
                "role": f"{RBAC_NAME_PREFIX}-{role}",
                "namespace": where,
            }
            for role, where in bindings
        ],
    }


def _subject(subject):
    subject = subject if isinstance(subject, dict) else {}
    kind, name, namespace = subject.get("kind"), subject.get("name"), subject.get("namespace")
    if (
        kind not in SUBJECT_KINDS
        or not isinstance(name, str)
        or not name
        or (kind == "ServiceAccount" and not namespace)
    ):
        raise input_error(
            "rbac_subject",
            f"{subject!r} is not a subject to bind (kind User, Group or ServiceAccount, a name, "
            f"and for a ServiceAccount its namespace)",
        )
    if kind == "ServiceAccount":
        return {"kind": kind, "name": name, "namespace": namespace}
    return {"kind": kind, "name": name, "apiGroup": CLUSTER_ROLE.group}
