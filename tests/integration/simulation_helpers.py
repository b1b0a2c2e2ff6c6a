# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Simulating what the role renders, on istiod's own config generation (the xDS harness).

Rendering is the role's (render mode: playbooks/render.yml over an inventory,
or the role with the test's variables); the mesh around it is modelled here as
tests/integration/role_helpers.egress_gateway models it on the local clusters,
and in ambient mode by the collection's waypoint model and RBAC evaluation
(plugins/plugin_utils/simulation/waypoint.py, rbac.py), which the runbook uses
too; the expectations come from real boto3 clients (sdk_capture.py) and the
variables, never from the collection's code.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import sdk_capture
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import harness, manifests, rbac, waypoint
from conftest import ANSIBLE_PLAYBOOK, ansible_env
from role_helpers import run_role

ROOT = Path(__file__).resolve().parents[2]
ROLE_DEFAULTS = yaml.safe_load((ROOT / "roles" / "istio_aws_egress" / "defaults" / "main.yml").read_text())
RENDER_INVENTORY = ROOT / "tests" / "integration" / "playbooks" / "simulation" / "render_inventory.yml"
ISTIO_VERSION = "1.30.0"

PUBLIC_IP = "52.94.0.1"
GATEWAY_IP = "10.0.1.5"
# role_helpers.egress_gateway_service: each Service port goes to port + 8000 on the pod.
GATEWAY_TARGET_PORT = 8443
UNLISTED = "unlisted-app"
# Link-local credential endpoints (egress-facts.md), by credential source.
CREDENTIAL_IPS = {
    "imds": "169.254.169.254",
    "imds_ipv6": "fd00:ec2::254",
    "eks_pod_identity": "169.254.170.23",
    "eks_pod_identity_ipv6": "fd00:ec2::23",
    "ecs": "169.254.170.2",
}
NON_AWS_HOST = "example.com"
OTHER_SERVICES = ("ec2", "sns", "lambda")
OTHER_REGIONS = ("sa-east-1", "ca-central-1")
OTHER_BUCKET = "not-our-bucket"
OTHER_ACCOUNT = "999988887777"

BLACK_HOLE = ("BlackHoleCluster", "STATIC", ())
BLOCK_ALL = ("virtual host", "block_all")
NO_CHAIN = ("error", "no filter chains matched")


class AnyOf(tuple):
    """Any one of several expectations."""


# An HTTP call nothing admits: the sidecar's own 502 where a listener serves its port, the black hole where none does.
HTTP_BLACK_HOLED = AnyOf((BLACK_HOLE, BLOCK_ALL))


def dns(host: str) -> tuple:
    return (f"outbound|443||{host}", "STRICT_DNS", (f"{host}:443",))


def original_dst(pattern: str) -> tuple:
    return (f"outbound|443||{pattern}", "ORIGINAL_DST", ())


def to_gateway(service_host: str) -> tuple:
    """The egress gateway's subset cluster (any subset name) with the gateway pod as its endpoint."""
    return (
        re.compile(rf"outbound\|443\|[^|]+\|{re.escape(service_host)}"),
        "EDS",
        (f"{GATEWAY_IP}:{GATEWAY_TARGET_PORT}",),
    )


def link_local(ip: str) -> tuple:
    shown = f"[{ip}]" if ":" in ip else ip
    return (re.compile(r"outbound\|80\|\|.+"), "EDS", (f"{shown}:80",))


def in_mesh(host: str, port: int, endpoint: str) -> tuple:
    return (f"outbound|{port}||{host}", "EDS", (endpoint,))


def docs(*objects: dict) -> str:
    """The objects as one YAML stream, as a harness request takes them."""
    return manifests.to_yaml(list(objects))


def seen(result: dict) -> tuple:
    """What a call did, in the shape of the expectations above."""
    if result["error"]:
        return ("error", result["error"])
    if not result["cluster"]:
        return ("virtual host", result["virtual_host"])
    return (result["cluster"], result["cluster_type"], tuple(result["endpoints"]))


