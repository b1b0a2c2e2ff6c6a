# -*- coding: utf-8 -*-
# Copyright: Contributors to the meshops.aws_egress project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Properties that hold for any input: determinism, names, hosts, errors."""

from __future__ import annotations

import ipaddress
import json

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.meshops.aws_egress.plugins.filter import aws_endpoints as plugin
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints import (
    botocore_data,
    credentials,
    partitions,
)
from ansible_collections.meshops.aws_egress.plugins.plugin_utils import naming
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.endpoints import admits
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.expand import expand
from ansible_collections.meshops.aws_egress.plugins.plugin_utils.aws_endpoints.service_spec import (
    FILTER_OPTIONS,
    SERVICE_KEYS,
)

SERVICES = sorted(botocore_data.service_names())
REGIONS = list(partitions.all_regions())
SOURCES = list(credentials.credential_source_names())
# Services whose hosts depend on more than the region: drawn more often.
SPECIAL = [
    "s3",
    "dynamodb",
    "dynamodbstreams",
    "kinesis",
    "s3control",
    "sts",
    "iam",
    "neptune-graph",
    "timestream-query",
    "eventbridgev2",
]

accounts = st.lists(st.from_regex(r"\A[0-9]{12}\Z"), max_size=3)
regions = st.lists(st.sampled_from(REGIONS), min_size=1, max_size=4)
buckets = st.lists(st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,12}[a-z0-9](\.[a-z0-9]{2,6})?\Z"), max_size=3)
service_names = st.sampled_from(SPECIAL) | st.sampled_from(SERVICES)
service_dicts = st.fixed_dictionaries(
    {"name": service_names},
    optional={"regions": regions, "account_ids": accounts, "fips": st.booleans(), "dualstack": st.booleans()},
)
s3_dicts = st.fixed_dictionaries({"name": st.just("s3"), "buckets": buckets}, optional={"regions": regions})
services = st.lists(service_names | service_dicts | s3_dicts, max_size=6)
options = st.fixed_dictionaries(
    {"regions": regions},
    optional={
        "account_ids": accounts,
        "fips": st.booleans(),
        "dualstack": st.booleans(),
        "credential_sources": st.lists(st.sampled_from(SOURCES), max_size=3),
        "sts_legacy_global": st.booleans(),
        "name_prefix": st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?\Z"),
    },
)

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@SETTINGS
@given(services=services, options=options, data=st.data())
def test_valid_input_properties(services, options, data):
    result = expand(services, **options)
    endpoints = result.endpoints

    # Deterministic, whatever the order of services, regions and sources.
    shuffled = dict(options, regions=data.draw(st.permutations(options["regions"])))
    if "credential_sources" in options:
        shuffled["credential_sources"] = data.draw(st.permutations(options["credential_sources"]))
    again = expand(data.draw(st.permutations(services)), **shuffled)
    assert json.dumps(again.endpoints) == json.dumps(endpoints)
    assert again.warnings == result.warnings

    # Names: unique, sorted, DNS-1123 labels of at most 63 characters, with the prefix.
    names = [e["name"] for e in endpoints]
    prefix = options.get("name_prefix", "aws") + "-"
    assert names == sorted(set(names))
    assert all(naming.is_dns_label(n) and n.startswith(prefix) for n in names)

    for endpoint in endpoints:
        hosts = endpoint["hosts"]
        assert hosts == sorted(set(hosts)) and hosts
        assert endpoint["regions"] == sorted(set(endpoint["regions"]))
        # No IP literal anywhere a host goes.
        assert not any(_is_ip(h.removeprefix("*.")) for h in hosts)
        wildcards = [h.startswith("*.") for h in hosts]
        if endpoint["resolution"] == "NONE":
            assert all(wildcards) and "addresses" not in endpoint
        elif endpoint["resolution"] == "DNS":
            assert not any(wildcards) and "addresses" not in endpoint
        else:
            assert endpoint["resolution"] == "STATIC" and len(hosts) == 1 and len(endpoint["addresses"]) == 1
            assert (
                endpoint["endpoints"] == [{"address": endpoint["addresses"][0]}] and "/" not in endpoint["addresses"][0]
            )
        assert (endpoint["port"], endpoint["protocol"]) in ((443, "TLS"), (80, "HTTP"))

    # No host is admitted by two entries on the same port.
    placed = [(e["port"], h, e["name"]) for e in endpoints for h in e["hosts"]]
    for port, host, name in placed:
        owners = {n for p, pattern, n in placed if p == port and (pattern == host or admits(pattern, host))}
        assert owners == {name}, (host, owners)


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.binary(max_size=4)
    | st.sampled_from(SERVICES[:20] + REGIONS[:10] + ["s3", "imds", "123456789012"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner)
        | st.dictionaries(st.sampled_from(SERVICE_KEYS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
junk_options = st.dictionaries(st.sampled_from(FILTER_OPTIONS) | st.text(max_size=8), junk, max_size=4)


@pytest.fixture(scope="module", autouse=True)
def quiet_warnings():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugin, "warn", lambda message: None)
        yield


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(services=junk, options=junk_options)
def test_junk_input_raises_only_filter_errors_that_say_where(services, options):
    try:
        result = plugin.aws_endpoints(services, **options)
    except AnsibleFilterError as exc:
        message = exc.message
        assert message.startswith("meshops.aws_egress.aws_endpoints: ")
        assert " unexpected " not in message, message
    else:
        assert isinstance(result, list)
