# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Never leave a mesh worse than we found it: what would cut traffic, sit beside another owner's object with undefined
effect, or land on a cluster nobody named is refused before the first write, naming the object and the fix.

Every refusal is checked against the API server's audit log: not one write (not even an access review or the lease).
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import partitions
from conftest import ROOT, run_playbook
from hardening_helpers import labelled, scratch_clusters, wait_for
from role_helpers import (
    GATEWAY_REGIONS,
    egress_gateway,
    egress_gateway_service,
    expect_failure,
    fresh_namespace,
    objects,
    refused,
    removed_after,
    rerun_writes_nothing,
    run_role,
    unique_name,
    writes,
)

pytestmark = pytest.mark.integration


def egress(namespace: str, name: str, **overrides) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["sqs"],
        "istio_aws_egress_regions": ["us-east-1"],
        **overrides,
    }


def apply_manifest(cluster, manifest: dict) -> None:
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))


def team_sidecar(namespace: str, name: str = "default", **spec) -> dict:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Sidecar",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"egress": [{"hosts": ["./*", "istio-system/*"]}], **spec},
    }


def test_a_namespace_with_another_teams_sidecar_is_refused(local_cluster, tmp_path):
    namespace, orders, name = (
        fresh_namespace(local_cluster, "safe-sc"),
        fresh_namespace(local_cluster, "safe-orders"),
        unique_name("sc"),
    )
    apply_manifest(local_cluster, team_sidecar(orders))
    refused(
        local_cluster,
        egress(namespace, name, istio_aws_egress_sidecars=[orders]),
        tmp_path,
        f"namespace {orders} already has Sidecar {orders}/default without a workload selector (not managed by meshops.aws_egress)",
        "IST0111",
        f"stop listing {orders} among the Sidecar namespaces of this egress set",
    )
    # A Sidecar with a workload selector applies to its workloads only, and may stay beside ours.
    local_cluster.kubectl("delete", "sidecar", "default", "-n", orders)
    apply_manifest(local_cluster, team_sidecar(orders, "canary", workloadSelector={"labels": {"app": "canary"}}))
    run_role(local_cluster, egress(namespace, name, istio_aws_egress_sidecars=[orders]), tmp_path).assert_ok()


def test_two_egress_sets_never_share_a_sidecar_namespace(local_cluster, tmp_path):
    orders = fresh_namespace(local_cluster, "safe-shared")
    first, second = unique_name("first"), unique_name("second")
    run_role(
        local_cluster,
        egress(fresh_namespace(local_cluster, "safe-first"), first, istio_aws_egress_sidecars=[orders]),
        tmp_path,
    ).assert_ok()
    refused(
        local_cluster,
        egress(
            fresh_namespace(local_cluster, "safe-second"),
            second,
            istio_aws_egress_services=["sns"],
            istio_aws_egress_sidecars=[orders],
        ),
        tmp_path,
        f"namespace {orders} already has Sidecar {orders}/aws-{first}-egress without a workload selector (of egress set '{first}')",
    )


def test_a_host_another_egress_set_of_the_namespace_declares_is_refused(local_cluster, tmp_path):
    namespace, first, second = fresh_namespace(local_cluster, "safe-hosts"), unique_name("first"), unique_name("second")
    run_role(local_cluster, egress(namespace, first, istio_aws_egress_services=["sqs", "sns"]), tmp_path).assert_ok()
    refused(
        local_cluster,
        egress(namespace, second, istio_aws_egress_services=["kms", "sns"]),
        tmp_path,
        f"ServiceEntry {namespace}/aws-{first}-sns-us-east-1 (of egress set '{first}') already declares sns.us-east-1.amazonaws.com",
        "declare each host in one egress set only, or put the egress sets in different namespaces",
    )
    # In another namespace the same host is another ServiceEntry, which Istio keeps apart.
    run_role(
        local_cluster,
        egress(fresh_namespace(local_cluster, "safe-hosts-2"), second, istio_aws_egress_services=["kms", "sns"]),
        tmp_path,
    ).assert_ok()


def test_each_gateway_test_routes_a_region_of_its_own():
    regions = list(GATEWAY_REGIONS.values())
    assert len(set(regions)) == len(regions), GATEWAY_REGIONS
    assert set(regions) <= set(partitions.all_regions())


def test_removed_after_fails_on_a_failed_removal_and_never_hides_the_tests_own_error(tmp_path):
    # A kubeconfig that is not there: the removal fails before reaching any cluster.
    unremovable = {
        **egress("safe-removed", "removed"),
        "istio_aws_egress_kubeconfig": str(tmp_path / "no-such-kubeconfig"),
    }
    failed_removal = "removing egress set removed after the test failed"
    with pytest.raises(AssertionError, match=failed_removal):
        with removed_after(None, tmp_path) as remove:
            remove(unremovable)
    with pytest.raises(LookupError) as raised:
        with removed_after(None, tmp_path) as remove:
            remove(unremovable)
            raise LookupError("the test's own failure")
    assert raised.value.args == ("the test's own failure",)
    assert len(raised.value.__notes__) == 1 and failed_removal in raised.value.__notes__[0]


def test_a_host_another_egress_set_routes_through_a_gateway_is_refused(local_cluster, tmp_path):
    gateway = egress_gateway(local_cluster, "safe-routes-gw")
    first, second = unique_name("first"), unique_name("second")
    region = GATEWAY_REGIONS["mesh_safety.routes"]
    routed = {
        "istio_aws_egress_mode": "egress_gateway",
        "istio_aws_egress_gateway": gateway,
        "istio_aws_egress_regions": [region],
    }
    first_namespace = fresh_namespace(local_cluster, "safe-routes")
    with removed_after(local_cluster, tmp_path) as remove:
        remove(first_set := egress(first_namespace, first, istio_aws_egress_services=["sqs", "sns"], **routed))
        run_role(local_cluster, first_set, tmp_path).assert_ok()
        refused(
            local_cluster,
            egress(
                fresh_namespace(local_cluster, "safe-routes-2"), second, istio_aws_egress_services=["sns"], **routed
            ),
            tmp_path,
            f"VirtualService {first_namespace}/aws-{first}-egress-gateway (of egress set '{first}') already routes "
            f"sns.{region}.amazonaws.com for the mesh",
            "IST0109",
            "route each host through one egress set only",
        )


def test_egress_gateway_mode_needs_the_gateway_service_unless_accepted(local_cluster, tmp_path):
    namespace, gateway, name = (
        fresh_namespace(local_cluster, "safe-gw"),
        fresh_namespace(local_cluster, "safe-gw-gw"),
        unique_name("gw"),
    )
    selector = {"istio": f"egressgateway-{gateway}"}  # this test's gateway pods alone (role_helpers.egress_gateway)
    variables = egress(
        namespace,
        name,
        istio_aws_egress_mode="egress_gateway",
        istio_aws_egress_regions=[GATEWAY_REGIONS["mesh_safety.gateway_service"]],
        istio_aws_egress_gateway={"namespace": gateway, "selector": selector},
    )
    refused(
        local_cluster,
        variables,
        tmp_path,
        f"the egress gateway's Service {gateway}/istio-egressgateway does not exist, so every host routed to the gateway would be black-holed",
        "or accept it (istio_aws_egress_accept: [missing_gateway])",
    )
    egress_gateway_service(local_cluster, gateway, selector, ports=(80,))
    refused(local_cluster, variables, tmp_path, f"Service {gateway}/istio-egressgateway has no port 443 (it has [80])")

    # Staged knowingly before the gateway is ready: written, and the plan says what it accepted.
    with removed_after(local_cluster, tmp_path) as remove:
        remove(variables)
        staged = run_role(
            local_cluster, {**variables, "istio_aws_egress_accept": ["missing_gateway"]}, tmp_path
        ).assert_ok()
        assert staged.changed == 1 and staged.said(
            f"! accepted (missing_gateway): the egress gateway's Service {gateway}/istio-egressgateway has no port 443"
        )
        egress_gateway_service(local_cluster, gateway, selector)
        rerun_writes_nothing(local_cluster, variables, tmp_path)


def test_an_allow_policy_on_a_shared_gateway_is_refused_until_other_traffic_has_its_own(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "safe-share"), unique_name("share")
    gateway = egress_gateway(local_cluster, "safe-share-gw")
    # Another team's Gateway on the same gateway pods, with no ALLOW policy.
    apply_manifest(
        local_cluster,
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "partner-api", "namespace": gateway["namespace"]},
            "spec": {
                "selector": gateway["selector"],
                "servers": [
                    {
                        "port": {"number": 443, "name": "tls", "protocol": "TLS"},
                        "hosts": ["api.partner.example"],
                        "tls": {"mode": "PASSTHROUGH"},
                    }
                ],
            },
        },
    )
    variables = egress(
        namespace,
        name,
        istio_aws_egress_mode="egress_gateway",
        istio_aws_egress_gateway=gateway,
        istio_aws_egress_regions=[GATEWAY_REGIONS["mesh_safety.shared_gateway"]],
    )
    refused(
        local_cluster,
        variables,
        tmp_path,
        f"the egress gateway also serves Gateway {gateway['namespace']}/partner-api, and no other ALLOW policy covers it: "
        "our ALLOW policy would deny their traffic",
        "add an ALLOW AuthorizationPolicy for that traffic first, or accept it (istio_aws_egress_accept: [cut_shared_gateway])",
    )

    # Once that traffic has an ALLOW policy of its own, ours only adds the declared hosts.
    apply_manifest(
        local_cluster,
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "metadata": {"name": "partner-api", "namespace": gateway["namespace"]},
            "spec": {
                "selector": {"matchLabels": gateway["selector"]},
                "action": "ALLOW",
                "rules": [{"when": [{"key": "connection.sni", "values": ["api.partner.example"]}]}],
            },
        },
    )
    with removed_after(local_cluster, tmp_path) as remove:
        remove(variables)
        shared = run_role(local_cluster, variables, tmp_path).assert_ok()
        assert shared.said(
            f"! the egress gateway also serves Gateway {gateway['namespace']}/partner-api; ALLOW policies already limit it "
            f"(AuthorizationPolicy {gateway['namespace']}/partner-api), and ours only adds the declared hosts"
        )


def test_a_sidecar_namespace_that_does_not_exist_fails_the_plan_in_check_mode_too(local_cluster, tmp_path):
    namespace, name, missing = (
        fresh_namespace(local_cluster, "safe-nons"),
        unique_name("nons"),
        f"nowhere-{unique_name('ns')}",
    )
    variables = egress(namespace, name, istio_aws_egress_sidecars=[missing])
    for check in (True, False):
        local_cluster.audit.mark()
        failed = run_role(local_cluster, variables, tmp_path, check=check)
        assert failed.returncode != 0
        assert failed.said(
            f"namespace {missing} does not exist (Sidecar {missing}/aws-{name}-egress would go there): create it first"
        )
        assert local_cluster.audit.writes() == []


def test_a_namespace_move_prunes_the_old_entries(local_cluster, tmp_path):
    old, new, name = (
        fresh_namespace(local_cluster, "safe-old"),
        fresh_namespace(local_cluster, "safe-new"),
        unique_name("move"),
    )
    run_role(local_cluster, egress(old, name), tmp_path).assert_ok()
    local_cluster.audit.mark()
    moved = run_role(local_cluster, egress(new, name), tmp_path).assert_ok()
    assert moved.said(f"- prune ServiceEntry {old}/aws-{name}-sqs-us-east-1")
    assert sorted(writes(local_cluster.audit)) == [
        ("delete", "serviceentries", old, f"aws-{name}-sqs-us-east-1"),
        ("patch", "serviceentries", new, f"aws-{name}-sqs-us-east-1"),
    ]
    assert labelled(local_cluster, "serviceentries", old, name) == []


def test_without_a_context_a_kubeconfig_of_several_clusters_is_refused(local_cluster, tmp_path):
    variables = {
        **egress(fresh_namespace(local_cluster, "safe-ctx"), unique_name("ctx")),
        "istio_aws_egress_kubeconfig": local_cluster.kubeconfig,
    }
    local_cluster.audit.mark()
    expect_failure(
        None,
        variables,
        tmp_path,
        "istio_aws_egress_context is not set, and",
        " contexts (local-a, ",
        "set istio_aws_egress_context to the cluster to work on; nothing was read or written",
    )
    assert local_cluster.audit.writes() == []


def inventory(tmp_path, hosts: dict, name: str = "inventory") -> str:
    path = tmp_path / name
    (path / "group_vars").mkdir(parents=True)
    (path / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "clusters": {
                    "hosts": hosts,
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    },
                }
            }
        )
    )
    return str(path)


@pytest.mark.parametrize("playbook", ["site.yml", "plan.yml", "verify.yml", "teardown.yml"])
def test_the_playbooks_refuse_a_host_that_names_no_cluster(local_cluster, tmp_path, playbook):
    namespace, name = fresh_namespace(local_cluster, "safe-inv"), unique_name("inv")
    # What measured two "clusters" landing in one: hosts without a context, the kubeconfig's current one applies.
    hosts = inventory(tmp_path, {"cluster-1": {}, "cluster-2": {}})
    variables = {
        **egress(namespace, name),
        "istio_aws_egress_kubeconfig": local_cluster.kubeconfig,
        "teardown_confirm": name,
    }
    local_cluster.audit.mark()
    result = run_playbook(ROOT / "playbooks" / playbook, "-i", hosts, extra_vars=variables)
    assert result.returncode != 0
    flat = " ".join(result.stdout.split())
    assert (
        "cluster-1 names no kube context (istio_aws_egress_context;" in flat and "nothing was read or written" in flat
    )
    assert local_cluster.audit.writes() == []


def test_two_hosts_naming_one_cluster_are_refused(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "safe-twice"), unique_name("twice")
    hosts = inventory(
        tmp_path,
        {
            "east": {"istio_aws_egress_context": local_cluster.context},
            "also-east": {"istio_aws_egress_context": local_cluster.context},
        },
    )
    local_cluster.audit.mark()
    result = run_playbook(
        ROOT / "playbooks" / "site.yml",
        "-i",
        hosts,
        extra_vars={**egress(namespace, name), "istio_aws_egress_kubeconfig": local_cluster.kubeconfig},
    )
    assert result.returncode != 0
    assert "two hosts reach the same cluster, so its rollout would run twice at once" in " ".join(result.stdout.split())
    assert local_cluster.audit.writes() == []


def test_an_apply_the_api_server_refuses_names_the_object_and_promises_nothing(local_cluster, tmp_path):
    """An admission policy (a ValidatingAdmissionPolicy, evaluated by the API server itself) refuses one entry."""
    namespace, name = fresh_namespace(local_cluster, "safe-vap"), unique_name("vap")
    policy = f"no-kms-{name}"
    local_cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "admissionregistration.k8s.io/v1",
                        "kind": "ValidatingAdmissionPolicy",
                        "metadata": {"name": policy},
                        "spec": {
                            "failurePolicy": "Fail",
                            "matchConstraints": {
                                "resourceRules": [
                                    {
                                        "apiGroups": ["networking.istio.io"],
                                        "apiVersions": ["*"],
                                        "operations": ["CREATE", "UPDATE"],
                                        "resources": ["serviceentries"],
                                    }
                                ]
                            },
                            "validations": [
                                {
                                    "expression": "!object.spec.hosts.exists(h, h.startsWith('kms.'))",
                                    "message": "KMS is reached through the platform team's proxy",
                                }
                            ],
                        },
                    },
                    {
                        "apiVersion": "admissionregistration.k8s.io/v1",
                        "kind": "ValidatingAdmissionPolicyBinding",
                        "metadata": {"name": policy},
                        "spec": {
                            "policyName": policy,
                            "validationActions": ["Deny"],
                            "matchResources": {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
                            },
                        },
                    },
                ],
            }
        ),
    )
    probe = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": "probe", "namespace": namespace},
        "spec": {
            "hosts": ["kms.example.com"],
            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            "resolution": "DNS",
        },
    }
    try:
        # The API server enforces a new policy a moment after it is created: wait until it refuses a dry run.
        wait_for(
            lambda: (
                local_cluster.kubectl(
                    "apply", "--dry-run=server", "-f", "-", input=json.dumps(probe), check=False
                ).returncode
                != 0
            ),
            timeout=30,
            interval=0.2,
            what="the admission policy's first refusal",
        )
        local_cluster.audit.mark()
        failed = run_role(local_cluster, egress(namespace, name, istio_aws_egress_services=["kms"]), tmp_path)
        assert failed.returncode != 0, failed.stdout
        assert failed.said(
            f"applying 1 resources to {local_cluster.context} failed at ServiceEntry {namespace}/aws-{name}-kms-us-east-1:"
        )
        assert failed.said("KMS is reached through the platform team's proxy")
        assert "a rerun plans from what is there and converges" not in " ".join(failed.stdout.split())
    finally:
        local_cluster.kubectl(
            "delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", policy, check=False
        )


@pytest.fixture(scope="module")
def partial_istio():
    """A cluster of its own whose AuthorizationPolicy CRD goes away after the egress set is written."""
    with scratch_clusters("partial") as clusters:
        yield clusters[0]


def test_teardown_with_a_crd_missing_removes_the_rest_and_names_the_kind(partial_istio, tmp_path):
    cluster = partial_istio
    namespace, name = fresh_namespace(cluster, "safe-teardown"), unique_name("down")
    egress_gateway_service(cluster, "istio-system")
    declared = {
        **egress(namespace, name, istio_aws_egress_mode="egress_gateway", istio_aws_egress_sidecars=[namespace]),
        "istio_aws_egress_kubeconfig": cluster.kubeconfig,
        "istio_aws_egress_context": cluster.context,
    }
    run_role(None, declared, tmp_path).assert_ok()
    cluster.kubectl("delete", "crd", "authorizationpolicies.security.istio.io", "--wait=true", "--timeout=60s")
    cluster.audit.mark()
    gone = run_role(None, {**declared, "istio_aws_egress_state": "absent"}, tmp_path).assert_ok()
    assert gone.said(f"{cluster.context} serves no AuthorizationPolicy: none of egress set {name} can be there")
    deleted = {(w[1], w[3]) for w in writes(cluster.audit)}
    assert deleted == {
        ("serviceentries", f"aws-{name}-sqs-us-east-1"),
        ("gateways", f"aws-{name}-egress-gateway"),
        ("destinationrules", f"aws-{name}-egress-gateway"),
        ("virtualservices", f"aws-{name}-egress-gateway"),
        ("sidecars", f"aws-{name}-egress"),
    }
    for kind in ("serviceentries", "gateways.networking.istio.io", "destinationrules", "virtualservices", "sidecars"):
        assert objects(cluster, kind, selector=f"meshops.io/egress-set={name}") == {}


def test_istioctl_analyze_finds_nothing_about_what_the_role_wrote(local_cluster, istioctl, tmp_path):
    namespace, orders = (fresh_namespace(local_cluster, f"safe-analyze-{part}") for part in ("entries", "orders"))
    gateway = egress_gateway(local_cluster, "safe-analyze-gw")
    name = unique_name("analyze")
    declared = egress(
        namespace,
        name,
        istio_aws_egress_mode="egress_gateway",
        istio_aws_egress_sidecars=[orders],
        istio_aws_egress_gateway=gateway,
        istio_aws_egress_regions=[GATEWAY_REGIONS["mesh_safety.analyze"]],
        istio_aws_egress_services=["sqs", {"name": "s3", "buckets": ["orders-archive"]}, "dynamodb"],
        istio_aws_egress_credential_sources=["irsa", "imds"],
    )
    with removed_after(local_cluster, tmp_path) as remove:
        remove(declared)
        run_role(local_cluster, declared, tmp_path).assert_ok()
        messages = analyze(local_cluster, istioctl, namespace, orders, gateway["namespace"])
        assert [m for m in messages if m["code"] != "IST0102"] == []  # IST0102: namespaces not labelled for injection


def analyze(cluster, istioctl: str, *namespaces: str) -> list[dict]:
    """istioctl analyze of the live cluster, the messages about `namespaces`."""
    result = subprocess.run(
        [istioctl, "analyze", f"--kubeconfig={cluster.kubeconfig}", f"--context={cluster.context}", "-A", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip(), result.stderr
    return [
        m for m in json.loads(result.stdout) if any(about(m.get("origin", ""), namespace) for namespace in namespaces)
    ]


def about(origin: str, namespace: str) -> bool:
    """Whether an analyzer message's origin ("ServiceEntry ns/name", "Namespace ns") is in `namespace`."""
    return f" {namespace}/" in origin or origin.endswith(f" {namespace}")
