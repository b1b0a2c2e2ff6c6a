# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the plan says of the mesh's outbound policy (outbound_policy.py), against what istiod 1.30 (the simulation's
pinned commit) generates for it: where the plan says the entries restrict, an undeclared host is black-holed; where it
says they only route, it passes through. Later releases' istiod is not served to build; see the README."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.plan import mesh_config

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.safety import outbound_policy
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.simulation import harness

pytestmark = pytest.mark.integration

SQS = "sqs.us-east-1.amazonaws.com"
ENTRY = f"""\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: sqs, namespace: istio-system}}
spec:
  hosts: [{SQS}]
  location: MESH_EXTERNAL
  ports: [{{number: 443, name: tls, protocol: TLS}}]
  resolution: DNS
"""
SIDECAR = {"type": "sidecar", "namespace": "orders", "ips": ["10.0.0.10"]}
# The release of the simulated istiod (the pinned release-1.30 commit).
SIMULATED = (1, 30)


def _call(call_id: str, sni: str) -> dict:
    return {"id": call_id, "proxy": "app", "address": "52.94.0.1", "port": 443, "tls": True, "sni": sni}


@pytest.mark.parametrize("mode", [None, "ALLOW_ANY", "REGISTRY_ONLY", "ALLOW_ANY_DYNAMIC_DNS"])
def test_what_the_plan_says_is_what_istiod_generates(mode):
    config = f"outboundTrafficPolicy:\n  mode: {mode}\n" if mode else ""
    response = harness.simulate(
        {
            "istio_version": "1.30.0",
            "mesh": {"root_namespace": "istio-system", "config": config},
            "config": ENTRY,
            "kubernetes": "",
            "proxies": {"app": SIDECAR},
            "calls": [_call("declared", SQS), _call("undeclared", "sns.us-east-1.amazonaws.com")],
        }
    )
    results = {result["id"]: result for result in response["results"]}
    assert results["declared"]["cluster"] == f"outbound|443||{SQS}"

    said = outbound_policy.mesh_effect(
        mesh_config.MeshPolicy("istio-system/istio", mesh_config.READ, mode=mode, release=SIMULATED)
    )[0]
    expected = {outbound_policy.RESTRICT: "BlackHoleCluster", outbound_policy.ROUTE: "PassthroughCluster"}[said]
    assert results["undeclared"]["cluster"] == expected, (mode, said)
