# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The foundation every other test stands on: a real API server with Istio's CRDs (and the Gateway
API's and Cilium's)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys

from pathlib import Path

import pytest
import yaml

from conftest import ROOT, localcluster

pytestmark = pytest.mark.integration

VALID_ENTRY = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "ServiceEntry",
    "metadata": {"name": "foundation-valid", "namespace": "istio-system"},
    "spec": {
        "hosts": ["dynamodb.us-east-1.amazonaws.com"],
        "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
        "resolution": "DNS",
        "location": "MESH_EXTERNAL",
    },
}

LINK_LOCAL_ENTRY = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "ServiceEntry",
    "metadata": {"name": "foundation-imds", "namespace": "istio-system"},
    "spec": {
        "hosts": ["imds.aws.internal"],
        "addresses": ["169.254.169.254"],
        "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
        "resolution": "STATIC",
        "location": "MESH_EXTERNAL",
        "endpoints": [{"address": "169.254.169.254"}],
    },
}


def _with(entry: dict, name: str, **spec) -> dict:
    return {**entry, "metadata": {**entry["metadata"], "name": name}, "spec": {**entry["spec"], **spec}}


def _apply(cluster, manifest: dict, *extra: str) -> subprocess.CompletedProcess:
    return cluster.kubectl("apply", *extra, "-f", "-", input=json.dumps(manifest), check=False)


def test_cluster_is_ready_with_istio_crds(target_cluster):
    assert target_cluster.kubectl("get", "--raw", "/readyz").stdout == "ok"
    crds = json.loads(target_cluster.kubectl("get", "crd", "-o", "json").stdout)["items"]
    istio = {c["metadata"]["name"]: c for c in crds if c["spec"]["group"].endswith("istio.io")}
    assert "serviceentries.networking.istio.io" in istio
    assert len(istio) >= 15
    for crd in istio.values():
        established = [c for c in crd["status"]["conditions"] if c["type"] == "Established"]
        assert established and established[0]["status"] == "True", crd["metadata"]["name"]
    assert target_cluster.kubectl("get", "namespace", "istio-system", "-o", "name").stdout.strip() == \
        "namespace/istio-system"


def test_version_is_the_release_we_built(local_cluster):
    version = json.loads(local_cluster.kubectl("get", "--raw", "/version").stdout)
    assert version["gitVersion"] == localcluster.KUBERNETES_VERSION


def test_valid_service_entry_is_accepted(target_cluster):
    result = _apply(target_cluster, VALID_ENTRY)
    try:
        assert result.returncode == 0, result.stderr
        stored = json.loads(target_cluster.kubectl("get", "serviceentry", "foundation-valid", "-n",
                                                   "istio-system", "-o", "json").stdout)
        assert stored["spec"]["hosts"] == ["dynamodb.us-east-1.amazonaws.com"]
    finally:
        target_cluster.kubectl("delete", "serviceentry", "foundation-valid", "-n", "istio-system",
                               "--ignore-not-found", check=False)


def test_cel_rules_reject_none_resolution_with_endpoints(target_cluster):
    bad = _with(VALID_ENTRY, "foundation-none-endpoints", hosts=["*.s3.us-east-1.amazonaws.com"],
                resolution="NONE", endpoints=[{"address": "52.216.0.1"}])
    result = _apply(target_cluster, bad, "--dry-run=server")
    assert result.returncode != 0
    assert "NONE mode cannot set endpoints" in result.stderr


