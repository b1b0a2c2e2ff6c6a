# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Never leave a mesh worse than we found it: what to refuse, and what to point out, before a write.

A plan can be free of name conflicts and still harm the mesh.  These checks
look at the declared resources beside everything else the cluster holds:

* a second Sidecar without a workload selector in a namespace (Istio applies
  one; with two the behaviour is undefined, istioctl analyze IST0111);
* a host another ServiceEntry in the same namespace already declares (Istio
  keeps one of them, the older): another egress set's, or one of no set,
  which the set can leave the host to (`exclude_hosts`);
* a host another VirtualService already routes for the mesh where ours would
  be seen too (istioctl analyze IST0109: undefined which route applies);
* egress-gateway routing for a gateway Service that does not exist, or has no
  port 443 (every routed host would be black-holed);
* an ALLOW policy on a gateway other Gateways use while no other ALLOW policy
  covers them (their traffic would be denied);
* a namespace a resource needs that does not exist.

The hosts the set leaves to other owners are pointed out with the
ServiceEntries that declare them, or the lack of any.

Each refusal names the object in the way and what to do.  Where a user may
knowingly want it (staging config before the gateway is installed), an
override named in `accept` turns the refusal into a note.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import managed_by_us, owner_text
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import describe, identity
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.policies import CLUSTER_SUFFIX
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import (
    AUTHORIZATION_POLICY,
    DESTINATION_RULE,
    ISTIO_GATEWAY,
    SERVICE_ENTRY,
    SIDECAR,
    VIRTUAL_SERVICE,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

ROOT_NAMESPACE = "istio-system"
_SHOWN = 10


@dataclass(frozen=True)
class Finding:
    problem: str  # what is wrong, naming the object
    fix: str  # what to do
    override: str | None = None  # the override that accepts it

    def text(self):
        accept = f", or accept it ({option_ref('accept')}: [{self.override}])" if self.override else ""
        return f"{self.problem}: {self.fix}{accept}"


def check(
    desired,
    others,
    gateway=None,
    services=None,
    missing_namespaces=(),
    root_namespace=ROOT_NAMESPACE,
    excluded_hosts=(),
    namespace="",
):
    """(refusals, notes) for writing `desired` into a cluster that holds `others` (plan.others_of: not declared, not ours).

    `excluded_hosts`: the hosts the set leaves to other owners, whose entries in the set's `namespace` are named first.
    """
    refusals, notes = [], []
    refusals += _missing_namespaces(desired, missing_namespaces)
    refusals += _second_sidecars(desired, others)
    refusals += _duplicate_hosts(desired, others)
    refusals += _duplicate_mesh_routes(desired, others)
    notes += _hidden_entries(desired, others)
    notes += _left_to_others(excluded_hosts, others, namespace)
    if gateway:
        refusals += _gateway_service(gateway, (services or {}).get((gateway["namespace"], gateway["service"])))
        shared_refusals, shared_notes = _shared_gateway(gateway, others, root_namespace)
        refusals += shared_refusals
        notes += shared_notes + _shadowed_subsets(gateway, others)
    return refusals, notes


def _of_kind(objects, kind):
    return [obj for obj in objects if identity(obj)[:2] == kind.key]


def _by_namespace(objects):
    grouped = {}
    for obj in objects:
        grouped.setdefault(identity(obj)[2], []).append(obj)
    return grouped


def _hosts(obj):
    return set((obj.get("spec") or {}).get("hosts") or [])


def _missing_namespaces(desired, missing):
    findings = []
    for namespace in missing:
        needing = [describe(obj) for obj in desired if identity(obj)[2] == namespace]
        findings.append(
            Finding(
                f"namespace {namespace} does not exist ({listed(needing, _SHOWN)} would go there)",
                "create it first, or stop declaring resources there",
            )
        )
    return findings


def _second_sidecars(desired, others):
    findings = []
    unselected = _by_namespace(
        other for other in _of_kind(others, SIDECAR) if not (other.get("spec") or {}).get("workloadSelector")
    )
    for ours in _of_kind(desired, SIDECAR):
        if (ours.get("spec") or {}).get("workloadSelector"):
            continue
        namespace = identity(ours)[2]
        for other in unselected.get(namespace, []):
            findings.append(
                Finding(
                    f"namespace {namespace} already has {describe(other)} without a workload selector ({owner_text(other, of='of ')}); "
                    f"Istio applies one such Sidecar per namespace and two give undefined behaviour (istioctl analyze IST0111)",
                    f"stop listing {namespace} among the Sidecar namespaces of this egress set, or remove that Sidecar "
                    f"or give it a workloadSelector",
                )
            )
    return findings


def _duplicate_hosts(desired, others):
    findings = []
    entries = {
        namespace: [(other, _hosts(other)) for other in objects]
        for namespace, objects in _by_namespace(_of_kind(others, SERVICE_ENTRY)).items()
    }
    for ours in _of_kind(desired, SERVICE_ENTRY):
        namespace, hosts = identity(ours)[2], _hosts(ours)
        for other, other_hosts in entries.get(namespace, []):
            shared = sorted(hosts & other_hosts)
            if not shared:
                continue
            if managed_by_us(other):
                fix = "declare each host in one egress set only, or put the egress sets in different namespaces"
            else:  # an entry of no egress set: the host can be left to it
                fix = f"leave {'it' if len(shared) == 1 else 'them'} to that entry ({option_ref('exclude_hosts')}: {shared}), or remove it"
            findings.append(
                Finding(
                    f"{describe(other)} ({owner_text(other, of='of ')}) already declares {', '.join(shared)}, which {describe(ours)} "
                    f"declares too; Istio keeps one ServiceEntry per host and namespace, the older",
                    fix,
                )
            )
    return findings


def _duplicate_mesh_routes(desired, others):
    findings = []
    routes = [(other, _hosts(other)) for other in _of_kind(others, VIRTUAL_SERVICE) if _routes_mesh(other)]
    for ours in _of_kind(desired, VIRTUAL_SERVICE):
        if not _routes_mesh(ours):
            continue
        hosts = _hosts(ours)
        for other, other_hosts in routes:
            shared = sorted(hosts & other_hosts)
            if shared and _seen_together(ours, other):
                findings.append(
                    Finding(
                        f"{describe(other)} ({owner_text(other, of='of ')}) already routes {listed(shared, _SHOWN)} for the mesh, where "
                        f"{describe(ours)} would be seen too; which route applies is undefined (istioctl analyze IST0109)",
                        "route each host through one egress set only, or give the sets exportTo that do not overlap",
                    )
                )
    return findings


def _routes_mesh(virtual_service):
    gateways = (virtual_service.get("spec") or {}).get("gateways")
    return not gateways or "mesh" in gateways


def _seen_together(first, second):
    """Whether two objects' exportTo share a namespace."""
    first_seen, second_seen = _seen_in(first), _seen_in(second)
    if first_seen is None or second_seen is None:
        return bool(first_seen if second_seen is None else second_seen) or first_seen is second_seen
    return bool(first_seen & second_seen)


def _seen_in(obj):
    """The namespaces an object is exported to; None for every namespace."""
    export_to = (obj.get("spec") or {}).get("exportTo") or ["*"]
    if "*" in export_to:
        return None
    return {identity(obj)[2] if name == "." else name for name in export_to if name != "~"}


def _hidden_entries(desired, others):
    """ServiceEntries our Sidecars would hide from their namespaces, which see them today.

    One whose hidden hosts the set declares itself needs nothing added: the namespace reaches them through the set's own
    entries.
    """
    notes = []
    entries = _of_kind(others, SERVICE_ENTRY)
    declared = {host for ours in _of_kind(desired, SERVICE_ENTRY) for host in _hosts(ours)}
    for ours in _of_kind(desired, SIDECAR):
        namespace = identity(ours)[2]
        patterns = [
            host for egress in (ours.get("spec") or {}).get("egress") or [] for host in egress.get("hosts") or []
        ]
        hidden, replaced = [], []
        for entry in entries:
            hosts = entry["spec"].get("hosts") or []
            cut = [host for host in hosts if not _admits(patterns, namespace, identity(entry)[2], host)]
            if _exported_to(entry, namespace) and cut:
                (replaced if set(cut) <= declared else hidden).append(f"{describe(entry)} ({', '.join(hosts)})")
        if hidden:
            notes.append(
                f"{describe(ours)} hides from namespace {namespace} what it sees today: {listed(hidden, _SHOWN)}; "
                f"add what {namespace} needs to the Sidecar hosts of this egress set"
            )
        if replaced:
            notes.append(
                f"{describe(ours)} hides from namespace {namespace} {listed(replaced, _SHOWN)}, whose hosts this egress set "
                f"declares itself: {namespace} reaches them through the set's entries"
            )
    return notes


def _left_to_others(excluded_hosts, others, namespace):
    """Who declares each host the set leaves to other owners (in the set's namespace first), or that nobody does."""
    entries = sorted(
        _of_kind(others, SERVICE_ENTRY), key=lambda entry: (identity(entry)[2] != namespace, identity(entry)[2:])
    )
    notes = []
    for host in excluded_hosts:
        owners = [f"{describe(entry)} ({owner_text(entry, of='of ')})" for entry in entries if host in _hosts(entry)]
        if owners:
            notes.append(f"{option_ref('exclude_hosts')}: {host} is left to {listed(owners, _SHOWN)}")
        else:
            notes.append(
                f"{option_ref('exclude_hosts')}: {host} is left to other owners, but no ServiceEntry declares it here: "
                f"workloads do not reach it until one does"
            )
    return notes


def _exported_to(entry, namespace):
    export_to = (entry.get("spec") or {}).get("exportTo") or ["*"]
    return "*" in export_to or namespace in export_to or ("." in export_to and identity(entry)[2] == namespace)


def _admits(patterns, sidecar_namespace, entry_namespace, host):
    """Whether a Sidecar's egress hosts (`namespace/dnsName`) import `host` of `entry_namespace`."""
    for pattern in patterns:
        namespace, dns = pattern.split("/", 1) if "/" in pattern else (pattern, "")
        namespace_matches = namespace in ("*", entry_namespace) or (
            namespace == "." and entry_namespace == sidecar_namespace
        )
        host_matches = dns in ("*", host) or (dns.startswith("*.") and host.endswith(dns[1:]))
        if namespace_matches and host_matches:
            return True
    return False


def _gateway_service(gateway, service):
    where = f"Service {gateway['namespace']}/{gateway['service']}"
    if service is None:
        return [
            Finding(
                f"the egress gateway's {where} does not exist, so every host routed to the gateway would be black-holed",
                "install the egress gateway first, or fix the gateway's namespace and service",
                "missing_gateway",
            )
        ]
    ports = [port.get("port") for port in (service.get("spec") or {}).get("ports") or []]
    if gateway["port"] not in ports:
        return [
            Finding(
                f"the egress gateway's {where} has no port {gateway['port']} (it has {ports or 'none'}), so every host "
                f"routed to the gateway would be black-holed",
                f"give the gateway Service a port {gateway['port']}",
                "missing_gateway",
            )
        ]
    return []


def _shadowed_subsets(gateway, others):
    """DestinationRules for the gateway's host outside its namespace: a sidecar of theirs looks there first."""
    host = f"{gateway['service']}.{gateway['namespace']}{CLUSTER_SUFFIX}"
    shadowing = [
        describe(rule)
        for rule in _of_kind(others, DESTINATION_RULE)
        if (rule.get("spec") or {}).get("host") == host and identity(rule)[2] != gateway["namespace"]
    ]
    if not shadowing:
        return []
    return [
        f"{listed(shadowing, _SHOWN)} sets the egress gateway's host for the clients of its namespace, which then do not see our "
        f"subset: their routed hosts fail; move such rules to {gateway['namespace']}"
    ]


def _overlaps(selector, labels):
    """Whether two label selectors can pick the same pods: one holds the other."""
    selector, labels = selector or {}, labels or {}
    return all(labels.get(k) == v for k, v in selector.items()) or all(selector.get(k) == v for k, v in labels.items())


def _shared_gateway(gateway, others, root_namespace):
    """Other Gateways on the same gateway pods, and whether our ALLOW policy would cut them."""
    bound = [
        obj
        for obj in _of_kind(others, ISTIO_GATEWAY)
        if _overlaps((obj.get("spec") or {}).get("selector"), gateway["selector"])
    ]
    if not bound:
        return [], []
    names = listed([describe(obj) for obj in bound], _SHOWN)
    allowing = [
        policy
        for policy in _of_kind(others, AUTHORIZATION_POLICY)
        if (policy.get("spec") or {}).get("action", "ALLOW") == "ALLOW"
        and identity(policy)[2] in (gateway["namespace"], root_namespace)
        and _overlaps(((policy.get("spec") or {}).get("selector") or {}).get("matchLabels"), gateway["selector"])
    ]
    if allowing:
        return [], [
            f"the egress gateway also serves {names}; ALLOW policies already limit it "
            f"({listed([describe(p) for p in allowing], _SHOWN)}), and ours only adds the declared hosts"
        ]
    return [
        Finding(
            f"the egress gateway also serves {names}, and no other ALLOW policy covers it: our ALLOW policy would deny "
            f"their traffic",
            "add an ALLOW AuthorizationPolicy for that traffic first",
            "cut_shared_gateway",
        )
    ], []
