# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the egress_simulate action says what is wrong with its options, before anything is simulated."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.action import egress_simulate
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.botocore_data import MISSING_BOTOCORE


def run(tmp_path, **args):
    task = mock.MagicMock(
        async_val=0,
        check_mode=False,
        diff=False,
        args={"manifests": str(tmp_path), "name": "sim", "services": ["sqs"], "regions": ["eu-west-1"], **args},
    )
    action = egress_simulate.ActionModule(
        task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None, shared_loader_obj=None
    )
    return action.run(task_vars={})


@pytest.mark.parametrize(
    "prefix, message",
    [
        (
            "istio_aws_egress_",
            "istio_aws_egress_regions[0]: 'eu_west_1' is not an AWS region; did you mean 'eu-west-1'?",
        ),
        ("", "regions[0]: 'eu_west_1' is not an AWS region; did you mean 'eu-west-1'?"),
    ],
)
def test_a_bad_value_is_named_as_the_callers_variable(tmp_path, prefix, message):
    result = run(tmp_path, regions=["eu_west_1"], variable_prefix=prefix)
    assert result["failed"] and result["msg"] == message


@pytest.mark.parametrize(
    "prefix, named", [("istio_aws_egress_", "istio_aws_egress_regions"), ("", "the filter's regions")]
)
def test_another_option_a_message_names_is_the_callers_variable_too(tmp_path, prefix, named):
    result = run(tmp_path, regions=[], variable_prefix=prefix)
    assert (
        result["failed"]
        and result["msg"]
        == f"{prefix}services[0]: 'sqs' has no regions: set {named}, or give this service a 'regions' list"
    )


def test_an_error_that_is_not_about_an_option_gets_no_prefix(tmp_path, monkeypatch):
    def without_botocore(*args, **kwargs):
        raise AnsibleFilterError(MISSING_BOTOCORE)

    monkeypatch.setattr(egress_simulate, "declared", without_botocore)
    result = run(tmp_path, variable_prefix="istio_aws_egress_")
    assert result["failed"] and result["msg"] == "the aws_endpoints filter needs botocore: pip install botocore"