def _istioctl_validate(istioctl: str, manifest: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return subprocess.run([istioctl, "validate", "-f", str(path)], capture_output=True, text=True, check=False)


def test_istioctl_rejects_an_ip_literal_host(istioctl, tmp_path):
    ip_host = _with(LINK_LOCAL_ENTRY, "foundation-ip-host", hosts=["169.254.169.254"], resolution="DNS")
    del ip_host["spec"]["addresses"], ip_host["spec"]["endpoints"]
    result = _istioctl_validate(istioctl, ip_host, tmp_path)
    assert result.returncode != 0
    assert "169.254.169.254" in result.stderr and "all-numeric" in result.stderr


def test_istioctl_accepts_a_link_local_entry_with_a_made_up_host(istioctl, tmp_path):
    result = _istioctl_validate(istioctl, LINK_LOCAL_ENTRY, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stderr


def test_a_write_shows_up_in_the_audit_log(local_cluster):
    local_cluster.audit.mark()
    entry = _with(VALID_ENTRY, "foundation-audited")
    assert _apply(local_cluster, entry).returncode == 0
    local_cluster.kubectl("delete", "serviceentry", "foundation-audited", "-n", "istio-system")
    writes = [(w["verb"], w["objectRef"]["resource"], w["objectRef"].get("name")) for w in local_cluster.audit.writes()]
    assert ("create", "serviceentries", "foundation-audited") in writes
    assert ("delete", "serviceentries", "foundation-audited") in writes


def test_unprivileged_token_is_forbidden_to_create_a_service_entry(local_cluster):
    result = subprocess.run(
        [str(localcluster.BIN / "kubectl"), f"--server={local_cluster.info['server']}",
         f"--certificate-authority={local_cluster.info['ca_file']}", f"--token={local_cluster.token('unprivileged')}",
         "--kubeconfig=/dev/null", "create", "-f", "-"],
        input=json.dumps(_with(VALID_ENTRY, "foundation-forbidden")), capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "forbidden" in result.stderr.lower()
    assert 'User "unprivileged" cannot create resource "serviceentries"' in result.stderr


# --- the launcher's own promises, on a scratch cluster of their own -------------------------


def _launcher(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # Scratch clusters get the defaults unless a test asks otherwise, whatever the run's own settings.
    inherited = {k: v for k, v in os.environ.items() if k != "LOCALCLUSTER_CRDS"}
    return subprocess.run([sys.executable, str(ROOT / "tests" / "cluster" / "localcluster.py"), *args],
                          capture_output=True, text=True, check=False, env={**inherited, **(env or {})})


def _our_processes(cluster_dir: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and localcluster._is_ours(int(proc.name), cluster_dir):  # pylint: disable=protected-access
            pids.append(int(proc.name))
    return pids


@pytest.fixture()
def scratch(local_cluster):  # pylint: disable=unused-argument
    name = "scratch-launcher"
    yield localcluster.Cluster(name)
    _launcher("down", name)


def test_up_twice_is_a_no_op_and_down_leaves_no_process(scratch):
    first = _launcher("up", scratch.name)
    assert first.returncode == 0, first.stderr
    pid = scratch.pid()
    assert pid and _our_processes(scratch.dir) == [pid]

    second = _launcher("up", scratch.name)
    assert second.returncode == 0
    assert "already running" in second.stdout and scratch.name in second.stdout
    assert scratch.pid() == pid

    down = _launcher("down", scratch.name)
    assert down.returncode == 0, down.stderr
    assert _our_processes(scratch.dir) == []
    assert not scratch.dir.exists()


def test_stale_pid_file_is_ignored_and_nothing_foreign_is_killed(scratch):
    # A pid file naming a live process that is not ours (this test runner).
    scratch.dir.mkdir(parents=True)
    scratch.pid_file.write_text(f"{os.getpid()}\n")
    assert scratch.pid() is None
    assert not scratch.pid_file.exists()
    scratch.pid_file.write_text(f"{os.getpid()}\n")
    down = _launcher("down", scratch.name)
    assert down.returncode == 0
    assert "nothing" in down.stdout


def test_busy_port_is_a_one_line_cause(scratch):
    assert _launcher("up", scratch.name).returncode == 0
    port = scratch.info()["ports"]["apiserver"]
    assert _launcher("stop", scratch.name).returncode == 0
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = _launcher("up", scratch.name)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"port {port}" in lines[0] and "in use" in lines[0]


def test_ports_stay_out_of_the_ephemeral_range(scratch):
    # The API server's own connections to its etcd take ephemeral ports; one of
    # them once took the secure port before the server listened on it.
    assert _launcher("up", scratch.name).returncode == 0
    low, high = localcluster._ephemeral_range()  # pylint: disable=protected-access
    ports = scratch.info()["ports"].values()
    assert len(set(ports)) == 3
    assert all(not low <= port <= high for port in ports), (ports, low, high)


def test_a_port_taken_after_the_check_moves_the_cluster(scratch, monkeypatch):
    assert _launcher("up", scratch.name).returncode == 0
    old = scratch.info()["ports"]
    assert _launcher("stop", scratch.name).returncode == 0
    real_check = localcluster._port_busy  # pylint: disable=protected-access
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", old["apiserver"]))
        squatter.listen()
        # The check misses the squatter, as when it binds between check and start.
        monkeypatch.setattr(localcluster, "_port_busy", lambda port: port != old["apiserver"] and real_check(port))
        with contextlib.redirect_stdout(None):
            started = localcluster.start([scratch.name])
    assert started == [scratch.name]
    info = scratch.info()
    assert info["ports"]["apiserver"] != old["apiserver"]
    kubeconfig = yaml.safe_load(localcluster.KUBECONFIG.read_text())
    servers = {c["name"]: c["cluster"]["server"] for c in kubeconfig["clusters"]}
    assert servers[scratch.name] == info["server"]
    assert localcluster.kubectl(scratch.name, "get", "--raw", "/readyz").stdout == "ok"


def test_missing_go_toolchain_is_a_one_line_cause(scratch, tmp_path):
    # Only the build needs Go; make it need one by pointing the cache somewhere empty.
    result = _launcher("build", env={"PATH": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip() == "localcluster: the Go toolchain is not on PATH: install Go 1.26 or newer and run again"


def test_a_cluster_that_never_gets_ready_says_so(scratch):
    result = _launcher("up", scratch.name, env={"LOCALCLUSTER_READY_TIMEOUT": "0.5"})
    assert result.returncode == 1
    assert f"cluster {scratch.name} not ready after" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- more CRDs: the Gateway API's and Cilium's ------------------------------------------------

WAYPOINT = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "Gateway",
    "metadata": {"name": "foundation-waypoint", "namespace": "default", "labels": {"istio.io/waypoint-for": "service"}},
    "spec": {"gatewayClassName": "istio-waypoint", "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]},
}

FQDN_POLICY = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumNetworkPolicy",
    "metadata": {"name": "foundation-aws-egress", "namespace": "default"},
    "spec": {
        "endpointSelector": {"matchLabels": {"app": "uploader"}},
        "egress": [
            {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}],
             "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}]},
            {"toFQDNs": [{"matchName": "sts.amazonaws.com"}, {"matchPattern": "*.s3.us-east-1.amazonaws.com"}],
             "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]},
        ],
    },
}


def _resources(cluster, group_version: str) -> set[str]:
    return {r["name"] for r in json.loads(cluster.kubectl("get", "--raw", f"/apis/{group_version}").stdout)["resources"]}


def test_default_cluster_serves_the_gateway_api_and_cilium(local_cluster):
    assert {"gateways", "gatewayclasses", "httproutes", "grpcroutes", "referencegrants"} <= \
        _resources(local_cluster, "gateway.networking.k8s.io/v1")
    assert {"ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies", "ciliumcidrgroups"} <= \
        _resources(local_cluster, "cilium.io/v2")
    crds = json.loads(local_cluster.kubectl("get", "crd", "-o", "json").stdout)["items"]
    added = [c for c in crds if c["spec"]["group"] in ("gateway.networking.k8s.io", "cilium.io")]
    assert len(added) >= 20
    for crd in added:
        assert {"type": "Established", "status": "True"}.items() <= \
            next(c for c in crd["status"]["conditions"] if c["type"] == "Established").items(), crd["metadata"]["name"]
    # CRDs only: not the Gateway API's admission policy that sits next to them.
    policies = local_cluster.kubectl("get", "validatingadmissionpolicies", "-o", "name").stdout
    assert "gateway.networking.k8s.io" not in policies


# The Gateway's schema fills in its default for the listener's allowedRoutes.
STORED_WAYPOINT = {**WAYPOINT["spec"], "listeners": [
    {**WAYPOINT["spec"]["listeners"][0], "allowedRoutes": {"namespaces": {"from": "Same"}}}]}


@pytest.mark.parametrize("manifest, kind, spec", [(WAYPOINT, "gateways", STORED_WAYPOINT),
                                                  (FQDN_POLICY, "ciliumnetworkpolicies", FQDN_POLICY["spec"])])
def test_a_valid_waypoint_and_fqdn_policy_are_accepted(local_cluster, manifest, kind, spec):
    name = manifest["metadata"]["name"]
    result = _apply(local_cluster, manifest)
    try:
        assert result.returncode == 0, result.stderr
        stored = json.loads(local_cluster.kubectl("get", kind, name, "-n", "default", "-o", "json").stdout)
        assert stored["spec"] == spec
    finally:
        local_cluster.kubectl("delete", kind, name, "-n", "default", "--ignore-not-found", check=False)


def test_the_gateway_schema_refuses_two_listeners_of_one_name(local_cluster):
    listener = WAYPOINT["spec"]["listeners"][0]
    bad = {**WAYPOINT, "spec": {**WAYPOINT["spec"], "listeners": [listener, {**listener, "port": 15009}]}}
    result = _apply(local_cluster, bad, "--dry-run=server")
    assert result.returncode != 0
    assert "Listener name must be unique within the Gateway" in result.stderr


def test_the_cilium_schema_refuses_a_host_name_with_a_space(local_cluster):
    rules = FQDN_POLICY["spec"]["egress"]
    bad = {**FQDN_POLICY, "spec": {**FQDN_POLICY["spec"], "egress": [
        rules[0], {**rules[1], "toFQDNs": [{"matchName": "my bucket.s3.amazonaws.com"}]}]}}
    result = _apply(local_cluster, bad, "--dry-run=server")
    assert result.returncode != 0
    assert "spec.egress[1].toFQDNs[0].matchName" in result.stderr and "should match" in result.stderr


def test_a_cluster_with_only_istio_crds_serves_neither(scratch):
    started = _launcher("up", scratch.name, env={"LOCALCLUSTER_CRDS": "istio"})
    assert started.returncode == 0, started.stderr
    assert scratch.info()["crds"] == ["istio"]
    # Restarted without the variable, it keeps the sets it was created with.
    assert _launcher("stop", scratch.name).returncode == 0
    assert _launcher("up", scratch.name).returncode == 0
    crds = [c.split("/", 1)[1] for c in localcluster.kubectl(scratch.name, "get", "crd", "-o", "name").stdout.split()]
    assert "serviceentries.networking.istio.io" in crds
    assert not any(c.endswith((".gateway.networking.k8s.io", ".cilium.io")) for c in crds), crds
    for manifest in (WAYPOINT, FQDN_POLICY):
        result = localcluster.kubectl(scratch.name, "apply", "--dry-run=server", "-f", "-", input=json.dumps(manifest),
                                      check=False)
        assert result.returncode != 0
        assert f'no matches for kind "{manifest["kind"]}"' in result.stderr


@pytest.mark.parametrize("env, message", [
    ({"LOCALCLUSTER_CRDS": "istio,calico"}, "LOCALCLUSTER_CRDS: unknown CRD set 'calico'"),
])
def test_a_wrong_setting_is_a_one_line_cause_and_creates_nothing(scratch, env, message):
    result = _launcher("up", scratch.name, env=env)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert not scratch.dir.exists()
