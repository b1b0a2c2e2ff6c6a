# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The call matrix: who calls what, and what each call should do, from the declaration alone."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import admits
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import calls, mesh, waypoint
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.declared import declared

GATEWAY = {"namespace": "istio-system", "service": "istio-egressgateway", "selector": {"istio": "egressgateway"}}


def prod_like(**overrides):
    options = {
        "gateway": GATEWAY,
        "sidecars": ["orders", "default"],
        "sidecar_hosts": ["*/*.svc.cluster.local"],
        "regions": ["eu-west-1"],
        "account_ids": ["123456789012"],
        "credential_sources": ["irsa", "imds"],
        **overrides,
    }
    return declared(
        [{"name": "s3", "buckets": ["invoices"]}, "dynamodb", "sqs"],
        "prod",
        "istio-system",
        overrides.get("mode", "egress_gateway"),
        **{k: v for k, v in options.items() if k != "mode"},
    )


def matrix(declaration, services=()):
    return calls.matrix(calls.callers(declaration), calls.targets(declaration, services), declaration)


def test_callers_are_the_sidecar_namespaces_one_unlisted_namespace_and_the_gateway():
    found = calls.callers(prod_like())
    # "default" is listed, so the unlisted caller takes the next name.
    assert [(c.name, c.role) for c in found] == [
        ("default", "listed"),
        ("orders", "listed"),
        ("unlisted", "unlisted"),
        ("egress gateway", "gateway"),
    ]
    assert [c.role for c in calls.callers(prod_like(mode="sidecar"))] == ["listed", "listed", "unlisted"]


def test_undeclared_targets_are_admitted_by_nothing_declared_and_cover_service_region_bucket_account():
    declaration = prod_like()
    targets = calls.targets(declaration)
    undeclared = [t for t in targets if t.kind in ("aws", "non-aws") and not t.declared]
    assert undeclared and not any(declaration.admits(t.host) for t in undeclared)
    whys = " / ".join(t.why for t in undeclared)
    for expected in (
        "not declared",
        "a bucket not declared",
        "an account not declared",
        "a region not declared",
        "not an AWS host",
    ):
        assert expected in whys
    assert {t.host for t in undeclared} >= {
        "undeclared-bucket.s3.eu-west-1.amazonaws.com",
        "999999999999.ddb.eu-west-1.amazonaws.com",
        "example.com",
    }


def test_without_buckets_or_accounts_a_wildcard_is_called_by_a_concrete_name_and_no_other_bucket_is_undeclared():
    declaration = declared(["s3", "dynamodb"], "dev", "istio-system", "sidecar", regions=["eu-west-1"])
    targets = calls.targets(declaration)
    wildcard = next(t for t in targets if t.pattern == "*.s3.eu-west-1.amazonaws.com")
    assert wildcard.host == "simulated.s3.eu-west-1.amazonaws.com" and admits(wildcard.pattern, wildcard.host)
    assert not any(t.host.startswith(("undeclared-bucket.", "999999999999.")) for t in targets)


def test_every_credential_endpoint_is_called_and_only_the_declared_ones_should_leave():
    targets = {t.host: t for t in calls.targets(prod_like()) if t.kind == "credentials"}
    assert set(targets) == {"169.254.169.254", "[fd00:ec2::254]", "169.254.170.23", "[fd00:ec2::23]", "169.254.170.2"}
    assert [h for h, t in targets.items() if t.declared] == ["169.254.169.254"]
    assert (
        targets["[fd00:ec2::254]"].address == "fd00:ec2::254"
        and targets["[fd00:ec2::254]"].endpoint == "[fd00:ec2::254]:80"
    )


def test_expectations():
    declaration = prod_like()
    api = mesh.MeshService("orders", "api", "10.96.0.9", 8080, True)
    front = mesh.MeshService("shop", "frontend", "10.96.0.10", 80, True)
    found = {(c.caller.name, c.target.host): c for c in matrix(declaration, [api, front])}
    assert found[("orders", "sqs.eu-west-1.amazonaws.com")].expect == calls.LEAVE
    assert found[("orders", "sqs.eu-west-1.amazonaws.com")].via == "gateway"
    assert found[("unlisted", "sqs.eu-west-1.amazonaws.com")].expect == calls.LEAVE
    assert found[("egress gateway", "sqs.eu-west-1.amazonaws.com")].expect == calls.LEAVE
    assert found[("orders", "ec2.eu-west-1.amazonaws.com")].expect == calls.STAY
    assert found[("egress gateway", "example.com")].expect == calls.STAY
    assert found[("orders", "169.254.169.254")].expect == calls.LEAVE
    assert found[("orders", "169.254.170.2")].expect == calls.STAY
    assert found[("orders", "frontend.shop.svc.cluster.local")].expect == calls.REACH
    # The gateway is not called for credential endpoints or in-mesh Services, the unlisted namespace not for the mesh.
    assert ("egress gateway", "169.254.169.254") not in found and (
        "unlisted",
        "api.orders.svc.cluster.local",
    ) not in found


def test_in_mesh_expectations_follow_the_sidecar_hosts_and_unlisted_ones_follow_export_to():
    declaration = prod_like(sidecar_hosts=["payments/*"], export_to=["."], mode="sidecar")
    services = [mesh.MeshService(ns, "api", "10.96.0.9", 8080, True) for ns in ("orders", "payments", "shop")]
    found = {(c.caller.name, c.target.host): c for c in matrix(declaration, services)}
    assert [found[("orders", s.host)].expect for s in services] == [calls.REACH, calls.REACH, calls.CUT]
    assert found[("orders", "sqs.eu-west-1.amazonaws.com")].via == "direct"
    # Entries exported to their own namespace only: an unlisted namespace is not expected to reach them.
    assert found[("unlisted", "sqs.eu-west-1.amazonaws.com")].expect == ""


