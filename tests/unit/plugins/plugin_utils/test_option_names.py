# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options named once, at the entry points: the logic marks them, the boundary names them in all it returns or raises."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from ansible.errors import AnsibleActionFail, AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import input_error
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import (
    CallerInputError,
    caller_error,
    input_message,
    named_options,
    named_run,
    option_ref,
)

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"
P = "istio_aws_egress_"
MODULE_UTILS = "ansible_collections.meshops.aws_egress.plugins.module_utils"


def result():
    return {
        "msg": f"set {option_ref('adopt')}: true to take it over",
        "notes": [f"{option_ref('exclude_hosts')}: sqs is left to others", "nothing named here"],
        "plan": {"endpoint_data": {"lines": (f"accept it ({option_ref('accept')}: [endpoint_data_removal])",)}},
        "fix": {"variables": {option_ref("services"): ["sqs"]}, "yaml": f"{option_ref('services')}:\n- sqs\n"},
        "cause": f"change the {option_ref('*')} variables, or set {option_ref('gateway.selector')}",
        "count": 3,
        "changed": False,
        "none": None,
    }


def test_marks_are_named_as_the_callers_variables_everywhere_in_a_result():
    assert named_options(result(), P) == {
        "msg": "set istio_aws_egress_adopt: true to take it over",
        "notes": ["istio_aws_egress_exclude_hosts: sqs is left to others", "nothing named here"],
        "plan": {"endpoint_data": {"lines": ("accept it (istio_aws_egress_accept: [endpoint_data_removal])",)}},
        "fix": {"variables": {"istio_aws_egress_services": ["sqs"]}, "yaml": "istio_aws_egress_services:\n- sqs\n"},
        "cause": "change the istio_aws_egress_* variables, or set istio_aws_egress_gateway.selector",
        "count": 3,
        "changed": False,
        "none": None,
    }


@pytest.mark.parametrize("prefix", ["", None])
def test_without_a_prefix_marks_are_named_as_the_options(prefix):
    named = named_options(result(), prefix)
    assert named["msg"] == "set adopt: true to take it over"
    assert named["fix"]["variables"] == {"services": ["sqs"]}
    assert named["cause"] == "change the * variables, or set gateway.selector"
    assert "\x1f" not in repr(named)


@pytest.mark.parametrize("name", ["network_policy: kubernetes", "", "a b"])
def test_only_an_options_name_is_marked(name):
    with pytest.raises(ValueError, match="not an option's name"):
        option_ref(name)


def test_what_names_no_option_comes_back_as_it_is():
    class Tagged(str):
        """A str subclass, as Ansible tags its strings."""

    value = Tagged("no option here")
    named = named_options({"a": [value]}, P)
    assert named["a"][0] is value


def test_an_ansible_error_is_named_in_place():
    error = AnsibleActionFail(f"{option_ref('apply_concurrency')} is 0: it must be 1 or more")
    assert named_options(error, P) is error
    assert str(error) == error.message == "istio_aws_egress_apply_concurrency is 0: it must be 1 or more"


def test_an_entry_points_run_is_named_whether_it_returns_or_raises():
    assert named_run(lambda: {"msg": f"{option_ref('context')} is not set"}, P) == {
        "msg": "istio_aws_egress_context is not set"
    }

    def refuses():
        raise AnsibleActionFail(f"{option_ref('context')} is not set")

    with pytest.raises(AnsibleActionFail, match="^context is not set$"):
        named_run(refuses)
    with pytest.raises(AnsibleActionFail, match="^istio_aws_egress_context is not set$"):
        named_run(refuses, P)


def test_an_input_error_names_its_path_and_options_as_the_variables_or_as_the_filters_options():
    error = input_error("services[0]", f"'sqs' has no regions: set {option_ref('regions')}")
    assert str(error) == "services[0]: 'sqs' has no regions: set the filter's regions"
    assert input_message(error, P) == "istio_aws_egress_services[0]: 'sqs' has no regions: set istio_aws_egress_regions"
    assert input_message(error) == str(error)
    raised = caller_error(error, "meshops.aws_egress.aws_endpoints", P)
    assert isinstance(raised, CallerInputError) and isinstance(raised, AnsibleFilterError)
    assert raised.message == "istio_aws_egress_services[0]: 'sqs' has no regions: set istio_aws_egress_regions"
    assert caller_error(error, "meshops.aws_egress.aws_endpoints").message == (
        "meshops.aws_egress.aws_endpoints: services[0]: 'sqs' has no regions: set the filter's regions"
    )


def test_the_logic_never_learns_the_callers_prefix():
    """Only the entry points know how the caller spells an option: the logic marks it (option_ref)."""
    threaded = [
        f"{path.relative_to(PLUGINS)}:{number}"
        for path in sorted((PLUGINS / "plugin_utils").rglob("*.py"))
        if path.name != "option_names.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "variable_prefix" in line
    ]
    assert threaded == []


def test_every_action_with_a_variable_prefix_names_its_options_once():
    """An action plugin whose options have variable_prefix hands its whole run to named_run, once."""
    actions = {}
    for path in sorted((PLUGINS / "action").glob("*.py")):
        source = path.read_text()
        options = re.search(r"module_utils\.(\w+_options) import", source)
        if (
            options
            and "variable_prefix" in importlib.import_module(f"{MODULE_UTILS}.{options.group(1)}").argument_spec()
        ):
            actions[path.stem] = source.count("named_run(")
    assert len(actions) == 7 and set(actions.values()) == {1}, actions
