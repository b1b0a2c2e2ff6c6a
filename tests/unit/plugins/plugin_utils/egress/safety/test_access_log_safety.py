# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Our Telemetries next to the mesh's access logs: what they would replace is refused, and said."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import access_logs as access_log_safety

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import mesh_config
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import ownership_labels
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

OURS = ownership_labels("shop")
QUIET = mesh_config.parse("istio-system", "istio", {"data": {"mesh": "outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n"}})


def telemetry(namespace, name="aws-shop-log-blocked", labels=None, **spec):
    return {
        "apiVersion": "telemetry.istio.io/v1",
        "kind": "Telemetry",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": spec,
    }


def logging(**entry):
    return [{"providers": [{"name": "envoy"}], **entry}]


def ours(namespace="orders", **spec):
    return telemetry(
        namespace,
        labels=OURS,
        accessLogging=logging(filter={"expression": "xds.cluster_name == 'BlackHoleCluster'"}),
        **spec,
    )


def check(desired, others=(), mesh=QUIET):
    refusals, notes = access_log_safety.check(desired, list(others), mesh, "istio-system")
    return named_options(([finding.text() for finding in refusals], notes), "istio_aws_egress_")


def test_nothing_to_say_without_telemetries():
    assert check([], [telemetry("orders", "team")]) == ([], [])


def test_where_nothing_logs_the_plan_says_what_ours_replaces():
    refusals, notes = check([ours()], [telemetry("billing", "team"), telemetry("istio-system", "mesh", metrics=[{}])])
    assert refusals == []
    assert notes == [
        "Telemetry orders/aws-shop-log-blocked logs blocked egress of namespace orders; it replaces the mesh's "
        "access logs there, which are off today"
    ]


def test_a_second_telemetry_without_selector_in_the_namespace_is_refused():
    [refusal], _notes = check([ours()], [telemetry("orders", "team-metrics", metrics=[{}])])
    assert refusal == (
        "namespace orders already has Telemetry orders/team-metrics (not managed by meshops.aws_egress); Telemetry orders/aws-shop-log-blocked "
        "would replace its access logs there, and Istio applies only the first Telemetry without a selector of a namespace, so "
        "one of the two would be ignored: stop setting istio_aws_egress_log_blocked, or merge what that Telemetry does with "
        "logging blocked egress, or accept it (istio_aws_egress_accept: [replace_access_logs])"
    )


def test_a_telemetry_of_some_pods_of_the_namespace_is_not_in_the_way():
    assert (
        check(
            [ours()], [telemetry("orders", "cart", selector={"matchLabels": {"app": "cart"}}, accessLogging=logging())]
        )[0]
        == []
    )


@pytest.mark.parametrize(
    "mesh_yaml, said",
    [
        ("accessLogFile: /dev/stdout\n", "accessLogFile /dev/stdout in ConfigMap istio-system/istio"),
        (
            "defaultProviders:\n  accessLogging: [envoy]\n",
            "defaultProviders.accessLogging ['envoy'] in ConfigMap istio-system/istio",
        ),
    ],
)
def test_a_mesh_config_that_logs_everything_is_refused(mesh_yaml, said):
    mesh = mesh_config.parse("istio-system", "istio", {"data": {"mesh": mesh_yaml}})
    [refusal], notes = check([ours()], mesh=mesh)
    assert refusal.startswith(
        f"the mesh logs every call ({said}); Telemetry orders/aws-shop-log-blocked would replace that for "
        f"namespace orders, whose proxies would then log blocked egress only: stop setting "
        f"istio_aws_egress_log_blocked, or accept it"
    )
    assert notes == []


def test_the_root_namespace_telemetry_that_logs_is_refused_and_one_that_disables_is_not():
    [refusal], _notes = check([ours()], [telemetry("istio-system", "mesh-default", accessLogging=logging())])
    assert refusal.startswith("the mesh logs every call (Telemetry istio-system/mesh-default in the root namespace)")
    assert check([ours()], [telemetry("istio-system", "mesh-default", accessLogging=logging(disabled=True))])[0] == []


def test_at_the_gateway_a_telemetry_on_the_same_pods_or_the_whole_namespace_logging_is_in_the_way():
    gateway = ours("egress", selector={"matchLabels": {"istio": "egressgateway"}})
    same_pods = telemetry(
        "egress", "gw", selector={"matchLabels": {"istio": "egressgateway", "app": "gw"}}, tracing=[{}]
    )
    whole = telemetry("egress", "all", accessLogging=logging())
    whole_metrics = telemetry("egress", "metrics", metrics=[{}])
    refusals, _notes = check([gateway], [same_pods, whole, whole_metrics])
    assert [r.split(";")[0] for r in refusals] == [
        "the pods of namespace egress labelled istio=egressgateway already have Telemetry egress/gw (not managed by meshops.aws_egress)",
        "the pods of namespace egress labelled istio=egressgateway already have Telemetry egress/all (not managed by meshops.aws_egress)",
    ]


def test_at_the_waypoint_a_telemetry_bound_to_it_is_in_the_way():
    refs = [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "waypoint"}]
    waypoint = ours("aws-egress", targetRefs=refs)
    other = telemetry("aws-egress", "team", targetRefs=refs, tracing=[{}])
    [refusal], _notes = check(
        [waypoint], [other, telemetry("aws-egress", "elsewhere", targetRefs=[{**refs[0], "name": "x"}])]
    )
    assert refusal.startswith("the proxies of Gateway aws-egress/waypoint already have Telemetry aws-egress/team")


def test_an_unread_mesh_config_is_said():
    _refusals, notes = check([ours()], mesh=mesh_config.MeshPolicy("istio-system/istio", mesh_config.FORBIDDEN))
    assert notes[0] == (
        "ConfigMap istio-system/istio not read (forbidden): whether the mesh config turns on access logs, which "
        "the Telemetries of this egress set would replace, is not known"
    )
    assert notes[1].endswith("which may be on today")