def _matches(expected, actual) -> bool:
    if isinstance(expected, AnyOf):
        return any(_matches(e, actual) for e in expected)
    if len(expected) != len(actual):
        return False
    return all(
        e.fullmatch(a) if isinstance(e, re.Pattern) and isinstance(a, str) else e == a for e, a in zip(expected, actual)
    )


# --------------------------------------------------------------------------
# Rendering


@dataclass
class Rendered:
    """The role's variables (its defaults where not given) and the objects it rendered."""

    variables: dict
    objects: list

    def of_kind(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind]


def istio_config(objects: list[dict]) -> list[dict]:
    """What istiod reads of the rendered objects: all but the network policies, which only the CNI enforces."""
    cni = {"NetworkPolicy", "CiliumNetworkPolicy"}
    assert all(
        o["apiVersion"].split("/")[0].endswith(("istio.io", "gateway.networking.k8s.io"))
        for o in objects
        if o["kind"] not in cni
    )
    return [o for o in objects if o["kind"] not in cni]


def _load(directory: Path) -> list[dict]:
    objects = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return objects


def render_inventory(inventory: str, out: Path) -> dict[str, Rendered]:
    """Every host of inventories/<inventory>, rendered as playbooks/render.yml does, with its resolved variables."""
    result = subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            str(ROOT / "inventories" / inventory),
            str(RENDER_INVENTORY),
            "-e",
            json.dumps({"render_dir": str(out), "render_offline": True, "variable_names": sorted(ROLE_DEFAULTS)}),
        ],
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, f"rendering {inventory} failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    rendered = {}
    for variables_file in sorted(out.glob("*.variables.json")):
        host = variables_file.name.removesuffix(".variables.json")
        given = json.loads(variables_file.read_text())
        variables = {
            name: ROLE_DEFAULTS[name] if given.get(name) == "__undefined__" else given[name] for name in ROLE_DEFAULTS
        }
        rendered[host] = Rendered(variables, _load(out / host))
    return rendered


def render_role(tmp_path: Path, variables: dict) -> Rendered:
    """The role in render mode with `variables` (no cluster, no kubeconfig)."""
    out = tmp_path / f"rendered-{len(list(tmp_path.glob('rendered-*')))}"
    run_role(
        None,
        {
            "istio_aws_egress_render_dir": str(out),
            "istio_aws_egress_kubeconfig": str(tmp_path / "no-kubeconfig"),
            "istio_aws_egress_context": "nowhere",
            **variables,
        },
        tmp_path,
    ).assert_ok()
    return Rendered({**ROLE_DEFAULTS, **variables}, _load(out))


# --------------------------------------------------------------------------
# The mesh around it


def ready_pod(namespace: str, name: str, labels: dict, ip: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "app"}]},
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def endpoint_slice(namespace: str, service: str, pod: str, ip: str, ports: list[dict]) -> dict:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": f"{service}-1", "namespace": namespace, "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "ports": ports,
        "endpoints": [
            {
                "addresses": [ip],
                "conditions": {"ready": True},
                "targetRef": {"kind": "Pod", "name": pod, "namespace": namespace},
            }
        ],
    }


def gateway_kubernetes(
    namespace: str = "istio-system",
    service: str = "istio-egressgateway",
    selector: dict | None = None,
    pod_labels: dict | None = None,
) -> list[dict]:
    """The egress gateway as role_helpers.egress_gateway installs it (80 -> 8080, 443 -> 8443), with a ready pod.

    The pod has no security.istio.io/tlsMode label unless `pod_labels` give it, as Istio's gateway charts run it:
    the sidecar sends the application's own TLS, which the gateway's passthrough listener matches by SNI.
    """
    selector = selector or {"istio": "egressgateway"}
    ports = [
        {"name": "http2", "port": 80, "targetPort": 8080, "protocol": "TCP"},
        {"name": "https", "port": 443, "targetPort": GATEWAY_TARGET_PORT, "protocol": "TCP"},
    ]
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": service, "namespace": namespace, "labels": selector},
            "spec": {"clusterIP": "10.96.0.50", "selector": selector, "ports": ports},
        },
        ready_pod(namespace, f"{service}-0", {**selector, **(pod_labels or {})}, GATEWAY_IP),
        endpoint_slice(
            namespace,
            service,
            f"{service}-0",
            GATEWAY_IP,
            [{"name": p["name"], "port": p["targetPort"], "protocol": "TCP"} for p in ports],
        ),
    ]


