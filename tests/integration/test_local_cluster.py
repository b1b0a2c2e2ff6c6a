# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The foundation every other test stands on: a real API server with Istio's CRDs (and the Gateway
API's and Cilium's), and a real network in front of it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

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
    assert (
        target_cluster.kubectl("get", "namespace", "istio-system", "-o", "name").stdout.strip()
        == "namespace/istio-system"
    )


def test_version_is_the_release_we_built(local_cluster):
    version = json.loads(local_cluster.kubectl("get", "--raw", "/version").stdout)
    assert version["gitVersion"] == localcluster.KUBERNETES_VERSION


def test_valid_service_entry_is_accepted(target_cluster):
    result = _apply(target_cluster, VALID_ENTRY)
    try:
        assert result.returncode == 0, result.stderr
        stored = json.loads(
            target_cluster.kubectl("get", "serviceentry", "foundation-valid", "-n", "istio-system", "-o", "json").stdout
        )
        assert stored["spec"]["hosts"] == ["dynamodb.us-east-1.amazonaws.com"]
    finally:
        target_cluster.kubectl(
            "delete", "serviceentry", "foundation-valid", "-n", "istio-system", "--ignore-not-found", check=False
        )


def test_cel_rules_reject_none_resolution_with_endpoints(target_cluster):
    bad = _with(
        VALID_ENTRY,
        "foundation-none-endpoints",
        hosts=["*.s3.us-east-1.amazonaws.com"],
        resolution="NONE",
        endpoints=[{"address": "52.216.0.1"}],
    )
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
        [
            str(localcluster.BIN / "kubectl"),
            f"--server={local_cluster.info['server']}",
            f"--certificate-authority={local_cluster.info['ca_file']}",
            f"--token={local_cluster.token('unprivileged')}",
            "--kubeconfig=/dev/null",
            "create",
            "-f",
            "-",
        ],
        input=json.dumps(_with(VALID_ENTRY, "foundation-forbidden")),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "forbidden" in result.stderr.lower()
    assert 'User "unprivileged" cannot create resource "serviceentries"' in result.stderr


# --- the launcher's own promises, on a scratch cluster of their own -------------------------


