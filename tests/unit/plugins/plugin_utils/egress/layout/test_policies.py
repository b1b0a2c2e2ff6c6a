# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network policies of an egress set: pinned per mode, and checked for what they let a pod reach.

The API server checks a policy's shape, not its meaning, and no CNI runs in the
tests. So the meaning is checked here: NetworkPolicies by an evaluator of the
Kubernetes rules (networking.k8s.io/v1: a pod that an egress policy selects
reaches only what one of those policies allows), CiliumNetworkPolicies by
Cilium's own validation rules (pkg/policy/api/rule_validation.go, v1.20) and
its DNS pattern matching, checked against Cilium's own test table.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.meshops.aws_egress.plugins.filter._egress_layout import egress_layout
from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import aws_endpoints
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import data_version
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import admits
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import policies

# The role's templates, rendered as the role renders them (shared with the integration tests).
sys.path.insert(0, str(Path(__file__).resolve().parents[5] / "integration"))
from role_templates import render_all  # noqa: E402  pylint: disable=wrong-import-position

GATEWAY = {"selector": {"istio": "egressgateway"}, "namespace": "egress", "service": "istio-egressgateway"}
LABELS = {"app.kubernetes.io/managed-by": "meshops.aws_egress", "meshops.io/egress-set": "shop"}
AWS_ADDRESS = "52.94.133.131"  # an address of sqs.eu-west-1, or of anything else on the internet: policies cannot tell
ELSEWHERE = "203.0.113.9"


def endpoints(services=("sqs",), **options):
    options.setdefault("regions", ["eu-west-1"])
    return aws_endpoints(list(services), name_prefix="aws-shop", **options)


def layout(found, **options):
    options.setdefault("namespace", "aws-egress")
    options.setdefault("sidecars", ["orders"])
    return egress_layout(found, name="shop", name_prefix="aws-shop", **options)


def policies_of(result):
    return {f"{p['kind']} {p['namespace']}/{p['name']}": p for p in result["network_policies"]}


# --- pinned: what each mode writes ---------------------------------------------------------------

DNS_RULE = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}
ISTIOD_RULE = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "istio-system"}},
            "podSelector": {"matchLabels": {"app": "istiod"}},
        }
    ],
    "ports": [{"protocol": "TCP", "port": 15012}],
}
ANY_443 = {
    "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
    "ports": [{"protocol": "TCP", "port": 443}],
}
CILIUM_DNS_RULE = {
    "toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}],
    "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}],
}
CILIUM_ISTIOD_RULE = {
    "toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "istio-system", "k8s:app": "istiod"}}],
    "toPorts": [{"ports": [{"port": "15012", "protocol": "TCP"}]}],
}


def test_none_writes_no_policy_and_says_nothing():
    result = layout(endpoints(credential_sources=["imds"]))
    assert result["network_policies"] == [] and result["notes"] == []


def test_kubernetes_in_sidecar_mode_opens_443_anywhere_and_says_so():
    result = layout(
        endpoints(["sqs"], credential_sources=["imds", "eks_pod_identity_ipv6"]),
        network_policy="kubernetes",
        sidecar_hosts=["payments/*", "istio-system/prometheus.istio-system.svc.cluster.local"],
    )
    assert result["network_policies"] == [
        {
            "kind": "NetworkPolicy",
            "name": "aws-shop-egress",
            "namespace": "orders",
            "selector": {},
            "annotations": {
                "meshops.io/aws-services": "credential_source:eks_pod_identity_ipv6,credential_source:imds,sqs",
                "meshops.io/aws-regions": "eu-west-1",
            },
            "egress": [
                DNS_RULE,
                ISTIOD_RULE,
                {
                    "to": [
                        {"podSelector": {}},
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "istio-system"}}},
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}}},
                    ]
                },
                {
                    "to": [{"ipBlock": {"cidr": "fd00:ec2::23/128"}}, {"ipBlock": {"cidr": "169.254.169.254/32"}}],
                    "ports": [{"protocol": "TCP", "port": 80}],
                },
                ANY_443,
            ],
        }
    ]
    assert result["notes"] == [
        "the NetworkPolicies let namespaces orders reach port 443 at any address, for the AWS hosts their sidecars reach directly "
        "(eks-auth.eu-west-1.api.aws, sqs.eu-west-1.amazonaws.com): a NetworkPolicy cannot name hosts, so only the mesh limits "
        "which; network_policy: cilium limits them by name in the CNI too"
    ]