@dataclass(frozen=True)
class MeshService:
    namespace: str
    name: str
    cluster_ip: str
    pod_ip: str
    port: int = 8080

    @property
    def host(self) -> str:
        return f"{self.name}.{self.namespace}.svc.cluster.local"

    def objects(self) -> list[dict]:
        labels = {"app": self.name}
        return [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": {
                    "clusterIP": self.cluster_ip,
                    "selector": labels,
                    "ports": [{"name": "http", "port": self.port, "targetPort": self.port}],
                },
            },
            ready_pod(self.namespace, f"{self.name}-1", labels, self.pod_ip),
            endpoint_slice(
                self.namespace,
                self.name,
                f"{self.name}-1",
                self.pod_ip,
                [{"name": "http", "port": self.port, "protocol": "TCP"}],
            ),
        ]

    def expected(self) -> tuple:
        return in_mesh(self.host, self.port, f"{self.pod_ip}:{self.port}")


# --------------------------------------------------------------------------
# One harness request


@dataclass
class Simulation:
    """Proxies and calls for one harness request, with the expectation of every call."""

    config: list
    kubernetes: list = field(default_factory=list)
    policy: str = "REGISTRY_ONLY"
    istiod_env: dict = field(default_factory=dict)
    proxies: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    expected: dict = field(default_factory=dict)
    response: dict | None = None

    def sidecar(self, namespace: str) -> str:
        key = f"sidecar/{namespace}"
        self.proxies[key] = {"type": "sidecar", "namespace": namespace, "ips": [f"10.0.0.{len(self.proxies) + 10}"]}
        return key

    def gateway(self, namespace: str = "istio-system", selector: dict | None = None) -> str:
        self.proxies["gateway"] = {
            "type": "router",
            "namespace": namespace,
            "labels": selector or {"istio": "egressgateway"},
            "ips": [GATEWAY_IP],
        }
        return "gateway"

    def waypoint(self, namespace: str, name: str) -> str:
        self.proxies["waypoint"] = waypoint.Waypoint(namespace, name).proxy
        return "waypoint"

    def tls(
        self, proxy: str, sni: str, expected: tuple, port: int = 443, address: str | None = None, tag: str = ""
    ) -> str:
        address = address or (GATEWAY_IP if self.proxies[proxy]["type"] == "router" else PUBLIC_IP)
        return self._call(
            {"proxy": proxy, "address": address, "port": port, "protocol": "tcp", "tls": True, "sni": sni},
            f"{proxy} tls {sni}:{port}{tag}",
            expected,
        )

    def http(self, proxy: str, host: str, address: str, port: int, expected: tuple) -> str:
        return self._call(
            {"proxy": proxy, "address": address, "port": port, "protocol": "http", "host": host},
            f"{proxy} http {host}:{port}",
            expected,
        )

    def _call(self, call: dict, call_id: str, expected: tuple | None) -> str:
        """`expected` None: the route is not judged (the caller judges the policy instead)."""
        self.calls.append({"id": call_id, **call})
        self.expected[call_id] = expected
        return call_id

    def run(self) -> dict[str, dict]:
        self.response = harness.simulate(
            {
                "istio_version": ISTIO_VERSION,
                "mesh": {"outbound_traffic_policy": self.policy},
                "config": docs(*self.config),
                "kubernetes": docs(*self.kubernetes),
                "proxies": self.proxies,
                "calls": self.calls,
                **({"istiod_env": self.istiod_env} if self.istiod_env else {}),
            }
        )
        return self.results

    @property
    def results(self) -> dict[str, dict]:
        return {r["id"]: r for r in self.response["results"]}

    def mismatches(self) -> dict[str, tuple]:
        """{call: (expected, seen)} for every call that did not do what was expected."""
        results = self.results
        return {
            call_id: (expected, seen(results[call_id]))
            for call_id, expected in self.expected.items()
            if expected is not None and not _matches(expected, seen(results[call_id]))
        }

    def assert_as_expected(self) -> None:
        assert self.response["rejected_config"] == [], self.response["rejected_config"]
        mismatches = self.mismatches()
        assert not mismatches, "calls that did not do what was expected:\n" + "\n".join(
            f"  {call}: expected {expected}, saw {actual}" for call, (expected, actual) in sorted(mismatches.items())
        )


