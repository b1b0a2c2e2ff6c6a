# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of meshops.aws_egress.egress_report, shared by its action plugin and its documentation stub."""

from __future__ import annotations

import copy

OPTIONS = dict(
    kind=dict(type="str", required=True, choices=["plan", "verify", "simulate"]),
    directory=dict(type="path", required=True),
    cluster=dict(type="str"),
    report=dict(type="dict"),
    index=dict(type="list", elements="str"),
)
MUTUALLY_EXCLUSIVE = [("report", "index")]
REQUIRED_ONE_OF = [("report", "index")]
REQUIRED_TOGETHER = [("cluster", "report")]


def argument_spec():
    return copy.deepcopy(OPTIONS)
