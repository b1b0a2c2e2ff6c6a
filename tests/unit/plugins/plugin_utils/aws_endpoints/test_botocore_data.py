# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What we read from botocore, checked against botocore's own loader."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.loaders
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from packaging.specifiers import SpecifierSet

from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import botocore_data, sdk_hosts

ROOT = Path(__file__).resolve().parents[5]


@pytest.fixture(scope="module")
def reference_loader():
    return botocore.loaders.create_loader()


def test_service_names_are_the_boto3_client_names(reference_loader):
    assert botocore_data.service_names() == frozenset(reference_loader.list_available_services("service-2"))


def test_a_service_is_known_by_its_own_directory_as_by_the_listing(reference_loader):
    data = Path(botocore.loaders.BOTOCORE_ROOT) / "data"
    names = {p.name for p in data.iterdir()} | {
        "S3",
        "s3 ",
        "",
        ".",
        "..",
        "s3/2006-03-01",
        "../data/s3",
        "no-such-service",
    }
    assert {name for name in names if botocore_data.is_service(name)} == botocore_data.service_names()


@pytest.mark.parametrize("service", ["s3", "dynamodb", "logs", "neptune-graph", "timestream-query", "ec2", "sts"])
def test_operation_traits_match_the_full_model(service, reference_loader):
    model = json.loads(json.dumps(reference_loader.load_service_model(service, "service-2")))
    expected = {botocore_data._traits_of(name, op, model["shapes"])[1:] for name, op in model["operations"].items()}  # pylint: disable=protected-access
    assert {t[1:] for t in botocore_data.operation_traits(service)} == expected


def test_models_without_endpoint_traits_are_not_parsed():
    assert botocore_data.operation_traits("ec2") == (botocore_data.PLAIN_OPERATION,)


def test_arn_inputs_that_pick_hosts_all_have_a_template():
    # A new ARN input in a future botocore must be looked at, not silently left unset.
    known = set(sdk_hosts._ARN_TEMPLATES)  # pylint: disable=protected-access
    for service in sorted(botocore_data.service_names()):
        parameters = botocore_data.ruleset_parameters(service)
        for traits in botocore_data.operation_traits(service):
            for name, dummy in traits.input_params:
                if name.lower().endswith("arn") and parameters.get(name, (None,))[0] is str:
                    assert (service, name) in known or (service, name) == ("s3control", "ResourceArn"), (service, name)


def test_rulesets_are_botocores(reference_loader):
    provider = botocore_data.endpoint_provider("ecr")
    assert (
        provider.resolve_endpoint(Region="eu-west-1", UseFIPS=False, UseDualStack=False).url
        == "https://api.ecr.eu-west-1.amazonaws.com"
    )


def requirement(path, package):
    """The specifier `path` gives `package`."""
    (line,) = [line for line in path.read_text().splitlines() if re.match(rf"{package}\b", line)]
    return SpecifierSet(line[len(package) :].split("#")[0].strip())


def test_a_botocore_older_than_the_filter_works_with_is_refused_by_name(monkeypatch):
    monkeypatch.setattr(botocore_data, "botocore_version", lambda: "1.40.0")
    botocore_data._botocore.cache_clear()  # pylint: disable=protected-access
    try:
        with pytest.raises(AnsibleFilterError) as caught:
            botocore_data._botocore()  # pylint: disable=protected-access
        assert caught.value.message == (
            "botocore 1.40.0 is older than 1.43.14, the oldest the aws_endpoints filter works with: "
            "pip install 'botocore>=1.43.14' (requirements.txt names the range this collection is "
            "tested with)"
        )
    finally:
        botocore_data._botocore.cache_clear()  # pylint: disable=protected-access


def test_where_the_collection_ships_botocore_is_pinned_to_the_tested_range():
    shipped = requirement(ROOT / "requirements.txt", "botocore")
    # The oldest it admits is the oldest the filter works with; it admits the one the tests run with, and the execution
    # environment pins exactly that one.
    assert min(spec.version for spec in shipped if spec.operator == ">=") == botocore_data.MINIMUM_BOTOCORE
    assert any(spec.operator == "<" for spec in shipped)
    (tested,) = [spec.version for spec in requirement(ROOT / "requirements" / "runtime.txt", "botocore")]
    assert tested in shipped and botocore.__version__ == tested
    environment = yaml.safe_load((ROOT / "docs" / "execution-environment.yml").read_text())
    assert f"botocore=={tested}" in environment["dependencies"]["python"]
