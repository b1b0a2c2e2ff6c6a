# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network policies and VPC endpoints against a real API server: apply, rerun, check, prune, and every refusal before a write.

The API server validates NetworkPolicies (built in) and CiliumNetworkPolicies
(Cilium's CRD schema); no CNI runs here, so what the policies mean is proved by
the unit tests (test_policies.py).
"""

from __future__ import annotations

import json

import pytest

from hardening_helpers import scratch_clusters
from role_helpers import (
    GATEWAY_REGIONS,
    OURS,
    egress_gateway,
    expect_failure,
    fresh_namespace,
    objects,
    removed_after,
    rerun_writes_nothing,
    run_role,
    unique_name,
    writes,
)

pytestmark = pytest.mark.integration

CILIUM_POLICIES = "ciliumnetworkpolicies.cilium.io"
KMS_VPCE = "vpce-0123456789abcdef0-abcd1234.kms.us-east-1.vpce.amazonaws.com"


def egress(namespace: str, name: str, **overrides) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs"],
        "istio_aws_egress_regions": ["us-east-1"],
        "istio_aws_egress_credential_sources": ["imds"],
        **overrides,
    }


def ours(cluster, kind: str, name: str) -> dict:
    return objects(cluster, kind, selector=f"{OURS},meshops.io/egress-set={name}")


def test_networkpolicies_apply_rerun_check_and_prune(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "netpol-entries"), unique_name("netpol")
    orders = fresh_namespace(local_cluster, "netpol-orders")
    # Someone's policy on some pods of the namespace: it adds up with ours, and the plan says so.
    local_cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "cart-egress", "namespace": orders},
                "spec": {"podSelector": {"matchLabels": {"app": "cart"}}, "policyTypes": ["Egress"], "egress": [{}]},
            }
        ),
    )
    declared = egress(namespace, name, istio_aws_egress_sidecars=[orders], istio_aws_egress_network_policy="kubernetes")

    local_cluster.audit.mark()
    first = run_role(local_cluster, declared, tmp_path).assert_ok()
    assert ("patch", "networkpolicies", orders, f"aws-{name}-egress") in writes(local_cluster.audit)
    policy = ours(local_cluster, "networkpolicies", name)[f"{orders}/aws-{name}-egress"]
    assert policy["spec"]["podSelector"] == {} and policy["spec"]["policyTypes"] == ["Egress"]
    assert {"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}], "ports": [{"protocol": "TCP", "port": 80}]} in policy[
        "spec"
    ]["egress"]
    assert {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
        "ports": [{"protocol": "TCP", "port": 443}],
    } in policy["spec"]["egress"]
    assert first.said(
        f"! egress of the pods of namespace {orders} is limited already by NetworkPolicy {orders}/cart-egress"
    )
    assert first.said("a NetworkPolicy cannot name hosts, so only the mesh limits which")

    rerun_writes_nothing(local_cluster, declared, tmp_path)

    off = {**declared, "istio_aws_egress_network_policy": "none"}
    local_cluster.audit.mark()
    check = run_role(local_cluster, off, tmp_path, check=True).assert_ok()
    assert writes(local_cluster.audit) == [] and check.changed == 1
    assert f"- prune NetworkPolicy {orders}/aws-{name}-egress" in check.stdout

    local_cluster.audit.mark()
    run_role(local_cluster, off, tmp_path).assert_ok()
    assert writes(local_cluster.audit) == [("delete", "networkpolicies", orders, f"aws-{name}-egress")]
    assert (
        objects(local_cluster, "networkpolicies", orders) != {} and ours(local_cluster, "networkpolicies", name) == {}
    )


def test_cilium_policies_in_gateway_mode_apply_rerun_check_and_prune(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "cnp-entries"), unique_name("cnp")
    orders = fresh_namespace(local_cluster, "cnp-orders")
    gateway = egress_gateway(local_cluster, "cnp-gateway")
    region = GATEWAY_REGIONS["role_network_policy"]
    declared = egress(
        namespace,
        name,
        istio_aws_egress_services=["sqs", "s3"],
        istio_aws_egress_sidecars=[orders],
        istio_aws_egress_mode="egress_gateway",
        istio_aws_egress_gateway=gateway,
        istio_aws_egress_regions=[region],
        istio_aws_egress_network_policy="cilium",
    )
    names = {f"{orders}/aws-{name}-egress", f"{gateway['namespace']}/aws-{name}-egress-gateway"}
    with removed_after(local_cluster, tmp_path) as remove:
        remove(declared)
        _cilium_in_gateway_mode(local_cluster, tmp_path, declared, name, orders, gateway, names)


def _cilium_in_gateway_mode(local_cluster, tmp_path, declared, name, orders, gateway, names):
    [region] = declared["istio_aws_egress_regions"]
    local_cluster.audit.mark()
    run_role(local_cluster, declared, tmp_path).assert_ok()
    assert {(w[0], w[1]) for w in writes(local_cluster.audit) if w[1] == "ciliumnetworkpolicies"} == {
        ("patch", "ciliumnetworkpolicies")
    }
    live = ours(local_cluster, CILIUM_POLICIES, name)
    assert set(live) == names
    at_gateway = live[f"{gateway['namespace']}/aws-{name}-egress-gateway"]["spec"]
    assert at_gateway["endpointSelector"] == {"matchLabels": {f"k8s:{k}": v for k, v in gateway["selector"].items()}}
    assert {"matchName": f"sqs.{region}.amazonaws.com"} in at_gateway["egress"][-1]["toFQDNs"]
    in_orders = live[f"{orders}/aws-{name}-egress"]["spec"]["egress"]
    # The wildcards stay direct, so the namespace names them itself, with Cilium's any-depth pattern.
    assert {"matchPattern": f"**.s3.{region}.amazonaws.com"} in in_orders[-1]["toFQDNs"]
    assert in_orders[0]["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}

    rerun_writes_nothing(local_cluster, declared, tmp_path)

    off = {**declared, "istio_aws_egress_network_policy": "none"}
    local_cluster.audit.mark()
    check = run_role(local_cluster, off, tmp_path, check=True).assert_ok()
    assert writes(local_cluster.audit) == []
    for key in names:
        assert f"- prune CiliumNetworkPolicy {key}" in check.stdout

    local_cluster.audit.mark()
    run_role(local_cluster, off, tmp_path).assert_ok()
    assert sorted(writes(local_cluster.audit)) == sorted(
        ("delete", "ciliumnetworkpolicies", *key.split("/")) for key in names
    )


def test_switching_kind_replaces_the_policy(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "switch-entries"), unique_name("switch")
    orders = fresh_namespace(local_cluster, "switch-orders")
    declared = egress(namespace, name, istio_aws_egress_sidecars=[orders], istio_aws_egress_network_policy="kubernetes")
    run_role(local_cluster, declared, tmp_path).assert_ok()
    local_cluster.audit.mark()
    run_role(local_cluster, {**declared, "istio_aws_egress_network_policy": "cilium"}, tmp_path).assert_ok()
    assert sorted(writes(local_cluster.audit)) == [
        ("delete", "networkpolicies", orders, f"aws-{name}-egress"),
        ("patch", "ciliumnetworkpolicies", orders, f"aws-{name}-egress"),
    ]


def test_a_policy_that_would_cut_what_the_mesh_reaches_is_refused_before_any_write(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "cut-entries"), unique_name("cut")
    orders, data = fresh_namespace(local_cluster, "cut-orders"), fresh_namespace(local_cluster, "cut-data")
    local_cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": "ServiceEntry",
                "metadata": {"name": "orders-db", "namespace": data},
                "spec": {
                    "hosts": ["db.partner.example"],
                    "ports": [{"number": 5432, "name": "tcp", "protocol": "TCP"}],
                    "location": "MESH_EXTERNAL",
                    "resolution": "DNS",
                },
            }
        ),
    )
    declared = egress(
        namespace,
        name,
        istio_aws_egress_sidecars=[orders],
        istio_aws_egress_network_policy="kubernetes",
        istio_aws_egress_sidecar_hosts=["*/*.svc.cluster.local", f"{data}/*"],
    )
    try:
        _cut_refused_then_opened_or_accepted(local_cluster, tmp_path, declared, name, orders, data)
    finally:
        local_cluster.kubectl("delete", "serviceentries", "orders-db", "-n", data)


def _cut_refused_then_opened_or_accepted(local_cluster, tmp_path, declared, name, orders, data):
    local_cluster.audit.mark()
    expect_failure(
        local_cluster,
        declared,
        tmp_path,
        f"NetworkPolicy {orders}/aws-{name}-egress would be the first egress policy on the pods of namespace {orders} "
        f"and cut what the mesh lets them reach today: db.partner.example:5432 (ServiceEntry {data}/orders-db",
        "allow it with a rule in istio_aws_egress_network_policy_egress",
        "istio_aws_egress_accept: [network_policy_cut]",
    )
    assert writes(local_cluster.audit) == []

    # A rule of the user's opening the database's port lets it through (planned in check mode: nothing written)...
    opened = {
        **declared,
        "istio_aws_egress_network_policy_egress": [
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 5432}]}
        ],
    }
    local_cluster.audit.mark()
    planned = run_role(local_cluster, opened, tmp_path, check=True).assert_ok()
    assert f"+ create NetworkPolicy {orders}/aws-{name}-egress" in planned.stdout
    assert writes(local_cluster.audit) == []
    # ...and so does accepting the cut.
    accepted = run_role(
        local_cluster, {**declared, "istio_aws_egress_accept": ["network_policy_cut"]}, tmp_path
    ).assert_ok()
    assert accepted.said(
        f"! accepted (network_policy_cut): NetworkPolicy {orders}/aws-{name}-egress would be the first egress policy"
    )
    assert f"{orders}/aws-{name}-egress" in ours(local_cluster, "networkpolicies", name)


@pytest.fixture(scope="module")
def istio_only():
    """A cluster of its own with Istio's CRDs and not Cilium's."""
    with scratch_clusters("no-cilium", crds=["istio"]) as clusters:
        yield clusters[0]


def test_cilium_on_a_cluster_without_cilium_is_refused_before_any_write(istio_only, tmp_path):
    cluster = istio_only
    namespace, name = fresh_namespace(cluster, "no-cilium"), unique_name("nocilium")
    orders = fresh_namespace(cluster, "no-cilium-orders")
    declared = egress(namespace, name, istio_aws_egress_sidecars=[orders], istio_aws_egress_network_policy="cilium")
    cluster.audit.mark()
    expect_failure(
        cluster,
        declared,
        tmp_path,
        f"Cilium is not installed on {cluster.context}: it serves no CiliumNetworkPolicy (ciliumnetworkpolicies.cilium.io), "
        f"which CiliumNetworkPolicy {orders}/aws-{name}-egress needs: install Cilium (its CustomResourceDefinition "
        f"ciliumnetworkpolicies.cilium.io), or set istio_aws_egress_network_policy: kubernetes (or none), then run again",
    )
    assert writes(cluster.audit) == []
    # The NetworkPolicy needs nothing installed; and a teardown there says what cannot be there.
    run_role(cluster, {**declared, "istio_aws_egress_network_policy": "kubernetes"}, tmp_path).assert_ok()
    gone = run_role(cluster, {**declared, "istio_aws_egress_state": "absent"}, tmp_path).assert_ok()
    # The cluster has Istio's CRDs only: the waypoint's Gateway API kind is not served either.
    assert gone.said(
        f"! {cluster.context} serves no CiliumNetworkPolicy (ciliumnetworkpolicies.cilium.io), "
        f"Gateway (gateways.gateway.networking.k8s.io): none of egress set {name} can be there"
    )
    assert objects(cluster, "networkpolicies", orders) == {}


def test_vpc_endpoints_choose_the_hosts_and_a_private_cluster_hears_what_has_no_way_out(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "vpce"), unique_name("vpce")
    declared = egress(
        namespace,
        name,
        istio_aws_egress_services=["sqs", "kms", "sns"],
        istio_aws_egress_credential_sources=[],
        istio_aws_egress_internet_path=False,
        istio_aws_egress_vpc_endpoints=[
            {"service": "sqs"},
            {"service": "kms", "private_dns": False, "dns_names": [KMS_VPCE]},
        ],
    )
    run = run_role(local_cluster, declared, tmp_path).assert_ok()
    entries = objects(local_cluster, "serviceentries", namespace)
    assert entries[f"{namespace}/aws-{name}-kms-us-east-1"]["spec"]["hosts"] == [KMS_VPCE]
    assert entries[f"{namespace}/aws-{name}-sqs-us-east-1"]["spec"]["hosts"] == ["sqs.us-east-1.amazonaws.com"]
    # A warning, on stderr.
    assert (
        f"the SDK calls them only when told to: endpoint_url='https://{KMS_VPCE}' or the environment variable "
        f"AWS_ENDPOINT_URL_KMS"
    ) in " ".join(run.stderr.split())
    assert run.said(
        f"! this cluster has no internet path (istio_aws_egress_internet_path: false), and no VPC endpoint carries "
        f"aws-{name}-sns-us-east-1 (sns.us-east-1.amazonaws.com): workloads cannot reach those hosts"
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"istio_aws_egress_vpc_endpoints": [{"service": "sqs", "type": "gateway"}]},
            "istio_aws_egress_vpc_endpoints[0].type: AWS has gateway endpoints for dynamodb and s3 only, not 'sqs'",
        ),
        (
            {"istio_aws_egress_vpc_endpoints": [{"service": "sqs", "region": "us-east-9"}]},
            "istio_aws_egress_vpc_endpoints[0].region: 'us-east-9' looks like a region of partition 'aws' but botocore does not list it",
        ),
        (
            {"istio_aws_egress_vpc_endpoints": [{"service": "sqs"}, {"service": "sqs", "type": "interface"}]},
            "istio_aws_egress_vpc_endpoints[1]: a second VPC endpoint for sqs in us-east-1",
        ),
        (
            {"istio_aws_egress_network_policy_dns": {"namespace": "kube-system"}},
            "istio_aws_egress_network_policy_dns.selector: expected the pods' labels",
        ),
    ],
)
def test_bad_input_is_refused_before_any_request(local_cluster, tmp_path, overrides, message):
    namespace, name = fresh_namespace(local_cluster, "bad-input"), unique_name("bad")
    local_cluster.audit.mark()
    expect_failure(
        local_cluster,
        egress(
            namespace,
            name,
            istio_aws_egress_network_policy="kubernetes",
            istio_aws_egress_sidecars=[namespace],
            **overrides,
        ),
        tmp_path,
        message,
    )
    assert writes(local_cluster.audit) == []
