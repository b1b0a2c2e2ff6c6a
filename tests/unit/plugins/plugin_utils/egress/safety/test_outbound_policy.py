# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the set's entries do under the mesh's outbound policy: restrict, only route, nothing, or not known."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import mesh_config

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import outbound_policy
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import kind_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety.outbound_policy import (
    NOTHING,
    RESTRICT,
    ROUTE,
    UNKNOWN,
)

SIDECAR = kind_of({"apiVersion": "networking.istio.io/v1", "kind": "Sidecar"})


def configmap(mode=None, version="1.30.2", name="istio"):
    mesh = {"trustDomain": "cluster.local", **({"outboundTrafficPolicy": {"mode": mode}} if mode else {})}
    labels = {mesh_config.VERSION_LABEL: version} if version else {}
    return {
        "metadata": {"name": name, "namespace": "istio-system", "labels": labels},
        "data": {"mesh": yaml.safe_dump(mesh)},
    }


def namespace(name, **labels):
    return {"metadata": {"name": name, "labels": labels}}


def sidecar(name, mode=None, selector=None):
    spec = {"egress": [{"hosts": ["./*"]}]}
    if mode:
        spec["outboundTrafficPolicy"] = {"mode": mode}
    if selector:
        spec["workloadSelector"] = {"labels": selector}
    return {"metadata": {"name": name}, "spec": spec}


class Cluster:
    """A reader of made-up objects; `forbidden` paths answer 403 as the API server would."""

    def __init__(self, configmaps=None, namespaces=None, sidecars=None, forbidden=()):
        self.configmaps = configmaps or {}
        self.namespaces = namespaces or {}
        self.sidecars = sidecars or {}
        self.forbidden = forbidden
        self.reads = []

    def _check(self, path):
        self.reads.append(path)
        if path in self.forbidden:
            raise EgressFailure("read", f"reading {path}", "forbidden", status={"code": 403, "reason": "Forbidden"})

    def configmap(self, namespace_name, name):
        path = f"/api/v1/namespaces/{namespace_name}/configmaps/{name}"
        try:
            self._check(path)
        except EgressFailure:
            return False, None
        return True, self.configmaps.get(name)

    def get(self, path, doing, query=None, missing_ok=False):
        self._check(path)
        return self.namespaces.get(path.rsplit("/", 1)[1])

    def list(self, kind, version, namespace_name=None, label_selector=None):
        self._check(f"/apis/{kind.group}/{version}/namespaces/{namespace_name}/{kind.plural}")
        return self.sidecars.get(namespace_name, [])


def assess(cluster, listed=("app",), ours=None):
    return outbound_policy.assess(cluster, SIDECAR, "v1", list(listed), "istio-system", ours or {})


def effects(verdicts):
    return {verdict.namespace: verdict.effect for verdict in verdicts}


def test_unset_means_allow_any_and_the_entries_only_route():
    verdicts, default = assess(Cluster({"istio": configmap()}, {"app": namespace("app")}))
    assert effects(verdicts) == {"app": ROUTE}
    assert default.effect == ROUTE and default.policy == "ALLOW_ANY (unset) in ConfigMap istio-system/istio"
    assert outbound_policy.notes(verdicts, default) == [
        "outbound policy of namespaces without a Sidecar of their own: ALLOW_ANY (unset) in ConfigMap istio-system/istio: "
        "the entries only route: unknown hosts stay reachable",
        "outbound policy in namespace app: ALLOW_ANY (unset) in ConfigMap istio-system/istio: the entries only route: "
        "unknown hosts stay reachable",
    ]


@pytest.mark.parametrize(
    "mode, version, effect",
    [
        ("REGISTRY_ONLY", "1.28.3", RESTRICT),
        ("ALLOW_ANY", "1.32.0", ROUTE),
        # istiod 1.30 tests for ALLOW_ANY alone: anything else blocks unknown hosts.
        ("ALLOW_ANY_DYNAMIC_DNS", "1.30.8", RESTRICT),
        ("ALLOW_ANY_DYNAMIC_DNS", "1.31.4", ROUTE),
        ("ALLOW_ANY_DYNAMIC_DNS", "1.32.0", ROUTE),
        ("ALLOW_ANY_DYNAMIC_DNS", None, UNKNOWN),
        ("ALLOW_ANY_DYNAMIC_DNS", "1.29.8", UNKNOWN),
        ("ALLOW_ANY_DYNAMIC_DNS", "1.28.3", UNKNOWN),
    ],
)
def test_the_mesh_mode_decides_where_no_sidecar_does(mode, version, effect):
    verdicts, default = assess(Cluster({"istio": configmap(mode, version)}, {"app": namespace("app")}))
    assert effects(verdicts) == {"app": effect} and default.effect == effect
    assert default.policy.startswith(f"{mode} in ConfigMap istio-system/istio")


def test_allow_any_dynamic_dns_without_a_release_says_both():
    verdicts, default = assess(Cluster({"istio": configmap("ALLOW_ANY_DYNAMIC_DNS", None)}))
    [line, _app] = outbound_policy.notes(verdicts, default)
    assert (
        "from Istio 1.31 the entries only route" in line and "istiod 1.30 and earlier treat it as REGISTRY_ONLY" in line
    )
    assert line.endswith("what the entries do is not known")


