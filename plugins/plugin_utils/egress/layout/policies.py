# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""layout -> network policies: the egress the mesh allows, enforced by the CNI as well.

The mesh limits what a sidecar forwards; a workload that bypasses its sidecar
(or has none) reaches anything.  A network policy closes that gap, built from
the same lists as the Sidecar (`istio_aws_egress_network_policy`):

* `kubernetes`: one NetworkPolicy per listed namespace, selecting every pod,
  that allows egress only to cluster DNS, istiod (15012: xDS and
  certificates), the namespace's own pods and the in-mesh namespaces of the
  Sidecar hosts, the egress gateway's pods (gateway mode), the declared
  link-local credential endpoints (port 80), and, for AWS hosts the sidecars
  reach directly (every host not routed through the egress gateway, in
  ambient mode those bound to the waypoint too), port 443 at any address: a
  NetworkPolicy cannot name hosts.
  In gateway mode with no direct host, nothing leaves but through the gateway,
  and the gateway's pods get one of their own: DNS, istiod and port 443 out.
* `cilium`: the same as CiliumNetworkPolicies, where port 443 is allowed to
  the declared hosts by name (`toFQDNs`), with the DNS rule Cilium needs to
  see the lookups that map names to addresses.

One kind, never both: Cilium enforces NetworkPolicies too, and allow rules of
all policies add up, so a NetworkPolicy's "443 anywhere" would undo the
CiliumNetworkPolicy's names.
"""

from __future__ import annotations

import re

from ansible_collections.meshops.aws_egress.plugins.plugin_utils import naming
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import role_options
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import (
    check_keys,
    described,
    input_error,
    shown,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import provenance_annotations
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import (
    CILIUM_NETWORK_POLICY,
    NETWORK_POLICY,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

MODES = role_options.choices("network_policy")
KINDS = {"kubernetes": NETWORK_POLICY.kind, "cilium": CILIUM_NETWORK_POLICY.kind}
PEER_KEYS = ("namespace", "selector")
DEFAULT_DNS = role_options.default("network_policy_peers", "dns")
DEFAULT_ISTIOD = role_options.default("network_policy_peers", "istiod")
DNS_PORT = 53
# What a sidecar, a gateway or ztunnel asks of istiod: xDS and certificates, over TLS.
ISTIOD_PORT = 15012
HTTPS_PORT = 443
ANY_ADDRESS = ("0.0.0.0/0", "::/0")
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
CILIUM_NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace"
CLUSTER_SUFFIX = ".svc.cluster.local"
API_SERVER_HOST = "kubernetes.default" + CLUSTER_SUFFIX
# Agents on the node's own network: Cilium sees their link-local address as the host, where
# no CIDR rule matches (cilium/cilium#34387). IMDS is off the node, an address like any other.
ON_NODE_SOURCES = ("eks_pod_identity", "eks_pod_identity_ipv6", "ecs")


def network_policies(
    mode,
    endpoints,
    entries,
    sidecars,
    sidecar_hosts,
    gateway_layout,
    name_prefix,
    dns=None,
    istiod=None,
    extra_egress=(),
    other_hosts=(),
):
    """(policies, notes): one dict per policy for the templates, and what the plan should say about them.

    `entries` are the layout's ServiceEntries (with their route), `gateway_layout` the layout's gateway or None,
    `other_hosts` the AWS hosts other owners' entries declare, which the namespaces reach as they decide (opened as direct).
    """
    _check(mode, extra_egress)
    dns = checked_peer(DEFAULT_DNS if dns is None else dns, "network_policy_dns")
    istiod = checked_peer(DEFAULT_ISTIOD if istiod is None else istiod, "network_policy_istiod")
    if mode == "none":
        return [], []
    # Sidecars reach every AWS host directly but those routed through the egress gateway: istiod sends only gateways
    # to a Service's waypoint (pilot's endpoint builder, findServiceWaypoint), so in ambient mode a sidecar reaches the
    # hosts bound to the waypoint directly too.
    direct = sorted(
        {
            host
            for endpoint, entry in zip(endpoints, entries)
            if endpoint["kind"] == "api" and entry["route"] != "gateway"
            for host in endpoint["hosts"]
        }
        | set(other_hosts)
    )
    credentials = [endpoint for endpoint in endpoints if endpoint["kind"] == "credentials"]
    annotations = provenance_annotations(
        {s for e in endpoints for s in e.get("sources") or [e["service"]]},
        {r for e in endpoints for r in e.get("regions") or []},
    )
    rules = _KubernetesRules() if mode == "kubernetes" else _CiliumRules()
    policies, unmapped = [], set()
    for namespace in sorted(set(sidecars)):
        mesh = mesh_destinations(sidecar_hosts, namespace)
        unmapped.update(mesh["external"] if mode == "kubernetes" else [])
        egress = [rules.dns(dns), rules.istiod(istiod), rules.mesh(mesh, namespace)]
        egress += rules.api_server() if mode == "cilium" and mesh["api_server"] else []
        egress += rules.external(mesh["external"]) if mode == "cilium" and mesh["external"] else []
        egress += [rules.gateway(gateway_layout)] if gateway_layout else []
        egress += rules.credentials(credentials)
        egress += [rules.https(direct)] if direct else []
        egress += [dict(rule) for rule in extra_egress]
        policies.append(_policy(mode, naming.resource_name(name_prefix, "egress"), namespace, {}, egress, annotations))
    if gateway_layout:
        egress = [rules.dns(dns), rules.istiod(istiod), rules.https(gateway_layout["hosts"])]
        policies.append(
            _policy(
                mode,
                gateway_layout["name"],
                gateway_layout["gateway_namespace"],
                gateway_layout["selector"],
                egress,
                gateway_layout["annotations"],
            )
        )
    return policies, _notes(mode, policies, sidecars, sidecar_hosts, direct, sorted(unmapped))


def mesh_destinations(sidecar_hosts, namespace):
    """What of the cluster a namespace's Sidecar hosts (`<namespace>/<host>`) reach, as network peers.

    {"everywhere": every namespace, "namespaces": other namespaces by name, "external": entries naming hosts
    outside the cluster, which no pod selector can name, "api_server": whether the Kubernetes API server is admitted}.
    The service part of a cluster name narrows nothing: a NetworkPolicy selects pods, not Services, so
    `payments/api.payments.svc.cluster.local` opens namespace payments.
    """
    everywhere, namespaces, external, api_server = False, set(), [], False
    for entry in sidecar_hosts:
        config_namespace, host = entry.split("/", 1)
        config_namespace = namespace if config_namespace == "." else config_namespace
        target = _cluster_namespace(host)
        if target is None:
            external.append(entry)
            continue
        target = config_namespace if target == "*" else target
        everywhere = everywhere or target == "*"
        namespaces.add(target)
        api_server = api_server or (target in ("*", "default") and _admits(host, API_SERVER_HOST))
    namespaces.discard(namespace)
    namespaces.discard("*")
    return {"everywhere": everywhere, "namespaces": sorted(namespaces), "external": external, "api_server": api_server}


def _cluster_namespace(host):
    """The namespace a Sidecar host names in the cluster: a name, "*" (the entry's namespace part decides), or None (outside)."""
    if host == "*" or host == "*" + CLUSTER_SUFFIX:
        return "*"
    if not host.endswith(CLUSTER_SUFFIX):
        return None
    labels = host[: -len(CLUSTER_SUFFIX)].split(".")
    return labels[-1] if len(labels) >= 2 else "*"


def _admits(pattern, host):
    return pattern in ("*", host) or (pattern.startswith("*.") and host.endswith(pattern[1:]))


def _check(mode, extra_egress):
    if mode not in MODES:
        raise input_error("network_policy", f"expected one of {', '.join(MODES)}, got {described(mode)}")
    if not isinstance(extra_egress, (list, tuple)) or not all(isinstance(rule, dict) for rule in extra_egress):
        raise input_error(
            "network_policy_egress",
            f"expected a list of egress rules (dicts) in the format of the policy kind, got {described(extra_egress)}",
        )


def checked_peer(peer, path):
    """`peer` ({namespace, selector} of pods the policies allow) as the policies use it; `path` names it in errors."""
    if not isinstance(peer, dict):
        raise input_error(path, f"expected a dict with {', '.join(PEER_KEYS)}, got {described(peer)}")
    check_keys(peer, path, PEER_KEYS)
    namespace, selector = peer.get("namespace"), peer.get("selector")
    if not isinstance(namespace, str) or not naming.is_dns_label(namespace):
        raise input_error(f"{path}.namespace", f"{shown(namespace)} is not a namespace name")
    if (
        not isinstance(selector, dict)
        or not selector
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in selector.items())
    ):
        raise input_error(
            f"{path}.selector",
            f"expected the pods' labels (a non-empty dict of strings to strings), got {described(selector)}",
        )
    return {"namespace": str(namespace), "selector": {str(k): str(v) for k, v in selector.items()}}