def test_kubernetes_in_gateway_mode_sends_exact_hosts_only_through_the_gateway_whose_pods_reach_443():
    found = endpoints(["sqs", {"name": "s3", "buckets": ["shop-data"]}])
    result = layout(
        found, network_policy="kubernetes", mode="egress_gateway", gateway=GATEWAY, variable_prefix="istio_aws_egress_"
    )
    found_policies = policies_of(result)
    assert list(found_policies) == [
        "NetworkPolicy orders/aws-shop-egress",
        "NetworkPolicy egress/aws-shop-egress-gateway",
    ]
    namespace = found_policies["NetworkPolicy orders/aws-shop-egress"]
    assert namespace["egress"] == [
        DNS_RULE,
        ISTIOD_RULE,
        {"to": [{"namespaceSelector": {}}]},
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "egress"}},
                    "podSelector": {"matchLabels": {"istio": "egressgateway"}},
                }
            ]
        },
    ]
    gateway = found_policies["NetworkPolicy egress/aws-shop-egress-gateway"]
    assert gateway["selector"] == {"matchLabels": {"istio": "egressgateway"}}
    assert gateway["egress"] == [DNS_RULE, ISTIOD_RULE, ANY_443]
    # No direct host: nothing says 443 is open; the API server is still not a pod.
    assert result["notes"] == [
        "the Sidecar hosts admit the Kubernetes API server, which is not a pod: a NetworkPolicy can only open it by address, so "
        "pods of orders that call it need a rule in istio_aws_egress_network_policy_egress"
    ]


def test_cilium_names_every_host_and_sees_the_lookups():
    found = endpoints(["sqs", "s3"], credential_sources=["imds", "eks_pod_identity"])
    result = layout(
        found,
        network_policy="cilium",
        sidecar_hosts=["*/*.svc.cluster.local", "*/api.partner.example", "*/*.cdn.example"],
    )
    (policy,) = result["network_policies"]
    direct = sorted(host for endpoint in found if endpoint["kind"] == "api" for host in endpoint["hosts"])
    assert policy["kind"] == "CiliumNetworkPolicy" and policy["selector"] == {}
    assert policy["egress"] == [
        CILIUM_DNS_RULE,
        CILIUM_ISTIOD_RULE,
        {"toEndpoints": [{"matchExpressions": [{"key": "k8s:io.kubernetes.pod.namespace", "operator": "Exists"}]}]},
        {"toEntities": ["kube-apiserver"]},
        {"toFQDNs": [{"matchName": "api.partner.example"}, {"matchPattern": "**.cdn.example"}]},
        {"toCIDR": ["169.254.169.254/32"], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]},
        # The Pod Identity agent listens on the node: Cilium sees it as the host, whatever its address.
        {"toEntities": ["host"], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]},
        {
            "toFQDNs": [policies.fqdn_selector(host) for host in direct],
            "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
        },
    ]
    assert {"matchPattern": "**.s3.eu-west-1.amazonaws.com"} in policy["egress"][-1]["toFQDNs"]
    assert result["notes"] == []


