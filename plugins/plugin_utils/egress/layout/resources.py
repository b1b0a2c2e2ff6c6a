# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""endpoints -> layout: which Istio resources an egress set needs, and what goes in them.

The role's templates turn the layout into YAML; every decision is made here:

* one ServiceEntry per endpoint;
* in egress_gateway mode, exact API hosts (TLS, resolution DNS) go through the
  gateway: one Gateway, DestinationRule and VirtualService in the egress set's
  namespace and one AuthorizationPolicy in the gateway's namespace, all named
  `<prefix>-egress-gateway`.  Wildcard hosts stay direct: with resolution
  NONE a TLS passthrough gateway can only forward a wildcard to one upstream,
  and AWS serves wildcard names (buckets, account hosts) from many; with
  DYNAMIC_DNS Istio gives a gateway the forward proxy cluster but not the
  filter that resolves the SNI into it (sidecars and waypoints get both).
  Link-local credential endpoints are on the node and always stay direct;
* in ambient mode, the entries that go through a waypoint, the waypoint and
  its policy (layout/ambient.py); wildcard hosts' resolution (layout/wildcards.py);
* one Sidecar per listed namespace, named `<prefix>-egress`, whose egress
  hosts are the namespace's own services (`./*`), the declared hosts by their
  exact `<namespace>/<host>`, the egress gateway's Service in gateway mode, and
  the in-mesh hosts the user lists (by default every in-mesh service,
  `*/*.svc.cluster.local`): AWS narrows to the declared hosts, the mesh stays;
* with a network policy mode, a NetworkPolicy or CiliumNetworkPolicy per
  listed namespace and one for the gateway's pods, from the same lists
  (layout/policies.py), and notes on what has no way out of the VPC (safety/reachability.py);
