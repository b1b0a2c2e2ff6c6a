# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stable DNS-1123 names."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.meshops.aws_egress.plugins.filter.aws_endpoints import aws_endpoints
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import naming
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.egress.layout.resources import layout
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.input_errors import InputError, shown


@pytest.mark.parametrize(
    "prefix, parts, expected",
    [
        ("aws", ("dynamodb", "us-east-1", ""), "aws-dynamodb-us-east-1"),
        ("aws", ("dynamodb", "us-east-1", "wildcard"), "aws-dynamodb-us-east-1-wildcard"),
        ("aws", ("iam", "aws-cn-global"), "aws-iam-aws-cn-global"),
        ("egress-a", ("credentials", "eks_pod_identity_ipv6"), "egress-a-credentials-eks-pod-identity-ipv6"),
    ],
)
def test_names_join_their_parts(prefix, parts, expected):
    assert naming.resource_name(prefix, *parts) == expected


def test_long_names_keep_63_characters_and_end_in_a_hash_of_the_full_name():
    full = "x" * 40 + "-sagemaker-featurestore-runtime-ap-southeast-7-wildcard"
    name = naming.resource_name("x" * 40, "sagemaker-featurestore-runtime", "ap-southeast-7", "wildcard")
    assert name == full[:54] + "-" + hashlib.sha256(full.encode()).hexdigest()[:8]
    assert len(name) == 63 and naming.is_dns_label(name)


def test_cut_names_do_not_end_a_label_with_a_hyphen_before_the_hash():
    # The cut falls right after a hyphen: the hyphen goes, the hash follows one hyphen.
    prefix = "a" * 40
    name = naming.resource_name(prefix, "b" * 12, "c" * 20)
    assert ("a" * 40 + "-" + "b" * 12 + "-")[:54].endswith("-")
    assert "--" not in name and naming.is_dns_label(name)


def test_names_that_share_a_long_beginning_still_differ():
    first = naming.resource_name("p" * 40, "route53-recovery-control-config", "us-east-1")
    second = naming.resource_name("p" * 40, "route53-recovery-control-config", "us-east-2")
    assert first != second and len(first) == len(second) == 63


@pytest.mark.parametrize("prefix", ["aws", "a", "team-a", "0egress", "x" * 40])
def test_valid_prefixes(prefix):
    assert naming.is_name_prefix(prefix)


@pytest.mark.parametrize("prefix", ["", "-a", "a-", "A", "a_b", "a.b", "x" * 41, "é"])
def test_invalid_prefixes(prefix):
    assert not naming.is_name_prefix(prefix)


@pytest.mark.parametrize("value", ["Orders", "-orders", "a" * 64, "", None, 3])
def test_a_name_that_is_not_a_label_is_refused_at_its_path(value):
    with pytest.raises(InputError) as refused:
        naming.check_label(value, "sidecars[1]", "a namespace name")
    assert refused.value.path == "sidecars[1]"
    assert refused.value.problem == (
        f"{shown(value)} is not a namespace name (a DNS-1123 label: lowercase letters, digits and '-', "
        f"starting and ending with a letter or digit, at most 63 characters)"
    )


def test_the_layout_and_ambient_mode_check_names_alike():
    found = aws_endpoints(["sqs"], regions=["us-east-1"], name_prefix="aws-x")
    with pytest.raises(InputError) as by_layout:
        layout(found, name="x", namespace="Aws", name_prefix="aws-x")
    with pytest.raises(InputError) as by_ambient:
        layout(found, name="x", namespace="aws", name_prefix="aws-x", mode="ambient", caller_namespaces=["Orders"])
    assert by_layout.value.problem.replace("'Aws'", "'Orders'") == by_ambient.value.problem
    assert by_ambient.value.path == "caller_namespaces[0]"