def test_cilium_in_gateway_mode_lets_the_gateway_reach_only_the_routed_hosts():
    found = endpoints(["sqs", "s3"])
    result = layout(
        found, network_policy="cilium", mode="egress_gateway", gateway=GATEWAY, sidecar_hosts=["payments/*"]
    )
    namespace, gateway = result["network_policies"]
    assert namespace["egress"][2:] == [
        {"toEndpoints": [{}, {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "payments"}}]},
        {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "egress", "k8s:istio": "egressgateway"}}]},
        {
            "toFQDNs": [{"matchPattern": "**.s3.eu-west-1.amazonaws.com"}],
            "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
        },
    ]
    assert gateway["namespace"] == "egress" and gateway["selector"] == {"matchLabels": {"k8s:istio": "egressgateway"}}
    assert gateway["egress"] == [
        CILIUM_DNS_RULE,
        CILIUM_ISTIOD_RULE,
        {
            "toFQDNs": [{"matchName": host} for host in result["gateway"]["hosts"]],
            "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
        },
    ]


def test_the_users_rules_come_last_and_the_peers_are_the_users_to_name():
    extra = {"to": [{"ipBlock": {"cidr": "10.0.0.10/32"}}], "ports": [{"protocol": "TCP", "port": 443}]}
    result = layout(
        endpoints([]),
        network_policy="kubernetes",
        network_policy_egress=[extra],
        network_policy_dns={"namespace": "dns", "selector": {"app": "coredns"}},
        network_policy_istiod={"namespace": "istio-1-30", "selector": {"istio.io/rev": "1-30"}},
    )
    egress = result["network_policies"][0]["egress"]
    assert egress[0]["to"][0] == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns"}},
        "podSelector": {"matchLabels": {"app": "coredns"}},
    }
    assert egress[1]["to"][0]["podSelector"] == {"matchLabels": {"istio.io/rev": "1-30"}}
    assert egress[-1] == extra


def test_external_sidecar_hosts_are_named_by_cilium_and_only_noted_for_a_networkpolicy():
    hosts = ["*/*.svc.cluster.local", "*/api.partner.example"]
    kubernetes = layout(
        endpoints([]), network_policy="kubernetes", sidecar_hosts=hosts, variable_prefix="istio_aws_egress_"
    )
    assert (
        "the NetworkPolicies of namespaces orders do not open the Sidecar hosts */api.partner.example: they are outside the "
        "cluster, where a NetworkPolicy names addresses only; add rules for them to istio_aws_egress_network_policy_egress"
    ) in kubernetes["notes"]
    cilium = layout(endpoints([]), network_policy="cilium", sidecar_hosts=hosts)
    assert {"toFQDNs": [{"matchName": "api.partner.example"}]} in cilium["network_policies"][0]["egress"]


@pytest.mark.parametrize(
    "hosts, expected",
    [
        (["*/*.svc.cluster.local"], {"everywhere": True, "namespaces": [], "external": [], "api_server": True}),
        (["*/*"], {"everywhere": True, "namespaces": [], "external": [], "api_server": True}),
        (["payments/*", "./*"], {"everywhere": False, "namespaces": ["payments"], "external": [], "api_server": False}),
        (
            ["istio-system/prometheus.istio-system.svc.cluster.local"],
            {"everywhere": False, "namespaces": ["istio-system"], "external": [], "api_server": False},
        ),
        # The DNS name says the namespace: the Service lives there, whatever the config namespace.
        (
            ["*/api.billing.svc.cluster.local", "*/*.ledger.svc.cluster.local"],
            {"everywhere": False, "namespaces": ["billing", "ledger"], "external": [], "api_server": False},
        ),
        (
            ["default/kubernetes.default.svc.cluster.local"],
            {"everywhere": False, "namespaces": ["default"], "external": [], "api_server": True},
        ),
        (
            ["*/api.partner.example", "egress/*.partner.example"],
            {
                "everywhere": False,
                "namespaces": [],
                "external": ["*/api.partner.example", "egress/*.partner.example"],
                "api_server": False,
            },
        ),
    ],
)
def test_sidecar_hosts_map_to_namespaces_and_what_is_outside_is_said(hosts, expected):
    assert policies.mesh_destinations(hosts, "orders") == expected