* with log_blocked, Telemetries that log only blocked egress (layout/access_logs.py);
* hosts left to other owners (`exclude_hosts`) get no ServiceEntry, route or
  waypoint binding of ours: whoever declares them decides the way out. The
  namespaces still need them, so the Sidecars admit them from any namespace
  (`*/<host>`) and the network policies open them as they open direct hosts.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils import naming
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import role_options
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import access_logs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import ambient
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import policies
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import reachability
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import wildcards
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import (
    described,
    did_you_mean,
    input_error,
    shown,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.ownership import (
    endpoint_data_annotations,
    ownership_labels,
    provenance_annotations,
)

MODES = role_options.choices("mode")
GATEWAY_KEYS = ("selector", "namespace", "service")
GATEWAY_PORT = 443
# A Sidecar always keeps its namespace's own services.
OWN_NAMESPACE_HOSTS = "./*"
# What a Sidecar keeps of the mesh unless told otherwise: every in-mesh service.
DEFAULT_SIDECAR_HOSTS = tuple(role_options.default("sidecar_hosts"))
# exportTo: all namespaces, the entry's own, nowhere; or a namespace name.
EXPORT_TO_KEYWORDS = ("*", ".", "~")
# A Sidecar egress host's namespace part: any, the Sidecar's own, or a name.
SIDECAR_HOST_NAMESPACES = ("*", ".")


def layout(
    endpoints,
    name,
    namespace,
    name_prefix,
    mode="sidecar",
    gateway=None,
    sidecars=(),
    export_to=("*",),
    sidecar_hosts=DEFAULT_SIDECAR_HOSTS,
    network_policy="none",
    network_policy_dns=None,
    network_policy_istiod=None,
    network_policy_egress=(),
    internet_path=True,
    waypoint=None,
    caller_namespaces=(),
    wildcard_resolution="none",
    exclude_hosts=(),
    endpoint_data=None,
    log_blocked=False,
):
    """The resources of egress set `name`, as plain data for the templates.

    Options are checked first; a bad one raises AnsibleFilterError whose path
    is the option's name ("sidecars[1]: ...").  The notes name the options to
    change (option_names.option_ref).  `endpoint_data`, the
    versions the endpoints were expanded with (data_version.current()), is
    recorded on every resource.
    """
    _check_options(name, namespace, mode, sidecars, export_to, sidecar_hosts)
    if not isinstance(log_blocked, bool):
        raise input_error("log_blocked", f"expected true or false, got {described(log_blocked)}")
    wildcards.check_choice(wildcard_resolution)
    excluded = _excluded(exclude_hosts, endpoints)
    needed, endpoints = endpoints, [kept for kept in (_without(endpoint, excluded) for endpoint in endpoints) if kept]
    settings = _gateway_settings(gateway) if mode == "egress_gateway" else None
    entries = [
        _service_entry(endpoint, mode, namespace, export_to, settings, wildcard_resolution) for endpoint in endpoints
    ]
    routed = [e for e, entry in zip(endpoints, entries) if entry["route"] == "gateway"]
    gateway_layout = _gateway(routed, namespace, name_prefix, settings, export_to) if routed else None
    ambient_layout = ambient.layout(
        list(zip(endpoints, entries)),
        namespace,
        name_prefix,
        mode,
        waypoint,
        caller_namespaces,
        export_to,
        wildcard_resolution,
    )
    network_policies, policy_notes = policies.network_policies(
        network_policy,
        endpoints,
        entries,
        sidecars,
        sidecar_hosts,
        gateway_layout,
        name_prefix,
        dns=network_policy_dns,
        istiod=network_policy_istiod,
        extra_egress=network_policy_egress,
        other_hosts=excluded,
    )
    direct = [entry["name"] for entry in entries if mode == "egress_gateway" and entry["route"] == "direct"]
    # What the plan should say of this layout: what goes around the egress gateway or the waypoint, what the
    # policies cannot enforce, what has no way out.
    notes = _direct_notes(direct) + ambient_layout["notes"] + policy_notes + reachability.notes(needed, internet_path)
    return {
        **ambient_layout,
        "wildcard_resolution": wildcards.for_cluster(wildcard_resolution, mode),
        "namespace": namespace,
        "labels": ownership_labels(name),
        # On every resource, beside its own annotations, as the labels are.
        "annotations": endpoint_data_annotations(endpoint_data),
        "endpoint_data": endpoint_data,
        "service_entries": entries,
        "gateway": gateway_layout,
        "sidecars": [
            _sidecar(ns, endpoints, namespace, name_prefix, gateway_layout, sidecar_hosts, excluded)
            for ns in sorted(set(sidecars))
        ],
        # Hosts left to other owners: egress_set names who declares them.
        "excluded_hosts": excluded,
        "direct_in_gateway_mode": direct,
        # What must be true of the gateway before anything routes to it (checked against the cluster).
        "gateway_check": _gateway_check(gateway_layout, settings),
        "network_policies": network_policies,
        "telemetries": access_logs.telemetries(
            log_blocked,
            name_prefix,
            sidecars,
            gateway_layout,
            ambient_layout["waypoint"],
            _union(endpoints, "sources"),
            _union(endpoints, "regions"),
        ),
        "notes": notes,
    }


def _excluded(exclude_hosts, endpoints):
    """The hosts left to other owners, sorted; each must be one the services expand to."""
    hosts = sorted({host for endpoint in endpoints for host in endpoint["hosts"]})
    for index, host in enumerate(_list(exclude_hosts, "exclude_hosts")):
        if host not in hosts:
            raise input_error(
                f"exclude_hosts[{index}]", f"{shown(host)} is not a host of this egress set{did_you_mean(host, hosts)}"
            )
    return sorted(set(exclude_hosts))


def _without(endpoint, excluded):
    """The endpoint without the excluded hosts; None when none is left."""
    hosts = [host for host in endpoint["hosts"] if host not in excluded]
    if len(hosts) == len(endpoint["hosts"]):
        return endpoint
    return {**endpoint, "hosts": hosts} if hosts else None


def _direct_notes(direct):
    """In egress_gateway mode, the entries that do not go through the gateway."""
    return [f"not through the egress gateway (wildcard or link-local hosts): {', '.join(direct)}"] if direct else []


def _check_options(name, namespace, mode, sidecars, export_to, sidecar_hosts):
    naming.check_label(name, "name", "an egress set name")
    naming.check_label(namespace, "namespace", "a namespace name")
    if mode not in MODES:
        raise input_error("mode", f"expected one of {', '.join(MODES)}, got {described(mode)}")
    for index, sidecar_namespace in enumerate(_list(sidecars, "sidecars")):
        naming.check_label(sidecar_namespace, f"sidecars[{index}]", "a namespace name")
    for index, host in enumerate(_list(sidecar_hosts, "sidecar_hosts")):
        _check_sidecar_host(host, f"sidecar_hosts[{index}]")
    audience = _audience(export_to, namespace)
    for index, sidecar_namespace in enumerate(sidecars):
        if audience is not None and sidecar_namespace not in audience:
            raise input_error(
                f"sidecars[{index}]",
                f"{shown(sidecar_namespace)} does not see the entries, which "
                f"{option_ref('export_to')} {shown(list(export_to))} exports to "
                f"{', '.join(map(shown, sorted(audience))) or 'no namespace'}: its Sidecar "
                f"would name hosts it cannot reach; export them there, or stop listing it",
            )
    seen = set()
    for index, target in enumerate(_list(export_to, "export_to")):
        path = f"export_to[{index}]"
        if target not in EXPORT_TO_KEYWORDS:
            naming.check_label(target, path, "'*', '.', '~' or a namespace name")
        if target in seen:
            raise input_error(path, f"{shown(target)} is listed twice; Istio refuses duplicates in exportTo")
        seen.add(target)
    for alone, meaning in (("*", "every namespace"), ("~", "no namespace")):
        if alone in seen and len(seen) > 1:
            raise input_error(
                "export_to",
                f"{shown(alone)} ({meaning}) cannot be listed with other entries; Istio refuses {sorted(seen)}",
            )


def _list(value, path):
    if not isinstance(value, (list, tuple)):
        raise input_error(path, f"expected a list, got {described(value)}")
    return value


def _check_sidecar_host(value, path):
    """`<namespace>/<dnsName>` as a Sidecar's egress hosts take it: `*/*.svc.cluster.local`, `./*`, `payments/*`."""
    namespace, slash, dns = value.partition("/") if isinstance(value, str) else ("", "", "")
    dns_labels = dns[2:].split(".") if dns.startswith("*.") else dns.split(".")
    valid_namespace = namespace in SIDECAR_HOST_NAMESPACES or naming.is_dns_label(namespace)
    valid_dns = dns == "*" or all(naming.is_dns_label(label) for label in dns_labels)
    if not (slash and valid_namespace and valid_dns):
        raise input_error(
            path,
            f"{shown(value)} is not a Sidecar egress host: '<namespace>/<host>', where the namespace is "
            f"'*', '.' or a name and the host is '*', a DNS name or '*.' and a DNS name "
            f"(for example '*/*.svc.cluster.local' or 'payments/*')",
        )


def goes_through_gateway(endpoint):
    """Exact API hosts can be forwarded by SNI; wildcards and link-local endpoints cannot."""
    return endpoint["kind"] == "api" and endpoint["resolution"] == "DNS" and endpoint["protocol"] == "TLS"


def _audience(export_to, namespace):
    """The namespaces that see what egress set `namespace` exports with `export_to`; None for every namespace."""
    if "*" in export_to:
        return None
    return {namespace if target == "." else target for target in export_to if target != "~"}


def _export_to(audience, home, nowhere="."):
    """exportTo for an object in namespace `home` that `audience` must see ("~" means nowhere, for ServiceEntries only)."""
    if audience is None:
        return ["*"]
    return ["." if name == home else name for name in sorted(audience, key=lambda name: (name != home, name))] or [
        nowhere
    ]


def _with_gateway(audience, settings):
    """`audience` and the egress gateway's namespace: the gateway forwards what is routed to it."""
    return None if audience is None else audience | {settings["namespace"]}


def _service_entry(endpoint, mode, namespace, export_to, settings, wildcard_resolution="none"):
    route = "gateway" if mode == "egress_gateway" and goes_through_gateway(endpoint) else "direct"
    entry = {
        "name": endpoint["name"],
        "hosts": list(endpoint["hosts"]),
        "port": endpoint["port"],
        "port_name": endpoint["protocol"].lower(),
        "protocol": endpoint["protocol"],
        "resolution": wildcards.resolution(endpoint, wildcard_resolution),
        # Labels besides the ownership ones (ambient mode's waypoint binding).
        "labels": {},
        "addresses": list(endpoint.get("addresses") or []),
        "endpoints": [dict(e) for e in endpoint.get("endpoints") or []],
        "annotations": provenance_annotations(_sources(endpoint), endpoint.get("regions") or []),
        "route": route,
        # A routed host is seen by the gateway too, or the gateway has nothing to forward it to.
        "export_to": (
            _export_to(_with_gateway(_audience(export_to, namespace), settings), namespace, nowhere="~")
            if route == "gateway"
            else list(export_to)
        ),
    }
    return entry


def _sources(endpoint):
    # What asked for the endpoint: service names and "credential_source:<name>".
    return endpoint.get("sources") or [endpoint["service"]]


def _union(endpoints, key):
    values = set()
    for endpoint in endpoints:
        values.update(_sources(endpoint) if key == "sources" else endpoint.get(key) or [])
    return values


def _gateway_settings(gateway):
    if not isinstance(gateway, dict):
        raise input_error(
            "gateway", f"egress_gateway mode needs a dict with {', '.join(GATEWAY_KEYS)}, got {described(gateway)}"
        )
    missing = [key for key in GATEWAY_KEYS if not gateway.get(key)]
    if missing:
        raise input_error(
            "gateway", f"egress_gateway mode needs {', '.join(GATEWAY_KEYS)}; missing or empty: {', '.join(missing)}"
        )
    selector = gateway["selector"]
    if not isinstance(selector, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in selector.items()
    ):
        raise input_error(
            "gateway.selector", f"expected a dict of pod labels (strings to strings), got {described(selector)}"
        )
    naming.check_label(gateway["namespace"], "gateway.namespace", "a namespace name")
    naming.check_label(gateway["service"], "gateway.service", "a Service name")
    return gateway


def _gateway(routed, namespace, name_prefix, settings, export_to):
    hosts = sorted({host for endpoint in routed for host in endpoint["hosts"]})
    audience = _audience(export_to, namespace)
    return {
        "name": naming.resource_name(name_prefix, "egress-gateway"),
        # The Gateway and VirtualService live with the entries.
        "namespace": namespace,
        # The routing is seen where the entries are, and by the gateway.
        "routing_export_to": _export_to(_with_gateway(audience, settings), namespace),
        # The DestinationRule and the AuthorizationPolicy live with the gateway: a sidecar looks a host's
        # DestinationRule up in its own namespace, then the host's, so only there is the subset found from
        # every namespace (and Istio merges the rules of several egress sets there). Seen where the entries are.
        "gateway_namespace": settings["namespace"],
        "rule_export_to": _export_to(audience, settings["namespace"]),
        "hosts": hosts,
        "port": GATEWAY_PORT,
        "selector": dict(settings["selector"]),
        "service_host": f"{settings['service']}.{settings['namespace']}{policies.CLUSTER_SUFFIX}",
        # One subset per egress set, so that two sets can share the gateway.
        "subset": name_prefix,
        "annotations": provenance_annotations(_union(routed, "sources"), _union(routed, "regions")),
    }


def _gateway_check(gateway_layout, settings):
    if not gateway_layout:
        return None
    return {
        "namespace": settings["namespace"],
        "service": settings["service"],
        "selector": dict(settings["selector"]),
        "port": GATEWAY_PORT,
    }


def _sidecar(sidecar_namespace, endpoints, namespace, name_prefix, gateway_layout, sidecar_hosts, excluded=()):
    hosts = {OWN_NAMESPACE_HOSTS} | set(sidecar_hosts)
    # The declared hosts by their exact namespace: other egress sets' hosts stay
    # out of sight. `./*` already holds those of the Sidecar's own namespace.
    if namespace != sidecar_namespace:
        hosts.update(f"{namespace}/{host}" for endpoint in endpoints for host in endpoint["hosts"])
    # Hosts left to other owners, from whichever namespace declares them.
    hosts.update(f"*/{host}" for host in excluded)
    if gateway_layout and gateway_layout["gateway_namespace"] != sidecar_namespace:
        hosts.add(f"{gateway_layout['gateway_namespace']}/{gateway_layout['service_host']}")
    return {
        "name": naming.resource_name(name_prefix, "egress"),
        "namespace": sidecar_namespace,
        "hosts": sorted(hosts),
        "annotations": provenance_annotations(_union(endpoints, "sources"), _union(endpoints, "regions")),
    }
