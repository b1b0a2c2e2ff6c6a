# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The permissions the role's README asks for are enough, for every mode and for state absent."""

from __future__ import annotations

import json

import pytest
import yaml

from role_helpers import ROOT, fresh_namespace, run_role, unique_name

pytestmark = pytest.mark.integration


def readme_cluster_role() -> dict:
    """The ClusterRole of the role's README, as documented."""
    text = (ROOT / "roles" / "istio_aws_egress" / "README.md").read_text()
    block = text.split("```yaml\n# permissions\n", 1)[1].split("```", 1)[0]
    return yaml.safe_load(block)


def test_the_documented_cluster_role_is_enough(local_cluster, tmp_path):
    role = readme_cluster_role()
    name = unique_name("rbac")
    role["metadata"]["name"] = f"meshops-aws-egress-{name}"
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": role["metadata"]["name"]},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role["metadata"]["name"]},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "operator"}]}
    kubeconfig = tmp_path / "operator.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "operator",
        "clusters": [{"name": "local", "cluster": {"server": local_cluster.info["server"], "certificate-authority": local_cluster.info["ca_file"]}}],
        "users": [{"name": "operator", "user": {"token": local_cluster.token("operator")}}],
        "contexts": [{"name": "operator", "context": {"cluster": "local", "user": "operator"}}]}))
    namespace, apps, gateway = (fresh_namespace(local_cluster, f"role-rbac-{part}") for part in ("entries", "apps", "gw"))
    variables = {"istio_aws_egress_kubeconfig": str(kubeconfig), "istio_aws_egress_context": "operator", "istio_aws_egress_name": name,
                 "istio_aws_egress_namespace": namespace, "istio_aws_egress_services": ["sqs", "s3"], "istio_aws_egress_regions": ["us-east-1"],
                 "istio_aws_egress_sidecars": [apps], "istio_aws_egress_mode": "egress_gateway", "istio_aws_egress_gateway": {"namespace": gateway}}

    # Without the binding, the operator may not even read the CRD.
    denied = run_role(None, variables, tmp_path)
    assert denied.returncode != 0 and denied.said("forbidden")

    local_cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [role, binding]}))
    try:
        assert run_role(None, variables, tmp_path).assert_ok().changed == 1
        # Updates (the gateway routing, the Sidecar) and prunes (the s3 entries).
        assert run_role(None, {**variables, "istio_aws_egress_services": ["sqs"]}, tmp_path).assert_ok().changed == 2
        assert run_role(None, variables, tmp_path, check=True).assert_ok().changed == 1
        assert run_role(None, {**variables, "istio_aws_egress_state": "absent"}, tmp_path).assert_ok().changed == 1
    finally:
        local_cluster.kubectl("delete", "clusterrolebinding,clusterrole", role["metadata"]["name"], check=False)
