# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The filter's face: registration, error messages, warnings."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshops.aws_egress.plugins.filter import aws_endpoints as plugin
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.credentials import (
    credential_source_names,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.service_spec import FILTER_OPTIONS

PREFIX = "meshops.aws_egress.aws_endpoints: "
US = ["us-east-1"]

# (services, options, message after the plugin name): every input error the filter raises.
ERRORS = [
    ("dynamodb", {}, "services: expected a list of service names or dicts, got str 'dynamodb'"),
    (None, {}, "services: expected a list of service names or dicts, got None"),
    ([3], {"regions": US}, "services[0]: expected a service name or a dict with a 'name' key, got int 3"),
    ([["s3"]], {"regions": US}, "services[0]: expected a service name or a dict with a 'name' key, got list ['s3']"),
    (
        ["s3", "dynamo"],
        {"regions": US},
        "services[1]: 'dynamo' is not a service botocore knows (use boto3 client names); did you mean 'dynamodb'?",
    ),
    (
        [{"name": "dynamo"}],
        {"regions": US},
        "services[0].name: 'dynamo' is not a service botocore knows (use boto3 client names); did you mean 'dynamodb'?",
    ),
    # Names read in host names, their services' endpoint prefixes: the clients botocore knows by them.
    (
        [{"name": "elasticloadbalancing"}],
        {"regions": US},
        "services[0].name: 'elasticloadbalancing' is not a service botocore knows "
        "(use boto3 client names); 'elasticloadbalancing' is the endpoint prefix of elb, elbv2: did you mean 'elb' or 'elbv2'?",
    ),
    (
        ["monitoring"],
        {"regions": US},
        "services[0]: 'monitoring' is not a service botocore knows (use boto3 client names); "
        "'monitoring' is the endpoint prefix of cloudwatch: did you mean 'cloudwatch'?",
    ),
    (
        ["states"],
        {"regions": US},
        "services[0]: 'states' is not a service botocore knows (use boto3 client names); "
        "'states' is the endpoint prefix of stepfunctions: did you mean 'stepfunctions'?",
    ),
    (
        [{"name": 5}],
        {"regions": US},
        "services[0].name: expected a service name (a boto3 client name such as 'dynamodb'), got int 5",
    ),
    ([{"regions": US}], {}, "services[0]: the dict has no 'name' key"),
    (
        [{"name": "s3", "region": US}],
        {},
        "services[0]: unknown key 'region'; did you mean 'regions'? (keys: name, regions, account_ids, fips, dualstack, buckets)",
    ),
    (["s3"], {}, "services[0]: 's3' has no regions: set the filter's regions, or give this service a 'regions' list"),
    ([{"name": "s3", "regions": []}], {"regions": US}, "services[0].regions: must not be empty"),
    (["s3"], {"regions": "us-east-1"}, "regions: expected a list of region names, got str 'us-east-1'"),
    (["s3"], {"regions": ["us-east-1", 5]}, "regions[1]: expected a string, got int 5"),
    (
        ["s3", {"name": "s3", "regions": ["eu_west_1"]}],
        {"regions": US},
        "services[1].regions[0]: 'eu_west_1' is not an AWS region; did you mean 'eu-west-1'?",
    ),
    (["s3"], {"regions": ["Us-East-1"]}, "regions[0]: 'Us-East-1' is not an AWS region; did you mean 'us-east-1'?"),
    (["s3"], {"regions": ["mars-1"]}, "regions[0]: 'mars-1' is not an AWS region"),
    (
        ["s3"],
        {"regions": ["us-east-9"]},
        "regions[0]: 'us-east-9' looks like a region of partition 'aws' but botocore does not list it (a newer botocore may); did you mean 'us-east-2'?",
    ),
    (
        ["s3"],
        {"regions": ["cn-north-9"]},
        "regions[0]: 'cn-north-9' looks like a region of partition 'aws-cn' but botocore does not list it (a newer botocore may); did you mean 'cn-north-1'?",
    ),
    (
        ["s3"],
        {"regions": ["aws-global"]},
        "regions[0]: 'aws-global' is a pseudo-region; give real regions (global services are opened once per partition)",
    ),
    (["s3"], {"regions": US, "account_ids": ["1234"]}, "account_ids[0]: '1234' is not an AWS account ID (12 digits)"),
    (
        ["s3"],
        {"regions": US, "account_ids": ["12345678901a"]},
        "account_ids[0]: '12345678901a' is not an AWS account ID (12 digits)",
    ),
    (
        ["s3"],
        {"regions": US, "account_ids": [123456789012]},
        "account_ids[0]: expected an account ID as a string of 12 digits, got int 123456789012 (quote account IDs in YAML)",
    ),
    (
        ["s3"],
        {"regions": US, "account_ids": "123456789012"},
        "account_ids: expected a list of account IDs, got str '123456789012'",
    ),
    (
        [{"name": "s3", "account_ids": [None]}],
        {"regions": US},
        "services[0].account_ids[0]: expected an account ID as a string of 12 digits, got None",
    ),
    (["s3"], {"regions": US, "fips": "yes"}, "fips: expected true or false, got str 'yes'"),
    ([{"name": "s3", "dualstack": 1}], {"regions": US}, "services[0].dualstack: expected true or false, got int 1"),
    (["s3"], {"regions": US, "sts_legacy_global": "true"}, "sts_legacy_global: expected true or false, got str 'true'"),
    (
        ["s3"],
        {"regions": US, "credential_sources": ["irsa", "imsd"]},
        "credential_sources[1]: 'imsd' is not a credential source; did you mean 'imds'? "
        "(sources: ecs, eks_pod_identity, eks_pod_identity_ipv6, imds, imds_ipv6, irsa)",
    ),
    (
        ["s3"],
        {"regions": US, "credential_sources": "imds"},
        "credential_sources: expected a list of credential source names, got str 'imds'",
    ),
    (
        [],
        {"credential_sources": ["irsa"]},
        "credential_sources[0]: 'irsa' calls AWS in the workload's region: set the filter's regions",
    ),
    (
        [],
        {"credential_sources": ["imds", "eks_pod_identity"]},
        "credential_sources[1]: 'eks_pod_identity' calls AWS in the workload's region: set the filter's regions",
    ),
    (
        [{"name": "s3", "buckets": ["ok-bucket", "My_Bucket"]}],
        {"regions": US},
        "services[0].buckets[1]: 'My_Bucket' is not a valid S3 bucket name: use 3 to 63 lowercase letters, digits, dots and hyphens, "
        "starting and ending with a letter or digit",
    ),
    (
        [{"name": "s3", "buckets": ["ab"]}],
        {"regions": US},
        "services[0].buckets[0]: 'ab' is not a valid S3 bucket name: use 3 to 63 lowercase letters, digits, dots and hyphens, "
        "starting and ending with a letter or digit",
    ),
    (
        [{"name": "s3", "buckets": ["a..b"]}],
        {"regions": US},
        "services[0].buckets[0]: 'a..b' is not a valid S3 bucket name: a dot must sit between two letters or digits",
    ),
    (
        [{"name": "s3", "buckets": ["192.168.1.1"]}],
        {"regions": US},
        "services[0].buckets[0]: '192.168.1.1' is not a valid S3 bucket name: it must not look like an IP address",
    ),
    (
        [{"name": "s3", "buckets": ["xn--abc"]}],
        {"regions": US},
        "services[0].buckets[0]: 'xn--abc' is not a valid S3 bucket name: that prefix or suffix is reserved by S3",
    ),
    (
        [{"name": "s3", "buckets": "abc"}],
        {"regions": US},
        "services[0].buckets: expected a list of S3 bucket names, got str 'abc'",
    ),
    (
        [{"name": "dynamodb", "buckets": ["abc"]}],
        {"regions": US},
        "services[0].buckets: only the s3 service takes buckets, not 'dynamodb'",
    ),
    (
        ["s3"],
        {"regions": US, "name_prefix": "My_Set"},
        "name_prefix: 'My_Set' is not a valid name prefix (lowercase letters, digits and '-', "
        "starting and ending with a letter or digit, at most 40 characters)",
    ),
    (
        ["s3"],
        {"regions": US, "name_prefix": "a" * 41},
        "name_prefix: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is not a valid name prefix (lowercase letters, digits and '-', "
        "starting and ending with a letter or digit, at most 40 characters)",
    ),
    (
        ["s3"],
        {"regions": US, "name_prefix": "team-"},
        "name_prefix: 'team-' is not a valid name prefix (lowercase letters, digits and '-', "
        "starting and ending with a letter or digit, at most 40 characters)",
    ),
    (["s3"], {"regions": US, "name_prefix": 3}, "name_prefix: expected a string, got int 3"),
    (
        ["s3"],
        {"regions": US, "region": US},
        "region: unknown option; did you mean 'regions'? (options: regions, account_ids, fips, dualstack, credential_sources, "
        "sts_legacy_global, name_prefix, vpc_endpoints)",
    ),
]


@pytest.mark.parametrize("services, options, message", ERRORS, ids=[e[2][:60] for e in ERRORS])
def test_input_errors_name_the_plugin_the_argument_and_the_value(services, options, message):
    with pytest.raises(AnsibleFilterError) as caught:
        plugin.aws_endpoints(services, **options)
    assert caught.value.message == PREFIX + message


def test_filter_is_registered_under_its_short_name():
    assert plugin.FilterModule().filters() == {"aws_endpoints": plugin.aws_endpoints}


def test_filter_returns_the_endpoint_list():
    endpoints = plugin.aws_endpoints(["sts"], regions=US)
    assert [e["hosts"] for e in endpoints] == [["sts.us-east-1.amazonaws.com"]]


def test_warnings_go_to_ansible_display(monkeypatch):
    from ansible.utils.display import Display

    shown = []
    monkeypatch.setattr(Display, "warning", lambda self, message, *args, **kwargs: shown.append(message))
    plugin.aws_endpoints([{"name": "pricing-plan-manager", "fips": True}], regions=US)
    assert shown == [
        PREFIX + "pricing-plan-manager: the endpoint ruleset has no fips variant; the SDK uses the standard endpoint",
    ]


def test_unexpected_failures_still_raise_filter_errors(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(plugin, "expand", broken)
    with pytest.raises(
        AnsibleFilterError, match=r"^meshops\.aws_egress\.aws_endpoints: unexpected KeyError: 'surprise'$"
    ):
        plugin.aws_endpoints(["sts"], regions=US)


def test_without_botocore_the_filter_imports_and_says_how_to_get_it():
    # A fresh interpreter where "import botocore" fails, as in ansible-test's
    # import sanity test or on a controller without it.
    script = textwrap.dedent(
        """
        import sys
        sys.modules["botocore"] = None
        from ansible.errors import AnsibleFilterError
        from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import FilterModule
        try:
            FilterModule().filters()["aws_endpoints"](["sts"], regions=["us-east-1"])
        except AnsibleFilterError as exc:
            print(exc.message)
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == PREFIX + "the aws_endpoints filter needs botocore: pip install botocore"


def test_ansible_doc_renders_the_documentation_and_it_matches_the_code():
    # .../ansible_collections/meshops/aws_egress/plugins/filter/aws_endpoints.py
    collections_path = pathlib.Path(plugin.__file__).parents[5]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path))
    command = [sys.executable, "-m", "ansible.cli.doc", "-t", "filter", "--json", "meshops.aws_egress.aws_endpoints"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    docs = json.loads(result.stdout)["meshops.aws_egress.aws_endpoints"]
    options = docs["doc"]["options"]
    # variable_prefix shapes messages at the entry point; the rest are the expansion's options.
    assert set(options) == {"_input", "variable_prefix", *FILTER_OPTIONS}
    assert set(options["credential_sources"]["choices"]) == set(credential_source_names())
    assert options["name_prefix"]["default"] == "aws"
    returned = set().union(
        *plugin.aws_endpoints(["sqs"], regions=US, credential_sources=["imds"], vpc_endpoints=[{"service": "sqs"}])
    )
    assert set(docs["return"]["_value"]["contains"]) == returned
    assert "meshops.aws_egress.aws_endpoints" in docs["examples"]
