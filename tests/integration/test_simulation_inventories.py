# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every shipped inventory, rendered as playbooks/render.yml renders it, on istiod's own config generation.

For each cluster: every host a real boto3 client contacts for the declared
services, regions and credential sources leaves the mesh (directly, or through
the egress gateway, whose chain admits its SNI); undeclared AWS hosts and a
host outside AWS are black-holed; the declared link-local credential endpoints
are reached and the others are not; and where the role put a Sidecar, in-mesh
Services of the namespace and of another namespace are still reached. In
ambient mode: every such host goes through the waypoint, whose policy admits
it from the caller namespaces only, and refuses undeclared names even on a
declared host's address.
"""

from __future__ import annotations

import pytest
import yaml

from simulation_helpers import ROOT, EgressMatrix, WaypointMatrix, render_inventory

pytestmark = pytest.mark.integration

INVENTORIES = ("local", "dev", "staging", "prod")
CLUSTERS = [
    (inventory, host)
    for inventory in INVENTORIES
    for host in yaml.safe_load((ROOT / "inventories" / inventory / "hosts.yml").read_text())["clusters"]["hosts"]
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Each inventory rendered once, on first use."""
    cache = {}

    def of(inventory):
        if inventory not in cache:
            cache[inventory] = render_inventory(inventory, tmp_path_factory.mktemp(f"render-{inventory}"))
        return cache[inventory]

    return of


@pytest.mark.parametrize("inventory, cluster", CLUSTERS, ids=[f"{i}-{c}" for i, c in CLUSTERS])
def test_the_inventory_opens_what_boto3_contacts_and_nothing_else(rendered, inventory, cluster, record_property):
    hosts = rendered(inventory)
    assert set(hosts) == {c for i, c in CLUSTERS if i == inventory}
    variables = hosts[cluster].variables
    if variables["istio_aws_egress_mode"] == "ambient":
        matrix = WaypointMatrix(hosts[cluster])
        sim = matrix.run_and_check()
        record_property("simulated_calls", len(sim.calls))
        assert matrix.declared and len(matrix.undeclared) >= 3 and matrix.callers
        assert list(sim.proxies) == ["waypoint"]
        return
    matrix = EgressMatrix(hosts[cluster])
    sim = matrix.run_and_check()
    record_property("simulated_calls", len(sim.calls))
    # The matrix is the issue's: it must not shrink to nothing by accident.
    assert matrix.declared and len(matrix.undeclared) >= 3
    assert {p["namespace"] for p in sim.proxies.values() if p["type"] == "sidecar"} == {
        *variables["istio_aws_egress_sidecars"],
        "unlisted-app",
    }
    assert ("gateway" in sim.proxies) == (variables["istio_aws_egress_mode"] == "egress_gateway")
