# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A filter's arguments checked against its own documentation, the <filter>.yml beside it.

As ansible.utils' filters validate theirs against their DOCUMENTATION: what the documentation
declares (required options, choices) is what is checked, so the two cannot part. The messages
are ours ("mode: expected one of <the choices>, got str 'gateway'"): a filter
names the caller's variable, which a generic argument validator cannot. Types and values are
checked by the code that uses them, with messages that say what a value should be.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import described, input_error

# The filter's input, documented as an option.
INPUT = "_input"


@functools.lru_cache(maxsize=None)
def _documented(doc_path):
    return yaml.safe_load(Path(doc_path).read_text(encoding="utf-8"))["DOCUMENTATION"]["options"]


def doc_path(plugin_file):
    """The documentation of the filter plugin in `plugin_file` (its __file__)."""
    return str(Path(plugin_file).with_suffix(".yml"))


def options(plugin_file):
    """The filter's documented options by name, in their documented order, its input left out."""
    return {name: spec for name, spec in _documented(doc_path(plugin_file)).items() if name != INPUT}


def check(plugin_file, arguments):
    """Raise InputError for an argument its documentation refuses: a required one left out, a value not of its choices
    (each item, for a list). `arguments`: the filter's keyword arguments by name, as given or defaulted; None is left to
    the code that uses the option, whose message says what it expects."""
    for name, spec in options(plugin_file).items():
        if name not in arguments and spec.get("required"):
            raise input_error(name, "required, and not given")
        value = arguments.get(name)
        if value is None:
            continue
        choices = spec.get("choices")
        if choices is None:
            continue
        if spec.get("type") == "list":
            for index, item in enumerate(value if isinstance(value, (list, tuple)) else []):
                if item not in choices:
                    raise input_error(
                        f"{name}[{index}]", f"expected one of {', '.join(map(str, choices))}, got {described(item)}"
                    )
        elif value not in choices:
            raise input_error(name, f"expected one of {', '.join(map(str, choices))}, got {described(value)}")
