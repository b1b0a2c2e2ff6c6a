# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Findings and causes -> fixes: the narrowest change to the egress set's variables that opens a blocked call.

* A host the set does not declare: the service that produces it, in the region
  and setting that produce it, added as a per-service entry
  (`{name: sqs, regions: [us-east-2]}`, `fips: true`, `dualstack: true`), with
  the bucket or account ID the host names where the service takes them
  (`buckets: [orders]`, `account_ids: ["123456789012"]`) rather than the
  wildcard; STS's legacy global host by `sts_legacy_global: true`; a VPC
  endpoint's own name by that endpoint's `dns_names`; a link-local address by
  its credential source.
* A caller the set does not reach: the namespace added to `caller_namespaces`
  (ambient mode) or `export_to`.

Every fix is checked by the forward expansion before it is offered: with it,
the set must admit the host, and open no host beyond those the added service
in that region (or the credential source) declares.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import credentials
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import admits
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.reverse_index import credential_source_at
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import causes, probes
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.declared import EXPANSION_OPTIONS
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

# The options a fix may change; the rest of the egress set stays as it is.
CHANGED_OPTIONS = (
    "services",
    "credential_sources",
    "sts_legacy_global",
    "vpc_endpoints",
    "caller_namespaces",
    "export_to",
)


@dataclass
class Fix:
    change: str  # what changes, in words, naming options (option_names.option_ref)
    options: dict  # every changed option with its complete new value
    opens: tuple  # the hosts it opens beyond what the set opens today

    def key(self):
        return json.dumps(self.options, sort_keys=True)


def fix_for(finding, identity, cause, options, declared):
    """(Fix, "") or (None, why there is none) for one finding."""
    if cause.code == causes.NOT_CALLER_NAMESPACE:
        return _namespace_fix(options, "caller_namespaces", cause.namespace, "the waypoint admits it"), ""
    if cause.code == causes.NOT_EXPORTED:
        return _namespace_fix(options, "export_to", cause.namespace, "it sees the entries"), ""
    if cause.code in (causes.NOT_DECLARED, causes.UNKNOWN):
        if probes.where(finding.proxy, declared.mode):
            return (
                None,
                f"no change to this egress set is shown to open it: {probes.where(finding.proxy, declared.mode)}",
            )
        if probes.declares(declared, finding):
            return None, "this egress set declares it already; what keeps it in is not known (see the cause)"
        if identity is None:
            return None, f"{finding.destination} is not a host any AWS SDK contacts: this egress set opens AWS only"
        return _declare(finding.destination, identity, options, declared)
    if cause.code == causes.HIDDEN_BY_SIDECAR:
        return None, "another owner's Sidecar hides it: no change to this egress set opens it"
    if cause.code == causes.NOT_REPRODUCED:
        return None, "nothing to open: the simulation lets it out"
    return None, "this egress set declares it already; the cause says where the call ends"


def _namespace_fix(options, option, namespace, what):
    value = list(options.get(option) or []) + [namespace]
    return Fix(f"add {namespace} to {option_ref(option)}, so that {what}", {option: value}, ())


def _declare(host, identity, options, declared):
    if identity.credential_source:
        source = identity.credential_source
        changed = {"credential_sources": list(options.get("credential_sources") or []) + [source]}
        checked = _checked(
            f"add {source} to {option_ref('credential_sources')}",
            changed,
            host,
            options,
            {"credential_sources": [source]},
        )
        return (checked, "") if isinstance(checked, Fix) else (None, checked)
    services = set(declared.services)
    ordered = sorted(
        identity.producers, key=lambda p: p.service not in services
    )  # a service the set uses first; stable
    why = ""
    for producer in ordered:
        for fix_or_why in _service_fixes(host, producer, options):
            if isinstance(fix_or_why, Fix):
                return fix_or_why, ""
            why = why or fix_or_why
    return None, why or f"no change of this egress set's services opens {host} alone"


