# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local Kubernetes control planes for tests and the demo.

Each cluster is one kube-apiserver process (etcd runs inside it) on free
loopback ports, with CRDs installed (Istio's, the Gateway API's and Cilium's;
$LOCALCLUSTER_CRDS picks fewer, or another Istio release's; $LOCALCLUSTER_AUDIT=Request
records the body of each write in the audit log). One toxiproxy server puts a proxy in front of
every API server: the `<name>-proxied` contexts go through it, and with
$LATENCY_MS the `<name>` contexts too. Everything lives in ``.localcluster/``;
binaries are built from Go modules once and cached outside the working tree,
keyed by version and by a hash of the Go sources. The build also makes
xds-simulate, the xDS simulation harness, from the collection's own
extensions/xds-simulate, exactly as the collection builds it on first use.

    localcluster.py build                  build or reuse the binaries
    localcluster.py up [NAME ...]          start clusters ($CLUSTERS, default "local-a local-b")
    localcluster.py down [NAME ...]        stop clusters we started and delete their state
    localcluster.py stop NAME / start NAME stop or restart one API server, keeping its data
    localcluster.py status                 one line per cluster, its proxy and toxiproxy
    localcluster.py crds                   the CRD files $LOCALCLUSTER_CRDS selects
    localcluster.py simulation-copy        refresh xds-simulate's copy of istio's simulation (after a pin change)

The Makefile, the tests and the demo all drive clusters through this file.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import datetime
import functools
import hashlib
import importlib.util
import ipaddress
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
STATE = Path(os.environ.get("LOCALCLUSTER_DIR", ROOT / ".localcluster"))
# Links to the cached binaries, one directory of them per LOCALCLUSTER_DIR. The xDS simulation harness runs
# .localcluster/bin/xds-simulate whatever LOCALCLUSTER_DIR says (plugins/plugin_utils/simulation/harness.py):
# every test worker runs it while the first worker's starts build() .localcluster/bin again (see _link).
BIN = STATE / "bin"
KUBECONFIG = STATE / "kubeconfig"
# The one toxiproxy server in front of this directory's clusters: its port, pid and log.
TOXIPROXY_INFO = STATE / "toxiproxy.json"
TOXIPROXY_PID = STATE / "toxiproxy.pid"
TOXIPROXY_LOG = STATE / "toxiproxy.log"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "meshops-aws-egress"
DEFAULT_CLUSTERS = "local-a local-b"

KUBERNETES_VERSION = "v1.36.3"
ISTIO_API_VERSION = "v1.30.8"
ISTIO_BRANCH = "1.30"
SIMULATION_IMPORT = '\t"istio.io/istio/pilot/test/xds"\n'
TOXIPROXY_VERSION = "v2.5.0"
GATEWAY_API_VERSION = "v1.6.3"
CILIUM_VERSION = "v1.20.2"
READY_TIMEOUT = float(os.environ.get("LOCALCLUSTER_READY_TIMEOUT", "90"))
# How often a start picks new ports when another process took one between the
# check and the bind.
PORT_ATTEMPTS = 3

# Every user the static token file knows. admin can do anything; the others
# are bound to nothing, so tests can grant them exactly the rights they test.
USERS = {
    "admin": "system:masters",
    "unprivileged": "",
    "operator": "",
}

AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: {level}
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
"""
# Metadata: who wrote what. Request: the body of each write too, for tests that compare what was sent with what the
# API server kept (it drops fields a CRD's schema does not know, and says so only in a warning).
AUDIT_LEVELS = ("Metadata", "Request")


class ClusterError(Exception):
    """A problem a user can fix; printed as one line, no traceback."""


class PortTakenError(ClusterError):
    """kube-apiserver could not listen on a port that was free when we chose it."""


# --------------------------------------------------------------------------
# Binaries


@dataclass(frozen=True)
class Binary:
    name: str
    module_dir: Path
    package: str
    ldflags: tuple[str, ...]
    # What its cache key hashes, relative to module_dir ("" is the whole module).
    sources: tuple[str, ...] = ("",)
    # The cache key's version; empty: Kubernetes' or Istio's, after module_dir.
    version: str = ""


def _binaries() -> list[Binary]:
    k8s_version = [
        f"-X k8s.io/component-base/version.gitVersion={KUBERNETES_VERSION}",
        "-X k8s.io/component-base/version.gitMajor=1",
        f"-X k8s.io/component-base/version.gitMinor={KUBERNETES_VERSION.split('.')[1]}",
        "-X k8s.io/component-base/version.gitTreeState=clean",
        "-X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z",
        f"-X k8s.io/client-go/pkg/version.gitVersion={KUBERNETES_VERSION}",
    ]
    istio_version = [
        f"-X istio.io/istio/pkg/version.buildVersion={ISTIO_BRANCH}-dev",
        "-X istio.io/istio/pkg/version.buildStatus=Clean",
    ]
    # xds-simulate is not here: the collection's own builder builds it (see build()).
    return [
        Binary("kube-apiserver", HERE / "k8s", "./cmd/kube-apiserver", tuple(k8s_version)),
        Binary("kubectl", HERE / "k8s", "./cmd/kubectl", tuple(k8s_version)),
        Binary(
            "istioctl",
            HERE / "istio",
            "./cmd/istioctl",
            tuple(istio_version),
            sources=("cmd/istioctl", "go.mod", "go.sum"),
        ),
    ]


@functools.cache
def harness_build():
    """The collection's plugins/plugin_utils/simulation/build.py (standard library only), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        "xds_simulate_build", ROOT / "plugins" / "plugin_utils" / "simulation" / "build.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _source_hash(module_dir: Path, sources: tuple[str, ...] = ("",)) -> str:
    digest = hashlib.sha256()
    files: set[Path] = set()
    for source in sources:
        top = module_dir / source
        files.update([top] if top.is_file() else top.rglob("*"))
    for path in sorted(files):
        if path.is_file() and path.suffix in {".go", ".mod", ".sum"}:
            digest.update(path.relative_to(module_dir).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _istio_module_version() -> str:
    """The istio.io/istio pseudo-version the harness's go.mod pins."""
    return harness_build().istio_version()


def _istio_module_dir() -> Path:
    version = _istio_module_version()
    result = subprocess.run(
        [_go(), "mod", "download", "-json", f"istio.io/istio@{version}"],
        cwd=harness_build().SOURCE,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ClusterError(f"cannot download istio.io/istio {version}: {result.stderr.strip()}")
    return Path(json.loads(result.stdout)["Dir"])


def simulation_copy(upstream: str) -> str:
    """istio's pilot/pkg/simulation/traffic.go as the harness keeps it.

    Only NewSimulation goes, with the pilot/test/xds import it needs: that
    package imports one the Go module proxy does not serve (see
    extensions/xds-simulate/simulation/doc.go).
    """
    new_simulation = re.findall(r"^func NewSimulation\(.*?^}\n\n", upstream, re.S | re.M)
    if upstream.count(SIMULATION_IMPORT) != 1 or len(new_simulation) != 1:
        raise ClusterError(
            "istio's pilot/pkg/simulation/traffic.go no longer has exactly one NewSimulation "
            "and one pilot/test/xds import; see extensions/xds-simulate/simulation/doc.go"
        )
    return upstream.replace(SIMULATION_IMPORT, "").replace(new_simulation[0], "")


def simulation_files() -> tuple[Path, Path]:
    """istio's simulator in the module cache, and the harness's copy of it."""
    return (
        _istio_module_dir() / "pilot" / "pkg" / "simulation" / "traffic.go",
        harness_build().SOURCE / "simulation" / "traffic.go",
    )


def refresh_simulation_copy() -> None:
    """Rewrite the harness's copy of istio's simulation from the pinned istio.io/istio."""
    upstream, ours = simulation_files()
    ours.write_text(simulation_copy(upstream.read_text()))
    print(f"wrote {ours.relative_to(ROOT)} from istio.io/istio {_istio_module_version()}")


def _check_simulation_copy() -> None:
    """Refuse to build the harness on a copy of istio's simulation that is not the pinned one."""
    upstream, ours = simulation_files()
    if ours.read_text() != simulation_copy(upstream.read_text()):
        raise ClusterError(
            f"{ours.relative_to(ROOT)} is not istio's {upstream.name} at {_istio_module_version()} "
            f"less NewSimulation; refresh it with `{Path(__file__).name} simulation-copy`"
        )


def _go() -> str:
    go = shutil.which("go")
    if not go:
        raise ClusterError("the Go toolchain is not on PATH: install Go 1.26 or newer and run again")
    return go


def build() -> None:
    """Build missing binaries into the cache and link them into BIN (.localcluster/bin, or $LOCALCLUSTER_DIR/bin)."""
    BIN.mkdir(parents=True, exist_ok=True)
    for binary in [*_binaries(), _toxiproxy_binary()]:
        version = binary.version or (KUBERNETES_VERSION if binary.module_dir.name == "k8s" else f"istio-{ISTIO_BRANCH}")
        target = CACHE / f"{binary.name}-{version}-{_source_hash(binary.module_dir, binary.sources)}" / binary.name
        if not target.exists():
            print(f"building {binary.name} {version} (first time only, several minutes) ...", flush=True)
            started = time.monotonic()
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            cmd = [
                _go(),
                "build",
                "-mod=readonly",
                "-trimpath",
                "-buildvcs=false",
                "-ldflags",
                " ".join(("-s", "-w") + binary.ldflags),
                "-o",
                str(partial),
                binary.package,
            ]
            result = subprocess.run(
                cmd,
                cwd=binary.module_dir,
                env={**os.environ, "CGO_ENABLED": "0"},
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                tail = "\n".join(result.stderr.strip().splitlines()[-15:])
                raise ClusterError(f"go build of {binary.name} failed:\n{tail}")
            partial.rename(target)
            print(f"built {binary.name} in {time.monotonic() - started:.0f}s", flush=True)
        _link(BIN / binary.name, target)
    _check_simulation_copy()
    try:
        harness = harness_build().find_or_build(lambda message: print(message, flush=True))
    except harness_build().BuildError as err:
        raise ClusterError(str(err)) from None
    _link(BIN / "xds-simulate", harness)


def _link(link: Path, target: Path) -> None:
    """Point `link` at `target`. Other processes run binaries through the links at any time (a second test
    worker, xds-simulate through .localcluster/bin), so a link is never missing, not even for a moment: one that
    points at `target` already is left alone, any other is replaced in one rename."""
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    temporary = link.with_name(f".{link.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.symlink_to(target)
    try:
        os.replace(temporary, link)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _toxiproxy_binary() -> Binary:
    """Shopify's toxiproxy server, built from its own module (see toxiproxy/go.mod)."""
    return Binary(
        "toxiproxy-server",
        HERE / "toxiproxy",
        "github.com/Shopify/toxiproxy/v2/cmd/server",
        (f"-X github.com/Shopify/toxiproxy/v2.Version={TOXIPROXY_VERSION}",),
        version=TOXIPROXY_VERSION,
    )


# --------------------------------------------------------------------------
# CRDs, read from Go modules in the module cache

ISTIO_CRD_FILE = "kubernetes/customresourcedefinitions.gen.yaml"
# The Istio releases people run, each by the newest istio.io/api patch the module proxy serves: the set
# `istio-<release>` has that release's CRDs (tests/integration/test_istio_releases.py runs the role on each).
# At the pinned 1.30 commit the file is byte-identical to the chart's crd-all.gen.yaml.
ISTIO_RELEASES = {"1.28": "v1.28.3", "1.29": "v1.29.8", "1.30": ISTIO_API_VERSION, "1.31": "v1.31.4", "1.32": "v1.32.0"}
# Set name: module, version, and a CRD file or a directory of them in the module.
CRD_SETS = {
    "istio": ("istio.io/api", ISTIO_API_VERSION, (ISTIO_CRD_FILE,)),
    **{f"istio-{release}": ("istio.io/api", version, (ISTIO_CRD_FILE,)) for release, version in ISTIO_RELEASES.items()},
    "gateway-api": ("sigs.k8s.io/gateway-api", GATEWAY_API_VERSION, ("config/crd/standard",)),
    # The stable cilium.io/v2 CRDs (network policies among them); not the v2alpha1 ones.
    "cilium": ("github.com/cilium/cilium", CILIUM_VERSION, ("pkg/k8s/apis/cilium.io/client/crds/v2",)),
}
DEFAULT_CRD_SETS = ("istio", "gateway-api", "cilium")
_MODULES_LOCK = threading.Lock()


@functools.cache
def _module_dir(module: str, version: str) -> Path:
    """A module's directory in the Go module cache, downloaded through the module proxy if missing."""
    # Outside our own modules, so none of their requirements or replacements apply.
    result = subprocess.run(
        [_go(), "mod", "download", "-json", f"{module}@{version}"],
        cwd=HERE,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        answer = json.loads(result.stdout)
    except ValueError:
        answer = {}
    if result.returncode != 0 or "Dir" not in answer:
        error = answer.get("Error") or result.stderr.strip() or f"go exited with {result.returncode}"
        raise ClusterError(f"cannot download {module} {version}: {error}")
    return Path(answer["Dir"])


def _only_crds(path: Path) -> bool:
    """True if every document in a manifest is a CRD (the Gateway API ships a ValidatingAdmissionPolicy next to its CRDs)."""
    kinds = [line.split(":", 1)[1].strip() for line in path.read_text().splitlines() if line.startswith("kind:")]
    return bool(kinds) and all(kind == "CustomResourceDefinition" for kind in kinds)


def crd_files(sets: list[str] | tuple[str, ...]) -> list[Path]:
    """The CRD manifests of the named sets, in the module cache."""
    files = []
    for name in sets:
        module, version, paths = CRD_SETS[name]
        with _MODULES_LOCK:
            root = _module_dir(module, version)
        for relative in paths:
            path = root / relative
            found = sorted(p for p in path.glob("*.yaml") if _only_crds(p)) if path.is_dir() else [path]
            if not found or not found[0].exists():
                raise ClusterError(f"{module} {version} has no CRDs at {relative}")
            files += found
    return files


def _crd_sets_from_env() -> list[str]:
    """$LOCALCLUSTER_CRDS as a list of known sets (comma-separated; unset or empty: DEFAULT_CRD_SETS), one Istio release at most."""
    value = os.environ.get("LOCALCLUSTER_CRDS", "").strip()
    if not value:
        return list(DEFAULT_CRD_SETS)
    wanted = {name.strip() for name in value.split(",") if name.strip()}
    unknown = sorted(wanted - set(CRD_SETS))
    if unknown or not wanted:
        raise ClusterError(
            f"LOCALCLUSTER_CRDS: {f'unknown CRD set {unknown[0]!r}' if unknown else 'no CRD set'}; "
            f"use a comma-separated list of {', '.join(CRD_SETS)}"
        )
    istio = sorted(name for name in wanted if CRD_SETS[name][0] == "istio.io/api")
    if len(istio) > 1:
        raise ClusterError(f"LOCALCLUSTER_CRDS: {' and '.join(istio)} are the same CRDs of two releases; choose one")
    return [name for name in CRD_SETS if name in wanted]


def _audit_level_from_env() -> str:
    """$LOCALCLUSTER_AUDIT: what the audit log records of each write (unset or empty: Metadata)."""
    value = os.environ.get("LOCALCLUSTER_AUDIT", "").strip() or "Metadata"
    if value not in AUDIT_LEVELS:
        raise ClusterError(f"LOCALCLUSTER_AUDIT={value!r}: use {' or '.join(AUDIT_LEVELS)}")
    return value


def _latency_from_env() -> int:
    """$LATENCY_MS: milliseconds added per round trip on the main contexts (unset or empty: 0)."""
    value = os.environ.get("LATENCY_MS", "").strip()
    if not value:
        return 0
    if not value.isdigit():
        raise ClusterError(f"LATENCY_MS={value!r} is not a whole number of milliseconds")
    return int(value)


# --------------------------------------------------------------------------
# One cluster's files


@dataclass
class Cluster:
    name: str

    @property
    def dir(self) -> Path:
        return STATE / self.name

    @property
    def info_file(self) -> Path:
        return self.dir / "cluster.json"

    @property
    def pid_file(self) -> Path:
        return self.dir / "kube-apiserver.pid"

    @property
    def audit_log(self) -> Path:
        return self.dir / "audit.log"

    def info(self) -> dict:
        if not self.info_file.exists():
            raise ClusterError(f"cluster {self.name} has never been started: run `make cluster-up`")
        return json.loads(self.info_file.read_text())

    def pid(self) -> int | None:
        """The pid of the API server we started, or None (stale pid files are removed)."""
        try:
            pid = int(self.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        if _is_ours(pid, self.dir):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None


def _is_ours(pid: int, cluster_dir: Path) -> bool:
    """True only for a live kube-apiserver started for this cluster directory.

    A pid file can outlive its process and the pid can be reused by anything,
    so the command line must name our binary and our data directory.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return (
        bool(cmdline)
        and cmdline[0].endswith(b"kube-apiserver")
        and f"--embedded-etcd-dir={cluster_dir / 'etcd'}".encode() in cmdline
    )


def _wait_exited(pid: int, timeout: float | None = None) -> bool:
    """Wait until a process we signalled has closed everything; False on timeout.

    Not `_is_ours`: an exiting process's command line reads empty once its memory
    is released, before its sockets close, and a restart must find its ports
    free. Nor the leader's zombie state alone: kube-apiserver's other threads
    still hold the sockets until each of them has exited.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
            threads = [task.name for task in Path(f"/proc/{pid}/task").iterdir()]
        except OSError:
            return True
        if state in ("Z", "X") and threads in ([], [str(pid)]):
            return True
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _choose_ports(count: int, avoid: set[int]) -> list[int]:
    """Free loopback ports below the kernel's ephemeral range.

    Outgoing connections take ephemeral ports, kube-apiserver's own to its
    embedded etcd among them; one landing on the secure port before the server
    listens on it fails the start. Ports outside that range are never handed out
    that way, so only another listener can take them.
    """
    low, high = _ephemeral_range()
    pool = range(10000, low) if low > 11000 else range(high + 1, 65536)
    chosen: list[int] = []
    for port in random.SystemRandom().sample(pool, k=min(len(pool), 500)):
        if port not in avoid and not _port_busy(port):
            chosen.append(port)
            if len(chosen) == count:
                return sorted(chosen)
    raise ClusterError(f"no {count} free loopback ports outside the ephemeral range {low}-{high}")


def _ports_of_other_clusters(name: str) -> set[int]:
    """Ports recorded for other clusters, their proxies and toxiproxy: taken even while they are stopped."""
    ports: set[int] = set()
    for info_file in STATE.glob("*/cluster.json"):
        if info_file.parent.name != name:
            info = json.loads(info_file.read_text())
            ports.update(info["ports"].values())
            ports.add(info.get("proxy_port", 0))
    if TOXIPROXY_INFO.exists():
        ports.add(json.loads(TOXIPROXY_INFO.read_text())["port"])
    return ports


def _save(cluster: Cluster, info: dict) -> dict:
    cluster.info_file.write_text(json.dumps(info, indent=2) + "\n")
    cluster.info_file.chmod(0o600)
    return info


def _assign_ports(cluster: Cluster, info: dict) -> dict:
    """Give a cluster new ports, keep the rest of its state, and save it."""
    avoid = _ports_of_other_clusters(cluster.name) | set(info.get("ports", {}).values()) | {info.get("proxy_port", 0)}
    api, etcd_client, etcd_peer = _choose_ports(3, avoid)
    info = {
        **info,
        "server": f"https://127.0.0.1:{api}",
        "ports": {"apiserver": api, "etcd_client": etcd_client, "etcd_peer": etcd_peer},
    }
    return _save(cluster, info)


def _port_busy(port: int) -> bool:
    with socket.socket() as sock:
        # As Go's listeners do: connections of a stopped server lingering in
        # TIME_WAIT do not keep its successor from listening.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _write_pki(cluster_dir: Path) -> None:
    """A CA, a serving certificate for 127.0.0.1 and a service-account key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    valid = (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=365))

    def pem_key(key) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"localcluster-ca-{cluster_dir.name}")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    sa_key = ec.generate_private_key(ec.SECP256R1())

    pki = cluster_dir / "pki"
    pki.mkdir(mode=0o700, parents=True, exist_ok=True)
    (pki / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (pki / "apiserver.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (pki / "apiserver.key").write_bytes(pem_key(key))
    (pki / "sa.key").write_bytes(pem_key(sa_key))
    (pki / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _prepare(cluster: Cluster) -> dict:
    """First start: ports, PKI, tokens, audit policy, CRD sets and latency. Later starts reuse them."""
    if cluster.info_file.exists():
        return cluster.info()
    # Before anything is written, so a typo leaves no half-made cluster behind.
    crds, latency_ms, audit_level = _crd_sets_from_env(), _latency_from_env(), _audit_level_from_env()
    cluster.dir.mkdir(parents=True, exist_ok=True)
    _write_pki(cluster.dir)
    tokens = {user: secrets.token_hex(24) for user in USERS}
    lines = [
        f'{tokens[user]},{user},{user},"{group}"' if group else f"{tokens[user]},{user},{user}"
        for user, group in USERS.items()
    ]
    token_file = cluster.dir / "tokens.csv"
    token_file.write_text("\n".join(lines) + "\n")
    token_file.chmod(0o600)
    (cluster.dir / "audit-policy.yaml").write_text(AUDIT_POLICY.format(level=audit_level))
    info = _assign_ports(
        cluster,
        {
            "name": cluster.name,
            "ca_file": str(cluster.dir / "pki" / "ca.crt"),
            "tokens": tokens,
            "audit_log": str(cluster.audit_log),
            "crds": crds,
            "latency_ms": latency_ms,
            "audit_level": audit_level,
        },
    )
    return _assign_proxy_port(cluster, info)


def _assign_proxy_port(cluster: Cluster, info: dict) -> dict:
    """Give a cluster's proxy a new port and save it."""
    avoid = _ports_of_other_clusters(cluster.name) | set(info["ports"].values()) | {info.get("proxy_port", 0)}
    return _save(cluster, {**info, "proxy_port": _choose_ports(1, avoid)[0]})


def _apiserver_args(cluster: Cluster, info: dict) -> list[str]:
    d, ports, pki = cluster.dir, info["ports"], cluster.dir / "pki"
    etcd = f"http://127.0.0.1:{ports['etcd_client']}"
    return [
        str(BIN / "kube-apiserver"),
        f"--embedded-etcd-dir={d / 'etcd'}",
        f"--embedded-etcd-client-url={etcd}",
        f"--embedded-etcd-peer-url=http://127.0.0.1:{ports['etcd_peer']}",
        f"--etcd-servers={etcd}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={ports['apiserver']}",
        f"--cert-dir={pki}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--token-auth-file={d / 'tokens.csv'}",
        "--authorization-mode=RBAC",
        "--service-cluster-ip-range=10.96.0.0/24",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        f"--audit-policy-file={d / 'audit-policy.yaml'}",
        f"--audit-log-path={cluster.audit_log}",
        "--audit-log-format=json",
        "--audit-log-maxsize=0",
        # No controller-manager runs; the kubernetes Service endpoints need no upkeep.
        "--endpoint-reconciler-type=none",
        "--profiling=false",
    ]


def _spawn(cluster: Cluster, info: dict) -> subprocess.Popen:
    busy = [f"{role} port {port}" for role, port in info["ports"].items() if _port_busy(port)]
    if busy:
        raise ClusterError(
            f"cluster {cluster.name}: {', '.join(busy)} on 127.0.0.1 is in use by another "
            f"process; free it or delete {cluster.dir} to choose new ports"
        )
    log = open(cluster.dir / "kube-apiserver.log", "ab")  # pylint: disable=consider-using-with
    process = subprocess.Popen(
        _apiserver_args(cluster, info),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=cluster.dir,
    )
    log.close()
    cluster.pid_file.write_text(f"{process.pid}\n")
    return process


def _request(info: dict, path: str, timeout: float = 5.0) -> tuple[int, str]:
    context = ssl.create_default_context(cafile=info["ca_file"])
    request = urllib.request.Request(
        info["server"] + path, headers={"Authorization": f"Bearer {info['tokens']['admin']}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


def _wait_ready(cluster: Cluster, info: dict, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer yet"
    while time.monotonic() < deadline:
        # The Popen handle, not the pid file: right after the fork the child's
        # command line is still ours, not kube-apiserver's.
        if process.poll() is not None:
            tail = _log_tail(cluster)
            error = PortTakenError if "address already in use" in tail else ClusterError
            raise error(f"kube-apiserver of {cluster.name} exited during start: {tail}")
        try:
            status, body = _request(info, "/readyz", timeout=2)
            if status == 200:
                return
            last = f"/readyz answered {status}: {body.strip().splitlines()[-1] if body.strip() else ''}"
        except (OSError, ssl.SSLError) as err:
            last = str(err)
        time.sleep(0.25)
    raise ClusterError(
        f"cluster {cluster.name} not ready after {READY_TIMEOUT:.0f}s ({last}); "
        f"see {cluster.dir / 'kube-apiserver.log'}"
    )


def _log_tail(cluster: Cluster) -> str:
    try:
        lines = (cluster.dir / "kube-apiserver.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    errors = [line for line in lines if "already in use" in line or line.startswith(("E", "F", "Error"))]
    return (errors or lines or ["no log"])[-1][:300]


def kubectl(cluster: str, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run our kubectl against one cluster as admin."""
    return subprocess.run(
        [str(BIN / "kubectl"), f"--kubeconfig={KUBECONFIG}", f"--context={cluster}", *args],
        capture_output=True,
        text=True,
        check=check,
        **kwargs,
    )


def _install_crds(cluster: Cluster, info: dict) -> None:
    """The cluster's CRD sets, Established, and the istio-system namespace. Idempotent.

    One apply for all files, straight to the API server (a LATENCY_MS proxy
    would only slow the start down), then one wait. A restart skips the apply
    when the same files were applied before and all their CRDs are Established.
    """
    files = [str(path) for path in crd_files(info.get("crds", DEFAULT_CRD_SETS))]
    applied = info.get("crds_applied", {})
    if applied.get("files") != files or _not_established(cluster, info, applied["names"]):
        args = ["apply", "--server-side", "--force-conflicts", "-o", "name", *(f"-f={path}" for path in files)]
        result = kubectl(cluster.name, f"--server={info['server']}", *args, check=False)
        if result.returncode != 0:
            raise ClusterError(f"cluster {cluster.name}: kubectl apply failed: {result.stderr.strip()}")
        names = sorted(line.split("/", 1)[1] for line in result.stdout.split())
        deadline = time.monotonic() + 60
        while missing := _not_established(cluster, info, names):
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"cluster {cluster.name}: {len(missing)} CRDs not Established after 60s, {missing[0]} among them"
                )
            time.sleep(0.1)
        _save(cluster, {**info, "crds_applied": {"files": files, "names": names}})
    result = kubectl(cluster.name, f"--server={info['server']}", "create", "namespace", "istio-system", check=False)
    if result.returncode != 0 and "AlreadyExists" not in result.stderr:
        raise ClusterError(f"cluster {cluster.name}: kubectl create failed: {result.stderr.strip()}")


def _not_established(cluster: Cluster, info: dict, names: list[str]) -> list[str]:
    """The named CRDs that are missing or not Established, from one list request.

    One request instead of `kubectl wait`, which takes about 0.1 s per object.
    """
    status, body = _request(info, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", timeout=30)
    if status != 200:
        raise ClusterError(f"cluster {cluster.name}: listing CRDs answered {status}: {body.strip()[:200]}")
    established = {
        crd["metadata"]["name"]
        for crd in json.loads(body)["items"]
        if any(
            condition["type"] == "Established" and condition["status"] == "True"
            for condition in (crd.get("status") or {}).get("conditions") or []
        )
    }
    return [name for name in names if name not in established]


def _write_kubeconfig() -> None:
    """Two contexts per cluster ever started (running or not): `<name>`, and `<name>-proxied` through its proxy.

    `<name>` goes straight to the API server, or through the proxy too when the
    cluster was created with LATENCY_MS. The proxy passes TLS through, so both
    check the same serving certificate (for 127.0.0.1).
    """
    clusters, users, contexts = [], [], []
    for info_file in sorted(STATE.glob("*/cluster.json")):
        info = json.loads(info_file.read_text())
        name = info["name"]
        ca = base64.b64encode(Path(info["ca_file"]).read_bytes()).decode()
        proxied = proxied_server(info)
        servers = {name: proxied if proxied and info.get("latency_ms") else info["server"]}
        if proxied:
            servers[f"{name}-proxied"] = proxied
        users.append({"name": f"{name}-admin", "user": {"token": info["tokens"]["admin"]}})
        for context, server in servers.items():
            clusters.append({"name": context, "cluster": {"server": server, "certificate-authority-data": ca}})
            contexts.append({"name": context, "context": {"cluster": context, "user": f"{name}-admin"}})
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": contexts[0]["name"] if contexts else "",
    }
    KUBECONFIG.parent.mkdir(parents=True, exist_ok=True)
    tmp = KUBECONFIG.with_suffix(".tmp")
    tmp.write_text(json.dumps(config, indent=2) + "\n")
    tmp.chmod(0o600)
    tmp.rename(KUBECONFIG)


# --------------------------------------------------------------------------
# toxiproxy: a network between clients and the API servers


class ToxiproxyError(ClusterError):
    """toxiproxy's API refused a request."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def proxied_server(info: dict) -> str | None:
    """A cluster's API server through its proxy (None while its state predates proxies: its next start adds one)."""
    return f"https://127.0.0.1:{info['proxy_port']}" if info.get("proxy_port") else None


def _is_our_toxiproxy(pid: int) -> bool:
    """True only for a live toxiproxy-server started for this state directory (its working directory)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return cmdline[0].endswith(b"toxiproxy-server") and cwd == STATE.resolve()


def toxiproxy_pid() -> int | None:
    """The pid of our toxiproxy server, or None (a stale pid file is removed)."""
    try:
        pid = int(TOXIPROXY_PID.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if _is_our_toxiproxy(pid):
        return pid
    TOXIPROXY_PID.unlink(missing_ok=True)
    return None


def _toxiproxy_port() -> int:
    try:
        return json.loads(TOXIPROXY_INFO.read_text())["port"]
    except FileNotFoundError:
        raise ClusterError("toxiproxy has never been started: run `make cluster-up`") from None


# Loopback only: an HTTP proxy from the environment must not see these calls.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _toxiproxy(method: str, path: str, body: dict | None = None, port: int | None = None):
    """One call to toxiproxy's HTTP API: its JSON answer, or a ToxiproxyError."""
    port = port or _toxiproxy_port()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with _DIRECT.open(request, timeout=10) as response:
            text = response.read()
    except urllib.error.HTTPError as err:
        answer = err.read().decode(errors="replace").strip()
        try:
            answer = json.loads(answer)["error"]
        except (ValueError, KeyError, TypeError):
            pass
        raise ToxiproxyError(err.code, f"toxiproxy refused {method} {path}: {answer}") from None
    except OSError as err:
        raise ClusterError(
            f"toxiproxy does not answer on port {port} ({err}): run `make cluster-up`, or see {TOXIPROXY_LOG}"
        ) from None
    return json.loads(text) if response.headers.get_content_type() == "application/json" else text.decode()


def _start_toxiproxy() -> int:
    """Start our toxiproxy server unless it runs; return its API port."""
    if toxiproxy_pid() is not None:
        return _toxiproxy_port()
    port = _toxiproxy_port() if TOXIPROXY_INFO.exists() else 0
    for attempt in range(1, PORT_ATTEMPTS + 1):
        if not port or _port_busy(port):
            port = _choose_ports(1, _ports_of_other_clusters(""))[0]
        TOXIPROXY_INFO.write_text(json.dumps({"port": port}) + "\n")
        log = open(TOXIPROXY_LOG, "ab")  # pylint: disable=consider-using-with
        # Errors only: at info level it logs every connection, and a normal close as a warning.
        process = subprocess.Popen(
            [str(BIN / "toxiproxy-server"), "-host=127.0.0.1", f"-port={port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=STATE,
            env={**os.environ, "LOG_LEVEL": "error"},
        )
        log.close()
        TOXIPROXY_PID.write_text(f"{process.pid}\n")
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            try:
                _toxiproxy("GET", "/version", port=port)
                return port
            except ClusterError:
                time.sleep(0.05)
        if process.poll() is None:
            _stop_toxiproxy()
            raise ClusterError(f"toxiproxy did not answer on port {port} within 10s; see {TOXIPROXY_LOG}")
        tail = (TOXIPROXY_LOG.read_text(errors="replace").strip().splitlines() or ["no log"])[-1][:300]
        if "address already in use" not in tail or attempt == PORT_ATTEMPTS:
            raise ClusterError(f"toxiproxy exited during start: {tail}")
        port = 0
    raise AssertionError("unreachable")


def _stop_toxiproxy(timeout: float = 10.0) -> bool:
    """Stop our toxiproxy server, if it runs, and wait until it has closed its sockets."""
    pid = toxiproxy_pid()
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    if not _wait_exited(pid, timeout):
        os.killpg(pid, signal.SIGKILL)
        _wait_exited(pid)
    TOXIPROXY_PID.unlink(missing_ok=True)
    return True


def _proxy(name: str) -> dict | None:
    try:
        return _toxiproxy("GET", f"/proxies/{name}")
    except ToxiproxyError as err:
        if err.status == 404:
            return None
        raise


def _ensure_proxy(cluster: Cluster) -> None:
    """Create or repair a cluster's proxy: on its port, upstream its API server, with its LATENCY_MS."""
    info = cluster.info()
    upstream = info["server"].removeprefix("https://")
    for attempt in range(1, PORT_ATTEMPTS + 1):
        if not info.get("proxy_port"):
            info = _assign_proxy_port(cluster, info)
        listen = f"127.0.0.1:{info['proxy_port']}"
        current = _proxy(cluster.name)
        if current and current["enabled"] and current["listen"] == listen:
            if current["upstream"] != upstream:
                # The API server moved to new ports: follow it, keeping the toxics.
                _toxiproxy("POST", f"/proxies/{cluster.name}", {"upstream": upstream})
            break
        if current:
            _toxiproxy("DELETE", f"/proxies/{cluster.name}")
        if _port_busy(info["proxy_port"]):
            info = _assign_proxy_port(cluster, info)
            listen = f"127.0.0.1:{info['proxy_port']}"
        try:
            _toxiproxy("POST", "/proxies", {"name": cluster.name, "listen": listen, "upstream": upstream})
            break
        except ToxiproxyError as err:
            # Free at our check, taken at the bind: choose another port.
            if "address already in use" not in str(err) or attempt == PORT_ATTEMPTS:
                raise
            info = _assign_proxy_port(cluster, info)
    _put_latency(cluster.name, BASE_LATENCY, info.get("latency_ms", 0))


# Toxics named after LATENCY_MS belong to the cluster; Toxics.clear() keeps them.
BASE_LATENCY = "LATENCY_MS"
STREAMS = ("upstream", "downstream")


def _put_toxic(proxy: str, name: str, kind: str, stream: str, attributes: dict, toxicity: float = 1.0) -> None:
    try:
        _toxiproxy(
            "POST",
            f"/proxies/{proxy}/toxics",
            {"name": name, "type": kind, "stream": stream, "attributes": attributes, "toxicity": toxicity},
        )
    except ToxiproxyError as err:
        if err.status != 409:
            raise
        _toxiproxy("POST", f"/proxies/{proxy}/toxics/{name}", {"attributes": attributes, "toxicity": toxicity})


def _put_latency(proxy: str, prefix: str, ms: int) -> None:
    """ms per round trip, half each way (0: none): a real link's round trip is two one-way delays."""
    present = {toxic["name"] for toxic in _toxiproxy("GET", f"/proxies/{proxy}/toxics")}
    for stream, share in zip(STREAMS, (ms // 2, ms - ms // 2)):
        name = f"{prefix}-{stream}"
        if share:
            _put_toxic(proxy, name, "latency", stream, {"latency": share, "jitter": 0})
        elif name in present:
            _toxiproxy("DELETE", f"/proxies/{proxy}/toxics/{name}")


class Toxics:
    """Faults on one cluster's proxy, through toxiproxy's HTTP API.

    They act on every connection through the proxy: the `<name>-proxied`
    context's always, the `<name>` context's when the cluster has LATENCY_MS.
    As a context manager it clears them on exit. toxiproxy stops, forgetting
    them, when the last cluster stops.
    """

    def __init__(self, cluster: str):
        self.cluster = cluster

    def latency(self, ms: int) -> Toxics:
        """Add ms per round trip, half on the way to the API server and half on the way back."""
        _put_latency(self.cluster, "latency", ms)
        return self

    def reset_peer(self, after_ms: int = 0, toxicity: float = 1.0) -> Toxics:
        """Reset connections (TCP RST) after_ms after data first flows; `toxicity`: the share of connections it hits."""
        return self._both_ways("reset_peer", {"timeout": after_ms}, toxicity)

    def timeout(self, ms: int, toxicity: float = 1.0) -> Toxics:
        """Let no data through; close connections after ms without data (0: never); `toxicity` as for reset_peer."""
        return self._both_ways("timeout", {"timeout": ms}, toxicity)

    def clear(self) -> Toxics:
        """Remove the toxics set here; the cluster's LATENCY_MS latency stays."""
        for toxic in self.active():
            if not toxic["name"].startswith(f"{BASE_LATENCY}-"):
                _toxiproxy("DELETE", f"/proxies/{self.cluster}/toxics/{toxic['name']}")
        return self

    def active(self) -> list[dict]:
        """The toxics on the proxy now, as toxiproxy lists them."""
        try:
            return _toxiproxy("GET", f"/proxies/{self.cluster}/toxics")
        except ToxiproxyError as err:
            if err.status == 404:
                raise ClusterError(f"cluster {self.cluster} has no proxy: start it with `make cluster-up`") from None
            raise

    def _both_ways(self, kind: str, attributes: dict, toxicity: float = 1.0) -> Toxics:
        for stream in STREAMS:
            _put_toxic(self.cluster, f"{kind}-{stream}", kind, stream, attributes, toxicity)
        return self

    def __enter__(self) -> Toxics:
        return self

    def __exit__(self, *exc_info) -> None:
        self.clear()


def _describe_toxics(toxics: list[dict]) -> str:
    """'latency 20 ms (LATENCY_MS), reset_peer': one entry per toxic set, both directions together."""
    entries: dict[tuple[str, str], int] = {}
    for toxic in toxics:
        stem, kind = toxic["name"].rsplit("-", 1)[0], toxic["type"]
        value = toxic["attributes"].get("latency" if kind == "latency" else "timeout", 0)
        key = (kind, "" if stem == kind else f" ({stem})")
        entries[key] = entries.get(key, 0) + value if kind == "latency" else value
    return (
        ", ".join(f"{kind}{f' {value} ms' if value else ''}{source}" for (kind, source), value in entries.items())
        or "none"
    )


# --------------------------------------------------------------------------
# Commands


def names_from(args: list[str] | None) -> list[str]:
    names = args or os.environ.get("CLUSTERS", DEFAULT_CLUSTERS).split()
    for name in names:
        if not name.replace("-", "").isalnum() or not name[0].isalpha() or len(name) > 40:
            raise ClusterError(
                f"{name!r} is not a valid cluster name (letters, digits and '-', starting with a letter)"
            )
    return names


def start(names: list[str]) -> list[str]:
    """Start the named clusters that are not running, and the proxies of all; return the ones started."""
    build()
    clusters = [Cluster(name) for name in names]
    to_start = [c for c in clusters if c.pid() is None]
    infos = {c.name: _prepare(c) for c in to_start}
    _start_toxiproxy()
    _write_kubeconfig()
    processes = {cluster.name: _spawn(cluster, infos[cluster.name]) for cluster in to_start}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(to_start))) as pool:
        futures = [pool.submit(_ready_and_installed, c, infos[c.name], processes[c.name]) for c in to_start]
        errors = [f.exception() for f in futures if f.exception()]
    if errors:
        raise errors[0]
    # After the API servers: one that moved to new ports has its final upstream now.
    for cluster in clusters:
        _ensure_proxy(cluster)
    _write_kubeconfig()
    return [c.name for c in to_start]


# Threads that move a cluster to new ports must not choose the same ones or
# write the kubeconfig at the same time.
_PORTS_LOCK = threading.Lock()


def _ready_and_installed(cluster: Cluster, info: dict, process: subprocess.Popen) -> None:
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            _wait_ready(cluster, info, process)
            break
        except PortTakenError:
            # Free at our check, taken at the bind: another process won the race.
            if attempt == PORT_ATTEMPTS:
                raise
            with _PORTS_LOCK:
                info = _assign_ports(cluster, info)
                _write_kubeconfig()
            process = _spawn(cluster, info)
    _install_crds(cluster, info)


def up(names: list[str]) -> None:
    started_at = time.monotonic()
    running = [n for n in names if Cluster(n).pid() is not None]
    started = start(names)
    if not started:
        print(f"already running: {' '.join(running)} (nothing to do); kubeconfig: {KUBECONFIG}")
    else:
        print(f"started {' '.join(started)} in {time.monotonic() - started_at:.1f}s; kubeconfig: {KUBECONFIG}")
    _note_kept_settings(names)


def _note_kept_settings(names: list[str]) -> None:
    """Say so when LATENCY_MS or LOCALCLUSTER_CRDS ask for what an existing cluster was not created with."""
    for name in names:
        info = Cluster(name).info()
        kept = []
        if os.environ.get("LATENCY_MS", "").strip() and _latency_from_env() != info.get("latency_ms", 0):
            kept.append(f"LATENCY_MS={info.get('latency_ms', 0)}")
        if os.environ.get("LOCALCLUSTER_CRDS", "").strip() and _crd_sets_from_env() != info.get(
            "crds", list(DEFAULT_CRD_SETS)
        ):
            kept.append(f"LOCALCLUSTER_CRDS={','.join(info.get('crds', DEFAULT_CRD_SETS))}")
        if kept:
            print(
                f"note: {name} keeps {' and '.join(kept)} from its creation; `make cluster-down` first to change that",
                file=sys.stderr,
            )


def stop(names: list[str], timeout: float = 20.0) -> list[str]:
    """Stop the API servers we started (and only those); keep their data."""
    stopped = []
    for cluster in map(Cluster, names):
        pid = cluster.pid()
        if pid is None:
            continue
        os.killpg(pid, signal.SIGTERM)
        if not _wait_exited(pid, timeout):
            os.killpg(pid, signal.SIGKILL)
            _wait_exited(pid)
        cluster.pid_file.unlink(missing_ok=True)
        stopped.append(cluster.name)
    # The proxies outlive one cluster's restart, not the last cluster.
    if not any(Cluster(info_file.parent.name).pid() for info_file in STATE.glob("*/cluster.json")):
        _stop_toxiproxy()
    return stopped


def kill(name: str) -> None:
    """SIGKILL one API server, as a crash would."""
    cluster = Cluster(name)
    pid = cluster.pid()
    if pid is None:
        raise ClusterError(f"cluster {name} is not running")
    os.killpg(pid, signal.SIGKILL)
    _wait_exited(pid)
    cluster.pid_file.unlink(missing_ok=True)


def down(names: list[str] | None) -> None:
    """Stop clusters and delete their state. Without names: every cluster in .localcluster."""
    if names is None:
        names = sorted(p.parent.name for p in STATE.glob("*/cluster.json"))
    stopped = stop(names)
    for name in names:
        if toxiproxy_pid() is not None and _proxy(name):
            _toxiproxy("DELETE", f"/proxies/{name}")
        shutil.rmtree(Cluster(name).dir, ignore_errors=True)
    if not any(STATE.glob("*/cluster.json")):
        for path in (TOXIPROXY_INFO, TOXIPROXY_LOG):
            path.unlink(missing_ok=True)
    _write_kubeconfig()
    print(f"stopped {' '.join(stopped) or 'nothing (no cluster was running)'}")


def status() -> int:
    rows = 0
    toxiproxy = toxiproxy_pid()
    for info_file in sorted(STATE.glob("*/cluster.json")):
        cluster = Cluster(info_file.parent.name)
        info = cluster.info()
        pid = cluster.pid()
        state = "stopped"
        if pid is not None:
            try:
                code = _request(info, "/readyz", timeout=2)[0]
                state = "ready" if code == 200 else f"not ready ({code})"
            except (OSError, ssl.SSLError) as err:
                state = f"not answering ({err})"
            rss = _rss_mib(pid)
            state += f", pid {pid}, {rss:.0f} MiB"
        print(f"{cluster.name:12} {info['server']:28} {state}")
        print(f"  {'proxy':10} {proxied_server(info) or 'none yet':28} {_proxy_status(info, toxiproxy)}")
        rows += 1
    if not rows:
        print("no local clusters; start them with `make cluster-up`")
    if toxiproxy is not None:
        print(
            f"{'toxiproxy':12} {f'http://127.0.0.1:{_toxiproxy_port()}':28} "
            f"running, pid {toxiproxy}, {_rss_mib(toxiproxy):.0f} MiB"
        )
    elif rows:
        print(f"{'toxiproxy':12} {'':28} stopped")
    return 0


def _proxy_status(info: dict, toxiproxy: int | None) -> str:
    """'-> 127.0.0.1:PORT, toxics: ...', and whether the `<name>` context goes through it."""
    if toxiproxy is None:
        return "stopped with toxiproxy"
    try:
        proxy = _proxy(info["name"])
    except ClusterError as err:
        return str(err)
    if proxy is None:
        return "none: start the cluster to create it"
    via = f"; context {info['name']} goes through it" if info.get("latency_ms") else ""
    return f"-> {proxy['upstream']}, toxics: {_describe_toxics(proxy['toxics'])}{via}"


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "command", choices=["build", "up", "down", "stop", "start", "kill", "status", "crds", "simulation-copy"]
    )
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build()
        elif args.command == "crds":
            print("\n".join(map(str, crd_files(_crd_sets_from_env()))))
        elif args.command == "simulation-copy":
            refresh_simulation_copy()
        elif args.command == "up":
            up(names_from(args.names))
        elif args.command == "start":
            start(names_from(args.names))
        elif args.command == "down":
            down(names_from(args.names) if args.names else None)
        elif args.command == "stop":
            print(f"stopped {' '.join(stop(names_from(args.names))) or 'nothing'}")
        elif args.command == "kill":
            for name in names_from(args.names):
                kill(name)
        elif args.command == "status":
            return status()
    except ClusterError as err:
        print(f"localcluster: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