def sni_policies(result: dict, sni: str) -> list[str]:
    """The RBAC policies of a chain's ALLOW filters that name `sni` (AuthorizationPolicy connection.sni)."""
    return rbac.sni_policies(
        [f for f in result["rbac"] if (f.get("rules") or {}).get("action", "ALLOW") == "ALLOW"], sni
    )


# --------------------------------------------------------------------------
# The whole matrix of an egress set


def wildcard_of(host: str) -> str | None:
    """The wildcard a host of a placeholder bucket or account falls under: the variables pinned none."""
    first, _dot, rest = host.partition(".")
    return f"*.{rest}" if first in (sdk_capture.SOME_BUCKET, sdk_capture.SOME_ACCOUNT) else None


def undeclared_hosts(variables: dict) -> dict[str, str]:
    """{host: why} of AWS hosts boto3 contacts for what the variables do not declare, and one host outside AWS."""
    services = {s if isinstance(s, str) else s["name"] for s in variables["istio_aws_egress_services"]}
    regions = variables["istio_aws_egress_regions"]
    found = {}
    for region in regions:
        other = next(s for s in OTHER_SERVICES if s not in services)
        found.update((h, f"{other} in {region}, not declared") for h in sdk_capture.contacted(other, region))
        buckets = [
            b for s in variables["istio_aws_egress_services"] if isinstance(s, dict) for b in s.get("buckets") or []
        ]
        if buckets:
            found.update(
                (h, f"bucket {OTHER_BUCKET}, not declared")
                for h in sdk_capture.contacted("s3", region, bucket=OTHER_BUCKET, operation="GetObject")
            )
        if variables["istio_aws_egress_account_ids"] and "dynamodb" in services:
            found.update(
                (h, f"account {OTHER_ACCOUNT}, not declared")
                for h in sdk_capture.contacted("dynamodb", region, account_id=OTHER_ACCOUNT, operation="GetItem")
            )
    other_region = next(r for r in OTHER_REGIONS if r not in regions)
    first = variables["istio_aws_egress_services"][0]
    service, bucket = (
        (first, sdk_capture.SOME_BUCKET)
        if isinstance(first, str)
        else (first["name"], (first.get("buckets") or [sdk_capture.SOME_BUCKET])[0])
    )
    found.update(
        (h, f"{service} in {other_region}, a region not declared")
        for h in sdk_capture.contacted(service, other_region, bucket=bucket)
    )
    found[NON_AWS_HOST] = "not an AWS host"
    return found


def reaches(sidecar_hosts: list[str], caller: str, service: MeshService) -> bool:
    """Whether a Sidecar with these egress hosts (and its own namespace) keeps `service`, by the documented rule."""
    for rule in ["./*", *sidecar_hosts]:
        namespace, _slash, dns_name = rule.partition("/")
        if namespace == "*" or namespace == service.namespace or (namespace == "." and service.namespace == caller):
            if (
                dns_name == "*"
                or dns_name == service.host
                or (dns_name.startswith("*.") and service.host.endswith(dns_name[1:]))
            ):
                return True
    return False


