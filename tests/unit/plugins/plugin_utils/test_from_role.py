# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An egress set's options taken from the role's variables by their names, as the runbooks take them."""

from __future__ import annotations

import yaml

from ansible_collections.meshops.aws_egress.plugins.doc_fragments.egress_set import ModuleDocFragment
from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_simulate_options import OPTIONS
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import from_role, role_options

P = role_options.PREFIX
VARIABLES = {
    f"{P}name": "shop",
    f"{P}namespace": "aws-egress",
    f"{P}mode": "{{ chosen }}",
    f"{P}regions": ["eu-west-1"],
    f"{P}waypoint": {},
    f"{P}gateway": None,
    f"{P}render_dir": "/tmp/x",
    "chosen": "ambient",
}


class _Templar:
    @staticmethod
    def template(value):
        return "ambient" if value == "{{ chosen }}" else value


TEMPLAR = _Templar()


def test_left_out_options_are_the_role_s_variables_of_their_names_rendered():
    args = from_role.taken({"role_variables": True, "manifests": "/m", "mode": "sidecar"}, VARIABLES, TEMPLAR)
    # The task's own win; unset, None and empty dict variables are left to the option's default; others are not options.
    assert args == {
        "role_variables": True,
        "manifests": "/m",
        "mode": "sidecar",
        "name": "shop",
        "namespace": "aws-egress",
        "regions": ["eu-west-1"],
        "variable_prefix": P,
    }
    assert from_role.taken({"role_variables": True}, VARIABLES, TEMPLAR)["mode"] == "ambient"


def test_messages_name_the_caller_s_variables_as_the_task_says():
    assert from_role.taken({"role_variables": True, "variable_prefix": ""}, VARIABLES, TEMPLAR)["variable_prefix"] == ""


def test_nothing_is_taken_unless_asked():
    assert from_role.taken({"manifests": "/m"}, VARIABLES, TEMPLAR) == {"manifests": "/m"}
    assert from_role.taken({"role_variables": False}, VARIABLES, TEMPLAR) == {"role_variables": False}


def test_every_option_of_an_egress_set_is_a_role_variable_the_modules_take():
    fragment = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(from_role.options()) == set(fragment) - {"role_variables"}
    assert set(from_role.options()) <= set(OPTIONS)