@pytest.mark.parametrize(
    "options, message",
    [
        ({"network_policy": "calico"}, "network_policy: expected one of none, kubernetes, cilium, got str 'calico'"),
        (
            {"network_policy": "kubernetes", "network_policy_dns": {"namespace": "kube-system"}},
            "network_policy_dns.selector: expected the pods' labels (a non-empty dict of strings to strings), got None",
        ),
        (
            {"network_policy_istiod": {"namespace": "Istio", "selector": {"app": "istiod"}}},
            "network_policy_istiod.namespace: 'Istio' is not a namespace name",
        ),
        (
            {"network_policy_istiod": {"namespace": "istio-system", "selector": {"app": "istiod"}, "port": 15012}},
            "network_policy_istiod: unknown key 'port' (keys: namespace, selector)",
        ),
        ({"network_policy_egress": {"to": []}}, "network_policy_egress: expected a list of egress rules (dicts)"),
        ({"internet_path": "no"}, "internet_path: expected true or false, got str 'no'"),
    ],
)
def test_bad_policy_options_are_refused_naming_the_variable(options, message):
    with pytest.raises(AnsibleFilterError) as caught:
        layout(endpoints([]), variable_prefix="istio_aws_egress_", **options)
    assert caught.value.message.startswith("istio_aws_egress_" + message)


# --- the templates: what reaches the API server --------------------------------------------------


def rendered(result):
    """The role's resources.yaml.j2 for `result`, as objects, the network policies only."""
    (out,) = render_all(
        [("resources.yaml.j2", {"layout": result, "networking_version": "v1", "security_version": "v1"})]
    )
    assert "error" not in out, out
    return [doc for doc in yaml.safe_load_all(out["text"]) if doc and doc["kind"].endswith("NetworkPolicy")]


def test_the_templates_write_each_kind_as_the_layout_decides():
    kubernetes = layout(endpoints(["sqs"]), network_policy="kubernetes", mode="egress_gateway", gateway=GATEWAY)
    cilium = layout(endpoints(["sqs"]), network_policy="cilium")
    objects = rendered(kubernetes) + rendered(cilium)
    versions = data_version.current()
    annotations = {
        "meshops.io/aws-services": "sqs",
        "meshops.io/aws-regions": "eu-west-1",
        "meshops.io/botocore-version": versions["botocore"],
        "meshops.io/collection-version": versions["collection"],
    }
    assert objects == [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": "aws-shop-egress",
                "namespace": "orders",
                "labels": LABELS,
                "annotations": annotations,
            },
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": kubernetes["network_policies"][0]["egress"],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": "aws-shop-egress-gateway",
                "namespace": "egress",
                "labels": LABELS,
                "annotations": annotations,
            },
            "spec": {
                "podSelector": {"matchLabels": {"istio": "egressgateway"}},
                "policyTypes": ["Egress"],
                "egress": [DNS_RULE, ISTIOD_RULE, ANY_443],
            },
        },
        {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {
                "name": "aws-shop-egress",
                "namespace": "orders",
                "labels": LABELS,
                "annotations": annotations,
            },
            "spec": {"endpointSelector": {}, "egress": cilium["network_policies"][0]["egress"]},
        },
    ]


# --- NetworkPolicy: what a pod reaches, by the Kubernetes rules ----------------------------------