def test_a_namespace_sidecar_overrides_the_mesh():
    cluster = Cluster(
        {"istio": configmap("REGISTRY_ONLY")},
        {"open": namespace("open"), "closed": namespace("closed")},
        {
            "open": [sidecar("only-some", "REGISTRY_ONLY", {"app": "x"}), sidecar("default", "ALLOW_ANY")],
            "closed": [sidecar("default")],
        },
    )
    verdicts, default = assess(cluster, listed=("open", "closed"))
    assert effects(verdicts) == {"closed": RESTRICT, "open": ROUTE}
    assert [v.policy for v in verdicts] == [
        "REGISTRY_ONLY in ConfigMap istio-system/istio",
        "ALLOW_ANY in its Sidecar open/default",
    ]
    assert default.effect == RESTRICT


def test_the_sets_own_sidecar_makes_its_namespace_registry_only():
    cluster = Cluster(
        {"istio": configmap()}, {"app": namespace("app")}, {"app": [sidecar("aws-mine-egress", "REGISTRY_ONLY")]}
    )
    verdicts, default = assess(cluster, ours={"app": "aws-mine-egress"})
    assert [v.public() for v in verdicts] == [
        {"namespace": "app", "effect": RESTRICT, "policy": "REGISTRY_ONLY in this set's Sidecar app/aws-mine-egress"}
    ]
    assert default.effect == ROUTE


def test_in_ambient_mode_the_entries_restrict_nothing_whatever_the_mesh_says():
    cluster = Cluster(
        {"istio": configmap("REGISTRY_ONLY")},
        {"callers": namespace("callers", **{"istio.io/dataplane-mode": "ambient"})},
    )
    verdicts, default = assess(cluster, listed=("callers",))
    assert effects(verdicts) == {"callers": NOTHING} and default.effect == RESTRICT
    assert outbound_policy.notes(verdicts, default)[1] == (
        "outbound policy in namespace callers: istio.io/dataplane-mode=ambient: the entries restrict nothing (ztunnel ignores "
        "outbound policies); only a waypoint's policy and a network policy limit egress"
    )


def test_a_revision_reads_its_own_configmap():
    cluster = Cluster(
        {"istio": configmap("ALLOW_ANY"), "istio-canary": configmap("REGISTRY_ONLY", name="istio-canary")},
        {"app": namespace("app", **{"istio.io/rev": "canary"}), "old": namespace("old")},
    )
    verdicts, default = assess(cluster, listed=("app", "old"))
    assert effects(verdicts) == {"app": RESTRICT, "old": ROUTE}
    assert verdicts[0].policy == "REGISTRY_ONLY in ConfigMap istio-system/istio-canary"
    assert default.policy == "ALLOW_ANY in ConfigMap istio-system/istio"


def test_an_unreadable_configmap_is_not_read_and_the_run_goes_on():
    cluster = Cluster(
        {"istio": configmap("REGISTRY_ONLY")},
        {"app": namespace("app")},
        forbidden={"/api/v1/namespaces/istio-system/configmaps/istio"},
    )
    verdicts, default = assess(cluster)
    assert effects(verdicts) == {"app": UNKNOWN} and default.effect == UNKNOWN
    assert outbound_policy.notes(verdicts, default)[0] == (
        "outbound policy of namespaces without a Sidecar of their own: ConfigMap istio-system/istio not read (forbidden): "
        "the outbound policy is not known: what the entries do is not known"
    )


def test_a_missing_configmap_or_an_unreadable_namespace_is_said():
    cluster = Cluster({}, {"app": namespace("app")}, forbidden={"/apis/networking.istio.io/v1/namespaces/app/sidecars"})
    verdicts, default = assess(cluster, listed=("app",))
    assert [v.policy for v in verdicts] == ["namespace app or its Sidecars not read (forbidden)"]
    assert default.policy == "ConfigMap istio-system/istio not found: the outbound policy is not known"


def test_another_failure_still_fails_the_run():
    class Broken(Cluster):
        def get(self, path, doing, query=None, missing_ok=False):
            raise EgressFailure("read", doing, "connection refused")

    with pytest.raises(EgressFailure, match="connection refused"):
        assess(Broken({"istio": configmap()}))


@pytest.mark.parametrize(
    "data, state, mode",
    [
        ({"mesh": "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"}, mesh_config.READ, "REGISTRY_ONLY"),
        ({"mesh": ""}, mesh_config.READ, None),
        ({}, mesh_config.READ, None),
        ({"mesh": "[not, a, mapping]"}, mesh_config.UNPARSABLE, None),
        ({"mesh": "outboundTrafficPolicy: {mode: [unclosed"}, mesh_config.UNPARSABLE, None),
    ],
)
def test_mesh_config_parsing(data, state, mode):
    policy = mesh_config.parse(
        "istio-system", "istio", {"metadata": {"labels": {mesh_config.VERSION_LABEL: "1.31.0-beta.1"}}, "data": data}
    )
    assert (policy.state, policy.mode) == (state, mode)
    assert policy.release == (1, 31)


def test_configmap_names_by_revision():
    assert [mesh_config.configmap_name(revision) for revision in (None, "", "default", "1-30-2")] == [
        "istio",
        "istio",
        "istio",
        "istio-1-30-2",
    ]