@pytest.mark.parametrize(
    "role, address, port", [("listed", calls.PUBLIC_ADDRESS, 443), ("gateway", mesh.GATEWAY_POD_IP, 8443)]
)
def test_a_tls_call_goes_to_any_public_address_from_a_sidecar_and_to_the_listener_at_the_gateway(role, address, port):
    caller = calls.Caller("x", "p", role, "ns")
    target = calls.Target("sqs.eu-west-1.amazonaws.com", "aws", True, "", calls.PUBLIC_ADDRESS, 443, "tls")
    request = calls.Call("id", caller, target, calls.LEAVE, "gateway").request(mesh.gateway(GATEWAY, []))
    assert request == {
        "id": "id",
        "proxy": "p",
        "address": address,
        "port": port,
        "protocol": "tcp",
        "tls": True,
        "sni": "sqs.eu-west-1.amazonaws.com",
    }


def staging_like(**overrides):
    options = {
        "regions": ["eu-west-1"],
        "account_ids": ["444455556666"],
        "credential_sources": ["eks_pod_identity"],
        "caller_namespaces": ["orders", "billing"],
        **overrides,
    }
    return declared([{"name": "s3", "buckets": ["archive"]}, "sqs"], "staging", "aws-egress", "ambient", **options)


def test_in_ambient_mode_the_caller_namespaces_and_one_other_call_from_the_waypoint():
    found = calls.callers(staging_like())
    assert [(c.name, c.role, c.proxy) for c in found] == [
        ("billing", "listed", "waypoint"),
        ("orders", "listed", "waypoint"),
        ("default", "unlisted", "waypoint"),
    ]
    assert all(c.at_waypoint for c in found)


def test_in_ambient_mode_caller_namespaces_leave_others_are_denied_and_undeclared_names_are_tried_on_a_declared_address():
    declaration = staging_like()
    services = [mesh.MeshService("orders", "api", "10.96.0.9", 8080, True)]
    targets = calls.targets(declaration, services)
    # Credential endpoints are reached from the node, and ambient mode puts no Sidecar before in-mesh Services.
    assert {t.kind for t in targets} == {"aws", "non-aws"}
    spoofed = [t for t in targets if t.sent_to]
    assert spoofed and {t.sent_to for t in spoofed} == {"archive.s3.eu-west-1.amazonaws.com"}
    assert {t.host for t in spoofed} == {t.host for t in targets if not t.declared and not t.sent_to}
    found = {c.id: c for c in calls.matrix(calls.callers(declaration), targets, declaration)}
    assert found["orders -> sqs.eu-west-1.amazonaws.com:443"].expect == calls.LEAVE
    assert found["default -> sqs.eu-west-1.amazonaws.com:443"].expect == calls.DENY
    assert found["orders -> example.com:443 on archive.s3.eu-west-1.amazonaws.com's address"].expect == calls.STAY
    assert {c.via for c in found.values()} == {"waypoint"}


def test_in_ambient_mode_a_wildcard_goes_through_the_waypoint_with_dynamic_dns_only():
    declaration = declared(["s3"], "dev", "aws-egress", "ambient", regions=["eu-west-1"], caller_namespaces=["orders"])
    assert calls.not_through_waypoint(declaration) == ["*.s3.eu-west-1.amazonaws.com"]
    assert "simulated.s3.eu-west-1.amazonaws.com" not in {t.host for t in calls.targets(declaration)}
    dynamic = declared(
        ["s3"],
        "dev",
        "aws-egress",
        "ambient",
        regions=["eu-west-1"],
        caller_namespaces=["orders"],
        wildcard_resolution="dynamic_dns",
    )
    assert calls.not_through_waypoint(dynamic) == []
    # The wildcard's chain resolves whatever name is asked for: undeclared names are tried on its address.
    assert {t.sent_to for t in calls.targets(dynamic) if t.sent_to} == {"simulated.s3.eu-west-1.amazonaws.com"}


def test_a_call_at_the_waypoint_goes_to_the_address_of_the_entry_that_serves_its_host():
    addresses = {"sqs.eu-west-1.amazonaws.com": "240.240.0.1", "*.s3.eu-west-1.amazonaws.com": "240.240.0.2"}
    model = waypoint.Waypoint("aws-egress", "wp", addresses=addresses)
    caller = calls.Caller("orders", calls.WAYPOINT_PROXY, "listed", "orders")

    def request(host, sent_to=""):
        target = calls.Target(host, "aws", False, "", calls.PUBLIC_ADDRESS, 443, "tls", sent_to=sent_to)
        return calls.Call("id", caller, target, calls.STAY, "waypoint").request(waypoint=model)

    assert request("sqs.eu-west-1.amazonaws.com")["address"] == "240.240.0.1"
    assert request("b.s3.eu-west-1.amazonaws.com")["address"] == "240.240.0.2"
    assert request("ec2.eu-west-1.amazonaws.com")["address"] == waypoint.UNALLOCATED_VIP
    assert request("ec2.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com") == {
        "id": "id",
        "proxy": "waypoint",
        "address": "240.240.0.1",
        "port": 443,
        "protocol": "tcp",
        "tls": True,
        "sni": "ec2.eu-west-1.amazonaws.com",
    }
