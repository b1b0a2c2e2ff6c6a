# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How refusals and notes name many things at once: the first few, then how many more."""

from __future__ import annotations


def listed(items, shown=5):
    """'a, b, c, d, e and 3 more': the first `shown` of `items`, then a count of the rest."""
    items = list(items)
    return ", ".join(items[:shown]) + (f" and {len(items) - shown} more" if len(items) > shown else "")
