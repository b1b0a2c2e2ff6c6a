# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A plan's writes -> waves of batches: what kubernetes.core.k8s runs write at once, and what waits.

kubernetes.core.k8s writes the objects of one run one after another, a few
round trips each; on a far cluster the round trip, not the object count, is
what a run waits for.  So independent objects go to concurrent runs, at most
`concurrency` at once.  A wave holds the batches written at the same time;
the next wave starts when all of them are done.  Waves follow the kinds'
phases (kinds.py), backwards when pruning.

A run costs about STARTUP_SECONDS before its first request (the module's
Python, the kubernetes client's import), most of it CPU.  A batch gets a run
of its own only when its objects would wait longer than that for the API
server's answers: only waiting is won back by writing at once (the CPU each
object costs is the same, and the controller's cores are few), so on a near
cluster a plan stays one run, as with a concurrency of 1.
"""

from __future__ import annotations

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import kind_of

# Wall seconds of one kubernetes.core.k8s run before its first request, measured on a local cluster.
STARTUP_SECONDS = 0.8
# Requests kubernetes.core.k8s sends per object: GET, GET, PATCH to apply; GET, DELETE to prune.
ROUND_TRIPS = {"apply": 3, "prune": 2}


def waiting_per_object(step, round_trip):
    """Seconds kubernetes.core.k8s waits for answers per object in `step` when a round trip takes `round_trip` seconds."""
    return ROUND_TRIPS[step] * round_trip


def waves(objects, concurrency, per_object, backwards=False):
    """[[batch, ...], ...]: the waves that write `objects`, each a list of batches (lists of objects) written at once.

    `per_object`: seconds one object waits for the API server (waiting_per_object).  A concurrency of 1 keeps one run, in the plan's order.
    """
    if not objects:
        return []
    if concurrency <= 1:
        return [[list(objects)]]
    by_phase = {}
    for obj in objects:
        by_phase.setdefault(kind_of(obj).phase, []).append(obj)
    result, serial = [], []
    for phase in sorted(by_phase, reverse=backwards):
        members = by_phase[phase]
        count = min(concurrency, len(members), int(len(members) * per_object // STARTUP_SECONDS))
        if count <= 1:
            # Phases that are cheap to write one after another share a run: their order holds within it.
            serial.extend(members)
            continue
        if serial:
            result.append([serial])
            serial = []
        result.append(split(members, count))
    if serial:
        result.append([serial])
    return result


def split(objects, count):
    """`objects` in `count` batches in their order, of sizes that differ by one at most."""
    size, extra = divmod(len(objects), count)
    batches, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        batches.append(objects[start:end])
        start = end
    return batches
