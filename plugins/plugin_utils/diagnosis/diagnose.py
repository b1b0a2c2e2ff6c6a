# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Proxy logs of one cluster -> what was blocked, what it is in AWS, why, and what would open it.

    logs -----------------logs, formats, blocked--> blocked calls, streamed
    blocked calls ---------------------findings---> one finding per destination, port and proxy
    each destination ------aws_endpoints.reverse_index--> the AWS service, region and settings that contact it
    findings + egress set + mesh --------causes---> why, on the simulation
    findings + causes -------------------fixes----> the narrowest change to the variables, checked on the expansion

Proving a fix needs the egress set rendered with it, which the role does
(playbooks/diagnose.yml): `proven` takes the diagnosis on from there (proof.py).
"""

from __future__ import annotations

import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import vpc_endpoints
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.reverse_index import identify
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import causes, fixes, logs, proof
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.declaration import declaration
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.findings import Findings
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref

NOT_PROVEN_YET = (
    "not proven yet: render the egress set with the fix, then give egress_diagnose this diagnosis "
    "(playbooks/diagnose.yml does)"
)


def diagnose(logs_path, options, rendered_dir, mesh_dir=None, outbound_traffic_policy="REGISTRY_ONLY", binary=None):
    """The diagnosis of the logs at `logs_path` against the egress set of `options` as rendered in `rendered_dir`.

    Raises logs.LogError for logs that cannot be read or hold no proxy line.
    """
    files = logs.log_files(logs_path)
    found = Findings()
    counts = logs.scan(files, found.add)
    if not counts.access and not counts.proxy:
        raise logs.LogError(_no_proxy_lines(logs_path, counts))
    declared = declaration(options)
    ordered = found.ordered()
    regions = list(options.get("regions") or [])
    endpoints = vpc_endpoints.parse(options.get("vpc_endpoints"), regions).values()
    identities = {d: identify(d, regions, endpoints) for d in dict.fromkeys(f.destination for f in ordered)}
    decided = causes.causes(ordered, declared, rendered_dir, mesh_dir, outbound_traffic_policy, binary)
    shown, offered = [], {}
    for finding in ordered:
        identity = identities[finding.destination]
        cause = decided[(finding.destination, finding.port, finding.proxy)]
        fix, why = fixes.fix_for(finding, identity, cause, options, declared)
        shown.append(
            {
                "destination": finding.destination,
                "port": finding.port,
                "protocol": finding.protocol,
                "proxy": finding.proxy,
                "count": finding.count,
                "first_seen": finding.first_seen or None,
                "last_seen": finding.last_seen or None,
                "sources": finding.sources(),
                "more_sources": finding.more_callers,
                "how": list(finding.ways),
                "aws": identity.as_dict() if identity else None,
                "cause": cause.as_dict(),
                "fix": _fix(fix, options, offered) if fix else None,
                "no_fix": why or None,
                "proven": None,
                "proof": NOT_PROVEN_YET if fix else None,
            }
        )
    notes = list(counts.skipped)
    if found.dropped:
        notes.append(
            f"{found.dropped} blocked lines of destinations beyond the first {len(ordered)} are counted, not shown"
        )
    return {
        "summary": summary(counts.as_dict(), shown),
        "counts": counts.as_dict(),
        "findings": shown,
        "fixes": list(offered.values()),
        "notes": notes,
    }


def summary(counts, findings):
    """One line: how much was read, what was blocked, how many fixes there are and how many are proven."""
    read = f"{_counted(counts['lines'], 'line')}"
    if not findings:
        return f"nothing blocked: {read} read, {_counted(counts['access'], 'access line')}, none blocked"
    fixed = sum(1 for f in findings if f["fix"])
    proven = sum(1 for f in findings if f["proven"])
    return (
        f"{_counted(len(findings), 'blocked destination')} in {counts['blocked']} of {read}: {fixed} with a fix "
        f"({proven} proven), {len(findings) - fixed} without"
    )


def _counted(number, what):
    return f"{number} {what}{'' if number == 1 else 's'}"


def proven(
    diagnosis, options, rendered_dir, fixes_dir, mesh_dir=None, outbound_traffic_policy="REGISTRY_ONLY", binary=None
):
    """An earlier diagnosis with its fixes proven on the egress set rendered with each (in `fixes_dir`/<fix id>)."""
    findings = proof.prove(
        diagnosis["findings"], options, rendered_dir, fixes_dir, mesh_dir, outbound_traffic_policy, binary
    )
    return {**diagnosis, "summary": summary(diagnosis["counts"], findings), "findings": findings}


def _fix(fix, options, offered):
    """The report's fix (its options as the caller's variables, as YAML to paste); one id per distinct fix."""
    key = fix.key()
    if key not in offered:
        fixed = {**options, **fix.options}
        offered[key] = {"id": f"fix-{len(offered) + 1}", "egress_set": {k: fixed.get(k) for k in fixes.CHANGED_OPTIONS}}
    variables = {option_ref(name): value for name, value in fix.options.items()}
    return {
        "id": offered[key]["id"],
        "change": fix.change,
        "variables": variables,
        "yaml": pasted(fix.options),
        "opens": list(fix.opens),
        "egress_set": offered[key]["egress_set"],
    }


def pasted(options):
    """The options as YAML for group_vars, each named as the caller's variable: one block per variable, lists of plain
    values and entries' lists in flow style."""
    # An option's name is a plain YAML key, dumped as it is: the mark goes in its place (YAML would escape it).
    return "".join(
        option_ref(name)
        + yaml.safe_dump(
            {name: value}, default_flow_style=None if isinstance(value, (list, dict)) else False, sort_keys=False
        )[len(name) :]
        for name, value in options.items()
    )


def _no_proxy_lines(path, counts):
    text = (
        f"no proxy log line in {path}: {_counted(counts.lines, 'line')} in {_counted(counts.files, 'file')}, none an access line "
        f"of Istio's TEXT or JSON format or of ztunnel, nor a proxy's own line"
    )
    if counts.skipped:
        text += f" ({'; '.join(counts.skipped)})"
    return text
