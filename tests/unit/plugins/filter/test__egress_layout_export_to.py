# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""exportTo combinations Istio refuses are refused before anything is rendered (found by the fuzz test)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.filter._egress_layout import egress_layout
from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import aws_endpoints


def decide(export_to):
    found = aws_endpoints(["sqs"], regions=["us-east-1"], name_prefix="aws-default")
    return egress_layout(
        found, name="default", namespace="istio-system", name_prefix="aws-default", export_to=export_to
    )


@pytest.mark.parametrize(
    "export_to, message",
    [
        (["*", "."], "export_to: '*' (every namespace) cannot be listed with other entries; Istio refuses ['*', '.']"),
        (
            ["team-a", "*"],
            "export_to: '*' (every namespace) cannot be listed with other entries; Istio refuses ['*', 'team-a']",
        ),
        (["~", "."], "export_to: '~' (no namespace) cannot be listed with other entries; Istio refuses ['.', '~']"),
    ],
)
def test_star_and_tilde_stand_alone(export_to, message):
    with pytest.raises(AnsibleFilterError) as refused:
        decide(export_to)
    assert str(refused.value) == f"meshops.aws_egress._egress_layout: {message}"


@pytest.mark.parametrize("export_to", [["*"], ["~"], ["."], [".", "team-a"], ["team-a", "team-b"]])
def test_what_istio_accepts(export_to):
    entries = decide(export_to)["service_entries"]
    assert entries and all(entry["export_to"] == export_to for entry in entries)
