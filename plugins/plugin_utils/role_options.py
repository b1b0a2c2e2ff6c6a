# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The role's options as its meta/argument_specs.yml declares them: the one source of their choices and defaults.

Code that checks or defaults a role variable reads it here, by the name without the prefix
(`choices("mode")`, `default("network_policy_peers", "dns")`). Copies that must stay literal (module
documentation and module_utils, which ansible-test checks against each other; the role's
defaults/main.yml, which Ansible applies) are tied to this file by tests/unit/plugins/plugin_utils/test_role_options.py.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml

PREFIX = "istio_aws_egress_"
ARGUMENT_SPECS = Path(__file__).resolve().parents[2] / "roles" / "istio_aws_egress" / "meta" / "argument_specs.yml"


@functools.lru_cache(maxsize=None)
def _entry_points():
    return yaml.safe_load(ARGUMENT_SPECS.read_text(encoding="utf-8"))["argument_specs"]


def spec(name, *keys, entry_point="main"):
    """The spec of role variable `name` (without the prefix), or of its suboption `keys`; KeyError when undeclared."""
    found = _entry_points()[entry_point]["options"][PREFIX + name]
    for key in keys:
        found = found["options"][key]
    return found


def choices(name, *keys, entry_point="main"):
    """The declared choices of an option, as a tuple, in their documented order."""
    return tuple(spec(name, *keys, entry_point=entry_point)["choices"])


def default(name, *keys, entry_point="main"):
    """The declared default of an option (None when it has none); a copy, so callers may change it."""
    return copy.deepcopy(spec(name, *keys, entry_point=entry_point).get("default"))


def options(entry_point="main"):
    """Every option of an entry point, by its name without the prefix."""
    return {name[len(PREFIX) :]: value for name, value in _entry_points()[entry_point]["options"].items()}
