# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixes -> proven: each fix rendered with the egress set (by the role, into a directory of its own) and simulated.

A fix is proven when, on istiod's config generation with the mesh's objects,
the blocked call leaves the mesh from where it was blocked, and no call of the
simulation's matrix goes a new wrong way (new_wrong_ways): no undeclared host
leaves, no namespace the waypoint should refuse gets through, nothing that
went the right way before stops doing so.  That the fix opens no host beyond
its service and region declare was checked on the expansion when it was
offered (fixes.py).
"""

from __future__ import annotations

from pathlib import Path

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis import probes
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.diagnosis.declaration import declaration
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import named_options
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.calls import DENY, STAY
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.harness import HarnessError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.judge import (
    LEAVING,
    VIA_GATEWAY,
    expected_shown,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.manifests import ManifestError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation.simulate import simulate_egress

# What the matrix expects of a call that must not leave: an undeclared host, a namespace the waypoint refuses.
_OPENING = (expected_shown(STAY), expected_shown(DENY))


def prove(findings, options, rendered_dir, fixes_dir, mesh_dir, outbound_traffic_policy, binary=None):
    """The findings (dicts, as diagnose returns them), each fix's `proven` and `proof` filled in."""
    current = declaration(options)
    baselines = {}
    proven = []
    for finding in findings:
        fix = finding.get("fix")
        if not fix:
            proven.append(finding)
            continue
        try:
            verdict, text = _prove(
                finding,
                fix,
                options,
                current,
                rendered_dir,
                Path(fixes_dir) / fix["id"],
                mesh_dir,
                outbound_traffic_policy,
                binary,
                baselines,
            )
        except (HarnessError, probes.NotSimulated) as err:
            verdict, text = False, f"not simulated: {err}"
        except ManifestError as err:
            verdict, text = False, f"the egress set with the fix could not be read: {err}"
        proven.append({**finding, "proven": verdict, "proof": text})
    return proven


def _prove(finding, fix, options, current, rendered_dir, fix_dir, mesh_dir, policy, binary, baselines):
    fixed = declaration({**options, **fix["egress_set"]})
    unlisted = probes.unlisted(fixed)
    namespaces = probes.callers_of(finding["proxy"], [s["namespace"] for s in finding["sources"]], fixed)
    calls = [
        probes.probe(
            f"fix {fix['id']} from {ns}",
            finding["destination"],
            finding["port"],
            finding["protocol"],
            finding["proxy"],
            ns,
            fixed,
        )
        for ns in namespaces
    ]
    after = simulate_egress(fixed, fix_dir, mesh_dir, policy, unlisted=unlisted, binary=binary, probes=calls)
    if unlisted not in baselines:
        baselines[unlisted] = simulate_egress(current, rendered_dir, mesh_dir, policy, unlisted=unlisted, binary=binary)
    cells = {cell["id"]: cell for cell in after["probes"]}
    stuck = [
        f"from {call.caller.namespace}: {cells[call.id]['outcome']} ({cells[call.id]['detail']})"
        for call in calls
        if cells[call.id]["outcome"] not in LEAVING
    ]
    # The simulation's violations, quoted with the options they name as the egress set's (the proof has no caller's prefix).
    new = named_options(new_wrong_ways(after, baselines[unlisted]))
    given = "" if mesh_dir else " (the mesh's objects were not given: the egress set alone)"
    if stuck:
        return (
            False,
            f"rendered with the fix and simulated{given}, {finding['destination']} still does not leave {listed(stuck)}",
        )
    if new:
        return (
            False,
            f"rendered with the fix and simulated{given}, {len(new)} calls go a new wrong way: {listed(new, 3)}",
        )
    left = listed(_left(call.caller, cells[call.id]) for call in calls)
    opened = f"; it opens {listed(fix['opens'])}" if fix.get("opens") else "; it opens no host"
    return True, (
        f"rendered with the fix and simulated{given}: {finding['destination']} leaves from {left}; "
        f"no call of the {after['counts']['calls']} simulated goes a new wrong way{opened}"
    )


def _left(caller, cell):
    if caller.role == "gateway":
        return f"the egress gateway through {cell['cluster']}"
    if cell["outcome"] == VIA_GATEWAY:
        return f"{caller.namespace} through the egress gateway ({cell['detail']})"
    return f"{caller.namespace} through {cell['cluster']}"


def new_wrong_ways(after, before):
    """The violations of the simulation with the fix that the one without it does not have.

    A call both simulate is compared cell by cell: one that went the right way and no longer does. A call only the fix
    brings (a caller namespace it adds, a host it declares) counts where something leaves that should not: a host the
    set does not declare, or a namespace the waypoint should refuse; what such a call meets that was there before
    (another owner's policy on a declared host) is not the fix's doing. Manifests Istio refuses count by their text.
    """
    earlier = _cells(before)
    new = []
    for key, cell in _cells(after).items():
        if not cell["violation"]:
            continue
        if key in earlier and not earlier[key]["violation"] or key not in earlier and cell["expected"] in _OPENING:
            new.append(cell["violation"])
    by_cells = {cell["violation"] for cell in _cells(after).values()}
    return new + [v for v in after["violations"] if v not in by_cells and v not in before["violations"]]


def _cells(report):
    return {
        (row["target"], row["port"], caller): cell for row in report["matrix"] for caller, cell in row["cells"].items()
    }
