# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The `auto` choices as a cluster decides them: the version each kind is written in, the wildcard entries' resolution.

site.yml decides them in its plan (apply/rollout.py); render and simulate, given a
cluster, decide them here from the same reads and the same code, so that the
files and the simulation hold what site.yml applies.  Deciding reads only the
CustomResourceDefinitions of the kinds written (GETs, no list, no dry run).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout import wildcards
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply.failures import EgressFailure
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import ISTIO, SERVICE_ENTRY, kind_of
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.changes import describe
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan.reads import (
    PARALLEL_READS,
    LiveState,
    choose_versions,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import option_ref


@dataclass(frozen=True)
class Asked:
    """What deciding needs of a request (rollout.Request has the same fields)."""

    name: str  # the egress set
    cluster: str
    api_version: str = "auto"
    wildcard_resolution: str = (
        "none"  # the role's choice as the layout leaves it to the cluster: only "auto" leaves anything
    )


def read(reader, resources, wildcard_resolution, pin=None):
    """The LiveState deciding needs: the versions the kinds of `resources` are served in, and the CRDs `auto` asks about."""
    state = LiveState()
    kinds = list(dict.fromkeys(kind_of(obj) for obj in resources))
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        optional = {
            name: pool.submit(reader.optional_crd, name)
            for name in wildcards.crds_to_read(resources, wildcard_resolution)
        }
        state.served = dict(zip(kinds, pool.map(reader.served_versions, kinds)))
        for name, future in optional.items():
            allowed, state.crds[name] = future.result()
            if not allowed:
                state.unreadable_crds.append(name)
    choose_versions(state, pin)
    state.crds.update(reader.crds)
    return state


def decide(resources, state, request):
    """(resources, refusals, notes): `resources` as the cluster of `state` gets them.

    `request`: what is asked of the cluster, an Asked or a rollout.Request.  Raises EgressFailure when the cluster serves none of a kind's versions.
    """
    return resolve(versioned(resources, state, request), state, request)


def resolve(desired, state, request):
    """(desired, refusals, notes): the wildcard entries of `desired` (versioned) as the cluster resolves them."""
    return wildcards.resolve(
        desired, state.crds, state.versions.get(SERVICE_ENTRY), request.wildcard_resolution, state.unreadable_crds
    )


def versioned(resources, state, request):
    """`resources`, each in the version the cluster serves (the one the plan read)."""
    versions = {kind.key: (kind, version) for kind, version in state.versions.items()}
    done, unserved = [], {}
    for obj in resources:
        kind = kind_of(obj)
        if kind.key not in versions:
            unserved.setdefault(kind, []).append(describe(obj))
            continue
        api_version = kind.api_version(versions[kind.key][1])
        done.append(obj if obj.get("apiVersion") == api_version else {**obj, "apiVersion": api_version})
    if unserved:
        raise EgressFailure(
            "refuse",
            f"planning egress set {request.name} on {request.cluster}",
            "; ".join(_unserved(kind, objects, state, request) for kind, objects in unserved.items()),
        )
    return done


def _unserved(kind, objects, state, request):
    served = sorted(state.served.get(kind) or [])
    cluster = request.cluster
    if not served:
        product = kind.product if kind.product == ISTIO else kind.installed_by
        installed = f"{product} is not installed on " if product else ""
        source = f" (from {kind.crd_source})" if kind.crd_source else ""
        fix = f"install its CustomResourceDefinition {kind.crd}{source}"
        if kind.installed_by:
            fix = f"install {kind.installed_by} (its CustomResourceDefinition {kind.crd})"
        if kind.alternative:
            option, said, value = kind.alternative.partition(":")  # "network_policy: kubernetes (or none)"
            fix += f", or set {option_ref(option)}{said}{value}"
        return (
            f"{installed}{cluster}: it serves no {kind.kind} ({kind.describe()}), which {listed(objects)} "
            f"{'needs' if len(objects) == 1 else 'need'}: {fix}, then run again"
        )
    return (
        f"{option_ref('api_version')}: {json.dumps(request.api_version)} is not served by {cluster} "
        f"(it serves {kind.group} {', '.join(served)})"
    )
