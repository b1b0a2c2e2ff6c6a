# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Envoy's RBAC filters, as the harness shows them on a chain: who they let through, and which name an SNI.

The harness lists a chain's RBAC filters without running them.  `admits`
evaluates them for a TLS connection (its SNI and the peer's SPIFFE identity)
as far as AuthorizationPolicies on SNI and source namespaces produce matchers;
any other matcher raises Unevaluated rather than being guessed.
"""

from __future__ import annotations

import re

TRUST_DOMAIN = "cluster.local"
PEER_PRINCIPAL_KEY = "io.istio.peer_principal"


class Unevaluated(ValueError):
    """A matcher this evaluator does not know: the decision is not made here."""


def principal(namespace, trust_domain=TRUST_DOMAIN):
    """The SPIFFE identity of a workload of `namespace` (its service account named after it)."""
    return f"spiffe://{trust_domain}/ns/{namespace}/sa/{namespace}"


def admits(rbac_filters, sni, peer):
    """Whether every RBAC filter of a chain lets a connection with `sni` from the `peer` principal through.

    A chain without RBAC filters lets everything through.
    """
    return all(_filter_admits(rbac, sni, peer) for rbac in rbac_filters or [])


def _filter_admits(rbac, sni, peer):
    if rbac.get("rules") is None:
        # Envoy: without rules the filter enforces nothing (it may only log, with shadow rules).
        return True
    rules = rbac["rules"]
    action = rules.get("action", "ALLOW")
    matched = any(
        any(_permission(p, sni) for p in policy.get("permissions") or [])
        and any(_principal(p, peer) for p in policy.get("principals") or [])
        for policy in (rules.get("policies") or {}).values()
    )
    if action == "ALLOW":
        return matched
    if action == "DENY":
        return not matched
    raise Unevaluated(f"RBAC action not evaluated here: {action}")


def _string(match, value):
    if "exact" in match:
        return value == match["exact"]
    if "suffix" in match:
        return value.endswith(match["suffix"])
    if "prefix" in match:
        return value.startswith(match["prefix"])
    if "safeRegex" in match:
        return re.fullmatch(match["safeRegex"]["regex"], value) is not None
    raise Unevaluated(f"string matcher not evaluated here: {match}")


def _permission(rule, sni):
    if "andRules" in rule:
        return all(_permission(r, sni) for r in rule["andRules"]["rules"])
    if "orRules" in rule:
        return any(_permission(r, sni) for r in rule["orRules"]["rules"])
    if "notRule" in rule:
        return not _permission(rule["notRule"], sni)
    if "requestedServerName" in rule:
        return _string(rule["requestedServerName"], sni)
    if rule.get("any"):
        return True
    raise Unevaluated(f"permission not evaluated here: {rule}")


def _principal(rule, peer):
    if "andIds" in rule:
        return all(_principal(r, peer) for r in rule["andIds"]["ids"])
    if "orIds" in rule:
        return any(_principal(r, peer) for r in rule["orIds"]["ids"])
    if "notId" in rule:
        return not _principal(rule["notId"], peer)
    if "filterState" in rule and rule["filterState"].get("key") == PEER_PRINCIPAL_KEY:
        return _string(rule["filterState"]["stringMatch"], peer.removeprefix("spiffe://"))
    if "authenticated" in rule:
        return _string(rule["authenticated"]["principalName"], peer.removeprefix("spiffe://"))
    if rule.get("any"):
        return True
    raise Unevaluated(f"principal not evaluated here: {rule}")


def sni_policies(rbac_filters, sni):
    """Names of the policies of a chain's RBAC filters that name this SNI (AuthorizationPolicy `connection.sni`)."""
    names = []
    for rbac in rbac_filters or []:
        for name, policy in ((rbac.get("rules") or {}).get("policies") or {}).items():
            if {"requestedServerName": {"exact": sni}} in dicts(policy.get("permissions")):
                names.append(name)
    return sorted(names)


def dicts(node):
    """Every dict inside a JSON tree, depth first: one matcher among nested and/or rules."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from dicts(value)
