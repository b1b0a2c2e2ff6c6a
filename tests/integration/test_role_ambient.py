# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ambient mode and DYNAMIC_DNS wildcards, end to end on the local clusters: apply, rerun, check mode, switching modes,
the refusals, the RBAC, render mode and `istioctl analyze` of what was applied.

What a waypoint and a sidecar then do with these resources is proved in test_xds_ambient.py.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from conftest import LocalCluster
from hardening_helpers import HARDENING, scratch_clusters, user_kubeconfig
from role_helpers import (
    GATEWAY_REGIONS,
    egress_gateway,
    expect_failure,
    fresh_namespace,
    objects,
    refused,
    removed_after,
    rerun_writes_nothing,
    role_command,
    run,
    run_role,
    unique_name,
    writes,
)

pytestmark = pytest.mark.integration

# A region no other test routes through an egress gateway (switching modes routes it through one).
REGION = GATEWAY_REGIONS["role_ambient"]
WAYPOINT_LABEL = "istio.io/use-waypoint"
SET_KINDS = (
    "serviceentries.networking.istio.io",
    "gateways.networking.istio.io",
    "destinationrules.networking.istio.io",
    "virtualservices.networking.istio.io",
    "authorizationpolicies.security.istio.io",
    "sidecars.networking.istio.io",
    "gateways.gateway.networking.k8s.io",
)
RBAC_LABELS = "app.kubernetes.io/managed-by=meshops.aws_egress,app.kubernetes.io/component=rbac"


def ambient(namespace: str, name: str, callers: list[str], **overrides) -> dict:
    return {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_mode": "ambient",
        "istio_aws_egress_services": ["sqs", "s3"],
        "istio_aws_egress_regions": [REGION],
        "istio_aws_egress_credential_sources": ["imds"],
        "istio_aws_egress_caller_namespaces": callers,
        **overrides,
    }


def held(cluster, name: str) -> dict[tuple[str, str, str], dict]:
    """Every object of egress set `name`, by (resource, namespace, name), as the API server lists them."""
    listed = json.loads(
        cluster.kubectl(
            "get", ",".join(SET_KINDS), "--all-namespaces", "-o", "json", "-l", f"meshops.io/egress-set={name}"
        ).stdout
    )["items"]
    return {
        (f"{o['kind']}.{o['apiVersion'].split('/')[0]}", o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in listed
    }


def nothing_to_do(cluster, variables: dict, tmp_path) -> None:
    rerun_writes_nothing(cluster, variables, tmp_path)


def waypoint_pod(cluster, namespace: str, waypoint: str) -> None:
    """The pod istiod would deploy for a waypoint, as an object (no kubelet runs it): istioctl analyze looks for it."""
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "ServiceAccount",
                        "metadata": {"name": waypoint, "namespace": namespace},
                    },
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {
                            "name": f"{waypoint}-0",
                            "namespace": namespace,
                            "labels": {"gateway.networking.k8s.io/gateway-name": waypoint},
                        },
                        "spec": {
                            "serviceAccountName": waypoint,
                            "automountServiceAccountToken": False,
                            "containers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.30.0"}],
                        },
                    },
                ],
            }
        ),
    )


