# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter arguments checked against the filter's own .yml documentation, and the entry points' signatures tied to it."""

from __future__ import annotations

import importlib
import inspect
import pathlib

import pytest

from ansible_collections.meshops.aws_egress.plugins.plugin_utils import filter_docs
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import input_message

FILTERS = pathlib.Path(__file__).parents[4] / "plugins" / "filter"
ENTRY_POINTS = {
    "_egress_layout": "egress_layout",
    "_egress_files": "egress_files",
    "_egress_rbac": "egress_rbac",
    "_plan_lines": "plan_lines_filter",
    "_role_variables": "role_variables",
}


def _plugin(name):
    return importlib.import_module(f"ansible_collections.meshops.aws_egress.plugins.filter.{name}")


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_a_filter_takes_the_options_its_documentation_declares_with_their_defaults(name):
    plugin = _plugin(name)
    parameters = list(inspect.signature(getattr(plugin, ENTRY_POINTS[name])).parameters.values())[1:]
    documented = filter_docs.options(plugin.__file__)
    assert sorted(p.name for p in parameters) == sorted(documented)
    for parameter in parameters:
        spec = documented[parameter.name]
        if spec.get("required"):
            # None: the body refuses it, naming what it expects.
            assert parameter.default in (inspect.Parameter.empty, None), parameter.name
        elif parameter.default is not None:
            # None stands for the documented default, applied in the body (a list or dict default must not be shared).
            assert parameter.default == spec.get("default"), parameter.name


def test_aws_endpoints_knows_the_options_its_documentation_declares():
    from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.service_spec import FILTER_OPTIONS

    documented = filter_docs.options(_plugin("aws_endpoints").__file__)
    assert FILTER_OPTIONS + ("variable_prefix",) == tuple(documented)


LAYOUT = str(FILTERS / "_egress_layout.py")


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            {"name": "a", "namespace": "b", "name_prefix": "c", "mode": "gateway"},
            "mode: expected one of sidecar, egress_gateway, ambient, got str 'gateway'",
        ),
        (
            {"name": "a", "namespace": "b", "name_prefix": "c", "network_policy": 1},
            "network_policy: expected one of none, kubernetes, cilium, got int 1",
        ),
        ({"namespace": "b", "name_prefix": "c"}, "name: required, and not given"),
    ],
)
def test_what_the_documentation_refuses_is_refused_naming_the_option(arguments, message):
    with pytest.raises(InputError) as caught:
        filter_docs.check(LAYOUT, arguments)
    assert input_message(caught.value) == message


def test_each_item_of_a_list_is_one_of_its_choices():
    with pytest.raises(InputError) as caught:
        filter_docs.check(str(FILTERS / "aws_endpoints.py"), {"credential_sources": ["irsa", "imsd"]})
    assert (
        input_message(caught.value)
        == "credential_sources[1]: expected one of irsa, imds, imds_ipv6, eks_pod_identity, eks_pod_identity_ipv6, ecs, got str 'imsd'"
    )


def test_none_and_documented_values_pass():
    filter_docs.check(
        LAYOUT, {"name": "a", "namespace": "b", "name_prefix": "c", "mode": "ambient", "network_policy": None}
    )


def test_the_plan_lines_filter_refuses_an_undocumented_state():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError) as caught:
        _plugin("_plan_lines").plan_lines_filter({"summary": {}}, "shop", state="gone")
    assert (
        str(caught.value.message)
        == "meshops.aws_egress._plan_lines: state: expected one of present, absent, got str 'gone'"
    )
