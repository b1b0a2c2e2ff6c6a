# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waves of batches: concurrent runs only where they pay, in the order traffic needs, backwards for a prune."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.apply import batches
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.kinds import KINDS, PHASE_FENCES, PHASE_TARGETS

FAR = batches.waiting_per_object("apply", 0.1)  # 100 ms per round trip
NEAR = batches.waiting_per_object("apply", 0.001)


def obj(kind, name, api="networking.istio.io/v1"):
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "istio-system"}}


def entries(count):
    return [obj("ServiceEntry", f"e{index}") for index in range(count)]


def names(waves):
    return [[[o["metadata"]["name"] for o in batch] for batch in wave] for wave in waves]


def test_a_concurrency_of_one_keeps_one_run_in_the_plans_order():
    objects = [obj("VirtualService", "route"), *entries(50), obj("DestinationRule", "rule")]
    assert batches.waves(objects, 1, FAR) == [[objects]]


def test_a_near_cluster_keeps_one_run_with_the_kinds_in_phase_order():
    objects = [obj("Sidecar", "fence"), obj("VirtualService", "route"), *entries(3), obj("DestinationRule", "rule")]
    assert names(batches.waves(objects, 8, NEAR)) == [[["rule", "e0", "e1", "e2", "route", "fence"]]]


def test_a_far_cluster_splits_a_phase_into_at_most_concurrency_even_batches():
    [wave] = batches.waves(entries(100), 8, FAR)
    assert len(wave) == 8 and sorted({len(batch) for batch in wave}) == [12, 13]
    assert [o for batch in wave for o in batch] == entries(100)


def test_a_batch_gets_a_run_of_its_own_only_when_its_serial_write_costs_more_than_starting_a_run():
    # 5 objects at 100 ms wait 1.5 s: one run (1.5 // 0.8 = 1); 6 wait 1.8 s: two. 500 on loopback wait 0.75 s: one.
    assert [len(wave) for wave in batches.waves(entries(5), 8, FAR)] == [1]
    assert [len(batch) for batch in batches.waves(entries(6), 8, FAR)[0]] == [3, 3]
    assert [len(batch) for batch in batches.waves(entries(500), 8, NEAR)[0]] == [500]


def test_phases_are_barriers_and_small_ones_share_a_run():
    rules = [obj("DestinationRule", f"r{index}") for index in range(2)]
    routes = [obj("VirtualService", f"v{index}") for index in range(2)]
    fences = [obj("Sidecar", f"s{index}") for index in range(2)]
    waves = batches.waves([*fences, *routes, *entries(40), *rules], 4, FAR)
    entry_batches = [[f"e{i}" for i in range(start, start + 10)] for start in range(0, 40, 10)]
    assert names(waves) == [[["r0", "r1"]], entry_batches, [["v0", "v1", "s0", "s1"]]]


def test_a_prune_goes_backwards():
    objects = [obj("DestinationRule", "rule"), *entries(2), obj("VirtualService", "route"), obj("Sidecar", "fence")]
    assert names(batches.waves(objects, 8, FAR, backwards=True)) == [[["fence", "route", "e0", "e1", "rule"]]]


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: f"{kind.kind}.{kind.group}")
def test_every_kind_has_a_phase(kind):
    assert PHASE_TARGETS <= kind.phase <= PHASE_FENCES


def test_the_waypoint_and_the_gateways_targets_come_before_the_entries_and_the_fences_last():
    by_kind = {(kind.group, kind.kind): kind.phase for kind in KINDS}
    entry = by_kind[("networking.istio.io", "ServiceEntry")]
    assert by_kind[("gateway.networking.k8s.io", "Gateway")] < entry
    assert by_kind[("networking.istio.io", "DestinationRule")] < by_kind[("networking.istio.io", "VirtualService")]
    assert by_kind[("security.istio.io", "AuthorizationPolicy")] < by_kind[("networking.istio.io", "VirtualService")]
    assert by_kind[("networking.istio.io", "Gateway")] < by_kind[("networking.istio.io", "VirtualService")]
    assert (
        by_kind[("networking.istio.io", "Sidecar")] == by_kind[("networking.k8s.io", "NetworkPolicy")] == PHASE_FENCES
    )


def test_split_keeps_the_order_and_sizes_within_one():
    assert batches.split(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