def _selects(selector, labels):
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        held = {
            "In": labels.get(key) in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not held:
            return False
    return True


def _peer_admits(peer, policy_namespace, destination):
    if "ipBlock" in peer:
        if "address" not in destination:
            return False
        address = ipaddress.ip_address(destination["address"])
        block = peer["ipBlock"]
        inside = address in ipaddress.ip_network(block["cidr"])
        return inside and not any(address in ipaddress.ip_network(c) for c in block.get("except") or [])
    if "address" in destination:
        return False  # pod and namespace selectors name pods only
    namespace_labels = {"kubernetes.io/metadata.name": destination["namespace"]}
    if "namespaceSelector" in peer:
        in_namespace = _selects(peer["namespaceSelector"], namespace_labels)
    else:
        in_namespace = destination["namespace"] == policy_namespace
    return in_namespace and _selects(peer.get("podSelector") or {}, destination["labels"])


def reaches(objects, namespace, labels, destination, port, protocol="TCP"):
    """Whether a pod of `namespace` with `labels` may open `port` at `destination`, under the NetworkPolicies `objects`."""
    selecting = [p for p in objects if p["namespace"] == namespace and _selects(p["selector"], labels)]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["egress"]:
            ports = rule.get("ports")
            port_ok = not ports or any(
                p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports
            )
            peers = rule.get("to")
            if port_ok and (not peers or any(_peer_admits(peer, policy["namespace"], destination) for peer in peers)):
                return True
    return False


DNS_POD = {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}
ISTIOD_POD = {"namespace": "istio-system", "labels": {"app": "istiod"}}
GATEWAY_POD = {"namespace": "egress", "labels": {"istio": "egressgateway"}}
NEIGHBOUR = {"namespace": "orders", "labels": {"app": "cart"}}
PAYMENTS = {"namespace": "payments", "labels": {"app": "api"}}
BILLING = {"namespace": "billing", "labels": {"app": "api"}}


def test_a_sidecar_mode_networkpolicy_lets_pods_reach_the_mesh_and_443_and_nothing_else():
    result = layout(
        endpoints(["sqs"], credential_sources=["imds"]), network_policy="kubernetes", sidecar_hosts=["payments/*"]
    )
    found = result["network_policies"]
    pod = ("orders", {"app": "shop"})
    allowed = [
        (DNS_POD, 53, "UDP"),
        (DNS_POD, 53, "TCP"),
        (ISTIOD_POD, 15012, "TCP"),
        (NEIGHBOUR, 8080, "TCP"),
        (PAYMENTS, 8080, "TCP"),
        ({"address": AWS_ADDRESS}, 443, "TCP"),
        ({"address": ELSEWHERE}, 443, "TCP"),
        ({"address": "169.254.169.254"}, 80, "TCP"),
    ]
    refused = [
        (DNS_POD, 8053, "UDP"),
        (ISTIOD_POD, 15017, "TCP"),
        (ISTIOD_POD, 15010, "TCP"),
        (BILLING, 8080, "TCP"),
        (GATEWAY_POD, 8443, "TCP"),
        ({"address": AWS_ADDRESS}, 80, "TCP"),
        ({"address": ELSEWHERE}, 22, "TCP"),
        ({"address": "169.254.170.23"}, 80, "TCP"),
        ({"address": "169.254.169.254"}, 443, "UDP"),
    ]
    assert [d for d in allowed if not reaches(found, *pod, d[0], d[1], d[2])] == []
    assert [d for d in refused if reaches(found, *pod, d[0], d[1], d[2])] == []
    # A namespace without the policy is not limited.
    assert reaches(found, "billing", {}, {"address": ELSEWHERE}, 22)


def test_a_gateway_mode_networkpolicy_sends_aws_only_through_the_gateway():
    found_endpoints = endpoints(["sqs", {"name": "s3", "buckets": ["shop-data"]}])
    found = layout(
        found_endpoints,
        network_policy="kubernetes",
        mode="egress_gateway",
        gateway=GATEWAY,
        sidecar_hosts=["payments/*"],
    )["network_policies"]
    pod = ("orders", {"app": "shop"})
    assert reaches(found, *pod, GATEWAY_POD, 8443)  # the Service's targetPort, whatever the chart chose
    assert not reaches(found, *pod, {"address": AWS_ADDRESS}, 443)
    assert not reaches(found, *pod, {"namespace": "egress", "labels": {"app": "other"}}, 8443)
    gateway_pod = ("egress", {"istio": "egressgateway", "app": "istio-egressgateway"})
    assert reaches(found, *gateway_pod, {"address": AWS_ADDRESS}, 443) and reaches(
        found, *gateway_pod, DNS_POD, 53, "UDP"
    )
    assert not reaches(found, *gateway_pod, {"address": AWS_ADDRESS}, 80)
    assert not reaches(found, *gateway_pod, PAYMENTS, 8080)
    # Other pods of the gateway's namespace are not selected.
    assert reaches(found, "egress", {"app": "debug"}, {"address": ELSEWHERE}, 22)


def test_wildcards_keep_443_open_in_gateway_mode_since_they_stay_direct():
    found = layout(endpoints(["sqs", "s3"]), network_policy="kubernetes", mode="egress_gateway", gateway=GATEWAY)[
        "network_policies"
    ]
    assert reaches(found, "orders", {}, {"address": AWS_ADDRESS}, 443)


# --- CiliumNetworkPolicy: Cilium's own rules ------------------------------------------------------

# EntitySelectorMapping (pkg/policy/api/entity.go) and the port protocols ParseL4Proto takes.
CILIUM_ENTITIES = {
    "all",
    "world",
    "cluster",
    "cluster-mesh",
    "host",
    "init",
    "ingress",
    "unmanaged",
    "remote-node",
    "health",
    "none",
    "kube-apiserver",
}
CILIUM_PROTOCOLS = {"TCP", "UDP", "SCTP", "ICMP", "ICMPV6", "ANY"}
L3_MEMBERS = ("toCIDR", "toCIDRSet", "toEndpoints", "toEntities", "toServices", "toGroups", "toNodes", "toFQDNs")
MATCH_NAME = re.compile(r"^[-a-zA-Z0-9_.]+$")  # allowedMatchNameChars
MATCH_PATTERN = re.compile(r"^[-a-zA-Z0-9_.*]+$")  # allowedPatternChars


def cilium_problems(policy):
    """What Cilium's agent (EgressRule.sanitize) would refuse in a policy's egress rules."""
    problems = []
    for index, rule in enumerate(policy["egress"]):
        members = [m for m in L3_MEMBERS if rule.get(m)]
        if len(members) > 1:
            problems.append(f"{index}: combining {members}")
        for to_ports in rule.get("toPorts") or []:
            dns_rules = (to_ports.get("rules") or {}).get("dns")
            if dns_rules is not None and not to_ports.get("ports"):
                problems.append(f"{index}: port 53 must be specified for DNS rules")
            for port in to_ports.get("ports") or []:
                if not isinstance(port["port"], str) or not 0 < int(port["port"], 0) < 65536:
                    problems.append(f"{index}: port {port['port']!r}")
                if port.get("protocol", "ANY") not in CILIUM_PROTOCOLS:
                    problems.append(f"{index}: protocol {port['protocol']!r}")
                if dns_rules is not None and port["port"] != "53":
                    problems.append(f"{index}: DNS rules on port {port['port']}")
            for dns in dns_rules or []:
                if not MATCH_PATTERN.match(dns.get("matchPattern", "")):
                    problems.append(f"{index}: DNS pattern {dns}")
        for entity in rule.get("toEntities") or []:
            if entity not in CILIUM_ENTITIES:
                problems.append(f"{index}: unsupported entity {entity}")
        for fqdn in rule.get("toFQDNs") or []:
            if ("matchName" in fqdn) == ("matchPattern" in fqdn):
                problems.append(f"{index}: {fqdn} needs one of matchName and matchPattern")
            if "matchName" in fqdn and not MATCH_NAME.match(fqdn["matchName"]):
                problems.append(f"{index}: invalid characters in MatchName {fqdn['matchName']}")
            if "matchPattern" in fqdn and not MATCH_PATTERN.match(fqdn["matchPattern"]):
                problems.append(f"{index}: invalid characters in MatchPattern {fqdn['matchPattern']}")
        for cidr in rule.get("toCIDR") or []:
            ipaddress.ip_network(cidr)
    return problems


ALL_SERVICES = ["sqs", "s3", "dynamodb", "kms", "sts", "ecr", "logs", "secretsmanager", "bedrock-runtime"]


@pytest.mark.parametrize("mode", ["sidecar", "egress_gateway"])
def test_every_cilium_rule_passes_ciliums_validation(mode):
    found = endpoints(
        ALL_SERVICES,
        regions=["eu-west-1", "us-east-1"],
        credential_sources=sorted(["irsa", "imds", "imds_ipv6", "eks_pod_identity", "eks_pod_identity_ipv6", "ecs"]),
    )
    result = layout(
        found,
        network_policy="cilium",
        mode=mode,
        gateway=GATEWAY,
        sidecar_hosts=["*/*.svc.cluster.local", "*/api.partner.example", "*/*.cdn.example"],
    )
    assert len(result["network_policies"]) == (2 if mode == "egress_gateway" else 1)
    for policy in result["network_policies"]:
        assert cilium_problems(policy) == []


def _fqdn_rules(policy):
    return [
        s
        for rule in policy["egress"]
        if rule.get("toPorts") == [{"ports": [{"port": "443", "protocol": "TCP"}]}]
        for s in rule.get("toFQDNs") or []
    ]


def _cilium_allows_443(policy, host):
    return any(policies.fqdn_matches(selector, host) for selector in _fqdn_rules(policy))


def test_cilium_lets_through_443_exactly_what_the_mesh_admits():
    found = endpoints(["sqs", "s3", "dynamodb"], regions=["us-east-1"])
    (policy,) = layout(found, network_policy="cilium")["network_policies"]
    declared = [host for endpoint in found for host in endpoint["hosts"]]
    for host in [
        "sqs.us-east-1.amazonaws.com",
        "my-bucket.s3.us-east-1.amazonaws.com",
        "s3.amazonaws.com",
        "legacy.s3.amazonaws.com",
        "111122223333.ddb.us-east-1.amazonaws.com",
        "a.b.s3.us-east-1.amazonaws.com",
    ]:
        assert any(admits(pattern, host) for pattern in declared), host
        assert _cilium_allows_443(policy, host), host
    for host in [
        "sns.us-east-1.amazonaws.com",
        "sqs.us-east-2.amazonaws.com",
        "s3.us-east-1.amazonaws.com.evil.example",
        "xs3.us-east-1.amazonaws.com",
        "amazonaws.com",
        "ddb.us-east-1.amazonaws.com",
    ]:
        assert not any(admits(pattern, host) for pattern in declared), host
        assert not _cilium_allows_443(policy, host), host


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@given(labels=st.lists(LABEL, min_size=1, max_size=4), other=LABEL)
def test_a_wildcard_means_the_same_to_istio_and_to_cilium(labels, other):
    found = endpoints(["s3", "dynamodb"], regions=["eu-west-1"])
    (policy,) = layout(found, network_policy="cilium")["network_policies"]
    for pattern in [host for endpoint in found for host in endpoint["hosts"] if host.startswith("*.")]:
        below = ".".join(labels) + pattern[1:]
        beside = other + "x" + pattern[2:]
        assert admits(pattern, below) and _cilium_allows_443(policy, below)
        assert admits(pattern, beside) == _cilium_allows_443(policy, beside)


# Cilium's own cases (pkg/fqdn/matchpattern/matchpattern_test.go, TestAnchoredMatchPatternMatching, v1.20.2).
CILIUM_PATTERN_CASES = [
    ("cilium.io.", ["cilium.io."], ["", "anysub.cilium.io.", "anysub.ci.io.", "anysub.ciliumandmore.io."]),
    ("*.cilium.io.", ["anysub.cilium.io."], ["", "cilium.io.", "anysub.ci.io.", "anysub.ciliumandmore.io."]),
    ("*.ci*.io.", ["anysub.cilium.io.", "anysub.ci.io.", "anysub.ciliumandmore.io."], ["", "cilium.io."]),
    ("*.ci**.io.", ["anysub.cilium.io.", "anysub.ci.io.", "anysub.ciliumandmore.io."], ["", "cilium.io."]),
    (
        "*",
        [
            ".",
            "io.",
            "cilium.io.",
            "svc.cluster.local.",
            "service.namesace.svc.cluster.local.",
            "_foobar._tcp.cilium.io.",
        ],
        ["", ".io.", ".cilium.io.", ".svc.cluster.local.", "cilium.io"],
    ),
    (
        "**",
        [
            ".",
            "io.",
            "cilium.io.",
            "svc.cluster.local.",
            "service.namesace.svc.cluster.local.",
            "_foobar._tcp.cilium.io.",
        ],
        ["", ".io.", ".cilium.io.", ".svc.cluster.local.", "cilium.io"],
    ),
    (".", ["."], ["", ".io.", ".cilium.io"]),
    ("_foobar._tcp.cilium.io.", ["_foobar._tcp.cilium.io."], ["", "_tcp.cilium.io.", "cilium.io."]),
    ("*.*.cilium.io.", ["_foobar._tcp.cilium.io."], [""]),
    (
        "**.cilium.io.",
        ["test.cilium.io.", "test.app.cilium.io.", "test.app.new.cilium.io."],
        ["", "cilium.io.", "anysub.ci.io.", "anysub.ciliumandmore.io."],
    ),
    (
        "***.cilium.io.",
        ["test.cilium.io.", "test.app.cilium.io.", "test.app.new.cilium.io."],
        ["", "cilium.io.", "anysub.ci.io.", "anysub.ciliumandmore.io."],
    ),
    ("**.*.cilium.io.", ["_foobar._tcp.cilium.io.", "_foo._bar._tcp.cilium.io."], ["", "cilium.io.", "foo.cilium.io."]),
    (
        "**.ci*.io.",
        ["foo.bar.cilium.io.", "anysub.cilium.io.", "anysub.ci.io.", "_foo._bar.ciliumandmore.io."],
        ["", "cilium.io.", "test.calium.io."],
    ),
]


@pytest.mark.parametrize(
    "pattern, accept, reject", CILIUM_PATTERN_CASES, ids=[case[0] for case in CILIUM_PATTERN_CASES]
)
def test_our_reading_of_cilium_patterns_is_ciliums(pattern, accept, reject):
    regex = policies.cilium_pattern_regex(pattern)
    assert [name for name in accept if not regex.fullmatch(name)] == []
    assert [name for name in reject if regex.fullmatch(name)] == []


@pytest.mark.parametrize("mode", ["kubernetes", "cilium"])
def test_in_ambient_mode_the_sidecar_namespaces_reach_the_hosts_bound_to_the_waypoint(mode):
    # istiod sends only gateways to a Service's waypoint: a sidecar calls an entry bound to it directly, so its
    # namespace's policy must let it (tests/integration/test_xds_ambient.py shows the sidecar's cluster).
    found = endpoints(["sqs", "dynamodb"])
    result = layout(found, network_policy=mode, mode="ambient", caller_namespaces=["orders"])
    assert {e["route"] for e in result["service_entries"] if e["hosts"] == ["sqs.eu-west-1.amazonaws.com"]} == {
        "waypoint"
    }
    (policy,) = result["network_policies"]
    if mode == "cilium":
        for host in (
            "sqs.eu-west-1.amazonaws.com",
            "dynamodb.eu-west-1.amazonaws.com",
            "111122223333.ddb.eu-west-1.amazonaws.com",
        ):
            assert _cilium_allows_443(policy, host), host
        assert not _cilium_allows_443(policy, "sns.eu-west-1.amazonaws.com")
    else:
        assert policy["egress"][-1] == {
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        }


def test_hosts_left_to_other_owners_stay_open_to_the_namespaces():
    found = endpoints(["sqs", "sns"])
    (policy,) = layout(found, network_policy="cilium", exclude_hosts=["sqs.eu-west-1.amazonaws.com"])[
        "network_policies"
    ]
    assert _cilium_allows_443(policy, "sqs.eu-west-1.amazonaws.com") and _cilium_allows_443(
        policy, "sns.eu-west-1.amazonaws.com"
    )
