# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What our network policies would cut, or could not narrow, next to the policies and mesh config already there.

An egress policy that selects a pod cuts every connection of that pod that no
policy on it allows, and the allows of all policies on a pod add up.  So:

* pods no other egress policy selects yet become limited by ours alone: what
  the mesh lets them reach today and ours does not allow is cut.  We can see
  part of that traffic, and refuse (override `network_policy_cut`) when ours
  would cut it:

  - external ServiceEntries a listed namespace sees and its Sidecar admits
    (another team's database, an HTTP API), on ports or hosts our policy
    does not allow;
  - other Gateways on the egress gateway's pods, whose upstreams our
    gateway policy does not allow (only TLS on 443 to the allowed hosts is);

* pods other egress policies already limit only gain what ours allows: a
  note names those policies, and says when one of them allows everything, so
  that ours narrows nothing there.

Traffic nothing in the cluster declares (a workload calling an address
directly) cannot be seen: the user opts into cutting it by choosing a policy.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import owner_text
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import describe, identity
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.policies import (
    CLUSTER_SUFFIX,
    fqdn_matches,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety.mesh import (
    Finding,
    _admits,
    _exported_to,
    _overlaps,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import (
    CILIUM_NETWORK_POLICY,
    ISTIO_GATEWAY,
    NETWORK_POLICY,
    SERVICE_ENTRY,
    SIDECAR,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

OVERRIDE = "network_policy_cut"
POLICY_KINDS = (NETWORK_POLICY.key, CILIUM_NETWORK_POLICY.key)


def check(desired, others):
    """(refusals, notes) for the network policies among `desired`, against `others` (plan.others_of: not declared, not ours)."""
    ours = [obj for obj in desired if identity(obj)[:2] in POLICY_KINDS]
    if not ours:
        return [], []
    other_policies = [obj for obj in others if identity(obj)[:2] in POLICY_KINDS]
    refusals, notes = [], []
    for policy in ours:
        namespace, labels = identity(policy)[2], _selected_labels(policy)
        limiting = [
            other
            for other in other_policies
            if identity(other)[2] == namespace and _limits_egress(other) and _may_select(_selector_of(other), labels)
        ]
        if limiting:
            notes.append(_adding_note(policy, limiting, labels))
        if any(_selects_all(_selector_of(other), labels) for other in limiting):
            continue  # those pods are limited already: ours only adds
        if not labels:
            cut = _cut_entries(policy, desired, others)
            fix = f"allow it with a rule in {option_ref('network_policy_egress')}, or stop listing {namespace}"
        else:
            cut = _cut_gateways(policy, others)
            fix = "give those Gateways' upstreams an egress policy on the gateway pods first (ours then only adds)"
        if cut:
            refusals.append(
                Finding(
                    f"{describe(policy)} would be the first egress policy on {_pods(policy, labels)} and cut what the mesh lets "
                    f"them reach today: {listed(cut)}",
                    fix,
                    OVERRIDE,
                )
            )
    return refusals, notes


# -- which pods a policy selects -----------------------------------------------------------------------


def _spec(obj):
    return obj.get("spec") or {}


def _is_cilium(obj):
    return identity(obj)[0] == CILIUM_NETWORK_POLICY.group


def _selector_of(obj):
    """The pod selector of a NetworkPolicy or CiliumNetworkPolicy, its keys without Cilium's source prefixes."""
    selector = _spec(obj).get("endpointSelector" if _is_cilium(obj) else "podSelector") or {}
    if not _is_cilium(obj):
        return selector
    strip = _cilium_key
    return {
        "matchLabels": {strip(k): v for k, v in (selector.get("matchLabels") or {}).items()},
        "matchExpressions": [{**e, "key": strip(e.get("key", ""))} for e in selector.get("matchExpressions") or []],
    }


def _cilium_key(key):
    source, colon, rest = key.partition(":")
    return rest if colon and source in ("k8s", "any") else key


def _selected_labels(policy):
    """The labels our policy selects pods by ({}: every pod of its namespace)."""
    return dict(_selector_of(policy).get("matchLabels") or {})


def _limits_egress(obj):
    spec = _spec(obj)
    if _is_cilium(obj):
        specs = [spec] + list(spec.get("specs") or [])
        return any(
            ("egress" in s or "egressDeny" in s) and (s.get("enableDefaultDeny") or {}).get("egress", True) is not False
            for s in specs
        )
    types = spec.get("policyTypes")
    return "Egress" in types if types else "egress" in spec


def _requirement_holds(expression, labels):
    """Whether a matchExpression surely holds for pods carrying at least `labels`; unknown is False."""
    key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
    if operator == "In":
        return labels.get(key) in values
    if operator == "Exists":
        return key in labels
    return False  # NotIn, DoesNotExist: depend on labels we do not know


def _selects_all(selector, labels):
    """Whether `selector` selects every pod that our `labels` select."""
    match = selector.get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in match.items()) and all(
        _requirement_holds(e, labels) for e in selector.get("matchExpressions") or []
    )


def _may_select(selector, labels):
    """Whether `selector` may select some pod that our `labels` select."""
    match = selector.get("matchLabels") or {}
    if any(k in labels and labels[k] != v for k, v in match.items()):
        return False
    return not any(
        e.get("operator") == "In" and e.get("key") in labels and labels[e["key"]] not in (e.get("values") or [])
        for e in selector.get("matchExpressions") or []
    )


def _pods(policy, labels):
    namespace = identity(policy)[2]
    return (
        f"the pods of namespace {namespace}"
        if not labels
        else f"the pods labelled {', '.join(f'{k}={v}' for k, v in sorted(labels.items()))} in {namespace}"
    )


def _adding_note(policy, limiting, labels):
    everything = [describe(other) for other in limiting if _allows_everything(other)]
    text = (
        f"egress of {_pods(policy, labels)} is limited already by {listed([_owned(o) for o in limiting])}; allows of all "
        f"policies on a pod add up, so what those allow stays allowed next to {describe(policy)}"
    )
    if everything:
        text += f", and {listed(everything)} allow all egress: for the pods they select, ours narrows nothing"
    return text


def _owned(obj):
    return f"{describe(obj)} ({owner_text(obj)})"


def _allows_everything(obj):
    if _is_cilium(obj):
        return any(
            rule.get("toEntities") and set(rule["toEntities"]) & {"all", "world"} and not rule.get("toPorts")
            for rule in _spec(obj).get("egress") or []
        )
    return any(not rule.get("to") and not rule.get("ports") for rule in _spec(obj).get("egress") or [])


# -- what a policy allows --------------------------------------------------------------------------


def allows(policy, port, host=None, addresses=()):
    """Whether `policy` (ours, as rendered) lets its pods reach TCP `port` of an external `host` at `addresses`.

    An external host's address is unknown unless the entry gives it: only rules open to any address allow it then.
    """
    rules = _spec(policy).get("egress") or []
    return any(
        (_cilium_rule_allows if _is_cilium(policy) else _kubernetes_rule_allows)(rule, port, host, addresses)
        for rule in rules
    )


def _port_allowed(port, ports):
    for item in ports:
        number, protocol = item.get("port"), item.get("protocol", "TCP")
        if protocol not in ("TCP", "ANY"):
            continue
        if number is None:
            return True
        try:
            low = int(number)
        except (TypeError, ValueError):
            continue  # a named port: a pod's, never an external host's
        if low == port or low <= port <= int(item.get("endPort") or low):
            return True
    return False


def _covers(cidrs, addresses):
    """Whether the CIDRs hold every one of `addresses`, or, with no address known, any address at all."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            continue
    if not addresses:
        return any(net.prefixlen == 0 for net in networks)
    return all(any(_in(address, net) for net in networks) for address in addresses)


def _in(address, network):
    try:
        return ipaddress.ip_network(address, strict=False).subnet_of(network)
    except (ValueError, TypeError):
        return False


def _kubernetes_rule_allows(rule, port, host, addresses):  # pylint: disable=unused-argument
    if rule.get("ports") and not _port_allowed(port, rule["ports"]):
        return False
    peers = rule.get("to") or []
    if not peers:
        return True
    return _covers(
        [
            (peer.get("ipBlock") or {}).get("cidr")
            for peer in peers
            if peer.get("ipBlock") and not peer["ipBlock"].get("except")
        ],
        addresses,
    )


def _cilium_rule_allows(rule, port, host, addresses):
    ports = [p for to_ports in rule.get("toPorts") or [] for p in to_ports.get("ports") or []]
    if rule.get("toPorts") and not _port_allowed(port, ports):
        return False
    l3 = [
        key
        for key in ("toEndpoints", "toEntities", "toCIDR", "toCIDRSet", "toFQDNs", "toServices", "toGroups", "toNodes")
        if rule.get(key)
    ]
    if not l3:
        return True
    if set(rule.get("toEntities") or []) & {"all", "world"}:
        return True
    if host and any(fqdn_matches(selector, host) for selector in rule.get("toFQDNs") or []):
        return True
    cidrs = list(rule.get("toCIDR") or []) + [
        item.get("cidr") for item in rule.get("toCIDRSet") or [] if not item.get("except")
    ]
    return _covers(cidrs, addresses)


# -- what ours would cut -------------------------------------------------------------------------------


def _cut_entries(policy, desired, others):
    """External ServiceEntries the namespace sees and its Sidecar admits, on what `policy` does not allow."""
    namespace = identity(policy)[2]
    sidecars = [obj for obj in desired if identity(obj)[:3] == (*SIDECAR.key, namespace)]
    patterns = [
        host
        for sidecar in sidecars
        for egress in _spec(sidecar).get("egress") or []
        for host in egress.get("hosts") or []
    ]
    cut = []
    for entry in others:
        if identity(entry)[:2] != SERVICE_ENTRY.key or not _external(entry) or not _exported_to(entry, namespace):
            continue
        spec = _spec(entry)
        addresses = [e.get("address") for e in spec.get("endpoints") or [] if e.get("address")] or list(
            spec.get("addresses") or []
        )
        for host in spec.get("hosts") or []:
            if patterns and not _admits(patterns, namespace, identity(entry)[2], host):
                continue
            ports = [p.get("number") for p in spec.get("ports") or [] if p.get("number")]
            missing = [port for port in ports if not allows(policy, port, host, addresses)]
            if missing:
                cut.append(f"{host}:{','.join(str(p) for p in missing)} ({_owned(entry)})")
    return cut


def _external(entry):
    spec = _spec(entry)
    if spec.get("location") == "MESH_INTERNAL" or spec.get("workloadSelector"):
        return False
    return not all(host.endswith(CLUSTER_SUFFIX) for host in spec.get("hosts") or [])


def _cut_gateways(policy, others):
    """Servers of other Gateways on the pods `policy` selects whose upstream it does not allow.

    Only TLS or HTTPS servers on 443 are taken to forward to 443 (passthrough); any other server's upstream
    is unknown, and counted as cut.
    """
    labels = _selected_labels(policy)
    cut = []
    for gateway in others:
        if identity(gateway)[:2] != ISTIO_GATEWAY.key or not _overlaps(_spec(gateway).get("selector"), labels):
            continue
        for server in _spec(gateway).get("servers") or []:
            port = server.get("port") or {}
            passthrough = port.get("number") == 443 and str(port.get("protocol", "")).upper() in ("TLS", "HTTPS")
            hosts = [host.partition("/")[2] if "/" in host else host for host in server.get("hosts") or []]
            blocked = [
                host for host in hosts if not passthrough or not allows(policy, 443, None if host == "*" else host)
            ]
            if blocked:
                cut.append(f"{listed(blocked)} on port {port.get('number')} of {_owned(gateway)}")
    return cut
