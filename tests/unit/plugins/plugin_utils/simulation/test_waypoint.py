# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modelled waypoint: its objects, and the addresses of the entries bound to it."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import waypoint


def entry(name, hosts, bound=True, **spec):
    labels = {"istio.io/use-waypoint": "wp"} if bound else {}
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": "aws-egress", "labels": labels},
        "spec": {"hosts": hosts, "resolution": "DNS", **spec},
    }


RENDERED_WAYPOINT = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "Gateway",
    "metadata": {"name": "aws-x-waypoint", "namespace": "aws-egress"},
    "spec": {"gatewayClassName": "istio-waypoint", "listeners": []},
}


def test_bound_entries_get_a_vip_per_host_and_their_status_says_so():
    objects = [
        entry("sqs", ["sqs.eu-west-1.amazonaws.com"]),
        entry("s3", ["*.s3.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com"]),
        entry("direct", ["sns.eu-west-1.amazonaws.com"], bound=False),
        entry("own", ["kms.eu-west-1.amazonaws.com"], addresses=["10.9.9.9"]),
    ]
    addresses = waypoint.vips(objects)
    assert addresses == {
        "*.s3.eu-west-1.amazonaws.com": "240.240.0.1",
        "s3.eu-west-1.amazonaws.com": "240.240.0.2",
        "sqs.eu-west-1.amazonaws.com": "240.240.0.3",
        "kms.eu-west-1.amazonaws.com": "10.9.9.9",
    }
    sqs, s3, direct, own = waypoint.with_addresses(objects, addresses)
    assert sqs["status"] == {"addresses": [{"value": "240.240.0.3", "host": "sqs.eu-west-1.amazonaws.com"}]}
    assert [a["host"] for a in s3["status"]["addresses"]] == [
        "*.s3.eu-west-1.amazonaws.com",
        "s3.eu-west-1.amazonaws.com",
    ]
    assert "status" not in direct and "status" not in own and "status" not in objects[0]


def test_a_host_is_served_by_its_own_entry_else_the_longest_wildcard_above_it():
    patterns = {"s3.amazonaws.com": "", "*.s3.amazonaws.com": "", "*.amazonaws.com": ""}
    assert waypoint.covering("s3.amazonaws.com", patterns) == "s3.amazonaws.com"
    assert waypoint.covering("b.s3.amazonaws.com", patterns) == "*.s3.amazonaws.com"
    assert waypoint.covering("example.com", patterns) is None
    model = waypoint.Waypoint("aws-egress", "wp", addresses={"*.s3.amazonaws.com": "240.240.0.1"})
    assert (
        model.address_of("b.s3.amazonaws.com") == "240.240.0.1"
        and model.address_of("example.com") == waypoint.UNALLOCATED_VIP
    )


def test_the_rendered_waypoint_is_simulated_with_its_service_pod_and_the_ambient_namespaces():
    assert waypoint.rendered_name([RENDERED_WAYPOINT], "aws-egress") == "aws-x-waypoint"
    assert waypoint.rendered_name([RENDERED_WAYPOINT], "elsewhere") == "waypoint"
    given = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "orders", "labels": {"istio.io/dataplane-mode": "ambient"}},
        }
    ]
    model = waypoint.model(
        "aws-egress", "aws-x-waypoint", [RENDERED_WAYPOINT, entry("sqs", ["sqs.x"])], given, ["orders", "default"]
    )
    assert model.notes == [] and model.istiod_env == {}
    assert [(o["kind"], o["metadata"]["name"]) for o in model.kubernetes] == [
        ("Namespace", "orders"),
        ("Namespace", "aws-egress"),
        ("Namespace", "default"),
        ("Service", "aws-x-waypoint"),
        ("Pod", "aws-x-waypoint-simulated"),
    ]
    pod = model.kubernetes[-1]
    assert pod["status"]["podIP"] == waypoint.WAYPOINT_IP and pod["metadata"]["labels"] == waypoint.labels(
        "aws-x-waypoint"
    )
    assert model.kubernetes[2]["metadata"]["labels"] == {"istio.io/dataplane-mode": "ambient"}
    assert model.proxy == {
        "type": "waypoint",
        "namespace": "aws-egress",
        "labels": waypoint.labels("aws-x-waypoint"),
        "ips": [waypoint.WAYPOINT_IP],
    }


def test_a_waypoint_not_given_is_modelled_and_bound_wildcards_turn_on_istiods_flag():
    model = waypoint.model("mesh", "shared", [entry("s3", ["*.s3.eu-west-1.amazonaws.com"])], [], ["orders"])
    gateway = model.config[-1]
    assert (gateway["kind"], gateway["metadata"]["name"], gateway["spec"]["gatewayClassName"]) == (
        "Gateway",
        "shared",
        "istio-waypoint",
    )
    assert model.istiod_env == {"ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS": "true"}
    assert any("mesh/shared is in neither the manifests nor the mesh's objects" in n for n in model.notes)
    assert any("ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true" in n for n in model.notes)