@dataclass
class EgressMatrix:
    """Every call the issue asks for, from listed and unlisted namespaces and the egress gateway, with its expectation."""

    rendered: Rendered
    simulation: Simulation = field(init=False)
    declared: dict = field(init=False)
    undeclared: dict = field(init=False)
    services: list = field(init=False)

    def __post_init__(self):
        variables = self.rendered.variables
        assert variables["istio_aws_egress_export_to"] == ["*"], (
            "the matrix expects entries exported to every namespace"
        )
        gateway = {**ROLE_DEFAULTS["istio_aws_egress_gateway"], **(variables["istio_aws_egress_gateway"] or {})}
        self.gateway_host = f"{gateway['service']}.{gateway['namespace']}.svc.cluster.local"
        through_gateway = variables["istio_aws_egress_mode"] == "egress_gateway"
        kubernetes = (
            gateway_kubernetes(gateway["namespace"], gateway["service"], gateway["selector"]) if through_gateway else []
        )
        listed = sorted(set(variables["istio_aws_egress_sidecars"]))
        self.services = [MeshService(ns, "api", f"10.96.1.{i + 10}", f"10.1.1.{i + 10}") for i, ns in enumerate(listed)]
        self.services.append(MeshService("shop", "frontend", "10.96.2.10", "10.1.2.10"))
        for service in self.services:
            kubernetes.extend(service.objects())
        sim = self.simulation = Simulation(istio_config(self.rendered.objects), kubernetes)
        self.declared = sdk_capture.declared_hosts(variables)
        self.undeclared = undeclared_hosts(variables)
        overlap = set(self.declared) & set(self.undeclared)
        assert not overlap, f"hosts both declared and undeclared: {overlap}"
        callers = [(sim.sidecar(ns), ns) for ns in listed] + [(sim.sidecar(UNLISTED), UNLISTED)]
        gateway_proxy = sim.gateway(gateway["namespace"], gateway["selector"]) if through_gateway else None
        for proxy, namespace in callers:
            for host in self.declared:
                wildcard = wildcard_of(host)
                if wildcard:
                    sim.tls(proxy, host, original_dst(wildcard))
                else:
                    sim.tls(proxy, host, to_gateway(self.gateway_host) if through_gateway else dns(host))
            for host in self.undeclared:
                sim.tls(proxy, host, BLACK_HOLE)
            for source, ip in CREDENTIAL_IPS.items():
                shown = f"[{ip}]" if ":" in ip else ip
                declared = source in variables["istio_aws_egress_credential_sources"]
                sim.http(proxy, shown, ip, 80, link_local(ip) if declared else HTTP_BLACK_HOLED)
            if namespace != UNLISTED:
                for service in self.services:
                    expected = (
                        service.expected()
                        if reaches(variables["istio_aws_egress_sidecar_hosts"], namespace, service)
                        else HTTP_BLACK_HOLED
                    )
                    sim.http(proxy, service.host, service.cluster_ip, service.port, expected)
        if gateway_proxy:
            for host in self.declared:
                if not wildcard_of(host):
                    sim.tls(gateway_proxy, host, dns(host), port=GATEWAY_TARGET_PORT)
            for host in list(self.undeclared) + [h for h in self.declared if wildcard_of(h)]:
                sim.tls(gateway_proxy, host, NO_CHAIN, port=GATEWAY_TARGET_PORT)

    def run_and_check(self) -> Simulation:
        sim = self.simulation
        sim.run()
        sim.assert_as_expected()
        # At the gateway, each routed host's chain carries an ALLOW policy of the gateway's namespace naming its SNI.
        gateway_namespace = sim.proxies.get("gateway", {}).get("namespace")
        unadmitted = [
            call["sni"]
            for call in sim.calls
            if call["proxy"] == "gateway"
            and sim.expected[call["id"]] != NO_CHAIN
            and not any(
                f"ns[{gateway_namespace}]-" in name for name in sni_policies(sim.results[call["id"]], call["sni"])
            )
        ]
        assert unadmitted == [], f"routed hosts no AuthorizationPolicy of the gateway admits by SNI: {unadmitted}"
        return sim


# --------------------------------------------------------------------------
# Ambient mode: the waypoint


