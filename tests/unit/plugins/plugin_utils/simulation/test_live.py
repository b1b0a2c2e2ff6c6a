# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The mesh read from a cluster for the simulation: which reads, what a forbidden one becomes, and the reader's RBAC."""

from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import live, reader_rbac
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.declared import declared

ROOT = Path(__file__).resolve().parents[5]
FORBIDDEN = {"code": 403, "reason": "Forbidden", "message": "forbidden"}


class Reader:
    """A cluster holding `objects` by plural; `forbidden`: the plurals (and paths) the user may not read."""

    def __init__(self, objects=None, forbidden=(), configmap=None, namespaces=None):
        self.cluster = "prod-euw1"
        self.objects = objects or {}
        self.forbidden = set(forbidden)
        self.given_configmap = configmap
        self.namespaces = namespaces or {}
        self.crds = {}
        self.reads = []

    def _check(self, what):
        self.reads.append(what)
        if what in self.forbidden:
            raise EgressFailure("read", f"reading {what}", "forbidden", status=FORBIDDEN)

    def served_versions(self, kind):
        self._check(("crd", kind.crd))
        return list(kind.versions)

    def list(self, kind, version, namespace=None, label_selector=None):
        self._check(("list", kind.plural))
        return [
            {**obj, "apiVersion": kind.api_version(version), "kind": kind.kind}
            for obj in self.objects.get(kind.plural, [])
        ]

    def get(self, path, doing, query=None, missing_ok=False):
        self._check(("get", path))
        if path.endswith("/services"):
            return {
                "items": [
                    dict(obj)
                    for obj in self.objects.get("services", [])
                    if path == "/api/v1/services" or f"/namespaces/{obj['metadata']['namespace']}/" in path
                ]
            }
        return self.namespaces.get(path.rsplit("/", 1)[1])

    def configmap(self, namespace, name):
        # As ClusterReader.configmap: (False, None) where reading is not allowed, never a failure.
        self.reads.append(("configmap", f"{namespace}/{name}"))
        return (False, None) if ("configmap", f"{namespace}/{name}") in self.forbidden else (True, self.given_configmap)


def meta(namespace, name, **more):
    return {
        "metadata": {"name": name, "namespace": namespace, "managedFields": [{"manager": "kubectl"}], **more},
        "spec": {},
        "status": {"observed": 1},
    }


SIDECAR = declared(
    ["sqs"],
    "orders",
    "istio-system",
    "sidecar",
    sidecars=["orders"],
    sidecar_hosts=["shop/*", "./*"],
    regions=["eu-west-1"],
)


def test_reads_istio_config_everywhere_and_the_services_the_sidecars_keep_without_server_bookkeeping():
    reader = Reader(
        {"sidecars": [meta("legacy", "default")], "services": [meta("shop", "web"), meta("billing", "api")]},
        configmap={"data": {"mesh": "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"}},
    )
    mesh = live.read_mesh(reader, SIDECAR)
    assert sorted((o["kind"], o["metadata"]["namespace"]) for o in mesh.objects) == [
        ("Service", "shop"),
        ("Sidecar", "legacy"),
    ]
    assert all("managedFields" not in o["metadata"] and "status" not in o for o in mesh.objects)
    assert mesh.not_read == [] and mesh.outbound_traffic_policy == "REGISTRY_ONLY"
    # The callers' namespaces (orders and the unlisted one, default) and the one the Sidecar's hosts name: no others.
    assert sorted(r[1] for r in reader.reads if r[0] == "get" and r[1].endswith("/services")) == [
        "/api/v1/namespaces/default/services",
        "/api/v1/namespaces/orders/services",
        "/api/v1/namespaces/shop/services",
    ]
    assert {r[0] for r in reader.reads} == {"crd", "list", "get", "configmap"}


def test_a_host_of_every_namespace_lists_services_cluster_wide():
    everywhere = declared(
        ["sqs"],
        "orders",
        "istio-system",
        "sidecar",
        sidecars=["orders"],
        sidecar_hosts=["*/*.svc.cluster.local"],
        regions=["eu-west-1"],
    )
    reader = Reader()
    live.read_mesh(reader, everywhere)
    assert [r[1] for r in reader.reads if r[0] == "get" and r[1].endswith("/services")] == ["/api/v1/services"]


def test_what_may_not_be_read_is_named_and_the_rest_is_read():
    reader = Reader(
        {"sidecars": [meta("legacy", "default")]},
        forbidden={
            ("list", "authorizationpolicies"),
            ("crd", "virtualservices.networking.istio.io"),
            ("get", "/api/v1/namespaces/shop/services"),
            ("configmap", "istio-system/istio"),
        },
    )
    mesh = live.read_mesh(reader, SIDECAR)
    assert sorted(mesh.not_read) == [
        "authorizationpolicies.security.istio.io of every namespace (list)",
        "services of namespace shop (list)",
        "the mesh config, configmaps istio-system/istio (get)",
        "virtualservices.networking.istio.io of every namespace (list)",
    ]
    assert [o["kind"] for o in mesh.objects] == ["Sidecar"] and mesh.outbound_traffic_policy is None


def test_the_callers_revision_picks_the_mesh_config():
    reader = Reader(
        namespaces={
            "orders": {"metadata": {"labels": {"istio.io/rev": "canary"}}},
            "default": {"metadata": {"labels": {"istio.io/rev": "canary"}}},
        },
        configmap={"data": {"mesh": "{}"}},
    )
    mesh = live.read_mesh(reader, SIDECAR)
    assert ("configmap", "istio-system/istio-canary") in reader.reads
    assert mesh.outbound_traffic_policy == "ALLOW_ANY", "Istio's default where the mesh config says none"


def test_the_shipped_reader_role_is_the_one_the_code_reads_with():
    shipped = yaml.safe_load((ROOT / "roles" / "istio_aws_egress" / "files" / "rbac-simulate-reader.yaml").read_text())
    assert shipped["kind"] == "ClusterRole" and shipped["metadata"]["name"] == "meshops-aws-egress-simulate-reader"
    assert shipped["rules"] == reader_rbac.rules()
    verbs = {verb for rule in shipped["rules"] for verb in rule["verbs"]}
    assert verbs == {"get", "list"}, "read only"
