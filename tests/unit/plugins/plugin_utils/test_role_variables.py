# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's grouped variables: taken from their new names and, for one release, from the names they replace."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.utils.display import Display

from ansible_collections.meshops.aws_egress.plugins.filter._role_variables import role_variables
from ansible_collections.meshops.aws_egress.plugins.module_utils.egress_set_options import OPTIONS
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import role_variables as module
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.policies import (
    DEFAULT_DNS,
    DEFAULT_ISTIOD,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.option_names import input_message

P = "istio_aws_egress_"
ROLE = pathlib.Path(__file__).parents[4] / "roles" / "istio_aws_egress"
COREDNS = {"namespace": "dns", "selector": {"app": "coredns"}}


def test_nothing_set_is_nothing_grouped_and_nothing_deprecated():
    assert module.grouped({f"{P}lock": {}, f"{P}network_policy_peers": {}, f"{P}name": "prod"}, P) == (
        {"lock": {}, "network_policy_peers": {}},
        [],
    )


def test_the_new_names_are_taken_as_given():
    values, used = module.grouped({f"{P}lock": {"timeout": 60}, f"{P}network_policy_peers": {"dns": COREDNS}}, P)
    assert values == {"lock": {"timeout": 60}, "network_policy_peers": {"dns": COREDNS}} and used == []


@pytest.mark.parametrize(
    "old, value, group, key",
    [
        ("lock_timeout", 60, "lock", "timeout"),
        ("lock_duration", "30", "lock", "duration"),  # as -e gives it
        ("network_policy_dns", COREDNS, "network_policy_peers", "dns"),
        (
            "network_policy_istiod",
            {"namespace": "istio-1-30", "selector": {"istio.io/rev": "1-30"}},
            "network_policy_peers",
            "istiod",
        ),
    ],
)
def test_each_old_name_becomes_its_key_and_is_reported(old, value, group, key):
    values, used = module.grouped({P + old: value, f"{P}lock": {}}, P)
    assert values[group] == {key: int(value) if group == "lock" else value}
    assert used == [(old, f"{group}.{key}")]


def test_an_old_name_fills_its_key_beside_the_new_dicts_other_keys():
    values, used = module.grouped({f"{P}lock": {"duration": 90}, f"{P}lock_timeout": 60}, P)
    assert values["lock"] == {"timeout": 60, "duration": 90} and used == [("lock_timeout", "lock.timeout")]


def test_both_names_with_the_same_value_are_fine_and_still_reported():
    values, used = module.grouped({f"{P}lock": {"timeout": 60}, f"{P}lock_timeout": 60}, P)
    assert values["lock"] == {"timeout": 60} and used == [("lock_timeout", "lock.timeout")]


@pytest.mark.parametrize(
    "variables, message",
    [
        (
            {f"{P}lock": {"timeout": 90}, f"{P}lock_timeout": 60},
            "istio_aws_egress_lock_timeout: 60 is deprecated and istio_aws_egress_lock.timeout is 90: set istio_aws_egress_lock.timeout only",
        ),
        (
            {f"{P}lock": {"timeout": 0}},
            "istio_aws_egress_lock.timeout: expected a number of seconds (a positive integer), got int 0",
        ),
        (
            {f"{P}lock_duration": "soon"},
            "istio_aws_egress_lock_duration: expected a number of seconds (a positive integer), got str 'soon'",
        ),
        (
            {f"{P}lock": {"timeuot": 60}},
            "istio_aws_egress_lock: unknown key 'timeuot'; did you mean 'timeout'? (keys: timeout, duration)",
        ),
        ({f"{P}lock": 60}, "istio_aws_egress_lock: expected a dict with timeout, duration, got int 60"),
        (
            {f"{P}network_policy_peers": {"dns": {"namespace": "kube-system"}}},
            "istio_aws_egress_network_policy_peers.dns.selector: expected the pods' labels",
        ),
        (
            {f"{P}network_policy_dns": {"namespace": "kube-system"}},
            "istio_aws_egress_network_policy_dns.selector: expected the pods' labels",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable_the_user_set(variables, message):
    with pytest.raises(InputError) as failed:
        module.grouped(variables, P)
    assert input_message(failed.value, P).startswith(message), input_message(failed.value, P)


def test_every_replaced_variable_is_deprecated_once_with_its_replacement():
    assert module.DEPRECATED == {
        "lock_timeout": "lock.timeout",
        "lock_duration": "lock.duration",
        "network_policy_dns": "network_policy_peers.dns",
        "network_policy_istiod": "network_policy_peers.istiod",
    }


def test_the_filter_warns_once_per_old_name_with_the_removal_version(monkeypatch):
    warned = []
    monkeypatch.setattr(Display, "deprecated", lambda self, msg, **kw: warned.append((msg, kw)))
    values = role_variables({f"{P}lock_timeout": 60, f"{P}network_policy_dns": COREDNS}, variable_prefix=P)
    assert module.REMOVAL_VERSION == "1.0.0"  # the version the filter writes out, and the documentation names
    assert values == {"lock": {"timeout": 60}, "network_policy_peers": {"dns": COREDNS}}
    assert warned == [
        (
            "istio_aws_egress_lock_timeout is deprecated: set istio_aws_egress_lock.timeout instead; until then the role "
            "takes it as istio_aws_egress_lock.timeout",
            {"version": "1.0.0", "collection_name": "meshops.aws_egress"},
        ),
        (
            "istio_aws_egress_network_policy_dns is deprecated: set istio_aws_egress_network_policy_peers.dns instead; until then "
            "the role takes it as istio_aws_egress_network_policy_peers.dns",
            {"version": "1.0.0", "collection_name": "meshops.aws_egress"},
        ),
    ]


def test_the_filter_warns_of_nothing_when_no_old_name_is_set(monkeypatch):
    warned = []
    monkeypatch.setattr(Display, "deprecated", lambda self, msg, **kw: warned.append(msg))
    role_variables({f"{P}lock": {"duration": 30}}, variable_prefix=P)
    assert warned == []


def test_the_documented_defaults_are_the_ones_the_code_applies():
    """The role leaves a key out, and the code that uses it applies its default; argument_specs must say the same."""
    options = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    lock = options[f"{P}lock"]["options"]
    assert {key: lock[key]["default"] for key in lock} == {
        "timeout": OPTIONS["lock_timeout"]["default"],
        "duration": OPTIONS["lock_duration"]["default"],
    }
    peers = options[f"{P}network_policy_peers"]["options"]
    assert {key: peers[key]["default"] for key in peers} == {"dns": DEFAULT_DNS, "istiod": DEFAULT_ISTIOD}
    # The role's defaults leave every key out, so that what the user set is known; old names have no default at all.
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults[f"{P}lock"] == {} and defaults[f"{P}network_policy_peers"] == {}
    assert not set(P + old for old in module.DEPRECATED) & set(defaults)
    for old, new in module.DEPRECATED.items():
        assert f"Deprecated, removed in {module.REMOVAL_VERSION} - use O({P}{new})" in " ".join(
            options[P + old]["description"]
        )