@dataclass
class WaypointMatrix:
    """Ambient mode: every host boto3 contacts goes through the waypoint, admitted from the caller namespaces only.

    ztunnel is not simulated (whether it sends a call to the waypoint at all): a call here starts at the waypoint,
    addressed to the VIP istiod's allocator gives the entry, as the collection's waypoint model gives it. The
    expectations are the test's own: the hosts real boto3 clients contact, and the caller namespaces.
    """

    rendered: Rendered
    simulation: Simulation = field(init=False)
    declared: dict = field(init=False)
    undeclared: dict = field(init=False)
    callers: list = field(init=False)

    def __post_init__(self):
        variables = self.rendered.variables
        objects = istio_config(self.rendered.objects)
        waypoints = [
            o for o in objects if o["kind"] == "Gateway" and o["spec"].get("gatewayClassName") == "istio-waypoint"
        ]
        assert len(waypoints) == 1, f"ambient mode renders one waypoint: {waypoints}"
        meta = waypoints[0]["metadata"]
        entries = [o for o in objects if o["kind"] == "ServiceEntry"]
        bound = [e for e in entries if e["metadata"]["labels"].get("istio.io/use-waypoint")]
        assert {e["metadata"]["labels"]["istio.io/use-waypoint"] for e in bound} == {meta["name"]}, bound
        # The link-local credential endpoints are reached from the node, never through the waypoint.
        assert all(not any(ip in str(e["spec"].get("endpoints")) for ip in CREDENTIAL_IPS.values()) for e in bound)
        self.callers = sorted(variables["istio_aws_egress_caller_namespaces"])
        assert self.callers, "ambient mode needs caller namespaces"
        self.declared = sdk_capture.declared_hosts(variables)
        self.undeclared = undeclared_hosts(variables)
        model = waypoint.model(meta["namespace"], meta["name"], objects, [], [*self.callers, UNLISTED])
        assert not [n for n in model.notes if "modelled" in n], "the rendered waypoint is the one simulated"
        self.addresses = model.addresses
        sim = self.simulation = Simulation(model.config, model.kubernetes, istiod_env=model.istiod_env)
        proxy = sim.waypoint(meta["namespace"], meta["name"])
        self.admitted, self.spoofed = [], []
        for host in self.declared:
            entry_host = waypoint.covering(host, self.addresses)
            assert entry_host, f"{host} ({self.declared[host]}): no entry bound to the waypoint serves it"
            expected = (
                (f"inbound-vip|443|tcp|{entry_host}", "dynamic_forward_proxy", ())
                if entry_host.startswith("*.")
                else (f"inbound-vip|443|tcp|{entry_host}", "STRICT_DNS", (f"{host}:443",))
            )
            self.admitted.append((sim.tls(proxy, host, expected, address=self.addresses[entry_host]), host))
        some_vip = self.addresses[sorted(h for h in self.addresses if not h.startswith("*."))[0]]
        for host in self.undeclared:
            entry_host = waypoint.covering(host, self.addresses)
            assert entry_host is None, f"{host} ({self.undeclared[host]}) is served by the entry of {entry_host}"
            sim.tls(proxy, host, NO_CHAIN, address=waypoint.UNALLOCATED_VIP)
            # A client that connects to a declared host's VIP and names the undeclared host in its handshake.
            self.spoofed.append((sim.tls(proxy, host, None, address=some_vip, tag=" via a declared VIP"), host))

    def run_and_check(self) -> Simulation:
        sim = self.simulation
        sim.run()
        sim.assert_as_expected()
        assert sim.response["istio"]["ambient"] is True
        results = sim.results
        unguarded = [host for call_id, host in self.admitted if not results[call_id]["rbac"]]
        assert unguarded == [], f"chains without an RBAC filter let everyone through: {unguarded}"
        wrong = [
            f"{host} from {ns}: {'denied' if ns in self.callers else 'admitted'}"
            for call_id, host in self.admitted
            for ns in [*self.callers, UNLISTED]
            if rbac.admits(results[call_id]["rbac"], host, rbac.principal(ns)) != (ns in self.callers)
        ]
        # Where a spoofed call finds no chain, nothing passes; where it does, the chain's policy must refuse it.
        wrong += [
            f"{host} on a declared host's VIP from {ns}: admitted"
            for call_id, host in self.spoofed
            if not results[call_id]["error"]
            for ns in self.callers
            if rbac.admits(results[call_id]["rbac"], host, rbac.principal(ns))
        ]
        assert wrong == [], "the waypoint's policy decides wrongly:\n" + "\n".join(wrong)
        return sim
