# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role against a real API server: create, rerun, add, remove, Sidecars, gateway mode, other egress sets."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import data_version
from role_helpers import (
    GATEWAY_REGIONS,
    OURS,
    egress_gateway,
    fresh_namespace,
    objects,
    removed_after,
    rerun_writes_nothing,
    run_role,
    unique_name,
    writes,
)

pytestmark = pytest.mark.integration

SERVICES = ["sqs", "sns"]


def egress(namespace: str, name: str, **overrides) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": SERVICES,
        "istio_aws_egress_regions": ["us-east-1"],
        "istio_aws_egress_credential_sources": ["imds"],
        **overrides,
    }


def entry_names(name: str, services: tuple[str, ...] = tuple(SERVICES)) -> set[str]:
    return {f"aws-{name}-{service}-us-east-1" for service in services} | {f"aws-{name}-credentials-imds"}


def test_create_then_rerun_writes_nothing(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "role-create"), unique_name("create")
    local_cluster.audit.mark()
    first = run_role(
        local_cluster, {**egress(namespace, name), "expected_counts": {"create": 3, "unchanged": 0}}, tmp_path
    ).assert_ok()
    assert first.changed == 1
    assert sorted(writes(local_cluster.audit)) == sorted(
        ("patch", "serviceentries", namespace, n) for n in entry_names(name)
    )

    live = objects(local_cluster, "serviceentries", namespace, managed_fields=True)
    assert set(live) == {f"{namespace}/{n}" for n in entry_names(name)}
    sqs = live[f"{namespace}/aws-{name}-sqs-us-east-1"]
    assert sqs["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "meshops.aws_egress",
        "meshops.io/egress-set": name,
    }
    versions = data_version.current()
    assert sqs["metadata"]["annotations"] == {
        "meshops.io/aws-services": "sqs",
        "meshops.io/aws-regions": "us-east-1",
        "meshops.io/botocore-version": versions["botocore"],
        "meshops.io/collection-version": versions["collection"],
    }
    assert sqs["spec"] == {
        "hosts": ["sqs.us-east-1.amazonaws.com"],
        "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
        "location": "MESH_EXTERNAL",
        "resolution": "DNS",
        "exportTo": ["*"],
    }
    assert [(m["manager"], m["operation"]) for m in sqs["metadata"]["managedFields"]] == [
        ("meshops.aws_egress", "Apply")
    ]
    imds = live[f"{namespace}/aws-{name}-credentials-imds"]["spec"]
    assert (imds["hosts"], imds["addresses"], imds["resolution"], imds["endpoints"]) == (
        ["imds.aws.internal"],
        ["169.254.169.254"],
        "STATIC",
        [{"address": "169.254.169.254"}],
    )

    local_cluster.audit.mark()
    second = run_role(
        local_cluster,
        {**egress(namespace, name), "expected_counts": {"create": 0, "update": 0, "unchanged": 3}},
        tmp_path,
    ).assert_ok()
    assert second.changed == 0
    assert writes(local_cluster.audit) == []


