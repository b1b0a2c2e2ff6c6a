# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The RBAC the role ships is enough, for every mode and for state absent."""

from __future__ import annotations

import pytest
import yaml

from hardening_helpers import HARDENING, SHIPPED_RBAC_FOR, render_role_template, shipped_rbac_text, user_kubeconfig
from role_helpers import (
    GATEWAY_REGIONS,
    egress_gateway,
    fresh_namespace,
    removed_after,
    role_command,
    run,
    run_role,
    unique_name,
)
from role_templates import ROLE

pytestmark = pytest.mark.integration

RBAC_LABELS = "app.kubernetes.io/managed-by=meshops.aws_egress,app.kubernetes.io/component=rbac"


def test_the_shipped_file_is_the_template_for_the_defaults():
    shipped = (ROLE / "files" / "rbac.yaml").read_text()
    assert shipped == shipped_rbac_text()
    rendered = render_role_template("rbac.yaml.j2", **SHIPPED_RBAC_FOR)
    assert yaml.safe_load(shipped)["items"] == [doc for doc in yaml.safe_load_all(rendered) if doc]


def test_the_shipped_rbac_is_enough(local_cluster, tmp_path):
    name = unique_name("rbac")
    kubeconfig = user_kubeconfig(local_cluster, "operator", tmp_path / "operator.kubeconfig", context="operator")
    namespace, apps = (fresh_namespace(local_cluster, f"role-rbac-{part}") for part in ("entries", "apps"))
    gateway = egress_gateway(local_cluster, "role-rbac-gw")
    variables = {
        "istio_aws_egress_kubeconfig": str(kubeconfig),
        "istio_aws_egress_context": "operator",
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs", "s3"],
        "istio_aws_egress_regions": [GATEWAY_REGIONS["role_rbac"]],
        "istio_aws_egress_sidecars": [apps],
        "istio_aws_egress_mode": "egress_gateway",
        "istio_aws_egress_gateway": gateway,
    }

    # Without the RBAC, the operator may not even read the CRD.
    denied = run_role(None, variables, tmp_path)
    assert denied.returncode != 0 and denied.said("forbidden")

    # A cluster administrator installs it (the admin context of the local kubeconfig).
    admin = {
        **variables,
        "istio_aws_egress_kubeconfig": local_cluster.kubeconfig,
        "istio_aws_egress_context": local_cluster.context,
        "istio_aws_egress_rbac_subject": {"kind": "User", "name": "operator"},
    }
    try:
        with removed_after(local_cluster, tmp_path) as remove:
            remove(admin)  # by the administrator, whatever rights the operator still has by then
            installed = run(role_command(admin, tmp_path, playbook=HARDENING / "rbac.yml")).assert_ok()
            assert installed.changed == 1
            applied = run_role(None, variables, tmp_path).assert_ok()
            assert applied.changed == 1
            # The shipped RBAC grants no read of the mesh config: the plan says so, and what it could still read.
            assert applied.said(
                "! outbound policy of namespaces without a Sidecar of their own: ConfigMap istio-system/istio not read "
                "(forbidden): the outbound policy is not known: what the entries do is not known"
            )
            assert applied.said(
                f"! outbound policy in namespace {apps}: REGISTRY_ONLY in this set's Sidecar {apps}/aws-{name}-egress"
            )
            # Updates (the gateway routing, the Sidecar) and prunes (the s3 entries), in one task.
            assert (
                run_role(None, {**variables, "istio_aws_egress_services": ["sqs"]}, tmp_path).assert_ok().changed == 1
            )
            assert run_role(None, variables, tmp_path, check=True).assert_ok().changed == 1
            assert run_role(None, {**variables, "istio_aws_egress_state": "absent"}, tmp_path).assert_ok().changed == 1
    finally:
        local_cluster.kubectl("delete", "clusterrolebinding,clusterrole", "-l", RBAC_LABELS, check=False)
        for bound in (namespace, apps, gateway["namespace"]):
            local_cluster.kubectl("delete", "rolebinding", "-n", bound, "-l", RBAC_LABELS, check=False)
