# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SelfSubjectAccessReviews: may the current user make these writes? Shared by access_review and egress_set.

A review stores nothing; the API server answers it and forgets it. Reviews
are independent, so several go out at once: on a real network each costs a
round trip.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.meshops.aws_egress.plugins.module_utils.permissions import permission

ATTRIBUTES = ("verb", "group", "resource", "namespace", "name")
PARALLEL_REVIEWS = 8


def describe_check(check):
    """The check as text, when the caller did not give it."""
    return check.get("permission") or permission(
        check["verb"], check.get("group"), check["resource"], check.get("namespace"), check.get("name")
    )


def missing_message(cluster, missing):
    """One line naming every missing permission and what needed it."""
    parts = [
        f"cannot {describe_check(check)}" + (f" ({check['purpose']})" if check.get("purpose") else "")
        for check in missing
    ]
    return f"missing permission on {cluster}: " + "; ".join(parts)


def review(api, check):
    """True when the API server allows the check to the current user (api: AuthorizationV1Api)."""
    attributes = {key: check[key] for key in ATTRIBUTES if check.get(key) not in (None, "")}
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }
    status = api.create_self_subject_access_review(body).status
    return bool(status and status.allowed)


def review_all(api_client, checks):
    """(allowed permissions as text, missing checks) for `checks`, through one ApiClient."""
    from kubernetes.client import AuthorizationV1Api

    api = AuthorizationV1Api(api_client)
    if not checks:
        return [], []
    with ThreadPoolExecutor(max_workers=min(PARALLEL_REVIEWS, len(checks))) as pool:
        answers = list(pool.map(lambda check: review(api, check), checks))
    allowed = [describe_check(check) for check, ok in zip(checks, answers) if ok]
    missing = [check for check, ok in zip(checks, answers) if not ok]
    return allowed, missing