def _policy(mode, name, namespace, labels, egress, annotations):
    """A policy on the pods with `labels` ({}: every pod of the namespace)."""
    labels = _cilium_labels(labels) if mode == "cilium" else dict(labels)
    return {
        "kind": KINDS[mode],
        "name": name,
        "namespace": namespace,
        "selector": {"matchLabels": labels} if labels else {},
        "egress": egress,
        "annotations": dict(annotations),
    }


def _cidr(address):
    return f"{address}/128" if ":" in address else f"{address}/32"


def _cilium_labels(labels):
    # Cilium keys Kubernetes labels with their source; "k8s:" is what its own policies use.
    return {f"k8s:{key}": value for key, value in labels.items()}


class _KubernetesRules:
    """NetworkPolicy egress rules (networking.k8s.io/v1)."""

    @staticmethod
    def _pods(namespace, selector=None):
        peer = {"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: namespace}}}
        if selector is not None:
            peer["podSelector"] = {"matchLabels": dict(selector)}
        return peer

    def dns(self, dns):
        return {
            "to": [self._pods(dns["namespace"], dns["selector"])],
            "ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}],
        }

    def istiod(self, istiod):
        return {
            "to": [self._pods(istiod["namespace"], istiod["selector"])],
            "ports": [{"protocol": "TCP", "port": ISTIOD_PORT}],
        }

    def mesh(self, mesh, namespace):  # pylint: disable=unused-argument
        if mesh["everywhere"]:
            return {"to": [{"namespaceSelector": {}}]}
        return {"to": [{"podSelector": {}}] + [self._pods(name) for name in mesh["namespaces"]]}

    def gateway(self, gateway_layout):
        # Any port: the gateway Service's port 443 reaches the pods on its targetPort, which charts set differently.
        return {"to": [self._pods(gateway_layout["gateway_namespace"], gateway_layout["selector"])]}

    def credentials(self, endpoints):
        if not endpoints:
            return []
        return [
            {
                "to": [
                    {"ipBlock": {"cidr": _cidr(address)}} for endpoint in endpoints for address in endpoint["addresses"]
                ],
                "ports": [{"protocol": "TCP", "port": endpoints[0]["port"]}],
            }
        ]

    def https(self, hosts):  # pylint: disable=unused-argument
        return {
            "to": [{"ipBlock": {"cidr": cidr}} for cidr in ANY_ADDRESS],
            "ports": [{"protocol": "TCP", "port": HTTPS_PORT}],
        }


class _CiliumRules:
    """CiliumNetworkPolicy egress rules (cilium.io/v2): one kind of destination per rule, as Cilium requires."""

    @staticmethod
    def _pods(namespace, selector=None):
        return {"matchLabels": {CILIUM_NAMESPACE_LABEL: namespace, **_cilium_labels(selector or {})}}

    @staticmethod
    def _ports(port, protocol="TCP"):
        return [{"ports": [{"port": str(port), "protocol": protocol}]}]

    def dns(self, dns):
        # The DNS rule makes Cilium's DNS proxy read the answers, which is how toFQDNs learns addresses. Lookups of any
        # name pass: what a workload may resolve is not what it may reach.
        return {
            "toEndpoints": [self._pods(dns["namespace"], dns["selector"])],
            "toPorts": [
                {"ports": [{"port": str(DNS_PORT), "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}
            ],
        }

    def istiod(self, istiod):
        return {
            "toEndpoints": [self._pods(istiod["namespace"], istiod["selector"])],
            "toPorts": self._ports(ISTIOD_PORT),
        }

    def mesh(self, mesh, namespace):  # pylint: disable=unused-argument
        # A namespaced policy's selector without a namespace label means its own namespace.
        if mesh["everywhere"]:
            return {"toEndpoints": [{"matchExpressions": [{"key": CILIUM_NAMESPACE_LABEL, "operator": "Exists"}]}]}
        return {"toEndpoints": [{}] + [self._pods(name) for name in mesh["namespaces"]]}

    @staticmethod
    def api_server():
        return [{"toEntities": ["kube-apiserver"]}]

    @staticmethod
    def external(entries):
        # Any port: the Sidecar host says which names, not which ports.
        return [{"toFQDNs": [fqdn_selector(entry.partition("/")[2]) for entry in entries]}]

    def gateway(self, gateway_layout):
        return {"toEndpoints": [self._pods(gateway_layout["gateway_namespace"], gateway_layout["selector"])]}

    def credentials(self, endpoints):
        rules = []
        by_address = [e for e in endpoints if e["service"] not in ON_NODE_SOURCES]
        on_node = [e for e in endpoints if e["service"] in ON_NODE_SOURCES]
        if by_address:
            rules.append(
                {
                    "toCIDR": [_cidr(a) for e in by_address for a in e["addresses"]],
                    "toPorts": self._ports(by_address[0]["port"]),
                }
            )
        if on_node:
            rules.append({"toEntities": ["host"], "toPorts": self._ports(on_node[0]["port"])})
        return rules

    def https(self, hosts):
        return {"toFQDNs": [fqdn_selector(host) for host in hosts], "toPorts": self._ports(HTTPS_PORT)}


def fqdn_selector(host):
    """Cilium's selector for an Istio host: an exact name, or for `*.x` its `**.x` (any depth of labels, like Istio's `*.`)."""
    if host.startswith("*."):
        return {"matchPattern": "**" + host[1:]}
    return {"matchName": host}


# Cilium's DNS name matching (pkg/fqdn/matchpattern, v1.20): a name is matched with a trailing dot; in a pattern "*"
# is any run of DNS characters within one label, a leading "**." any number of whole labels, and "*" alone anything.
_DNS_CHARACTERS = "[-a-zA-Z0-9_]"


def fqdn_matches(selector, host):
    """Whether a toFQDNs selector ({"matchName"} or {"matchPattern"}) matches `host`, as Cilium decides it."""
    name = host.lower().rstrip(".") + "."
    if selector.get("matchName"):
        return name == selector["matchName"].lower().rstrip(".") + "."
    return cilium_pattern_regex(selector.get("matchPattern") or "").fullmatch(name) is not None


def cilium_pattern_regex(pattern):
    """The regular expression Cilium matches fully qualified names (with their final dot) against for `pattern`."""
    pattern = pattern.strip().lower()
    if re.fullmatch(r"\*+\.?", pattern):
        return re.compile(f"({_DNS_CHARACTERS}+[.])+|[.]")
    regex = (pattern if pattern.endswith(".") else pattern + ".").replace(".", "[.]")
    # The replacements hold no backslash, so they go in as they are.
    regex = re.sub(r"^\*{2,}\[\.\]", f"({_DNS_CHARACTERS}+([.]{_DNS_CHARACTERS}+){{0,}})[.]", regex)
    return re.compile(re.sub(r"\*+", f"{_DNS_CHARACTERS}*", regex))


def _notes(mode, policies, sidecars, sidecar_hosts, direct, unmapped):
    namespaces = ", ".join(sorted(set(sidecars)))
    notes = []
    if not policies:
        return notes
    if mode == "kubernetes" and direct and sidecars:
        notes.append(
            f"the NetworkPolicies let namespaces {namespaces} reach port 443 at any address, for the AWS hosts their "
            f"sidecars reach directly ({listed(direct)}): a NetworkPolicy cannot name hosts, so only the mesh limits "
            f"which; {option_ref('network_policy')}: cilium limits them by name in the CNI too"
        )
    if unmapped and sidecars:
        notes.append(
            f"the NetworkPolicies of namespaces {namespaces} do not open the Sidecar hosts {listed(unmapped)}: they are "
            f"outside the cluster, where a NetworkPolicy names addresses only; add rules for them to "
            f"{option_ref('network_policy_egress')}"
        )
    if mode == "kubernetes" and sidecars and any(mesh_destinations(sidecar_hosts, ns)["api_server"] for ns in sidecars):
        notes.append(
            f"the Sidecar hosts admit the Kubernetes API server, which is not a pod: a NetworkPolicy can only open it by "
            f"address, so pods of {namespaces} that call it need a rule in {option_ref('network_policy_egress')}"
        )
    return notes