def test_ambient_mode_binds_the_hosts_to_a_waypoint_it_creates(local_cluster, istioctl, tmp_path):
    namespace, callers, name = (
        fresh_namespace(local_cluster, "amb"),
        fresh_namespace(local_cluster, "amb-callers"),
        unique_name("amb"),
    )
    local_cluster.kubectl("label", "namespace", callers, "istio.io/dataplane-mode=ambient")
    variables = ambient(namespace, name, [callers])
    first = run_role(local_cluster, variables, tmp_path).assert_ok()
    assert first.changed == 1

    waypoint = f"aws-{name}-waypoint"
    entries = {key.split("/")[1]: entry for key, entry in objects(local_cluster, "serviceentries", namespace).items()}
    bound = sorted(entry for entry, obj in entries.items() if obj["metadata"]["labels"].get(WAYPOINT_LABEL) == waypoint)
    assert bound == [f"aws-{name}-s3-{REGION}", f"aws-{name}-sqs-{REGION}"]
    # Credentials are on the node; wildcards keep resolution NONE (auto, in ambient mode), which gets them no address to route by.
    for direct in (f"aws-{name}-credentials-imds", f"aws-{name}-s3-{REGION}-wildcard"):
        assert WAYPOINT_LABEL not in entries[direct]["metadata"]["labels"]
    assert entries[f"aws-{name}-s3-{REGION}-wildcard"]["spec"]["resolution"] == "NONE"
    assert first.said(
        f"! not through the waypoint (wildcard or link-local hosts): aws-{name}-credentials-imds, "
        f"aws-{name}-s3-{REGION}-wildcard; wildcard hosts go through it with istio_aws_egress_wildcard_resolution: dynamic_dns"
    )

    gateway = objects(local_cluster, "gateways.gateway.networking.k8s.io", namespace)[f"{namespace}/{waypoint}"]
    assert gateway["metadata"]["labels"]["istio.io/waypoint-for"] == "service"
    assert gateway["spec"] == {
        "gatewayClassName": "istio-waypoint",
        "listeners": [
            {"name": "mesh", "port": 15008, "protocol": "HBONE", "allowedRoutes": {"namespaces": {"from": "Same"}}}
        ],
    }
    hosts = sorted(host for entry in bound for host in entries[entry]["spec"]["hosts"])
    policy = objects(local_cluster, "authorizationpolicies", namespace)[f"{namespace}/{waypoint}"]["spec"]
    assert policy == {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": waypoint}],
        "action": "ALLOW",
        "rules": [
            {"from": [{"source": {"namespaces": [callers]}}], "when": [{"key": "connection.sni", "values": hosts}]}
        ],
    }
    # The caller namespace is in ambient mode and bound to no waypoint: its egress elsewhere is open, and the plan says so.
    assert first.said(
        "! namespaces in ambient mode bound to no waypoint (istio.io/dataplane-mode=ambient, no istio.io/use-waypoint): "
    )
    assert callers in first.stdout

    nothing_to_do(local_cluster, variables, tmp_path)
    local_cluster.audit.mark()
    planned = run_role(
        local_cluster, {**variables, "istio_aws_egress_caller_namespaces": [callers, "billing"]}, tmp_path, check=True
    )
    assert planned.assert_ok().changed == 1
    assert planned.said(f"~ update AuthorizationPolicy {namespace}/{waypoint}")
    assert planned.said(
        "the waypoint's policy admits callers from namespaces that do not exist: billing (istioctl analyze IST0101)"
    )
    assert local_cluster.audit.writes() == []

    # Istio's own analysis of the live objects, with the pod istiod would run for the waypoint.
    waypoint_pod(local_cluster, namespace, waypoint)
    analyzed = subprocess.run(
        [
            istioctl,
            "analyze",
            f"--kubeconfig={local_cluster.kubeconfig}",
            f"--context={local_cluster.context}",
            "-n",
            namespace,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    output = analyzed.stdout + analyzed.stderr
    assert analyzed.returncode == 0, output
    assert not [line for line in output.splitlines() if line.startswith(("Error", "Warning"))], output


def test_switching_modes_prunes_what_the_other_mode_wrote(local_cluster, tmp_path):
    namespace, callers, name = (
        fresh_namespace(local_cluster, "amb-switch"),
        fresh_namespace(local_cluster, "amb-sw-callers"),
        unique_name("switch"),
    )
    gateway = egress_gateway(local_cluster, "amb-switch-gw")
    base = ambient(namespace, name, [callers], istio_aws_egress_gateway=gateway)
    waypoint, routing = f"aws-{name}-waypoint", f"aws-{name}-egress-gateway"
    entries = {
        f"aws-{name}-{part}" for part in (f"sqs-{REGION}", f"s3-{REGION}", f"s3-{REGION}-wildcard", "credentials-imds")
    }
    expected = {
        "sidecar": set(),
        "ambient": {
            ("Gateway.gateway.networking.k8s.io", namespace, waypoint),
            ("AuthorizationPolicy.security.istio.io", namespace, waypoint),
        },
        # The DestinationRule lives with the gateway, where every namespace's sidecars find its subset.
        "egress_gateway": {
            ("Gateway.networking.istio.io", namespace, routing),
            ("DestinationRule.networking.istio.io", gateway["namespace"], routing),
            ("VirtualService.networking.istio.io", namespace, routing),
            ("AuthorizationPolicy.security.istio.io", gateway["namespace"], routing),
        },
    }
    # auto: DYNAMIC_DNS for the wildcard on this cluster (Istio 1.30's CRDs), at the sidecars; NONE in ambient mode.
    wildcard_resolution = {"sidecar": "DYNAMIC_DNS", "egress_gateway": "DYNAMIC_DNS", "ambient": "NONE"}
    with removed_after(local_cluster, tmp_path) as remove:
        remove(base)
        for mode in ("sidecar", "ambient", "egress_gateway", "ambient", "sidecar"):
            variables = {**base, "istio_aws_egress_mode": mode}
            before = held(local_cluster, name)
            local_cluster.audit.mark()
            if before:
                planned = run_role(local_cluster, variables, tmp_path, check=True).assert_ok()
                assert planned.changed == 1 and local_cluster.audit.writes() == [], mode
                for gone in (
                    set(before)
                    - {("ServiceEntry.networking.istio.io", namespace, entry) for entry in entries}
                    - expected[mode]
                ):
                    assert planned.said(f"- prune {gone[0].split('.')[0]} {gone[1]}/{gone[2]}"), (mode, gone)
            local_cluster.audit.mark()
            assert run_role(local_cluster, variables, tmp_path).assert_ok().changed == 1, mode
            now = held(local_cluster, name)
            assert (
                set(now)
                == {("ServiceEntry.networking.istio.io", namespace, entry) for entry in entries} | expected[mode]
            ), mode
            pruned = {
                (verb, resource, ns, obj) for verb, resource, ns, obj in writes(local_cluster.audit) if verb == "delete"
            }
            assert {(key[1], key[2]) for key in set(before) - set(now)} == {
                (ns, obj) for _verb, _resource, ns, obj in pruned
            }, mode
            wildcard = now[("ServiceEntry.networking.istio.io", namespace, f"aws-{name}-s3-{REGION}-wildcard")]
            assert wildcard["spec"]["resolution"] == wildcard_resolution[mode], mode
            bound = {key[2] for key, obj in now.items() if obj["metadata"]["labels"].get(WAYPOINT_LABEL) == waypoint}
            assert bound == ({f"aws-{name}-sqs-{REGION}", f"aws-{name}-s3-{REGION}"} if mode == "ambient" else set()), (
                mode
            )
            nothing_to_do(local_cluster, variables, tmp_path)
    assert held(local_cluster, name) == {}


def existing_waypoint(cluster, namespace: str, allowed_from: str | None = None) -> None:
    listener = {
        "name": "mesh",
        "port": 15008,
        "protocol": "HBONE",
        **({"allowedRoutes": {"namespaces": {"from": allowed_from}}} if allowed_from else {}),
    }
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "Gateway",
                "metadata": {"name": "egress", "namespace": namespace},
                "spec": {"gatewayClassName": "istio-waypoint", "listeners": [listener]},
            }
        ),
    )


