# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Many things named at once: the first few, then how many more."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.wording import listed

NAMES = ["a", "b", "c", "d", "e", "f", "g"]


@pytest.mark.parametrize(
    "items, shown, text",
    [
        ([], 5, ""),
        (["a"], 5, "a"),
        (NAMES[:5], 5, "a, b, c, d, e"),
        (NAMES, 5, "a, b, c, d, e and 2 more"),
        (NAMES, 6, "a, b, c, d, e, f and 1 more"),
        (NAMES, 10, "a, b, c, d, e, f, g"),
        (iter(NAMES), 2, "a, b and 5 more"),
    ],
)
def test_the_first_few_then_a_count(items, shown, text):
    assert listed(items, shown) == text


def test_five_unless_told():
    assert listed(NAMES) == "a, b, c, d, e and 2 more"
