# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a call goes the wrong way, what to change, and one line per cause."""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import calls, causes, judge, mesh
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options

PREFIX = "istio_aws_egress_"
GATEWAY_SETTINGS = {
    "namespace": "istio-system",
    "service": "istio-egressgateway",
    "selector": {"istio": "egressgateway"},
}
NO_443 = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "istio-egressgateway", "namespace": "istio-system"},
    "spec": {"selector": {"istio": "egressgateway"}, "ports": [{"name": "http2", "port": 80}]},
}
GATEWAY_HOST = "istio-egressgateway.istio-system.svc.cluster.local"
ORDERS = calls.Caller("orders", "sidecar/orders", "listed", "orders")
DEFAULT = calls.Caller("default", "sidecar/default", "unlisted", "default")


def aws(host, declared=True):
    return calls.Target(host, "aws", declared, f"{host.split('.')[0]} in eu-west-1", calls.PUBLIC_ADDRESS, 443, "tls")


def violated(call, result, at_gateway=None, gateway_host=""):
    cell = judge.judge(call, result, at_gateway, gateway_host)
    assert cell.violation, cell
    return cell


def test_every_call_routed_to_a_gateway_service_without_443_has_one_cause_naming_the_service_and_the_variable():
    gateway = mesh.gateway(GATEWAY_SETTINGS, [NO_443])
    ctx = causes.context([NO_443], "istio-system", gateway)
    dropped = {"cluster": f"outbound|443|aws-prod|{GATEWAY_HOST}", "cluster_type": ""}
    found = []
    for host in (
        "sqs.eu-west-1.amazonaws.com",
        "s3.eu-west-1.amazonaws.com",
        "sts.eu-west-1.amazonaws.com",
        "kms.eu-west-1.amazonaws.com",
    ):
        for caller in (ORDERS, DEFAULT):
            call = calls.Call(f"{caller.name} {host}", caller, aws(host), calls.LEAVE, "gateway")
            cell = violated(call, dropped, None, GATEWAY_HOST)
            cause = causes.of(call, cell, ctx)
            found.append((cause, call, f"{cell.violation}; {cause.fix}"))
    [group] = named_options(causes.grouped(found), PREFIX)
    assert group["count"] == 8 and len(group["violations"]) == 8
    assert group["cause"] == gateway.fault and group["namespaces"] == ["orders", "default"]
    assert group["line"] == (
        "the gateway Service istio-system/istio-egressgateway has no port 443: the mesh's route to it has nowhere to go; "
        "add port 443 to Service istio-system/istio-egressgateway (Istio's egress gateway chart serves 443 -> 8443), or set "
        "istio_aws_egress_gateway.service to the egress gateway's Service (8 calls: sqs.eu-west-1.amazonaws.com, "
        "s3.eu-west-1.amazonaws.com, sts.eu-west-1.amazonaws.com and 1 more from namespaces orders, default)"
    )


def test_a_foreign_entry_opening_undeclared_hosts_is_named_once_with_what_to_narrow():
    entry = {
        "kind": "ServiceEntry",
        "metadata": {"name": "all-of-aws", "namespace": "legacy"},
        "spec": {"hosts": ["*.amazonaws.com"]},
    }
    ctx = causes.context([entry])
    leaks = {"cluster": "outbound|443||*.amazonaws.com", "cluster_type": "ORIGINAL_DST"}
    found = []
    for host in ("ec2.eu-west-1.amazonaws.com", "sns.eu-west-1.amazonaws.com"):
        call = calls.Call(host, DEFAULT, aws(host, declared=False), calls.STAY, "direct")
        cause = causes.of(call, violated(call, leaks), ctx)
        found.append((cause, call, host))
    [group] = named_options(causes.grouped(found), PREFIX)
    assert group["cause"] == "ServiceEntry legacy/all-of-aws of the mesh opens *.amazonaws.com to undeclared hosts"
    assert group["fix"] == (
        "narrow its hosts or its exportTo to the namespaces that need them, or declare the hosts in "
        "istio_aws_egress_services"
    )
    assert group["line"].endswith(
        "(2 calls: ec2.eu-west-1.amazonaws.com, sns.eu-west-1.amazonaws.com from namespace default)"
    )


def test_a_sidecar_of_the_mesh_that_hides_declared_hosts_is_named_with_the_hosts_to_add():
    sidecar = {
        "kind": "Sidecar",
        "metadata": {"name": "default", "namespace": "default"},
        "spec": {"egress": [{"hosts": ["./*"]}]},
    }
    ctx = causes.context([sidecar], "istio-system")
    call = calls.Call("c", DEFAULT, aws("s3.eu-west-1.amazonaws.com"), calls.LEAVE, "direct")
    cause = causes.of(call, violated(call, {"cluster": "BlackHoleCluster", "cluster_type": "STATIC"}), ctx)
    assert cause.what == "Sidecar default/default of the mesh hides declared hosts from namespace default"
    assert named_options(cause.fix, PREFIX) == (
        "add istio-system/<host> (or istio-system/*) to its egress hosts, or remove it and set "
        "istio_aws_egress_sidecars to include default"
    )


def test_passthrough_from_a_namespace_without_our_sidecar_names_the_variable_that_lists_it():
    call = calls.Call("c", DEFAULT, aws("ec2.eu-west-1.amazonaws.com", declared=False), calls.STAY, "direct")
    cell = violated(call, {"cluster": "PassthroughCluster", "cluster_type": "ORIGINAL_DST"})
    assert "set istio_aws_egress_sidecars to include default" in named_options(
        causes.of(call, cell, causes.Context()).fix, PREFIX
    )


def test_different_causes_stay_apart_and_a_refused_object_counts_no_calls():
    first, second = causes.Cause("a", "fix a"), causes.Cause("b", "fix b")
    refused = causes.refused("istio refuses ServiceEntry istio-system/x: bad", causes.Context())
    groups = named_options(
        causes.grouped([(first, None, "1"), (second, None, "2"), (first, None, "3"), (refused, None, "4")]), PREFIX
    )
    assert [(g["cause"], g["count"], g["violations"]) for g in groups] == [
        ("a", 2, ["1", "3"]),
        ("b", 1, ["2"]),
        ("istio refuses ServiceEntry istio-system/x: bad", 1, ["4"]),
    ]
    assert groups[2]["line"] == (
        "istio refuses ServiceEntry istio-system/x: bad; the egress set renders it: change the value "
        "of the istio_aws_egress_* variables it comes from"
    )