def test_an_existing_waypoint_must_be_there_reachable_and_not_cut_its_other_users(local_cluster, tmp_path):
    namespace, elsewhere, team = (
        fresh_namespace(local_cluster, f"amb-{part}") for part in ("entries", "waypoint", "team")
    )
    callers, name = fresh_namespace(local_cluster, "amb-ex-callers"), unique_name("existing")
    variables = ambient(
        namespace,
        name,
        [callers],
        istio_aws_egress_waypoint={"name": "egress", "namespace": elsewhere, "create": False},
    )
    refused(
        local_cluster,
        variables,
        tmp_path,
        f"the waypoint Gateway {elsewhere}/egress does not exist",
        f"create it first (istioctl waypoint apply -n {elsewhere} --name egress)",
    )

    existing_waypoint(local_cluster, elsewhere)
    refused(
        local_cluster,
        variables,
        tmp_path,
        f"the waypoint {elsewhere}/egress admits no routes from namespace {namespace}",
        "set allowedRoutes.namespaces.from: All",
    )

    # Another team's entry uses the waypoint too, and nothing else allows its traffic there.
    existing_waypoint(local_cluster, elsewhere, "All")
    local_cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": "ServiceEntry",
                "metadata": {
                    "name": "partner-api",
                    "namespace": team,
                    "labels": {WAYPOINT_LABEL: "egress", "istio.io/use-waypoint-namespace": elsewhere},
                },
                "spec": {
                    "hosts": ["api.partner.example"],
                    "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
                    "resolution": "DNS",
                    "location": "MESH_EXTERNAL",
                },
            }
        ),
    )
    refused(
        local_cluster,
        variables,
        tmp_path,
        f"the waypoint {elsewhere}/egress also serves ServiceEntry {team}/partner-api, and no other ALLOW policy covers it",
        "or accept it (istio_aws_egress_accept: [cut_shared_waypoint])",
    )

    accepted = run_role(
        local_cluster, {**variables, "istio_aws_egress_accept": ["cut_shared_waypoint"]}, tmp_path
    ).assert_ok()
    assert accepted.changed == 1 and accepted.said(
        f"! accepted (cut_shared_waypoint): the waypoint {elsewhere}/egress also serves"
    )
    entry = objects(local_cluster, "serviceentries", namespace)[f"{namespace}/aws-{name}-sqs-{REGION}"]
    assert {key: entry["metadata"]["labels"][key] for key in (WAYPOINT_LABEL, "istio.io/use-waypoint-namespace")} == {
        WAYPOINT_LABEL: "egress",
        "istio.io/use-waypoint-namespace": elsewhere,
    }
    policy = objects(local_cluster, "authorizationpolicies", elsewhere)[f"{elsewhere}/aws-{name}-waypoint"]["spec"]
    assert policy["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "egress"}]
    assert ("Gateway.gateway.networking.k8s.io", elsewhere, "egress") not in held(local_cluster, name)
    nothing_to_do(local_cluster, {**variables, "istio_aws_egress_accept": ["cut_shared_waypoint"]}, tmp_path)

    # Gone again: our entries and policy; the waypoint, not ours, stays.
    run_role(local_cluster, {**variables, "istio_aws_egress_state": "absent"}, tmp_path).assert_ok()
    assert held(local_cluster, name) == {}
    assert f"{elsewhere}/egress" in objects(local_cluster, "gateways.gateway.networking.k8s.io", elsewhere)


def test_ambient_mode_needs_its_caller_namespaces(local_cluster, tmp_path):
    namespace, name = fresh_namespace(local_cluster, "amb-input"), unique_name("input")
    local_cluster.audit.mark()
    expect_failure(
        local_cluster,
        ambient(namespace, name, []),
        tmp_path,
        "istio_aws_egress_caller_namespaces: ambient mode needs the namespaces whose workloads may call the declared hosts",
    )
    expect_failure(
        local_cluster,
        ambient(namespace, name, ["orders"], istio_aws_egress_waypoint={"create": False}),
        tmp_path,
        "istio_aws_egress_waypoint.name: name the existing waypoint to use (create: false)",
    )
    assert local_cluster.audit.writes() == []


def test_the_shipped_rbac_is_enough_for_ambient_mode(local_cluster, tmp_path):
    namespace, callers, name = (
        fresh_namespace(local_cluster, "amb-rbac"),
        fresh_namespace(local_cluster, "amb-rbac-callers"),
        unique_name("rbac"),
    )
    kubeconfig = user_kubeconfig(local_cluster, "operator", tmp_path / "operator.kubeconfig", context="operator")
    variables = {
        **ambient(namespace, name, [callers]),
        "istio_aws_egress_kubeconfig": str(kubeconfig),
        "istio_aws_egress_context": "operator",
    }
    admin = {
        **variables,
        "istio_aws_egress_kubeconfig": local_cluster.kubeconfig,
        "istio_aws_egress_context": local_cluster.context,
        "istio_aws_egress_rbac_subject": {"kind": "User", "name": "operator"},
    }
    try:
        run(role_command(admin, tmp_path, playbook=HARDENING / "rbac.yml")).assert_ok()
        # The waypoint (a Gateway API Gateway) and its policy beside the entries, the namespaces listed, wildcards resolved.
        assert run_role(None, variables, tmp_path).assert_ok().changed == 1
        assert run_role(None, {**variables, "istio_aws_egress_mode": "sidecar"}, tmp_path).assert_ok().changed == 1
        assert run_role(None, variables, tmp_path).assert_ok().changed == 1
        assert run_role(None, {**variables, "istio_aws_egress_state": "absent"}, tmp_path).assert_ok().changed == 1
    finally:
        local_cluster.kubectl("delete", "clusterrolebinding,clusterrole", "-l", RBAC_LABELS, check=False)
        local_cluster.kubectl("delete", "rolebinding", "-n", namespace, "-l", RBAC_LABELS, check=False)
    assert held(local_cluster, name) == {}


# --------------------------------------------------------------------------
# A cluster as Istio 1.27 leaves it: no Gateway API, no DYNAMIC_DNS


@pytest.fixture(scope="module")
def older_istio():
    """A cluster of its own with Istio's CRDs only, their ServiceEntry schema without DYNAMIC_DNS and no 1.30 CRD."""
    with scratch_clusters("older-istio", crds=["istio"]) as clusters:
        cluster: LocalCluster = clusters[0]
        crd = json.loads(cluster.kubectl("get", "crd", "serviceentries.networking.istio.io", "-o", "json").stdout)
        patch = [
            {
                "op": "replace",
                "path": f"/spec/versions/{index}/schema/openAPIV3Schema/properties/spec/properties/resolution/enum",
                "value": ["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"],
            }
            for index in range(len(crd["spec"]["versions"]))
        ]
        cluster.kubectl("patch", "crd", "serviceentries.networking.istio.io", "--type=json", "-p", json.dumps(patch))
        cluster.kubectl("delete", "crd", "trafficextensions.extensions.istio.io", "--wait=true", "--timeout=60s")
        yield cluster


def test_ambient_mode_without_the_gateway_api_is_refused(older_istio, tmp_path):
    cluster, name = older_istio, unique_name("nogwapi")
    namespace, callers = fresh_namespace(cluster, "amb-old"), fresh_namespace(cluster, "amb-old-callers")
    # The waypoint it would create is of a kind the cluster does not serve: refused as every such kind is.
    cluster.audit.mark()
    expect_failure(
        cluster,
        ambient(namespace, name, [callers]),
        tmp_path,
        f"{cluster.context}: it serves no Gateway (gateways.gateway.networking.k8s.io), which Gateway "
        f"{namespace}/aws-{name}-waypoint needs: install its CustomResourceDefinition gateways.gateway.networking.k8s.io "
        "(from the Gateway API's standard channel), then run again",
    )
    assert cluster.audit.writes() == []
    refused(
        cluster,
        ambient(namespace, name, [callers], istio_aws_egress_waypoint={"name": "egress", "create": False}),
        tmp_path,
        f"ambient mode's waypoint is a Gateway API Gateway, and {cluster.context} serves no gateways.gateway.networking.k8s.io: "
        "install the Gateway API's CRDs (standard channel), then run again",
    )


def test_wildcards_on_a_crd_without_dynamic_dns(older_istio, tmp_path):
    cluster, name = older_istio, unique_name("olddns")
    namespace = fresh_namespace(cluster, "dns-old")
    variables = {
        "istio_aws_egress_name": name,
        "istio_aws_egress_namespace": namespace,
        "istio_aws_egress_services": ["s3"],
        "istio_aws_egress_regions": [REGION],
    }
    refused(
        cluster,
        {**variables, "istio_aws_egress_wildcard_resolution": "dynamic_dns"},
        tmp_path,
        "the cluster's ServiceEntry CustomResourceDefinition does not accept resolution DYNAMIC_DNS (it accepts NONE, STATIC, DNS, "
        f"DNS_ROUND_ROBIN), which ServiceEntry {namespace}/aws-{name}-s3-{REGION}-wildcard has: set "
        "istio_aws_egress_wildcard_resolution to none or auto, or upgrade Istio",
    )

    # auto keeps NONE there, says why, and a cluster without the Gateway API is no obstacle outside ambient mode.
    applied = run_role(cluster, variables, tmp_path).assert_ok()
    assert applied.changed == 1
    assert applied.said(
        "! wildcard hosts keep resolution NONE (istio_aws_egress_wildcard_resolution: auto): its ServiceEntry CRD "
        "does not accept DYNAMIC_DNS (Istio before 1.28)"
    )
    wildcard = objects(cluster, "serviceentries", namespace)[f"{namespace}/aws-{name}-s3-{REGION}-wildcard"]
    assert wildcard["spec"]["resolution"] == "NONE"
    nothing_to_do(cluster, variables, tmp_path)
    gone = run_role(cluster, {**variables, "istio_aws_egress_state": "absent"}, tmp_path).assert_ok()
    assert gone.changed == 1 and objects(cluster, "serviceentries", namespace) == {}


# --------------------------------------------------------------------------
# Render mode


def test_ambient_mode_renders_files_valid_for_istioctl_and_the_api_server(target_cluster, istioctl, tmp_path):
    out = tmp_path / "rendered"
    namespace = fresh_namespace(target_cluster, "amb-render")
    variables = {
        **ambient(
            namespace,
            "render",
            ["orders"],
            istio_aws_egress_wildcard_resolution="dynamic_dns",
            istio_aws_egress_services=["sqs", "s3", "dynamodb"],
        ),
        "istio_aws_egress_render_dir": str(out),
        "istio_aws_egress_kubeconfig": str(tmp_path / "no-such-kubeconfig"),
        "istio_aws_egress_context": "nowhere",
    }
    assert run_role(None, variables, tmp_path).assert_ok().changed == 1
    files = {
        path.name: yaml.safe_load(path.read_text())
        for path in sorted(out.iterdir())
        if path.name != "kustomization.yaml"
    }
    assert f"gatewayapi-gateway-{namespace}-aws-render-waypoint.yaml" in files
    assert f"authorizationpolicy-{namespace}-aws-render-waypoint.yaml" in files
    wildcards = [
        doc for doc in files.values() if doc["kind"] == "ServiceEntry" and doc["spec"]["hosts"][0].startswith("*.")
    ]
    assert wildcards and all(
        doc["spec"]["resolution"] == "DYNAMIC_DNS"
        and doc["metadata"]["labels"][WAYPOINT_LABEL] == "aws-render-waypoint"
        for doc in wildcards
    )

    validate = subprocess.run([istioctl, "validate", "-f", str(out)], capture_output=True, text=True, check=False)
    assert validate.returncode == 0 and "has warnings" not in validate.stdout + validate.stderr, (
        validate.stdout + validate.stderr
    )
    analyze = subprocess.run(
        [istioctl, "analyze", "--use-kube=false", *(str(out / name) for name in files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert analyze.returncode == 0 and "No validation issues found" in analyze.stdout + analyze.stderr, (
        analyze.stdout + analyze.stderr
    )
    dry_run = target_cluster.kubectl("apply", "--server-side", "--dry-run=server", "-k", str(out), check=False)
    assert dry_run.returncode == 0, dry_run.stderr
    assert dry_run.stdout.count("serverside-applied (server dry run)") == len(files)

    # auto renders NONE: render mode asks no cluster.
    auto = run_role(None, {**variables, "istio_aws_egress_wildcard_resolution": "auto"}, tmp_path).assert_ok()
    assert auto.changed == 1
    assert all(
        yaml.safe_load((out / name).read_text())["spec"]["resolution"] == "NONE"
        for name, doc in files.items()
        if doc in wildcards
    )