def _launcher(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # Scratch clusters get the defaults unless a test asks otherwise, whatever the run's own settings.
    inherited = {k: v for k, v in os.environ.items() if k not in ("LATENCY_MS", "LOCALCLUSTER_CRDS")}
    return subprocess.run(
        [sys.executable, str(ROOT / "tests" / "cluster" / "localcluster.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**inherited, **(env or {})},
    )


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


def test_a_port_taken_after_the_check_moves_the_cluster_and_its_proxy_follows(scratch, monkeypatch):
    assert _launcher("up", scratch.name).returncode == 0
    old = scratch.info()["ports"]
    proxied = f"{scratch.name}-proxied"
    proxied_server = _server_of(proxied)
    assert _launcher("stop", scratch.name).returncode == 0
    real_check = localcluster._port_busy  # pylint: disable=protected-access
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", old["apiserver"]))
        squatter.listen()
        # The check misses the squatter, as when it binds between check and start.
        monkeypatch.setattr(localcluster, "_port_busy", lambda port: port != old["apiserver"] and real_check(port))
        with contextlib.redirect_stdout(None):
            assert localcluster.start([scratch.name]) == [scratch.name]
        info = scratch.info()
        assert info["ports"]["apiserver"] != old["apiserver"]
        kubeconfig = yaml.safe_load(localcluster.KUBECONFIG.read_text())
        servers = {c["name"]: c["cluster"]["server"] for c in kubeconfig["clusters"]}
        assert servers[scratch.name] == info["server"]
        assert localcluster.kubectl(scratch.name, "get", "--raw", "/readyz").stdout == "ok"
        # The proxy keeps its own port and forwards to the new one, not to the squatter.
        proxy = localcluster._toxiproxy("GET", f"/proxies/{scratch.name}")  # pylint: disable=protected-access
        assert proxy["upstream"] == f"127.0.0.1:{info['ports']['apiserver']}"
        assert _server_of(proxied) == proxied_server
        assert localcluster.kubectl(proxied, "get", "--raw", "/readyz").stdout == "ok"


def test_missing_go_toolchain_is_a_one_line_cause(scratch, tmp_path):
    # Only the build needs Go; make it need one by pointing the cache somewhere empty.
    result = _launcher("build", env={"PATH": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "localcluster: the Go toolchain is not on PATH: install Go 1.26 or newer and run again"
    )


def test_build_leaves_a_right_link_alone_and_replaces_a_wrong_one(tmp_path):
    state = tmp_path / "localcluster"
    env = {"LOCALCLUSTER_DIR": str(state)}

    def links() -> dict[str, tuple[int, int, str]]:
        # The inode and its change time tell the same link from a new one made in its place.
        return {
            link.name: (link.lstat().st_ino, link.lstat().st_ctime_ns, os.readlink(link))
            for link in (state / "bin").iterdir()
        }

    assert _launcher("build", env=env).returncode == 0
    first = links()
    assert {"kube-apiserver", "kubectl", "istioctl", "xds-simulate", "toxiproxy-server"} <= set(first)
    (state / "bin" / "kubectl").unlink()
    (state / "bin" / "kubectl").symlink_to(tmp_path / "an-older-build")
    assert _launcher("build", env=env).returncode == 0
    second = links()
    assert sorted(second) == sorted(first)  # no temporary link left behind
    assert {name: link for name, link in second.items() if name != "kubectl"} == {
        name: link for name, link in first.items() if name != "kubectl"
    }
    assert second["kubectl"][2] == first["kubectl"][2]


def test_a_link_being_replaced_is_never_missing(tmp_path):
    link, targets = tmp_path / "bin" / "tool", [tmp_path / "old", tmp_path / "new"]
    link.parent.mkdir()
    link.symlink_to(targets[0])
    # Another process looks the link up without pause while it is pointed back and forth.
    watcher = subprocess.Popen(  # pylint: disable=consider-using-with
        [
            sys.executable,
            "-c",
            "import os, sys\nprint('watching', flush=True)\nwhile os.path.lexists(sys.argv[1]): pass",
            str(link),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout.readline() == "watching\n"
        deadline = time.monotonic() + 1
        replaced = 0
        while time.monotonic() < deadline and watcher.poll() is None:
            localcluster._link(link, targets[replaced % 2])  # pylint: disable=protected-access
            replaced += 1
        assert watcher.poll() is None, f"the watcher saw the link missing after {replaced} replacements"
        assert replaced > 100 and sorted(p.name for p in link.parent.iterdir()) == ["tool"]
    finally:
        watcher.kill()
        watcher.communicate()


def test_a_cluster_that_never_gets_ready_says_so(scratch):
    result = _launcher("up", scratch.name, env={"LOCALCLUSTER_READY_TIMEOUT": "0.5"})
    assert result.returncode == 1
    assert f"cluster {scratch.name} not ready after" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- the proxy in front of every API server -------------------------------------------------


def _server_of(context: str) -> str:
    """The server URL the kubeconfig gives a context."""
    kubeconfig = yaml.safe_load(localcluster.KUBECONFIG.read_text())
    cluster = next(c["context"]["cluster"] for c in kubeconfig["contexts"] if c["name"] == context)
    return next(c["cluster"]["server"] for c in kubeconfig["clusters"] if c["name"] == cluster)


def _request_ms(info: dict, server: str) -> float:
    """Milliseconds for GET /readyz on a new connection to `server`, TLS handshake included."""
    started = time.monotonic()
    answer = localcluster._request({**info, "server": server}, "/readyz", timeout=20)  # pylint: disable=protected-access
    elapsed = (time.monotonic() - started) * 1000
    assert answer == (200, "ok")
    return elapsed


def _fastest_ms(info: dict, server: str) -> float:
    """The fastest of three _request_ms: what the network costs, less the machine's load."""
    return min(_request_ms(info, server) for unused in range(3))


# A request on a new connection takes two round trips: the TLS 1.3 handshake, then the request.
ROUND_TRIPS = 2


def _assert_delayed_once(info: dict, server: str, latency_ms: int, direct_ms: float) -> None:
    """A new connection to `server` takes latency_ms longer on each of its round trips, once.

    A latency never ends early, so less than that means none (or some of it) was added; the bound above, relative
    to a request straight to the API server (direct_ms), allows one more round trip of it for the machine's load,
    where the latency added twice would take ROUND_TRIPS more."""
    slow = _fastest_ms(info, server)
    assert ROUND_TRIPS * latency_ms <= slow < direct_ms + (ROUND_TRIPS + 1) * latency_ms, (slow, direct_ms)


def test_kubectl_works_through_the_proxied_context(local_cluster):
    proxied = _server_of(local_cluster.proxied_context)
    assert proxied == localcluster.proxied_server(local_cluster.info) != local_cluster.info["server"]
    # Without LATENCY_MS the main context goes straight to the API server, as it always did.
    assert _server_of(local_cluster.context) == local_cluster.info["server"]
    assert local_cluster.kubectl("get", "--raw", "/readyz", proxied=True).stdout == "ok"
    names = local_cluster.kubectl("get", "crd", "-o", "name", proxied=True).stdout.split()
    assert "customresourcedefinition.apiextensions.k8s.io/serviceentries.networking.istio.io" in names


def test_a_latency_toxic_slows_requests_through_the_proxy_only(local_cluster, toxics):
    info, proxied, latency = local_cluster.info, _server_of(local_cluster.proxied_context), 200
    direct = _fastest_ms(info, info["server"])
    # Each comparison allows one round trip of the latency for the machine's load: far less than a toxic adds.
    assert _fastest_ms(info, proxied) < direct + latency
    toxics.latency(latency)
    _assert_delayed_once(info, proxied, latency, direct)
    assert _fastest_ms(info, info["server"]) < direct + latency
    toxics.clear()
    assert _fastest_ms(info, proxied) < direct + latency


def test_reset_peer_fails_requests_until_cleared(local_cluster, toxics):
    toxics.reset_peer()
    failed = local_cluster.kubectl("get", "--raw", "/readyz", proxied=True, check=False)
    assert failed.returncode != 0
    assert "connection reset by peer" in failed.stderr
    assert local_cluster.kubectl("get", "--raw", "/readyz").stdout == "ok"
    toxics.clear()
    assert toxics.active() == []
    assert local_cluster.kubectl("get", "--raw", "/readyz", proxied=True).stdout == "ok"


def test_timeout_lets_nothing_through_and_closes_the_connection(local_cluster, toxics):
    toxics.timeout(500)
    started = time.monotonic()
    failed = local_cluster.kubectl("--request-timeout=20s", "get", "--raw", "/readyz", proxied=True, check=False)
    elapsed = time.monotonic() - started
    assert failed.returncode != 0
    # Closed by the proxy after its 500 ms, long before kubectl's own timeout.
    assert "EOF" in failed.stderr
    assert 0.5 <= elapsed < 15, elapsed


def test_status_shows_the_proxy_and_its_toxics(local_cluster, toxics):
    def proxy_line() -> str:
        lines = _launcher("status").stdout.splitlines()
        row = next(i for i, line in enumerate(lines) if line.startswith(f"{local_cluster.name} "))
        assert lines[row + 1].split()[:2] == ["proxy", _server_of(local_cluster.proxied_context)]
        return lines[row + 1]

    assert proxy_line().endswith(f"-> {local_cluster.info['server'].removeprefix('https://')}, toxics: none")
    toxics.latency(200).reset_peer()
    assert proxy_line().endswith("toxics: latency 200 ms, reset_peer")
    assert any(
        line.startswith("toxiproxy ") and " running, pid " in line for line in _launcher("status").stdout.splitlines()
    )


def test_the_proxy_and_its_toxics_survive_a_restart(scratch):
    assert _launcher("up", scratch.name).returncode == 0
    proxied = f"{scratch.name}-proxied"
    proxied_server = _server_of(proxied)
    localcluster.Toxics(scratch.name).latency(20)

    assert _launcher("stop", scratch.name).returncode == 0
    # The proxy forwards to the API server; with the server stopped, nothing answers.
    assert localcluster.kubectl(proxied, "get", "--raw", "/readyz", check=False).returncode != 0
    assert _launcher("start", scratch.name).returncode == 0
    assert localcluster.kubectl(proxied, "get", "--raw", "/readyz").stdout == "ok"
    assert {t["name"] for t in localcluster.Toxics(scratch.name).active()} == {"latency-upstream", "latency-downstream"}
    assert _server_of(proxied) == proxied_server


def test_latency_ms_makes_the_main_context_slow(scratch):
    started = _launcher("up", scratch.name, env={"LATENCY_MS": "300"})
    assert started.returncode == 0, started.stderr
    info = scratch.info()
    main = _server_of(scratch.name)
    assert main == _server_of(f"{scratch.name}-proxied") != info["server"]

    before = time.monotonic()
    assert localcluster.kubectl(scratch.name, "get", "--raw", "/readyz").stdout == "ok"
    assert time.monotonic() - before >= 0.3
    _assert_delayed_once(info, main, 300, _fastest_ms(info, info["server"]))

    # A test's clear() leaves it, and a restart without LATENCY_MS keeps what the cluster was created with.
    localcluster.Toxics(scratch.name).clear()
    assert _launcher("stop", scratch.name).returncode == 0
    assert _launcher("up", scratch.name).returncode == 0
    assert _server_of(scratch.name) == main
    _assert_delayed_once(info, main, 300, _fastest_ms(info, info["server"]))


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _processes_in(state: Path) -> list[int]:
    """Live processes whose command line or working directory is inside `state`."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or not _alive(int(proc.name)):
                continue
            inside = str(state).encode() in (proc / "cmdline").read_bytes() or os.readlink(proc / "cwd").startswith(
                str(state)
            )
        except OSError:
            continue
        if inside:
            pids.append(int(proc.name))
    return pids


def test_down_stops_toxiproxy_with_the_last_cluster_and_leaves_no_process(local_cluster, tmp_path):  # pylint: disable=unused-argument
    # A state directory of its own, so this cluster is the last one there.
    state = tmp_path / "localcluster"
    env = {"LOCALCLUSTER_DIR": str(state)}
    try:
        started = _launcher("up", "alone", env=env)
        assert started.returncode == 0, started.stderr
        info = json.loads((state / "alone" / "cluster.json").read_text())
        ports = [
            info["ports"]["apiserver"],
            info["proxy_port"],
            json.loads((state / "toxiproxy.json").read_text())["port"],
        ]
        pids = [int((state / "alone" / "kube-apiserver.pid").read_text()), int((state / "toxiproxy.pid").read_text())]
        assert sorted(_processes_in(state)) == sorted(pids)
        assert all(localcluster._port_busy(port) for port in ports)  # pylint: disable=protected-access

        down = _launcher("down", env=env)
        assert down.returncode == 0, down.stderr
        assert _processes_in(state) == []
        assert not any(localcluster._port_busy(port) for port in ports)  # pylint: disable=protected-access
        assert sorted(p.name for p in state.iterdir()) == ["bin", "kubeconfig"]
    finally:
        # Whatever failed, nothing this test started outlives it (a process may have exited since it was listed).
        for pid in _processes_in(state):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


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
            {
                "toEndpoints": [
                    {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}
                ],
                "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}],
            },
            {
                "toFQDNs": [{"matchName": "sts.amazonaws.com"}, {"matchPattern": "*.s3.us-east-1.amazonaws.com"}],
                "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
            },
        ],
    },
}


def _resources(cluster, group_version: str) -> set[str]:
    return {
        r["name"] for r in json.loads(cluster.kubectl("get", "--raw", f"/apis/{group_version}").stdout)["resources"]
    }


def test_default_cluster_serves_the_gateway_api_and_cilium(local_cluster):
    assert {"gateways", "gatewayclasses", "httproutes", "grpcroutes", "referencegrants"} <= _resources(
        local_cluster, "gateway.networking.k8s.io/v1"
    )
    assert {"ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies", "ciliumcidrgroups"} <= _resources(
        local_cluster, "cilium.io/v2"
    )
    crds = json.loads(local_cluster.kubectl("get", "crd", "-o", "json").stdout)["items"]
    added = [c for c in crds if c["spec"]["group"] in ("gateway.networking.k8s.io", "cilium.io")]
    assert len(added) >= 20
    for crd in added:
        assert {"type": "Established", "status": "True"}.items() <= next(
            c for c in crd["status"]["conditions"] if c["type"] == "Established"
        ).items(), crd["metadata"]["name"]
    # CRDs only: not the Gateway API's admission policy that sits next to them.
    policies = local_cluster.kubectl("get", "validatingadmissionpolicies", "-o", "name").stdout
    assert "gateway.networking.k8s.io" not in policies


# The Gateway's schema fills in its default for the listener's allowedRoutes.
STORED_WAYPOINT = {
    **WAYPOINT["spec"],
    "listeners": [{**WAYPOINT["spec"]["listeners"][0], "allowedRoutes": {"namespaces": {"from": "Same"}}}],
}


@pytest.mark.parametrize(
    "manifest, kind, spec",
    [(WAYPOINT, "gateways", STORED_WAYPOINT), (FQDN_POLICY, "ciliumnetworkpolicies", FQDN_POLICY["spec"])],
)
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
    bad = {
        **FQDN_POLICY,
        "spec": {
            **FQDN_POLICY["spec"],
            "egress": [rules[0], {**rules[1], "toFQDNs": [{"matchName": "my bucket.s3.amazonaws.com"}]}],
        },
    }
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
        result = localcluster.kubectl(
            scratch.name, "apply", "--dry-run=server", "-f", "-", input=json.dumps(manifest), check=False
        )
        assert result.returncode != 0
        assert f'no matches for kind "{manifest["kind"]}"' in result.stderr


@pytest.mark.parametrize(
    "env, message",
    [
        ({"LOCALCLUSTER_CRDS": "istio,calico"}, "LOCALCLUSTER_CRDS: unknown CRD set 'calico'"),
        ({"LATENCY_MS": "20ms"}, "LATENCY_MS='20ms' is not a whole number of milliseconds"),
        (
            {"LOCALCLUSTER_CRDS": "istio-1.32,gateway-api,istio"},
            "istio and istio-1.32 are the same CRDs of two releases; choose one",
        ),
        ({"LOCALCLUSTER_AUDIT": "RequestResponse"}, "LOCALCLUSTER_AUDIT='RequestResponse': use Metadata or Request"),
    ],
)
def test_a_wrong_setting_is_a_one_line_cause_and_creates_nothing(scratch, env, message):
    result = _launcher("up", scratch.name, env=env)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert not scratch.dir.exists()
