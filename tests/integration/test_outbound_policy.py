# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan says what the set's entries do under the mesh's outbound policy, read from the live cluster.

Each test has a control plane namespace of its own (istio_aws_egress_network_policy_istiod.namespace) holding the mesh
config ConfigMaps as Istio's charts write them, and plans in check mode: nothing is written. The 403 case, with the RBAC
the role ships, is in test_role_rbac.py.
"""

from __future__ import annotations

import json

import pytest
import yaml

from role_helpers import fresh_namespace, run_role, unique_name

pytestmark = pytest.mark.integration

ONLY_ROUTE = "the entries only route: unknown hosts stay reachable"
RESTRICT = "the entries restrict egress: only registered hosts are reached"
NOTHING = "the entries restrict nothing (ztunnel ignores outbound policies); only a waypoint's policy and a network policy limit egress"


def mesh_configmap(
    cluster, namespace: str, name: str = "istio", mode: str | None = None, version: str = "1.30.8"
) -> None:
    mesh = {"rootNamespace": "istio-system", **({"outboundTrafficPolicy": {"mode": mode}} if mode else {})}
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": {"app.kubernetes.io/version": version, "istio.io/rev": "default"},
                },
                "data": {"mesh": yaml.safe_dump(mesh)},
            }
        ),
    )


def variables(control_plane: str, **more) -> dict:
    return {
        "istio_aws_egress_name": unique_name("outbound"),
        "istio_aws_egress_services": ["sqs"],
        "istio_aws_egress_regions": ["eu-central-1"],
        "istio_aws_egress_network_policy_istiod": {"namespace": control_plane, "selector": {"app": "istiod"}},
        **more,
    }


@pytest.mark.parametrize(
    "mode, version, said",
    [
        (None, "1.30.8", f"ALLOW_ANY (unset) in ConfigMap {{cp}}/istio: {ONLY_ROUTE}"),
        ("ALLOW_ANY", "1.32.0", f"ALLOW_ANY in ConfigMap {{cp}}/istio: {ONLY_ROUTE}"),
        ("REGISTRY_ONLY", "1.28.3", f"REGISTRY_ONLY in ConfigMap {{cp}}/istio: {RESTRICT}"),
        (
            "ALLOW_ANY_DYNAMIC_DNS",
            "1.30.8",
            f"ALLOW_ANY_DYNAMIC_DNS in ConfigMap {{cp}}/istio (Istio 1.30: istiod treats it as REGISTRY_ONLY): {RESTRICT}",
        ),
        (
            "ALLOW_ANY_DYNAMIC_DNS",
            "1.31.4",
            f"ALLOW_ANY_DYNAMIC_DNS in ConfigMap {{cp}}/istio (Istio 1.31: unknown hosts leave through dynamic DNS): {ONLY_ROUTE}",
        ),
    ],
)
def test_the_plan_says_what_the_entries_do_under_the_mesh_policy(local_cluster, tmp_path, mode, version, said):
    control_plane, apps = fresh_namespace(local_cluster, "outbound-cp"), fresh_namespace(local_cluster, "outbound-apps")
    mesh_configmap(local_cluster, control_plane, mode=mode, version=version)
    role_vars = variables(
        control_plane,
        istio_aws_egress_namespace=fresh_namespace(local_cluster, "outbound-entries"),
        istio_aws_egress_sidecars=[apps],
    )
    local_cluster.audit.mark()
    planned = run_role(local_cluster, role_vars, tmp_path, check=True).assert_ok()
    assert local_cluster.audit.writes() == []
    assert planned.said(
        f"! outbound policy of namespaces without a Sidecar of their own: {said.format(cp=control_plane)}"
    )
    # The set's Sidecar makes its namespace REGISTRY_ONLY, whatever the mesh says.
    sidecar = f"aws-{role_vars['istio_aws_egress_name']}-egress"
    assert planned.said(
        f"! outbound policy in namespace {apps}: REGISTRY_ONLY in this set's Sidecar {apps}/{sidecar}: {RESTRICT}"
    )


def test_in_ambient_mode_a_namespace_sidecar_and_a_revision_decide_too(local_cluster, tmp_path):
    control_plane = fresh_namespace(local_cluster, "outbound-cp")
    mesh_configmap(local_cluster, control_plane, mode="ALLOW_ANY")
    mesh_configmap(local_cluster, control_plane, name="istio-canary", mode="REGISTRY_ONLY")
    ambient, canary, own = (fresh_namespace(local_cluster, f"outbound-{part}") for part in ("ambient", "canary", "own"))
    local_cluster.kubectl("label", "namespace", ambient, "istio.io/dataplane-mode=ambient")
    local_cluster.kubectl("label", "namespace", canary, "istio.io/rev=canary")
    local_cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": "Sidecar",
                "metadata": {"name": "default", "namespace": own},
                "spec": {"egress": [{"hosts": ["./*"]}], "outboundTrafficPolicy": {"mode": "ALLOW_ANY"}},
            }
        ),
    )
    role_vars = variables(
        control_plane,
        istio_aws_egress_namespace=fresh_namespace(local_cluster, "outbound-entries"),
        istio_aws_egress_mode="ambient",
        istio_aws_egress_caller_namespaces=[ambient, canary, own],
    )
    planned = run_role(local_cluster, role_vars, tmp_path, check=True).assert_ok()
    assert planned.said(f"! outbound policy in namespace {ambient}: istio.io/dataplane-mode=ambient: {NOTHING}")
    assert planned.said(
        f"! outbound policy in namespace {canary}: REGISTRY_ONLY in ConfigMap {control_plane}/istio-canary: {RESTRICT}"
    )
    assert planned.said(f"! outbound policy in namespace {own}: ALLOW_ANY in its Sidecar {own}/default: {ONLY_ROUTE}")
    assert planned.said(
        f"! outbound policy of namespaces without a Sidecar of their own: ALLOW_ANY in ConfigMap {control_plane}/istio"
    )


def test_without_a_mesh_configmap_the_plan_says_it_is_not_known(local_cluster, tmp_path):
    control_plane = fresh_namespace(local_cluster, "outbound-cp")
    role_vars = variables(control_plane, istio_aws_egress_namespace=fresh_namespace(local_cluster, "outbound-entries"))
    planned = run_role(local_cluster, role_vars, tmp_path, check=True).assert_ok()
    assert planned.said(
        f"! outbound policy of namespaces without a Sidecar of their own: ConfigMap {control_plane}/istio not found: "
        "the outbound policy is not known: what the entries do is not known"
    )
