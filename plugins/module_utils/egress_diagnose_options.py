# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of meshops.aws_egress.egress_diagnose, shared by its action plugin and its documentation stub.

The egress set and the simulation are described as for egress_simulate, whose options these reuse.
"""

from __future__ import annotations

import copy

from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_simulate_options import (
    GATEWAY_OPTIONS,
    OPTIONS as SIMULATE_OPTIONS,
)

OPTIONS = dict(
    logs=dict(type="path"),
    diagnosis=dict(type="dict"),
    fixes_dir=dict(type="path"),
    **{
        name: spec
        for name, spec in SIMULATE_OPTIONS.items()
        if name not in ("unlisted_namespace", "cluster", "outbound_traffic_policy")
    },
    # Without a cluster to read the mesh config from, the diagnosis takes the mesh as REGISTRY_ONLY unless told.
    outbound_traffic_policy=dict(SIMULATE_OPTIONS["outbound_traffic_policy"], default="REGISTRY_ONLY"),
)
MUTUALLY_EXCLUSIVE = [("logs", "diagnosis")]
REQUIRED_ONE_OF = [("logs", "diagnosis")]
REQUIRED_TOGETHER = [("diagnosis", "fixes_dir")]


def argument_spec():
    return copy.deepcopy(OPTIONS)


def gateway_defaults():
    """The egress gateway as the role's defaults describe it, for a caller that leaves the option out."""
    return {key: spec["default"] for key, spec in GATEWAY_OPTIONS.items()}