def test_adding_and_removing_a_service_touches_only_that_service(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "role-change"), unique_name("change")
    run_role(local_cluster, egress(namespace, name), tmp_path).assert_ok()
    before = objects(local_cluster, "serviceentries", namespace)

    local_cluster.audit.mark()
    added = run_role(
        local_cluster, egress(namespace, name, istio_aws_egress_services=SERVICES + ["kms"]), tmp_path
    ).assert_ok()
    assert added.changed == 1
    assert writes(local_cluster.audit) == [("patch", "serviceentries", namespace, f"aws-{name}-kms-us-east-1")]
    after_add = objects(local_cluster, "serviceentries", namespace)
    for key, obj in before.items():  # the others were not rewritten
        assert after_add[key]["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]

    # With prune off, the entry of the service no longer listed stays, and the plan says so.
    local_cluster.audit.mark()
    kept = run_role(
        local_cluster,
        egress(namespace, name, istio_aws_egress_services=["sqs", "kms"], istio_aws_egress_prune=False),
        tmp_path,
    )
    assert kept.assert_ok().changed == 0 and writes(local_cluster.audit) == []
    assert f"= keep ServiceEntry {namespace}/aws-{name}-sns-us-east-1 (no longer declared; prune is off)" in kept.stdout

    local_cluster.audit.mark()
    removed = run_role(
        local_cluster, egress(namespace, name, istio_aws_egress_services=["sqs", "kms"]), tmp_path
    ).assert_ok()
    assert removed.changed == 1
    assert writes(local_cluster.audit) == [("delete", "serviceentries", namespace, f"aws-{name}-sns-us-east-1")]
    assert set(objects(local_cluster, "serviceentries", namespace)) == {
        f"{namespace}/{n}" for n in entry_names(name, ["sqs", "kms"])
    }


def test_sidecars_follow_the_listed_namespaces(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "role-sidecar"), unique_name("sidecar")
    orders, billing = fresh_namespace(local_cluster, "role-orders"), fresh_namespace(local_cluster, "role-billing")
    run_role(local_cluster, egress(namespace, name, istio_aws_egress_sidecars=[orders, billing]), tmp_path).assert_ok()
    sidecars = objects(local_cluster, "sidecars", selector=f"{OURS},meshops.io/egress-set={name}")
    assert set(sidecars) == {f"{orders}/aws-{name}-egress", f"{billing}/aws-{name}-egress"}
    spec = sidecars[f"{orders}/aws-{name}-egress"]["spec"]
    assert spec["outboundTrafficPolicy"] == {"mode": "REGISTRY_ONLY"}
    # The namespace's own services, every in-mesh service, and of the AWS hosts exactly the declared ones.
    assert spec["egress"][0]["hosts"] == sorted(
        [
            "./*",
            "*/*.svc.cluster.local",
            f"{namespace}/imds.aws.internal",
            f"{namespace}/sns.us-east-1.amazonaws.com",
            f"{namespace}/sqs.us-east-1.amazonaws.com",
        ]
    )

    local_cluster.audit.mark()
    run_role(local_cluster, egress(namespace, name, istio_aws_egress_sidecars=[orders]), tmp_path).assert_ok()
    assert writes(local_cluster.audit) == [("delete", "sidecars", billing, f"aws-{name}-egress")]


def test_another_egress_set_is_never_touched(local_cluster, tmp_path):
    namespace, alpha, beta_name = fresh_namespace(local_cluster, "role-sets"), unique_name("alpha"), unique_name("beta")
    orders = fresh_namespace(local_cluster, "role-sets-orders")
    run_role(local_cluster, egress(namespace, beta_name, istio_aws_egress_sidecars=[orders]), tmp_path).assert_ok()
    beta = objects(local_cluster, "serviceentries", namespace, selector=f"meshops.io/egress-set={beta_name}")
    beta_sidecar = objects(local_cluster, "sidecars", orders)
    assert len(beta) == 3 and len(beta_sidecar) == 1

    # alpha declares other hosts: two sets declaring one host in a namespace are refused (test_mesh_safety).
    alone = {"istio_aws_egress_services": ["sts"], "istio_aws_egress_credential_sources": []}
    local_cluster.audit.mark()
    run_role(local_cluster, egress(namespace, alpha, **alone), tmp_path).assert_ok()
    run_role(
        local_cluster, egress(namespace, alpha, **{**alone, "istio_aws_egress_services": ["kms"]}), tmp_path
    ).assert_ok()
    run_role(local_cluster, egress(namespace, alpha, istio_aws_egress_state="absent"), tmp_path).assert_ok()
    touched = {write[3] for write in writes(local_cluster.audit)}
    assert touched and all(name.startswith(f"aws-{alpha}-") for name in touched)
    assert objects(local_cluster, "sidecars", orders) == beta_sidecar
    after = objects(local_cluster, "serviceentries", namespace)
    assert set(after) == set(beta)
    assert all(
        after[key]["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"] for key, obj in beta.items()
    )


def test_egress_gateway_mode(local_cluster, tmp_path):
    namespace, set_name = fresh_namespace(local_cluster, "role-gw"), unique_name("gw")
    gateway = egress_gateway(local_cluster, "role-gw-gateway")
    gateway_namespace, selector = gateway["namespace"], gateway["selector"]
    region = GATEWAY_REGIONS["role_apply"]
    variables = egress(
        namespace,
        set_name,
        istio_aws_egress_services=["sqs", "s3"],
        istio_aws_egress_mode="egress_gateway",
        istio_aws_egress_gateway=gateway,
        istio_aws_egress_regions=[region],
    )  # the service keeps its default
    with removed_after(local_cluster, tmp_path) as remove:
        remove(variables)
        first = run_role(local_cluster, variables, tmp_path).assert_ok()
        assert first.said(
            f"! not through the egress gateway (wildcard or link-local hosts): aws-{set_name}-credentials-imds,"
            f" aws-{set_name}-s3-aws-global-wildcard, aws-{set_name}-s3-{region}-wildcard"
        )

        name = f"aws-{set_name}-egress-gateway"
        gateway = objects(local_cluster, "gateways.networking.istio.io", namespace)[f"{namespace}/{name}"]["spec"]
        assert gateway["selector"] == selector
        assert (
            gateway["servers"][0]["tls"] == {"mode": "PASSTHROUGH"}
            and f"sqs.{region}.amazonaws.com" in gateway["servers"][0]["hosts"]
        )
        assert not any(host.startswith("*") for host in gateway["servers"][0]["hosts"])
        # With the gateway: a sidecar looks a host's DestinationRule up in its own namespace, then the host's.
        rule = objects(local_cluster, "destinationrules", gateway_namespace)[f"{gateway_namespace}/{name}"]["spec"]
        assert rule == {
            "host": f"istio-egressgateway.{gateway_namespace}.svc.cluster.local",
            "subsets": [{"name": f"aws-{set_name}"}],
            "exportTo": ["*"],
        }
        routes = objects(local_cluster, "virtualservices", namespace)[f"{namespace}/{name}"]["spec"]
        assert routes["gateways"] == ["mesh", name] and len(routes["tls"]) == 1 + len(gateway["servers"][0]["hosts"])
        policy = objects(local_cluster, "authorizationpolicies", gateway_namespace)[f"{gateway_namespace}/{name}"][
            "spec"
        ]
        assert policy["action"] == "ALLOW" and policy["selector"] == {"matchLabels": selector}
        assert policy["rules"] == [{"when": [{"key": "connection.sni", "values": gateway["servers"][0]["hosts"]}]}]

        rerun_writes_nothing(local_cluster, variables, tmp_path)

        # Back to sidecar mode: the routing through the gateway is pruned, the entries stay.
        local_cluster.audit.mark()
        run_role(local_cluster, {**variables, "istio_aws_egress_mode": "sidecar"}, tmp_path).assert_ok()
        assert sorted(writes(local_cluster.audit)) == sorted(
            [
                ("delete", "authorizationpolicies", gateway_namespace, name),
                ("delete", "destinationrules", gateway_namespace, name),
                ("delete", "gateways", namespace, name),
                ("delete", "virtualservices", namespace, name),
            ]
        )