def _service_fixes(host, producer, options):
    """The fixes for one producer of the host, narrowest first: each a Fix once checked, or why it failed."""
    if producer.vpc_endpoint:
        yield _vpc_endpoint_fix(host, producer, options)
        return
    entry = {"name": producer.service, "regions": [producer.region]}
    for flag in ("fips", "dualstack"):
        if getattr(producer, flag) != bool(options.get(flag)):
            entry[flag] = getattr(producer, flag)
    changed = {}
    if producer.sts_legacy_global and not options.get("sts_legacy_global"):
        changed["sts_legacy_global"] = True
        yield _checked(
            f"set {option_ref('sts_legacy_global')} to true",
            changed,
            host,
            options,
            {"services": [entry], "sts_legacy_global": True},
        )
    label = host[: -len(producer.pattern) + 1] if producer.pattern.startswith("*.") else ""
    narrower = []
    if label and producer.service == "s3":
        narrower.append({**entry, "buckets": [label]})
    if label.isdigit():
        narrower.append({**entry, "account_ids": [label]})
    for candidate in narrower + [entry]:
        services = list(options.get("services") or []) + [candidate]
        yield _checked(
            f"add {_shown(candidate)} to {option_ref('services')}"
            + (f" and set {option_ref('sts_legacy_global')} to true" if changed else ""),
            {"services": services, **changed},
            host,
            options,
            {"services": [candidate], **changed},
        )


def _vpc_endpoint_fix(host, producer, options):
    name = producer.pattern.removeprefix("*.")
    regions = list(options.get("regions") or [])
    endpoints = copy.deepcopy(list(options.get("vpc_endpoints") or []))
    for entry in endpoints:
        region = entry.get("region") or (regions[0] if len(regions) == 1 else None)
        if entry.get("service") == producer.service and region == producer.region:
            if not entry.get("dns_names"):
                return (
                    f"the VPC endpoint of {producer.service} in {producer.region} is declared with the service's own names; "
                    f"{name} is its own name, which the SDK calls only when told to: list it in that endpoint's dns_names"
                )
            entry["dns_names"] = list(entry["dns_names"]) + [name]
            break
    else:
        endpoints.append({"service": producer.service, "region": producer.region, "dns_names": [name]})
    changed = {"vpc_endpoints": endpoints}
    entry = {"name": producer.service, "regions": [producer.region]}
    opened_for = {"services": [entry], "vpc_endpoints": endpoints}
    fix = _checked(
        f"list {name} in the VPC endpoint of {producer.service} in {producer.region} ({option_ref('vpc_endpoints')})",
        changed,
        host,
        options,
        opened_for,
    )
    if isinstance(fix, Fix):
        return fix
    changed["services"] = list(options.get("services") or []) + [entry]
    return _checked(
        f"add {_shown(entry)} to {option_ref('services')} and list {name} in its VPC endpoint ({option_ref('vpc_endpoints')})",
        changed,
        host,
        options,
        opened_for,
    )


def _checked(change, changed, host, options, opened_for):
    """The Fix, if the set with `changed` admits `host` and opens nothing beyond what `opened_for` opens; else why not."""
    fixed = {**options, **changed}
    try:
        after = opened(fixed)
        before = opened(options)
        allowed = opened({**fixed, "services": [], "credential_sources": [], **opened_for})
    except InputError as err:
        return f"{change}: {err.problem}"
    if not any(admits(pattern, host) for pattern in after) and not _credential_host(host, after):
        return f"{change} does not open {host}"
    new = sorted(after - before)
    beyond = [h for h in new if h not in allowed]
    if beyond:
        return f"{change} would open more than its service and region: {', '.join(beyond)}"
    return Fix(change, changed, tuple(new))


def opened(options):
    """Every host an egress set's options open (API hosts, wildcards and the credential endpoints' made-up hosts)."""
    given = {key: options.get(key) for key in EXPANSION_OPTIONS if options.get(key) is not None}
    return {
        host
        for endpoint in expand(list(options.get("services") or []), **given).endpoints
        for host in endpoint["hosts"]
    }


def _credential_host(address, hosts):
    """Whether `hosts` holds the made-up host of the credential source whose link-local address this is."""
    source = credential_source_at(address)
    return bool(source) and credentials.link_local_endpoint(source).host in hosts


def _shown(entry):
    """`{name: sqs, regions: [us-east-2]}`: an entry as YAML's flow style writes it."""
    return yaml.safe_dump(entry, default_flow_style=True, sort_keys=False, width=float("inf")).strip()
